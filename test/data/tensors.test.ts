// toTensors (a labelled set into feature and label tensors) and tensorBatches (seeded minibatches by
// gather): values, order, options, errors and leaks.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';
import { ArrayDataset, batchIndices } from '../../lib/data/dataset';
import { tensorBatches, toTensors } from '../../lib/data/tensors';

before(async () => { await setupBackend(); });

const items = [
  { audio: new Float32Array([1, 2, 3, 4, 5]), labelIndex: 2 },
  { audio: new Float32Array([6, 7]), labelIndex: 0 },
  { audio: new Float32Array([8, 9, 10]), labelIndex: 1 },
];

test('toTensors: clips cropped or zero-padded to length, labels as int32, in dataset order', async () => {
  const { x, y } = await toTensors(new ArrayDataset(items), { length: 3 });
  assert.deepEqual(x.shape, [3, 3]);
  assert.deepEqual(Array.from(await x.data()), [1, 2, 3, 6, 7, 0, 8, 9, 10]);
  assert.equal(y.dtype, 'int32');
  assert.deepEqual(Array.from(await y.data()), [2, 0, 1]);
  tf.dispose([x, y]);
  const c = await toTensors(new ArrayDataset(items), { length: 3, crop: 'center' });
  assert.deepEqual(Array.from(await c.x.data()).slice(0, 3), [2, 3, 4]);
  tf.dispose([c.x, c.y]);
});

test('toTensors: features are applied to the audio batch, and only x and y stay allocated', async () => {
  const before = tf.memory().numTensors;
  const { x, y } = await toTensors(new ArrayDataset(items), { length: 4, features: (a) => tf.sum(tf.square(a), 1) });
  assert.equal(tf.memory().numTensors, before + 2);
  assert.deepEqual(Array.from(await x.data()), [1 + 4 + 9 + 16, 36 + 49, 64 + 81 + 100]);
  tf.dispose([x, y]);
  assert.equal(tf.memory().numTensors, before);
});

test('toTensors: errors name the problem', async () => {
  await assert.rejects(toTensors(new ArrayDataset(items), { length: 0 }), /length must be a positive integer/);
  await assert.rejects(toTensors(new ArrayDataset(items), undefined as unknown as { length: number }), /length must be a positive integer/);
  await assert.rejects(toTensors(new ArrayDataset([]), { length: 3 }), /dataset is empty/);
});

test('tensorBatches: the rows of batchIndices, gathered from every tensor under its key, lazily', async () => {
  const x = tf.tensor2d([[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]]);
  const y = tf.tensor1d([0, 1, 2, 3, 4], 'int32');
  const opts = { batchSize: 2, shuffle: true, seed: 7 };
  const plan = batchIndices(5, opts);
  const before = tf.memory().numTensors;
  const it = tensorBatches({ x, y }, opts);
  assert.equal(tf.memory().numTensors, before, 'nothing is gathered before iteration');
  const got = [...it];
  assert.equal(got.length, plan.length);
  for (let b = 0; b < plan.length; b++) {
    assert.deepEqual(Array.from(await got[b].y.data()), plan[b]);
    assert.deepEqual(Array.from(await got[b].x.data()), plan[b].flatMap((i) => [i, i]));
    assert.deepEqual(got[b].x.shape, [plan[b].length, 2]);
  }
  assert.equal(tf.memory().numTensors, before + 2 * plan.length, 'two tensors per batch, no temporaries');
  tf.dispose(got.flatMap((g) => [g.x, g.y]));
  const first = tensorBatches({ x, y }, opts)[Symbol.iterator]().next().value as { x: tf.Tensor; y: tf.Tensor };
  assert.deepEqual(Array.from(await first.y.data()), plan[0], 'the same seed gives the same order');
  tf.dispose([first.x, first.y]);
  tf.dispose([x, y]);
});

test('tensorBatches: tensors must share their first dimension', () => {
  const x = tf.zeros([4, 2]);
  const y = tf.zeros([3]);
  assert.throws(() => tensorBatches({ x, y }), /same first dimension; x is \[4,2\], y is \[3\]/);
  assert.throws(() => tensorBatches({}), /received no tensors/);
  tf.dispose([x, y]);
});
