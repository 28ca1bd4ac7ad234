import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ArrayDataset, BaseDataset, batchIndices, toArray } from '../../lib/data/dataset';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

async function collect<T>(it: AsyncIterable<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const b of it) out.push(b);
  return out;
}

test('batchIndices: in order without shuffle, last batch kept or dropped', () => {
  assert.deepEqual(batchIndices(7, { batchSize: 3 }), [[0, 1, 2], [3, 4, 5], [6]]);
  assert.deepEqual(batchIndices(7, { batchSize: 3, dropLast: true }), [[0, 1, 2], [3, 4, 5]]);
  assert.deepEqual(batchIndices(0, { batchSize: 3 }), []);
  assert.equal(batchIndices(40).length, 3, 'default batch size 16');
});

test('batchIndices: a seeded shuffle is a permutation, the same for the same seed, different for another', () => {
  const a = batchIndices(100, { batchSize: 8, shuffle: true, seed: 5 });
  const b = batchIndices(100, { batchSize: 8, shuffle: true, seed: 5 });
  const c = batchIndices(100, { batchSize: 8, shuffle: true, seed: 6 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual(a.flat().sort((x, y) => x - y), range(100));
  assert.notDeepEqual(a.flat(), range(100), 'shuffled');
  assert.deepEqual(batchIndices(10, { shuffle: true, seed: 'epoch-1' }), batchIndices(10, { shuffle: true, seed: 'epoch-1' }), 'string seeds');
});

test('batchIndices: rejects a bad batch size', () => {
  assert.throws(() => batchIndices(10, { batchSize: 0 }), /batchSize must be a positive integer, got 0/);
  assert.throws(() => batchIndices(10, { batchSize: 2.5 }), /got 2.5/);
});

test('Dataset.batches: yields the items of batchIndices, whatever the prefetch depth', async () => {
  const ds = new ArrayDataset(range(23).map((i) => `item${i}`));
  const opts = { batchSize: 5, shuffle: true, seed: 11 };
  const expected = batchIndices(23, opts).map((b) => b.map((i) => `item${i}`));
  for (const prefetch of [0, 1, 3]) {
    assert.deepEqual(await collect(ds.batches({ ...opts, prefetch })), expected, `prefetch ${prefetch}`);
  }
  assert.deepEqual((await collect(ds.batches({ batchSize: 10, dropLast: true }))).map((b) => b.length), [10, 10]);
});

test('Dataset.batches: loads lazily (prefetch 0 reads one batch ahead of nothing)', async () => {
  const touched: number[] = [];
  class Probe extends BaseDataset<number> {
    readonly length = 9;
    async get(i: number): Promise<number> { touched.push(i); return i; }
  }
  const it = new Probe().batches({ batchSize: 3, prefetch: 0 })[Symbol.asyncIterator]();
  const first = await it.next();
  assert.deepEqual(first.value, [0, 1, 2]);
  assert.deepEqual(touched.sort(), [0, 1, 2], 'only the first batch was read');
  await it.return?.(undefined);
});

test('Dataset.batches: an error from get reaches the consumer', async () => {
  class Broken extends BaseDataset<number> {
    readonly length = 6;
    async get(i: number): Promise<number> {
      if (i === 4) throw new Error('bad item 4');
      return i;
    }
  }
  await assert.rejects(collect(new Broken().batches({ batchSize: 2 })), /bad item 4/);
});

test('map, subset and toArray; out-of-range indices name the dataset', async () => {
  const ds = new ArrayDataset([10, 20, 30, 40]);
  assert.deepEqual(await toArray(ds.map((x, i) => x + i)), [10, 21, 32, 43]);
  assert.deepEqual(await toArray(ds.subset([3, 0])), [40, 10]);
  assert.equal(ds.subset([1, 2]).length, 2);
  await assert.rejects(ds.get(4), /ArrayDataset: index 4 is out of range \[0, 4\)/);
  assert.throws(() => ds.subset([5]), /subset: index 5 is out of range/);
});
