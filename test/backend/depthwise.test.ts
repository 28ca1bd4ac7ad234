// The wasm backend's depthwise convolution forward (lib/backend/kernels/kernels.c depthwise_forward, registered for
// DepthwiseConv2dNative and FusedDepthwiseConv2D) against a direct float64 loop: every path of the kernel (eight
// interior columns at a time, dilated residue by residue, four at a time, single edge columns, strided, scalar
// channel tails) with bias and each activation.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';

before(async () => {
  await setupBackend();
});

interface Case {
  label: string;
  x: [number, number, number, number];
  k: [number, number];
  stride: [number, number];
  dilation: [number, number];
  pad: [number, number] | 'same' | 'valid';
}

/** Zero-padded correlation of x [B, H, W, C] with filter [KH, KW, C] in float64 (TF's 'same' split: less before). */
function reference(x: Float32Array, f: Float32Array, bias: Float32Array | undefined, c: Case, OH: number, OW: number,
  act: string): Float64Array {
  const [B, H, W, C] = c.x, [KH, KW] = c.k, [sh, sw] = c.stride, [dh, dw] = c.dilation;
  let pt = 0, pl = 0;
  if (c.pad === 'same') {
    pt = Math.floor(Math.max((OH - 1) * sh + (KH - 1) * dh + 1 - H, 0) / 2);
    pl = Math.floor(Math.max((OW - 1) * sw + (KW - 1) * dw + 1 - W, 0) / 2);
  } else if (Array.isArray(c.pad)) {
    [pt, pl] = c.pad;
  }
  const y = new Float64Array(B * OH * OW * C);
  for (let b = 0; b < B; b++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let ch = 0; ch < C; ch++) {
    let s = bias ? bias[ch] : 0;
    for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const ih = oh * sh - pt + kh * dh, iw = ow * sw - pl + kw * dw;
      if (ih >= 0 && ih < H && iw >= 0 && iw < W) s += x[((b * H + ih) * W + iw) * C + ch] * f[(kh * KW + kw) * C + ch];
    }
    if (act === 'relu') s = Math.max(s, 0);
    else if (act === 'relu6') s = Math.min(Math.max(s, 0), 6);
    else if (act === 'leakyrelu') s = s > 0 ? s : 0.2 * s;
    y[((b * OH + oh) * OW + ow) * C + ch] = s;
  }
  return y;
}

const CASES: Case[] = [
  { label: 'DS-CNN 3x3 same, 64 channels', x: [2, 9, 20, 64], k: [3, 3], stride: [1, 1], dilation: [1, 1], pad: 'same' },
  { label: '3x3 same, 6 channels (a vector and a scalar tail)', x: [1, 5, 23, 6], k: [3, 3], stride: [1, 1], dilation: [1, 1], pad: 'same' },
  { label: '3x3 dilation [2, 3], 12 channels', x: [1, 11, 40, 12], k: [3, 3], stride: [1, 1], dilation: [2, 3], pad: [2, 3] },
  { label: '3x5 same, 8 channels (four columns at a time)', x: [1, 6, 19, 8], k: [3, 5], stride: [1, 1], dilation: [1, 1], pad: 'same' },
  { label: '3x3 stride 2, valid, 20 channels', x: [2, 9, 17, 20], k: [3, 3], stride: [2, 2], dilation: [1, 1], pad: 'valid' },
  { label: '2x3 stride [1, 2], explicit padding', x: [1, 7, 26, 16], k: [2, 3], stride: [1, 2], dilation: [1, 1], pad: [1, 1] },
  { label: 'one-row filter (tfjs kernel)', x: [1, 1, 50, 8], k: [1, 3], stride: [1, 1], dilation: [1, 4], pad: [0, 4] },
];

for (const c of CASES) {
  test(`depthwise forward, ${c.label}: equals a float64 loop, with and without bias and activations`, () => {
    const [, , , C] = c.x;
    const x = tf.randomNormal(c.x, 0, 1, 'float32', 11), f = tf.randomNormal([c.k[0], c.k[1], C, 1], 0, 1, 'float32', 12);
    const bias = tf.randomNormal([C], 0, 1, 'float32', 13);
    const pad = Array.isArray(c.pad) ? [[0, 0], [c.pad[0], c.pad[0]], [c.pad[1], c.pad[1]], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]] : c.pad;
    const xs = x.dataSync() as Float32Array, fs = f.dataSync() as Float32Array, bs = bias.dataSync() as Float32Array;
    for (const act of ['none', 'linear', 'relu', 'relu6', 'leakyrelu']) {
      const y = act === 'none'
        ? tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.stride, pad as 'same', 'NHWC', c.dilation)
        : tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: c.stride, pad: pad as 'same', dilations: c.dilation,
          bias, activation: act as tf.fused.Activation, leakyreluAlpha: 0.2 });
      const [, OH, OW] = y.shape;
      const want = reference(xs, fs, act === 'none' ? undefined : bs, c, OH, OW, act);
      const got = y.dataSync();
      let worst = 0;
      want.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i] - v) / (1e-5 + 1e-5 * Math.abs(v)))));
      assert.ok(worst <= 1, `${c.label}, ${act}: off by ${worst.toFixed(2)} x the tolerance (1e-5)`);
      y.dispose();
    }
    tf.dispose([x, f, bias]);
  });
}
