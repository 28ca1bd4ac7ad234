import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, fixture, fromFixture, assertClose, assertNoLeak, FixtureTensor } from '../helpers';
import { pitLoss } from '../../lib/pit';

const { cases } = fixture<{ cases: { est: FixtureTensor; ref: FixtureTensor; loss: number; perm: number[][]; grad: FixtureTensor; perExample: number[] }[] }>('pit_loss');

before(async () => {
  await setupBackend();
});

for (const c of cases) {
  test(`pitLoss on ${c.est.shape} equals brute-force PyTorch: loss, assignment, gradient`, () => {
    const est = fromFixture(c.est), ref = fromFixture(c.ref);
    const r = pitLoss(est, ref);
    assertClose(r.loss, c.loss, { atol: 1e-4, label: 'pit loss' });
    assertClose(r.perExample, c.perExample, { atol: 1e-4, label: 'pit per example' });
    assert.deepEqual(r.perm, c.perm);
    const g = tf.grad((e: tf.Tensor) => pitLoss(e, ref).loss)(est);
    assertClose(g, c.grad, { atol: 1e-4, rtol: 1e-3, label: 'pit grad' });
    tf.dispose([est, ref, r.loss, r.perExample, g]);
  });
}

test('a known permutation of the references gives the minimum loss and is recovered', () => {
  const ref = tf.randomNormal([2, 3, 64], 0, 1, 'float32', 3);
  const est = tf.stack([tf.gather(ref.slice([0, 0, 0], [1, 3, 64]).squeeze([0]), [2, 0, 1]), tf.gather(ref.slice([1, 0, 0], [1, 3, 64]).squeeze([0]), [1, 2, 0])]);
  const r = pitLoss(est, ref);
  assert.deepEqual(r.perm, [[2, 0, 1], [1, 2, 0]]);
  // SI-SNR of a perfect estimate is 10 log10((|t|^2 + eps) / eps): very negative loss.
  assert.ok(r.loss.dataSync()[0] < -60);
  tf.dispose([ref, est, r.loss, r.perExample]);
});

test('pitLoss checks shapes and leaks nothing', async () => {
  assert.throws(() => pitLoss(tf.zeros([2, 2, 10]), tf.zeros([2, 3, 10])), /\[batch, sources, time\], got \[2,2,10\] and \[2,3,10\]/);
  const e = tf.randomNormal([2, 2, 50]), r = tf.randomNormal([2, 2, 50]);
  await assertNoLeak(() => { const o = pitLoss(e, r); return [o.loss, o.perExample]; }, 'pitLoss');
  tf.dispose([e, r]);
});
