import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertNoLeak } from '../helpers';
import { collateAligned, collateAudio, collateLabels, fitLength } from '../../lib/data/collate';
import { Rng } from '../../lib/util/rng';

before(async () => { await setupBackend(); });

const f32 = (...v: number[]): Float32Array => Float32Array.from(v);

test('fitLength: pads at the end, crops at start / center / seeded random offsets', () => {
  assert.deepEqual(Array.from(fitLength(f32(1, 2), 4)), [1, 2, 0, 0]);
  assert.deepEqual(Array.from(fitLength(f32(1, 2, 3, 4, 5), 3)), [1, 2, 3]);
  assert.deepEqual(Array.from(fitLength(f32(1, 2, 3, 4, 5), 3, { crop: 'center' })), [2, 3, 4]);
  const x = Float32Array.from({ length: 100 }, (_, i) => i);
  const a = fitLength(x, 10, { crop: 'random', rng: new Rng(3) });
  const b = fitLength(x, 10, { crop: 'random', rng: new Rng(3) });
  assert.deepEqual(a, b, 'same seed, same crop');
  assert.equal(a[9] - a[0], 9, 'a contiguous window');
  assert.ok(a[0] >= 0 && a[0] <= 90);
  assert.throws(() => fitLength(x, 0), /length must be a positive integer, got 0/);
  assert.throws(() => fitLength(x, 3, { crop: 'middle' as never }), /unknown crop mode 'middle'/);
});

test('collateAudio: [batch, longest] by default, lengths of real audio, values in place', async () => {
  const { audio, lengths } = collateAudio([f32(1, 2, 3), f32(4), f32(5, 6)]);
  assert.deepEqual(audio.shape, [3, 3]);
  assert.deepEqual(lengths, [3, 1, 2]);
  assert.deepEqual(Array.from(await audio.data()), [1, 2, 3, 4, 0, 0, 5, 6, 0]);
  audio.dispose();
  const cropped = collateAudio([f32(1, 2, 3, 4)], { length: 2, crop: 'center' });
  assert.deepEqual(Array.from(await cropped.audio.data()), [2, 3]);
  assert.deepEqual(cropped.lengths, [2]);
  cropped.audio.dispose();
  assert.throws(() => collateAudio([]), /non-empty array/);
  assert.throws(() => collateAudio([[1, 2] as unknown as Float32Array]), /clip 0 is \[object Array\]/);
});

test('collateAligned: every signal of a group is cropped at the same random offset', async () => {
  const n = 50;
  const mix = Float32Array.from({ length: n }, (_, i) => i);
  const s1 = Float32Array.from({ length: n }, (_, i) => 100 + i);
  const s2 = Float32Array.from({ length: n }, (_, i) => 200 + i);
  const { audio, lengths } = collateAligned([[mix, s1, s2], [f32(1, 2), f32(3, 4), f32(5, 6)]], { length: 8, crop: 'random', rng: new Rng(9) });
  assert.deepEqual(audio.shape, [2, 3, 8]);
  assert.deepEqual(lengths, [8, 2]);
  const v = await audio.array() as number[][][];
  const start = v[0][0][0];
  assert.deepEqual(v[0][1], v[0][0].map((x) => x + 100));
  assert.deepEqual(v[0][2], v[0][0].map((x) => x + 200));
  assert.deepEqual(v[0][0], Array.from({ length: 8 }, (_, i) => start + i));
  assert.deepEqual(v[1][2], [5, 6, 0, 0, 0, 0, 0, 0]);
  audio.dispose();
  assert.throws(() => collateAligned([[f32(1)], [f32(1), f32(2)]]), /group 1 has 2 signals, group 0 has 1/);
  assert.throws(() => collateAligned([[f32(1, 2), f32(1)]]), /signal 1 of group 0 has 1 samples, signal 0 has 2/);
});

test('collateLabels: int32 [batch]; rejects non-integer labels', async () => {
  const t = collateLabels([2, 0, 1]);
  assert.equal(t.dtype, 'int32');
  assert.deepEqual(Array.from(await t.data()), [2, 0, 1]);
  t.dispose();
  assert.throws(() => collateLabels([1, -1]), /label 1 is -1/);
});

test('collate helpers leak no tensors beyond their results', async () => {
  const before = tf.memory().numTensors;
  await assertNoLeak(() => collateAudio([f32(1, 2), f32(3)], { length: 4 }), 'collateAudio');
  await assertNoLeak(() => collateAligned([[f32(1, 2), f32(3, 4)]]), 'collateAligned');
  await assertNoLeak(() => collateLabels([0, 1]), 'collateLabels');
  assert.equal(tf.memory().numTensors, before);
});
