import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { crossEntropy, CrossEntropyReduction } from '../../lib/metrics/cross_entropy';
import { setupBackend, fixture, fromFixture, assertClose, assertNoLeak, FixtureTensor } from '../helpers';

interface CeCase {
  name: string; kind: 'index' | 'onehot' | 'probs'; label_smoothing: number; reduction: CrossEntropyReduction;
  logits: FixtureTensor; labels: FixtureTensor; cotangent: FixtureTensor; loss: FixtureTensor; grad_logits: FixtureTensor;
}
const { cases } = fixture<{ cases: CeCase[] }>('metrics_cross_entropy');

before(async () => { await setupBackend(); });

test('crossEntropy equals torch F.cross_entropy (index, one-hot and soft targets, label smoothing, reductions) and its gradient', () => {
  assert.ok(cases.length >= 12);
  for (const c of cases) {
    const logits = fromFixture(c.logits);
    const labels = c.kind === 'index' ? tf.tensor(c.labels.data, c.labels.shape, 'int32') : fromFixture(c.labels);
    const w = fromFixture(c.cotangent);
    const opts = { labelSmoothing: c.label_smoothing, reduction: c.reduction };
    const loss = crossEntropy(logits, labels, opts);
    assertClose(loss, c.loss, { atol: 1e-5, rtol: 1e-5, label: `crossEntropy ${c.name}` });
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(crossEntropy(x, labels, opts), w)))(logits);
    assertClose(g, c.grad_logits, { atol: 1e-6, rtol: 1e-4, label: `crossEntropy grad ${c.name}` });
    tf.dispose([logits, labels, w, loss, g]);
  }
});

test('crossEntropy: float index labels equal int32 ones, and index labels equal their one-hot rows', () => {
  const logits = tf.randomNormal([5, 4], 0, 2, 'float32', 11);
  const idx = [3, 0, 2, 2, 1];
  const a = crossEntropy(logits, tf.tensor1d(idx, 'int32'), { labelSmoothing: 0.1 });
  const b = crossEntropy(logits, tf.tensor1d(idx, 'float32'), { labelSmoothing: 0.1 });
  const c = crossEntropy(logits, tf.oneHot(tf.tensor1d(idx, 'int32'), 4), { labelSmoothing: 0.1 });
  assertClose(b, a, { atol: 0, rtol: 0, label: 'float vs int labels' });
  assertClose(c, a, { atol: 1e-6, label: 'one-hot vs index labels' });
  tf.dispose([logits, a, b, c]);
});

test('crossEntropy of a confident correct prediction is ~0, and of uniform logits is log(classes)', () => {
  const sure = crossEntropy(tf.tensor2d([[30, 0, 0], [0, 0, 30]]), tf.tensor1d([0, 2], 'int32'));
  assertClose(sure, 0, { atol: 1e-6, label: 'confident' });
  const uniform = crossEntropy(tf.zeros([3, 10]), tf.tensor1d([1, 5, 9], 'int32'));
  assertClose(uniform, Math.log(10), { atol: 1e-6, label: 'uniform' });
});

test('crossEntropy rejects labels of the wrong shape, bad smoothing and bad reductions, naming the shapes', () => {
  const logits = tf.zeros([4, 3]);
  assert.throws(() => crossEntropy(logits, tf.zeros([3], 'int32')), /logits \[4, 3\] and labels \[3\]/);
  assert.throws(() => crossEntropy(logits, tf.zeros([4, 2])), /labels \[4, 2\]/);
  assert.throws(() => crossEntropy(tf.zeros([3]), tf.zeros([3])), /logits \[3\]/);
  assert.throws(() => crossEntropy(logits, tf.zeros([4], 'int32'), { labelSmoothing: 1.5 }), /labelSmoothing must lie in \[0, 1\]; got 1.5/);
  assert.throws(() => crossEntropy(logits, tf.zeros([4], 'int32'), { reduction: 'batchmean' as CrossEntropyReduction }), /reduction/);
  logits.dispose();
});

test('crossEntropy and its gradient leak no tensors', async () => {
  const logits = tf.randomNormal([4, 6], 0, 1, 'float32', 12);
  const labels = tf.tensor1d([0, 5, 2, 3], 'int32');
  await assertNoLeak(() => crossEntropy(logits, labels, { labelSmoothing: 0.1 }), 'crossEntropy');
  const soft = tf.softmax(logits);
  await assertNoLeak(() => crossEntropy(logits, soft, { reduction: 'none' }), 'crossEntropy soft');
  await assertNoLeak(() => tf.grad((x: tf.Tensor) => crossEntropy(x, labels))(logits), 'crossEntropy grad');
  tf.dispose([logits, labels, soft]);
});
