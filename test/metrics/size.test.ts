import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';
import { countMacs, countParams, latency } from '../../lib/metrics';
import { BatchNorm, Conv1d, Conv2d, ConvTranspose1d, GlobalAvgPool, Linear, MultiHeadAttention, Sequential, TransformerEncoderLayer } from '../../lib/nn';

before(async () => {
  await setupBackend();
});

test('countParams counts trainable scalars; buffers on request', () => {
  const m = new Sequential([new Conv2d({ inChannels: 3, outChannels: 8, kernelSize: 3 }), new BatchNorm({ numFeatures: 8 })]);
  assert.equal(countParams(m), 3 * 8 * 9 + 8 + 16);
  assert.equal(countParams(m, { includeBuffers: true }), 3 * 8 * 9 + 8 + 16 + 16);
  m.dispose();
});

test('countMacs: hand-counted convolution, depthwise, transposed, attention and transformer', () => {
  // Conv2d 'valid' 3x3 on 10x9: out 8x7x8, each 3*3*3 MACs; Linear 8 -> 4.
  const a = new Sequential([new Conv2d({ inChannels: 3, outChannels: 8, kernelSize: 3 }), new GlobalAvgPool(), new Linear({ inFeatures: 8, outFeatures: 4 })]);
  assert.equal(countMacs(a, [2, 10, 9, 3]), 2 * (8 * 7 * 8 * 27) + 2 * 32);
  // Depthwise k=5 stride 2 pad 2 on T=40: out 20 steps x 6 channels x 5 taps.
  const dw = new Conv1d({ inChannels: 6, outChannels: 6, kernelSize: 5, stride: 2, padding: 2, groups: 6 });
  assert.equal(countMacs(dw, [1, 40, 6]), 20 * 6 * 5);
  const ct = new ConvTranspose1d({ inChannels: 4, outChannels: 2, kernelSize: 16, stride: 8 });
  assert.equal(countMacs(ct, [1, 10, 4]), 10 * 4 * 2 * 16);
  // Attention on T=6, E=8, 2 heads of 4: projections 4 * (6*8*8), scores and mixing 2*2*36*4.
  const mha = new MultiHeadAttention({ embedDim: 8, numHeads: 2 });
  assert.equal(countMacs(mha, [1, 6, 8]), 4 * 6 * 64 + 2 * 2 * 36 * 4);
  const tel = new TransformerEncoderLayer({ dModel: 8, nHead: 2, dimFeedforward: 16, dropout: 0 });
  assert.equal(countMacs(tel, [1, 6, 8]), 4 * 6 * 64 + 2 * 2 * 36 * 4 + 2 * 6 * 8 * 16);
  [a, dw, ct, mha, tel].forEach((m) => m.dispose());
});

test('latency returns the median of timed runs and leaks nothing', async () => {
  const m = new Linear({ inFeatures: 64, outFeatures: 64 });
  const x = tf.randomNormal([8, 64]);
  const before = tf.memory().numTensors;
  const r = await latency({ module: m, input: x }, { warmup: 2, runs: 9 });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(r.runs, 9);
  assert.ok(r.minMs <= r.medianMs && r.medianMs <= r.maxMs && r.minMs > 0);
  let calls = 0;
  await latency(() => { calls++; return tf.ones([2]); }, { warmup: 1, runs: 4 });
  assert.equal(calls, 5);
  await assert.rejects(latency(() => tf.ones([1]), { runs: 0 }), /runs must be >= 1/);
  x.dispose();
  m.dispose();
});

test('latency leaves the caller\'s input alone when a module returns it unchanged', async () => {
  const { Dropout } = await import('../../lib/nn');
  const x = tf.ones([2, 3]);
  await latency({ module: new Dropout({ p: 0.5 }), input: x }, { warmup: 1, runs: 2 });
  assert.equal(x.isDisposed, false);
  x.dispose();
});
