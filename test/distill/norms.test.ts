import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { absolute, l2Norm, l2Normalize } from '../../lib/distill/norms';
import { setupBackend, assertClose, assertNoLeak } from '../helpers';

before(async () => { await setupBackend(); });

test('l2Norm equals sqrt(sum x^2) and its gradient x / ||x||, with gradient 0 (not NaN) at a zero vector', async () => {
  const x = tf.tensor2d([[3, 4, 0], [0, 0, 0], [1, -2, 2]]);
  assertClose(l2Norm(x, 1), [5, 0, 3], { atol: 1e-6, label: 'l2Norm' });
  assert.deepEqual(l2Norm(x, 1, true).shape, [3, 1]);
  const g = tf.grad((a: tf.Tensor) => tf.sum(l2Norm(a, 1)))(x);
  // torch.norm(dim=1).sum().backward(): x / ||x|| per row, 0 for the zero row.
  assertClose(g, [0.6, 0.8, 0, 0, 0, 0, 1 / 3, -2 / 3, 2 / 3], { atol: 1e-6, label: 'l2Norm grad' });
  for (const v of await g.data()) assert.ok(Number.isFinite(v));
  tf.dispose([x, g]);
});

test('l2Normalize equals F.normalize(x, dim, eps=1e-12): unit rows, a zero row stays zero, gradients finite', async () => {
  const x = tf.tensor2d([[3, 4], [0, 0], [1e-14, 0]]);
  assertClose(l2Normalize(x, 1), [0.6, 0.8, 0, 0, 0.01, 0], { atol: 1e-6, label: 'l2Normalize' });
  const g = await tf.grad((a: tf.Tensor) => tf.sum(tf.mul(l2Normalize(a, 1), tf.tensor2d([[1, 2], [3, 4], [5, 6]]))))(x).data();
  // Row 0: (w - y (y . w)) / ||x|| with y = (0.6, 0.8), w = (1, 2): (1 - 0.6 * 2.2, 2 - 0.8 * 2.2) / 5.
  assertClose(g.slice(0, 2), [(1 - 0.6 * 2.2) / 5, (2 - 0.8 * 2.2) / 5], { atol: 1e-6, label: 'l2Normalize grad' });
  // Below eps the divisor is the constant eps: gradient w / eps, finite also at 0 (as torch's clamp_min).
  assertClose(g.slice(2, 4), [3e12, 4e12], { rtol: 1e-5, label: 'zero row grad' });
  assertClose(g.slice(4, 6), [5e12, 6e12], { rtol: 1e-5, label: 'tiny row grad' });
  x.dispose();
});

test('absolute is |x| with gradient sign(x), 0 at 0 (tf.abs gives -1 there)', async () => {
  const x = tf.tensor1d([-2, 0, 3]);
  assertClose(absolute(x), [2, 0, 3], { atol: 0, label: 'absolute' });
  assertClose(tf.grad((a: tf.Tensor) => tf.sum(absolute(a)))(x), [-1, 0, 1], { atol: 0, label: 'absolute grad' });
  x.dispose();
});

test('norm helpers leak no tensors', async () => {
  const x = tf.randomNormal([3, 4], 0, 1, 'float32', 1);
  await assertNoLeak(() => l2Norm(x, 1), 'l2Norm');
  await assertNoLeak(() => l2Normalize(x, 1), 'l2Normalize');
  await assertNoLeak(() => absolute(x), 'absolute');
  await assertNoLeak(() => tf.grad((a: tf.Tensor) => tf.sum(l2Normalize(a, 1)))(x), 'l2Normalize grad');
  x.dispose();
});
