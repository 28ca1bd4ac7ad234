import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertClose, assertNoLeak } from '../helpers';
import { stopGradient } from '../../lib/nn';

before(async () => {
  await setupBackend();
});

test('stopGradient keeps the value and blocks the gradient', async () => {
  const x = tf.tensor([1, 2, 3]);
  // d/dx [x * x + stop(x) * x] = 2x + stop(x) = 3x (torch: x*x + x.detach()*x).
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.add(tf.mul(v, v), tf.mul(stopGradient(v), v))))(x);
  assertClose(g, [3, 6, 9]);
  assertClose(stopGradient(x), x);
  await assertNoLeak(() => tf.grad((v: tf.Tensor) => tf.sum(stopGradient(v)))(x), 'stopGradient');
  assert.equal(tf.grad((v: tf.Tensor) => tf.sum(stopGradient(v)))(x).sum().dataSync()[0], 0);
  x.dispose();
});
