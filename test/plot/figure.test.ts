import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';
import { baseLayout, named, toMatrix, toVector } from '../../lib/plot/figure';

test('toVector reads arrays, typed arrays and tensors (size-1 leading dims allowed) without disposing them', async () => {
  await setupBackend();
  assert.deepEqual(await toVector([1, 2, 3], 'x'), [1, 2, 3]);
  assert.deepEqual(await toVector(Float32Array.of(0.5, -1), 'x'), [0.5, -1]);
  const t = tf.tensor2d([[1, 2, 3, 4]]);
  assert.deepEqual(await toVector(t, 'x'), [1, 2, 3, 4]);
  assert.equal(t.isDisposed, false);
  t.dispose();
  const b = tf.tensor1d([1, 0, 1], 'bool');
  assert.deepEqual(await toVector(b, 'labels'), [1, 0, 1]);
  b.dispose();
});

test('toVector rejects wrong ranks and non-numbers, naming the argument and what it received', async () => {
  await setupBackend();
  const t = tf.zeros([2, 3]);
  await assert.rejects(toVector(t, 'signals.noisy'), /signals\.noisy: expected a rank-1 tensor.*\[2, 3\]/);
  t.dispose();
  await assert.rejects(toVector([1, '2' as unknown as number], 'y'), /y: element 1 is string "2", expected a number/);
  await assert.rejects(toVector(42 as unknown as number[], 'y'), /y: expected an array of numbers or a tf.Tensor, received number 42/);
});

test('toMatrix reads rows and rank-2 tensors; ragged rows are an error', async () => {
  await setupBackend();
  assert.deepEqual(await toMatrix([[1, 2], [3, 4]], 'm'), [[1, 2], [3, 4]]);
  const t = tf.tensor3d([[[1, 2, 3], [4, 5, 6]]]); // [1, 2, 3]
  assert.deepEqual(await toMatrix(t, 'm'), [[1, 2, 3], [4, 5, 6]]);
  t.dispose();
  await assert.rejects(toMatrix([[1, 2], [3]], 'spec'), /spec: row 1 has 1 values but row 0 has 2/);
  const v = tf.zeros([4]);
  await assert.rejects(toMatrix(v, 'spec'), /spec: expected a rank-2 tensor.*\[4\]/);
  v.dispose();
});

test('named: one series gets the default name, a record keeps its names, an empty record is an error', () => {
  const isArr = (x: unknown) => Array.isArray(x);
  assert.deepEqual(named([1], isArr, 'value', 'series'), [{ name: 'value', value: [1], arg: 'series' }]);
  assert.deepEqual(named({ a: [1], b: [2] }, isArr, 'value', 'series').map((e) => e.arg), ['series.a', 'series.b']);
  assert.throws(() => named({}, isArr, 'value', 'series'), /series: received an empty record/);
});

test('baseLayout sets title, size and leaves more room above a titled plot', () => {
  const l = baseLayout({ title: 'Loss', width: 600, height: 300 });
  assert.deepEqual(l.title, { text: 'Loss' });
  assert.equal(l.width, 600);
  assert.equal(l.height, 300);
  assert.ok((l.margin as { t: number }).t > (baseLayout({}).margin as { t: number }).t);
  assert.throws(() => baseLayout({ height: -5 }), /options.height: expected a positive number of pixels, received -5/);
});
