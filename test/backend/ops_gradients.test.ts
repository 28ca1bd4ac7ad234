// Outputs and gradients of the ops slimspeech's layers train with, on the backend under test (wasm by
// default), against PyTorch float64 autograd: test/reference/ops_gradients.py.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, fixture, fromFixture, assertClose, FixtureTensor } from '../helpers';

interface Case {
  name: string; op: string;
  [k: string]: unknown;
}
const { cases } = fixture<{ cases: Case[] }>('ops_gradients');
const F = (c: Case, k: string) => fromFixture(c[k] as FixtureTensor);

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/** The function of (input, weight) each case checks, and which inputs its gradients are taken for. */
function forward(c: Case): { args: tf.Tensor[]; f: (...a: tf.Tensor[]) => tf.Tensor; grads: string[] } {
  switch (c.op) {
    case 'conv2d':
      return {
        args: [F(c, 'x'), F(c, 'filter')], grads: ['dx', 'dfilter'],
        f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides as [number, number], c.pad as Pad,
          'NHWC', c.dilations as [number, number]),
      };
    case 'depthwise':
      return {
        args: [F(c, 'x'), F(c, 'filter')], grads: ['dx', 'dfilter'],
        f: (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides as [number, number],
          c.pad as 'same' | 'valid', 'NHWC', c.dilations as [number, number]),
      };
    case 'conv1d':
      return {
        args: [F(c, 'x'), F(c, 'filter')], grads: ['dx', 'dfilter'],
        f: (x, w) => tf.conv1d(x as tf.Tensor3D, w as tf.Tensor3D, c.stride as number, c.pad as 'same' | 'valid',
          'NWC', c.dilation as number),
      };
    case 'conv2dTranspose':
      return {
        args: [F(c, 'x'), F(c, 'filter')], grads: ['dx', 'dfilter'],
        f: (x, w) => tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D,
          c.outputShape as [number, number, number, number], c.strides as [number, number], c.pad as 'same' | 'valid'),
      };
    case 'matmul':
      return {
        args: [F(c, 'a'), F(c, 'b')], grads: ['da', 'db'],
        f: (a, b) => tf.matMul(a, b, c.transposeA as boolean, c.transposeB as boolean),
      };
    case 'gather': {
      const idx = tf.tensor1d(c.indices as number[], 'int32');
      return { args: [F(c, 'table')], grads: ['dtable'], f: (t) => tf.gather(t, idx) };
    }
    case 'maximum': case 'minimum': case 'squaredDifference':
      return {
        args: [F(c, 'a'), F(c, 'b')], grads: ['da', 'db'],
        f: (a, b) => (c.op === 'maximum' ? tf.maximum(a, b) : c.op === 'minimum' ? tf.minimum(a, b) : tf.squaredDifference(a, b)),
      };
    case 'sum':
      return { args: [F(c, 'x')], grads: ['dx'], f: (x) => tf.sum(x, c.axes as number[], c.keepDims as boolean) };
    case 'mean':
      return { args: [F(c, 'x')], grads: ['dx'], f: (x) => tf.mean(x, c.axes as number[], c.keepDims as boolean) };
    case 'concat': {
      const parts = (c.parts as FixtureTensor[]).map(fromFixture);
      return { args: parts, grads: parts.map((_, i) => `dpart${i}`), f: (...xs) => tf.concat(xs, c.axis as number) };
    }
    case 'softmax':
      return { args: [F(c, 'x')], grads: ['dx'], f: (x) => tf.softmax(tf.mul(x, 2)) };
    case 'maxPool':
      return { args: [F(c, 'x')], grads: ['dx'], f: (x) => tf.maxPool(x as tf.Tensor4D, c.k as number, c.s as number, c.pad as 'same' | 'valid') };
    case 'avgPool':
      return { args: [F(c, 'x')], grads: ['dx'], f: (x) => tf.avgPool(x as tf.Tensor4D, c.k as number, c.s as number, c.pad as 'same' | 'valid') };
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

before(async () => {
  await setupBackend();
});

for (const c of cases) {
  test(`${c.name}: output and gradients equal PyTorch's`, () => {
    const { args, f, grads } = forward(c);
    const r = F(c, 'r');
    const y = f(...args);
    assertClose(y, c.y as FixtureTensor, { atol: 2e-4, rtol: 1e-4, label: `${c.name} y` });
    const g = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), r)))(args);
    assert.equal(g.length, grads.length);
    const expected = (i: number) => (c.op === 'concat' ? (c.dparts as FixtureTensor[])[i] : c[grads[i]] as FixtureTensor);
    g.forEach((gi, i) => assertClose(gi, expected(i), { atol: 5e-4, rtol: 1e-4, label: `${c.name} ${grads[i]}` }));
    tf.dispose([y, r, ...g, ...args]);
  });
}

test('gradients of convolutions and matmuls leak no tensors', async () => {
  const c = cases.find((k) => k.name === 'conv2d dilation 2 same')!;
  const { args, f } = forward(c);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) tf.dispose(tf.grads((...a: tf.Tensor[]) => tf.sum(f(...a)))(args));
  assert.equal(tf.memory().numTensors, before);
  tf.dispose(args);
});
