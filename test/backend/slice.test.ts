// tf.slice and tf.split on the backend under test (wasm: slimspeech's heap-copy kernels) against slicing by
// index arithmetic over plain arrays, for float32 and int32 (bit patterns kept), bool through tfjs's kernel,
// and the gradient of a slice (dy padded back into place).
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';

before(async () => { await setupBackend(); });

/** x[begin : begin + size] of `data` with `shape`, element by element. */
function sliceByIndex(data: ArrayLike<number>, shape: number[], begin: number[], size: number[]): number[] {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const outStrides = size.map((_, i) => size.slice(i + 1).reduce((a, b) => a * b, 1));
  const n = size.reduce((a, b) => a * b, 1);
  const out: number[] = new Array(n);
  for (let flat = 0; flat < n; flat++) {
    let src = 0;
    for (let d = 0; d < shape.length; d++) src += (begin[d] + (Math.floor(flat / outStrides[d]) % size[d])) * strides[d];
    out[flat] = data[src];
  }
  return out;
}

const CASES: { shape: number[]; begin: number[]; size: number[] }[] = [
  { shape: [4, 1000, 64], begin: [0, 25, 0], size: [4, 50, 64] },     // a DPRNN chunk: middle axis, rows whole
  { shape: [4, 1000, 64], begin: [1, 0, 0], size: [2, 1000, 64] },    // leading axis: one contiguous run
  { shape: [5, 7], begin: [1, 2], size: [3, 4] },
  { shape: [5, 7], begin: [0, 6], size: [5, 1] },
  { shape: [3, 4, 5, 6], begin: [1, 0, 2, 1], size: [2, 4, 2, 5] },
  { shape: [9], begin: [3], size: [4] },
  { shape: [2, 3, 4], begin: [0, 0, 0], size: [2, 3, 4] },
  { shape: [2, 3, 4], begin: [1, 2, 3], size: [0, 1, 1] },
];

const values = (n: number) => ({
  f: Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.3) * 50),
  // Int32 values whose bits read as NaN floats (-1 is 0xffffffff) must come through unchanged.
  ints: Int32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -1 - i : i * 7919)),
});

for (const c of CASES) {
  test(`slice [${c.shape}] from [${c.begin}] size [${c.size}]: float32 and int32 equal slicing by index`, () => {
    const n = c.shape.reduce((a, b) => a * b, 1);
    const { f, ints } = values(n);
    for (const [data, dtype] of [[f, 'float32'], [ints, 'int32']] as const) {
      const x = tf.tensor(data, c.shape, dtype);
      const y = tf.slice(x, c.begin, c.size);
      assert.deepEqual(y.shape, c.size);
      assert.deepEqual(Array.from(y.dataSync()), sliceByIndex(data, c.shape, c.begin, c.size), dtype);
      tf.dispose([x, y]);
    }
  });
}

test('slice with -1 sizes, a number begin, and on bool (tfjs\'s kernel)', () => {
  const x = tf.tensor(Float32Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
  assert.deepEqual(tf.slice(x, [0, 1], [-1, -1]).arraySync(), (x.arraySync() as number[][][]).map((r) => r.slice(1)));
  assert.deepEqual(tf.slice(x, 1).arraySync(), [(x.arraySync() as number[][][])[1]]);
  const b = tf.tensor([true, false, true, true], [2, 2], 'bool');
  assert.deepEqual(tf.slice(b, [0, 1], [2, 1]).arraySync(), [[0], [1]]);
  tf.dispose([x, b]);
});

test('split along every axis, float32 and int32, equals slicing by index', () => {
  const shape = [4, 6, 8];
  const { f, ints } = values(4 * 6 * 8);
  for (const [data, dtype] of [[f, 'float32'], [ints, 'int32']] as const) {
    const x = tf.tensor(data, shape, dtype);
    for (const axis of [0, 1, 2, -2]) {
      const a = axis < 0 ? axis + 3 : axis;
      const parts = tf.split(x, [1, -1, 2], axis);
      const widths = [1, shape[a] - 3, 2];
      let at = 0;
      parts.forEach((p, k) => {
        const begin = shape.map((_, i) => (i === a ? at : 0)), size = shape.map((d, i) => (i === a ? widths[k] : d));
        assert.deepEqual(Array.from(p.dataSync()), sliceByIndex(data, shape, begin, size), `${dtype} axis ${axis} part ${k}`);
        at += widths[k];
      });
      tf.dispose(parts);
    }
    x.dispose();
  }
});

test('the gradient of a slice puts dy back in place, zeros elsewhere; no tensors leak', () => {
  const before = tf.memory().numTensors;
  const x = tf.tensor(Float32Array.from({ length: 30 }, (_, i) => i), [5, 6]);
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.slice(v, [1, 2], [3, 3]), 2)))(x);
  const expected = Array.from({ length: 5 }, (_, r) => Array.from({ length: 6 }, (_, c) => (r >= 1 && r < 4 && c >= 2 && c < 5 ? 2 : 0)));
  assert.deepEqual(g.arraySync(), expected);
  tf.dispose([x, g]);
  assert.equal(tf.memory().numTensors, before);
});

test('unstack along every axis (and the gradient of stack), float32 and int32, equals slicing by index', () => {
  const shape = [3, 4, 5];
  const { f, ints } = values(60);
  for (const [data, dtype] of [[f, 'float32'], [ints, 'int32']] as const) {
    const x = tf.tensor(data, shape, dtype);
    for (const axis of [0, 1, 2, -1]) {
      const a = axis < 0 ? axis + 3 : axis;
      const parts = tf.unstack(x, axis);
      assert.equal(parts.length, shape[a]);
      parts.forEach((p, k) => {
        assert.deepEqual(p.shape, shape.filter((_, i) => i !== a));
        const begin = shape.map((_, i) => (i === a ? k : 0)), size = shape.map((d, i) => (i === a ? 1 : d));
        assert.deepEqual(Array.from(p.dataSync()), sliceByIndex(data, shape, begin, size), `${dtype} axis ${axis} part ${k}`);
      });
      tf.dispose(parts);
    }
    x.dispose();
  }
  const xs = [tf.tensor([1, 2, 3]), tf.tensor([4, 5, 6])];
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.stack([a, b], 1), tf.tensor([[1, 2], [3, 4], [5, 6]]))))(xs);
  assert.deepEqual(grads.map((g) => g.arraySync()), [[1, 3, 5], [2, 4, 6]]);
  tf.dispose([...xs, ...grads]);
});
