// The wasm backend's fused multi-head attention (lib/backend/kernels/kernels.c attention_forward, used by
// nn.scaledDotProductAttention for inference) against softmax(Q K^T / sqrt(d)) V per head computed in double precision
// in JavaScript, and against the composed tf ops the same function runs under a gradient tape.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';
import { FUSED, hasKernel } from '../../lib/backend/fused_names';
import { scaledDotProductAttention } from '../../lib/nn/attention';

before(async () => {
  await setupBackend();
});

/** Heads side by side in the last axis: q [B, T, H*d], k and v [B, S, H*d] -> [B, T, H*d], in float64. */
function reference(q: Float32Array, k: Float32Array, v: Float32Array, B: number, T: number, S: number, H: number, d: number): Float64Array {
  const E = H * d, out = new Float64Array(B * T * E), p = new Float64Array(S);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        let max = -Infinity;
        for (let s = 0; s < S; s++) {
          let dot = 0;
          for (let j = 0; j < d; j++) dot += q[(b * T + t) * E + h * d + j] * k[(b * S + s) * E + h * d + j];
          p[s] = dot / Math.sqrt(d);
          max = Math.max(max, p[s]);
        }
        let sum = 0;
        for (let s = 0; s < S; s++) sum += (p[s] = Math.exp(p[s] - max));
        for (let j = 0; j < d; j++) {
          let acc = 0;
          for (let s = 0; s < S; s++) acc += (p[s] / sum) * v[(b * S + s) * E + h * d + j];
          out[(b * T + t) * E + h * d + j] = acc;
        }
      }
    }
  }
  return out;
}

function worst(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): number {
  let w = 0;
  for (let i = 0; i < want.length; i++) w = Math.max(w, Math.abs(got[i] - want[i]) / (tol + tol * Math.abs(want[i])));
  return w;
}

// [B, T, S, H, d, spread of q and k]: odd sizes (scalar tails of the GEMM tiles and the softmax), cross-attention
// (T != S), the KWS transformer's and the HuBERT-like student's shapes, and large scores (softmax's max shift).
const SHAPES: [number, number, number, number, number, number][] = [
  [2, 7, 9, 3, 5, 1], [1, 99, 99, 4, 16, 1], [1, 49, 49, 6, 64, 1], [3, 1, 5, 2, 4, 1], [1, 13, 11, 2, 8, 12],
];

test('fused attention equals softmax(Q K^T / sqrt(d)) V in double precision within 1e-5', () => {
  assert.ok(hasKernel(FUSED.attention), 'the wasm backend has the fused attention kernel');
  for (const [B, T, S, H, d, spread] of SHAPES) {
    const E = H * d;
    tf.tidy(() => {
      const q = tf.mul(tf.randomNormal([B, T, E], 0, 1, 'float32', 1), spread), k = tf.mul(tf.randomNormal([B, S, E], 0, 1, 'float32', 2), spread);
      const v = tf.randomNormal([B, S, E], 0, 1, 'float32', 3);
      const want = reference(q.dataSync() as Float32Array, k.dataSync() as Float32Array, v.dataSync() as Float32Array, B, T, S, H, d);
      const got = scaledDotProductAttention(q, k, v, H, d, 0, { training: false }).merged;
      assert.deepEqual(got.shape, [B, T, E]);
      const w = worst(got.dataSync(), want, 1e-5);
      assert.ok(w <= 1, `[${B}, ${T}, ${S}, ${H}, ${d}] x${spread}: off by ${w.toFixed(2)} x the tolerance`);
    });
  }
});

test('the fused kernel runs only without a tape; under one the composed ops run, agree with it, and give gradients', async () => {
  const [B, T, S, H, d] = [2, 10, 10, 4, 8];
  const q = tf.randomNormal([B, T, H * d], 0, 1, 'float32', 4), k = tf.randomNormal([B, S, H * d], 0, 1, 'float32', 5);
  const v = tf.randomNormal([B, S, H * d], 0, 1, 'float32', 6);
  const attend = (x: tf.Tensor) => scaledDotProductAttention(x, k, v, H, d, 0, { training: false }).merged;
  const untaped = await tf.profile(() => attend(q));
  assert.ok(untaped.kernelNames.includes(FUSED.attention), `kernels without a tape: ${untaped.kernelNames}`);
  const fused = attend(q);
  let taped: tf.Tensor | undefined;
  const grad = tf.grad((x: tf.Tensor) => {
    const r = attend(x);
    taped = tf.keep(r.clone());
    return tf.sum(tf.mul(r, fused));
  })(q);
  const tapedProfile = await tf.profile(() => tf.grad((x: tf.Tensor) => tf.sum(attend(x)))(q));
  assert.ok(!tapedProfile.kernelNames.includes(FUSED.attention), 'the composed ops under a tape');
  assert.ok(tf.sum(tf.abs(grad)).dataSync()[0] > 0, 'a gradient flows to the queries');
  const w = worst(fused.dataSync(), taped!.dataSync(), 1e-5);
  assert.ok(w <= 1, `fused and composed differ by ${w.toFixed(2)} x the tolerance`);
  tf.dispose([q, k, v, fused, taped!, grad]);
});
