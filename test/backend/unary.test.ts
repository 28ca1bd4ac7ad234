// The wasm backend's Tanh and Sigmoid (slimspeech's SIMD kernels, lib/backend/kernels/kernels.c unary_forward) against
// Math.tanh and 1 / (1 + exp(-x)) in double precision: small, moderate and saturating inputs, signed zeros, NaN, and
// an odd length (the scalar tail).
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';

before(async () => {
  await setupBackend();
});

function inputs(): Float32Array {
  const v = [0, -0, 1e-8, -1e-8, 0.03, -0.0624, 0.0626, 0.5, -1, 3, -9, 20, -20, 87, -87, 100, -100, 1e30, -1e30];
  for (let i = 0; i < 4002; i++) v.push(-12 + (24 * i) / 4001);
  return Float32Array.from(v);
}

for (const [name, op, ref] of [
  ['Tanh', tf.tanh, Math.tanh],
  ['Sigmoid', tf.sigmoid, (x: number) => 1 / (1 + Math.exp(-x))],
] as const) {
  test(`${name} equals the double-precision function within 1e-6 relative (+1e-7)`, () => {
    const x = inputs();
    const got = tf.tidy(() => op(tf.tensor1d(x)).dataSync());
    let worst = 0, at = 0;
    x.forEach((v, i) => {
      const want = ref(v);
      const e = Math.abs(got[i] - want) / (1e-7 + 1e-6 * Math.abs(want));
      if (e > worst) [worst, at] = [e, i];
    });
    assert.ok(worst <= 1, `${name}(${x[at]}) = ${got[at]}, want ${ref(x[at])}`);
    assert.ok(Object.is(tf.tidy(() => op(tf.tensor1d([-0, 0, 0, 0, 0])).dataSync()[0]), name === 'Tanh' ? -0 : 0.5), 'tanh(-0) = -0');
    assert.ok(Number.isNaN(tf.tidy(() => op(tf.tensor1d([NaN, 1, 2, 3, 4])).dataSync()[0])), 'NaN stays NaN');
  });
}
