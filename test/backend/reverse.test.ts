// tf.reverse on the backend under test (wasm: slimspeech's heap-copy kernel for one axis, tfjs's for several)
// against reversal by index arithmetic over plain arrays, for float32 and int32 (bit patterns kept), and its
// gradient (a reverse of dy).
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';

before(async () => { await setupBackend(); });

/** Reverses `data` of `shape` along `axes` by computing each output element's source index. */
function reverseByIndex(data: ArrayLike<number>, shape: number[], axes: number[]): number[] {
  const rank = shape.length;
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out: number[] = new Array(data.length);
  for (let flat = 0; flat < data.length; flat++) {
    let src = 0;
    for (let d = 0; d < rank; d++) {
      const i = Math.floor(flat / strides[d]) % shape[d];
      src += (axes.includes(d) ? shape[d] - 1 - i : i) * strides[d];
    }
    out[flat] = data[src];
  }
  return out;
}

const CASES: { shape: number[]; dims: number | number[] }[] = [
  { shape: [288, 30, 32], dims: 1 }, { shape: [5, 7], dims: 0 }, { shape: [5, 7], dims: 1 }, { shape: [5, 7], dims: -1 },
  { shape: [3, 4, 5, 6], dims: 2 }, { shape: [9], dims: 0 }, { shape: [4, 1, 6], dims: 1 }, { shape: [3, 4, 5], dims: [0, 2] },
  { shape: [2, 3, 4], dims: [] },
];

for (const c of CASES) {
  test(`reverse [${c.shape}] along ${JSON.stringify(c.dims)}: float32 and int32 equal reversal by index`, async () => {
    const n = c.shape.reduce((a, b) => a * b, 1);
    const axes = (Array.isArray(c.dims) ? c.dims : [c.dims]).map((d) => (d < 0 ? d + c.shape.length : d));
    const f = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * 100);
    // Int32 values whose bits read as NaN floats (-1 is 0xffffffff) must come through unchanged.
    const ints = Int32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -1 - i : i * 7919));
    for (const [values, dtype] of [[f, 'float32'], [ints, 'int32']] as const) {
      const x = tf.tensor(values, c.shape, dtype);
      const y = tf.reverse(x, c.dims);
      assert.deepEqual(y.shape, c.shape);
      assert.equal(y.dtype, dtype);
      assert.deepEqual(Array.from(await y.data()), reverseByIndex(values, c.shape, axes));
      tf.dispose([x, y]);
    }
  });
}

test('the gradient of reverse is the reverse of dy; no tensors leak', async () => {
  const x = tf.randomNormal([6, 10, 4], 0, 1, 'float32', 3);
  const w = tf.randomNormal([6, 10, 4], 0, 1, 'float32', 4);
  const before = tf.memory().numTensors;
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.reverse(t, 1), w)))(x);
  assert.deepEqual(Array.from(await g.data()), reverseByIndex(await w.data(), [6, 10, 4], [1]));
  g.dispose();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, w]);
});
