import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, setupBackend } from '../helpers';
import { frame, numFrames, overlapAdd } from '../../lib/audio/frame';

before(async () => { await setupBackend(); });

/** The definition, written as loops: out[r, f, n] = x[r, f * hop + n]. */
function naiveFrames(x: number[][], L: number, hop: number): number[] {
  const out: number[] = [];
  for (const row of x) {
    for (let f = 0; f + L <= row.length; f += hop) out.push(...row.slice(f, f + L));
  }
  return out;
}

const CASES: [number, number, number][] = [[23, 8, 3], [23, 8, 8], [20, 5, 7], [9, 9, 2], [31, 12, 5]];

test('frame equals the loop definition for hops below, equal to and above the frame length', () => {
  for (const [T, L, hop] of CASES) {
    const rows = [Array.from({ length: T }, (_, i) => i + 1), Array.from({ length: T }, (_, i) => -i * 0.5)];
    const x = tf.tensor2d(rows);
    const f = frame(x, L, hop);
    assert.deepEqual(f.shape, [2, numFrames(T, L, hop), L]);
    assert.deepEqual(Array.from(f.dataSync()), naiveFrames(rows, L, hop), `T ${T} L ${L} hop ${hop}`);
    tf.dispose([x, f]);
  }
});

test('overlapAdd is the adjoint of frame: <frame(x), y> = <x, overlapAdd(y)>', () => {
  for (const [T, L, hop] of CASES) {
    const nf = numFrames(T, L, hop);
    const used = (nf - 1) * hop + L;
    const x = tf.randomNormal([3, used], 0, 1, 'float32', T);
    const y = tf.randomNormal([3, nf, L], 0, 1, 'float32', L);
    const ola = overlapAdd(y, hop);
    assert.deepEqual(ola.shape, [3, used]);
    const lhs = frame(x, L, hop).mul(y).sum().dataSync()[0];
    const rhs = x.mul(ola).sum().dataSync()[0];
    assertClose(lhs, rhs, { atol: 1e-4, rtol: 1e-5, label: 'frame/overlapAdd adjoint' });
    tf.dispose([x, y, ola]);
  }
});

test('overlapAdd sums overlapping ones into the coverage count', () => {
  const ones = tf.ones([4, 5]);
  const y = overlapAdd(ones, 2);
  assert.deepEqual(Array.from(y.dataSync()), [1, 1, 2, 2, 3, 2, 3, 2, 2, 1, 1]);
  tf.dispose([ones, y]);
});

test('frame and overlapAdd are differentiable and check shapes', async () => {
  const x = tf.randomNormal([2, 30], 0, 1, 'float32', 3);
  const g = tf.grad((xi: tf.Tensor) => frame(xi, 8, 3).sum())(x);
  // each sample's gradient is the number of frames covering it
  const cover = overlapAdd(tf.ones([1, numFrames(30, 8, 3), 8]), 3).dataSync();
  const gv = g.dataSync();
  for (let i = 0; i < 30; i++) assert.equal(gv[i], i < cover.length ? cover[i] : 0);
  assert.throws(() => frame(tf.zeros([2, 5]), 8, 2), /5 samples \(shape \[2, 5\]\) is shorter than one frame of 8/);
  assert.throws(() => frame(x, 0, 2), /frameLength must be a positive integer, got 0/);
  assert.throws(() => overlapAdd(tf.zeros([5]), 2), /\[\.\.\., frames, frameLength\], got shape \[5\]/);
  await assertNoLeak(() => frame(x, 8, 3), 'frame');
  const frames = tf.zeros([2, 4, 8]);
  await assertNoLeak(() => overlapAdd(frames, 3), 'overlapAdd');
  tf.dispose([x, g, frames]);
});
