import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { accuracy, topKAccuracy } from '../../lib/metrics/accuracy';
import { setupBackend, fixture, fromFixture, assertClose, assertNoLeak, FixtureTensor } from '../helpers';

export interface AccuracyCase {
  name: string; num_classes: number; logits: FixtureTensor; labels: number[]; predictions: number[];
  accuracy: number; confusion: FixtureTensor; confusion_true: FixtureTensor; confusion_pred: FixtureTensor;
  confusion_all: FixtureTensor; top_k?: Record<string, number>;
}
const { cases } = fixture<{ cases: AccuracyCase[] }>('metrics_accuracy');

before(async () => { await setupBackend(); });

test('accuracy equals sklearn accuracy_score from logits (argmax, first maximum on ties), indices and one-hot labels', async () => {
  for (const c of cases) {
    const logits = fromFixture(c.logits);
    const labels = tf.tensor1d(c.labels, 'int32');
    const oneHot = tf.oneHot(labels, c.num_classes);
    assertClose(await accuracy(logits, c.labels), c.accuracy, { atol: 1e-15, label: `accuracy logits ${c.name}` });
    assertClose(await accuracy(c.predictions, labels), c.accuracy, { atol: 1e-15, label: `accuracy indices ${c.name}` });
    assertClose(await accuracy(logits, oneHot), c.accuracy, { atol: 1e-15, label: `accuracy one-hot ${c.name}` });
    tf.dispose([logits, labels, oneHot]);
  }
});

test('topKAccuracy equals sklearn top_k_accuracy_score', async () => {
  let checked = 0;
  for (const c of cases.filter((x) => x.top_k)) {
    const logits = fromFixture(c.logits);
    for (const [k, expected] of Object.entries(c.top_k!)) {
      assertClose(await topKAccuracy(logits, c.labels, Number(k)), expected, { atol: 1e-15, label: `top-${k} ${c.name}` });
      checked++;
    }
    assert.equal(await topKAccuracy(logits, c.labels, c.num_classes), 1, 'k = classes is always a hit');
    logits.dispose();
  }
  assert.ok(checked >= 10);
});

test('topKAccuracy counts a tie at the k-th place as a hit; k = 1 is accuracy without ties', async () => {
  const s = tf.tensor2d([[1, 1, 0], [0.2, 0.5, 0.3], [2, 1, 2]]);
  assert.equal(await topKAccuracy(s, [1, 2, 2], 1), 2 / 3); // row 0: tie with class 0; row 1: miss; row 2: tie
  assert.equal(await topKAccuracy(s, [1, 2, 1], 2), 2 / 3); // row 2: two classes score higher than class 1
  const logits = tf.tensor2d([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]]);
  assert.equal(await topKAccuracy(logits, [1, 1], 1), await accuracy(logits, [1, 1]));
  tf.dispose([s, logits]);
});

test('accuracy and topKAccuracy reject mismatched sizes, non-integer indices and bad k', async () => {
  assert.throws(() => accuracy([0, 1, 2], [0, 1]), /3 predictions and 2 labels/);
  assert.throws(() => accuracy([], []), /at least one example/);
  assert.throws(() => accuracy([0, 1.5], [0, 1]), /predictions\[1\] is 1.5, not a class index/);
  assert.throws(() => accuracy([0, 1], [0, -1]), /labels\[1\] is -1/);
  const s = tf.zeros([2, 3]);
  assert.throws(() => topKAccuracy(s, [0, 1], 0), /k must be an integer >= 1; got 0/);
  assert.throws(() => topKAccuracy(s, [0, 3], 1), /labels\[1\] is 3, but scores have 3 classes/);
  assert.throws(() => topKAccuracy(s, [0], 1), /2 rows of scores but 1 labels/);
  const cube = tf.zeros([2, 2, 2]);
  assert.throws(() => accuracy(cube, [0, 1]), /got shape \[2, 2, 2\]/);
  tf.dispose([s, cube]);
});

test('accuracy and topKAccuracy leak no tensors', async () => {
  const logits = tf.randomNormal([8, 4], 0, 1, 'float32', 41);
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4);
  await assertNoLeak(() => accuracy(logits, labels), 'accuracy');
  await assertNoLeak(() => topKAccuracy(logits, labels, 2), 'topKAccuracy');
  tf.dispose([logits, labels]);
});
