// The wasm backend's Atan2 (slimspeech's SIMD kernel, lib/backend/kernels/kernels.c atan2_forward) against
// JavaScript's Math.atan2 in double precision: every octant, signed zeros, both axes, tiny and huge magnitudes.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';

before(async () => {
  await setupBackend();
});

function cases(): { y: number[]; x: number[] } {
  const y: number[] = [], x: number[] = [];
  const special = [0, -0, 1, -1, 0.41421356, -0.41421357, 2.4142135, 1e-30, -1e-30, 3e30, -3e30, 0.5, -2];
  for (const a of special) for (const b of special) { y.push(a); x.push(b); }
  // Angles all around the circle at several radii, plus random pairs (an odd count: the kernel's scalar tail too).
  for (let i = 0; i < 3601; i++) {
    const th = -Math.PI + (2 * Math.PI * i) / 3600, r = [1e-3, 1, 1e4][i % 3];
    y.push(r * Math.sin(th)); x.push(r * Math.cos(th));
  }
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  for (let i = 0; i < 1001; i++) { y.push(rnd() * 10); x.push(rnd() * 10); }
  return { y, x };
}

test('Atan2 equals Math.atan2 within 3e-7 rad, signed zeros and octants included', () => {
  const { y, x } = cases();
  const yf = Float32Array.from(y), xf = Float32Array.from(x);
  const got = tf.tidy(() => tf.atan2(tf.tensor1d(yf), tf.tensor1d(xf)).dataSync());
  let worst = 0, at = -1;
  for (let i = 0; i < y.length; i++) {
    const want = Math.atan2(yf[i], xf[i]);
    const err = Math.abs(got[i] - want);
    if (!(err <= worst)) { worst = err; at = i; }
    if (want === 0) assert.equal(Object.is(got[i], -0), Object.is(want, -0), `sign of atan2(${yf[i]}, ${xf[i]})`);
  }
  assert.ok(worst <= 3e-7, `largest error ${worst} at atan2(${yf[at]}, ${xf[at]}) = ${Math.atan2(yf[at], xf[at])}, got ${got[at]}`);
});

test('Atan2 of broadcast shapes (tfjs\'s own kernel) and its gradient agree with the same-shape kernel', () => {
  const y = tf.tensor2d([[0.3, -1.2, 2], [-0.5, 0.1, -3]]), x = tf.tensor1d([1.5, -0.7, 0.2]);
  const a = tf.atan2(y, x), b = tf.atan2(y, tf.broadcastTo(x, [2, 3]));
  assert.deepEqual(Array.from(a.dataSync()).map((v) => v.toFixed(6)), Array.from(b.dataSync()).map((v) => v.toFixed(6)));
  // d/dy atan2(y, x) = x / (x^2 + y^2)
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.atan2(t, tf.broadcastTo(x, [2, 3]))))(y);
  const ys = y.arraySync(), xs = x.arraySync(), gs = g.arraySync() as number[][];
  ys.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(gs[i][j] - xs[j] / (xs[j] ** 2 + v ** 2)) < 1e-5)));
  tf.dispose([y, x, a, b, g]);
});
