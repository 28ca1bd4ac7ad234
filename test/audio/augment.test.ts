import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, setupBackend } from '../helpers';
import { Rng } from '../../lib/util/rng';
import {
  applyGain, applyGainArray, fitLength, fitLengthArray, mixAtSnr, mixAtSnrArray, scaleNoiseToSnr, specAugment,
  specAugmentMasks, timeShift, timeShiftArray,
} from '../../lib/audio/augment';

before(async () => { await setupBackend(); });

function randomArray(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** 10 log10(sum a^2 / sum b^2) in float64. */
function ratioDb(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let pa = 0;
  let pb = 0;
  for (let i = 0; i < a.length; i++) pa += a[i] * a[i];
  for (let i = 0; i < b.length; i++) pb += b[i] * b[i];
  return 10 * Math.log10(pa / pb);
}

test('applyGain changes the energy by exactly gainDb, per example when asked', () => {
  const x = tf.tensor2d([Array.from(randomArray(100, 1)), Array.from(randomArray(100, 2))]);
  const y = applyGain(x, [6, -20]);
  const xv = x.arraySync() as number[][];
  const yv = y.arraySync() as number[][];
  assertClose(ratioDb(yv[0], xv[0]), 6, { atol: 1e-5, label: 'gain +6 dB' });
  assertClose(ratioDb(yv[1], xv[1]), -20, { atol: 1e-5, label: 'gain -20 dB' });
  const z = applyGain(x, 20);
  assertClose(z, x.mul(10), { atol: 1e-5, rtol: 1e-6, label: 'gain 20 dB = x10' });
  assertClose(applyGainArray(Float32Array.from([1, -0.5]), -6.020599913279624), [0.5, -0.25], { atol: 1e-7, label: 'applyGainArray' });
  assert.throws(() => applyGain(x, [1, 2, 3]), /one value per example \(2\), got shape \[3\]/);
  tf.dispose([x, y, z]);
});

test('timeShift rolls or zero-fills, per example, and matches timeShiftArray', () => {
  const a = [1, 2, 3, 4, 5];
  const x = tf.tensor2d([a, a.map((v) => v * 10)]);
  const cases: [number, 'roll' | 'zero', number[]][] = [
    [2, 'roll', [4, 5, 1, 2, 3]], [-1, 'roll', [2, 3, 4, 5, 1]], [7, 'roll', [4, 5, 1, 2, 3]],
    [2, 'zero', [0, 0, 1, 2, 3]], [-2, 'zero', [3, 4, 5, 0, 0]], [9, 'zero', [0, 0, 0, 0, 0]], [0, 'zero', a],
  ];
  for (const [s, mode, expected] of cases) {
    const y = timeShift(x, s, { mode });
    assert.deepEqual(Array.from(y.dataSync()), [...expected, ...expected.map((v) => v * 10)], `${mode} ${s}`);
    assert.deepEqual(Array.from(timeShiftArray(Float32Array.from(a), s, { mode })), expected, `array ${mode} ${s}`);
    y.dispose();
  }
  const per = timeShift(x, [1, -1]);
  assert.deepEqual(per.arraySync(), [[5, 1, 2, 3, 4], [20, 30, 40, 50, 10]]);
  assert.throws(() => timeShift(x, [1]), /1 shifts for 2 example\(s\) \(shape \[2, 5\]\)/);
  assert.throws(() => timeShift(x, 0.5), /shifts must be integers/);
  assert.throws(() => timeShift(x, 1, { mode: 'wrap' as 'roll' }), /mode must be 'roll' or 'zero', got 'wrap'/);
  tf.dispose([x, per]);
});

test('fitLength loops short and crops long signals from an offset', () => {
  tf.tidy(() => {
    const x = tf.tensor1d([1, 2, 3]);
    assert.deepEqual(Array.from(fitLength(x, 7).dataSync()), [1, 2, 3, 1, 2, 3, 1]);
    assert.deepEqual(Array.from(fitLength(x, 2, { offset: 2 }).dataSync()), [3, 1]);
    assert.deepEqual(Array.from(fitLength(x, 4, { offset: -1 }).dataSync()), [3, 1, 2, 3]);
    const b = tf.tensor2d([[1, 2], [3, 4]]);
    assert.deepEqual(fitLength(b, 3, { offset: 1 }).arraySync(), [[2, 1, 2], [4, 3, 4]]);
  });
  assert.deepEqual(Array.from(fitLengthArray(Float32Array.from([1, 2, 3]), 5, { offset: 1 })), [2, 3, 1, 2, 3]);
  assert.throws(() => fitLengthArray(new Float32Array(0), 3), /cannot loop an empty signal/);
});

test('mixAtSnr reaches the requested SNR exactly, per example, with looped or shared noise', () => {
  const clean = tf.tensor2d([Array.from(randomArray(400, 3)), Array.from(randomArray(400, 4)).map((v) => v * 0.01)]);
  const noise = tf.tensor2d([Array.from(randomArray(150, 5)), Array.from(randomArray(1000, 6)).slice(0, 150)]);
  for (const snr of [-10, 0, 7.5, 40]) {
    const mix = mixAtSnr(clean, noise, snr);
    const c = clean.arraySync() as number[][];
    const m = mix.arraySync() as number[][];
    for (let b = 0; b < 2; b++) {
      const added = m[b].map((v, i) => v - c[b][i]);
      // mixture - clean cancels float32 digits: at 40 dB the recovered noise is good to ~1e-5 relative
      assertClose(ratioDb(c[b], added), snr, { atol: 1e-4, label: `mixAtSnr ${snr} dB` });
    }
    mix.dispose();
  }
  // The added noise is the looped noise times one factor (exact SNR of the scaled noise itself).
  const scaled = scaleNoiseToSnr(clean, noise, [3, -3]);
  const looped = fitLength(noise, 400);
  const sv = scaled.arraySync() as number[][];
  const lv = looped.arraySync() as number[][];
  for (let b = 0; b < 2; b++) {
    const k = sv[b][0] / lv[b][0];
    assertClose(sv[b], lv[b].map((v) => v * k), { atol: 1e-6, rtol: 1e-5, label: 'scaled noise is looped noise x k' });
    assertClose(ratioDb((clean.arraySync() as number[][])[b], sv[b]), [3, -3][b], { atol: 1e-4, label: 'scaleNoiseToSnr' });
  }
  // A noise [noiseTime] is shared by every example; the array version agrees.
  const shared = tf.tensor1d(randomArray(97, 7));
  const mixed = mixAtSnr(clean, shared, 5, { offset: 10 });
  const row0 = (mixed.arraySync() as number[][])[0];
  const ref = mixAtSnrArray(Float32Array.from((clean.arraySync() as number[][])[0]), randomArray(97, 7), 5, { offset: 10 });
  assertClose(row0, ref.mixture, { atol: 1e-5, rtol: 1e-5, label: 'mixAtSnrArray vs tensor' });
  assertClose(ratioDb(Float32Array.from((clean.arraySync() as number[][])[0]), ref.noise), 5, { atol: 1e-4, label: 'mixAtSnrArray SNR' });
  tf.dispose([clean, noise, scaled, looped, shared, mixed]);
});

test('mixAtSnr with silent noise returns the clean signal, not NaN', () => {
  const clean = tf.tensor1d([0.5, -0.5, 0.25]);
  const mix = mixAtSnr(clean, tf.zeros([2]), 10);
  assert.deepEqual(Array.from(mix.dataSync()), [0.5, -0.5, 0.25]);
  assert.deepEqual(Array.from(mixAtSnrArray(Float32Array.from([0.5]), new Float32Array(3), 0).mixture), [0.5]);
  assert.throws(() => mixAtSnr(clean, tf.zeros([3, 4]), 0), /noise of shape \[3, 4\] does not match clean of shape \[3\]/);
  tf.dispose([clean, mix]);
});

test('specAugmentMasks are deterministic from a seed and stay within bounds', () => {
  const opts = { freqMasks: 3, maxFreqWidth: 10, timeMasks: 2, maxTimeWidth: 30, maxTimeRatio: 0.2, seed: 42 };
  const a = specAugmentMasks(50, 100, 40, opts);
  assert.deepEqual(specAugmentMasks(50, 100, 40, opts), a);
  assert.notDeepEqual(specAugmentMasks(50, 100, 40, { ...opts, seed: 43 }), a);
  const fw = a.freq.flat().map((m) => m.width);
  const tw = a.time.flat().map((m) => m.width);
  assert.equal(fw.length, 150);
  assert.equal(tw.length, 100);
  for (const m of a.freq.flat()) assert.ok(m.start >= 0 && m.start + m.width <= 40 && m.width <= 10, JSON.stringify(m));
  // maxTimeRatio 0.2 of 100 frames caps time masks at 20 < maxTimeWidth
  for (const m of a.time.flat()) assert.ok(m.start >= 0 && m.start + m.width <= 100 && m.width <= 20, JSON.stringify(m));
  // widths are uniform over 0..max: over 150 draws both ends occur
  assert.equal(Math.min(...fw), 0);
  assert.equal(Math.max(...fw), 10);
  // an Rng advances between calls; the same state gives the same masks
  const rng = new Rng(7);
  const first = specAugmentMasks(2, 50, 20, { rng });
  const second = specAugmentMasks(2, 50, 20, { rng });
  assert.notDeepEqual(first, second);
  assert.deepEqual(specAugmentMasks(2, 50, 20, { rng: new Rng(7) }), first);
  assert.throws(() => specAugmentMasks(1, 10, 10, {}), /pass \{seed\} or \{rng\}/);
});

test('specAugment writes the value into masked cells and keeps the others', () => {
  const spec = tf.randomUniform([3, 60, 24], 1, 2, 'float32', 9);
  const opts = { freqMasks: 2, maxFreqWidth: 8, timeMasks: 2, maxTimeWidth: 15, seed: 5 };
  const masks = specAugmentMasks(3, 60, 24, opts);
  for (const value of [0, -3, 'mean'] as const) {
    const y = specAugment(spec, { ...opts, value });
    const sv = spec.arraySync() as number[][][];
    const yv = y.arraySync() as number[][][];
    for (let b = 0; b < 3; b++) {
      const mean = sv[b].flat().reduce((s, v) => s + v, 0) / (60 * 24);
      const fill = value === 'mean' ? mean : value;
      for (let t = 0; t < 60; t++) {
        for (let f = 0; f < 24; f++) {
          const masked = masks.time[b].some((m) => t >= m.start && t < m.start + m.width) ||
            masks.freq[b].some((m) => f >= m.start && f < m.start + m.width);
          assert.ok(Math.abs(yv[b][t][f] - (masked ? fill : sv[b][t][f])) < 1e-5, `b ${b} t ${t} f ${f} value ${value}`);
        }
      }
    }
    y.dispose();
  }
  // unbatched input uses the first example's masks; the gradient is the keep mask
  const one = spec.slice([0, 0, 0], [1, 60, 24]).reshape([60, 24]);
  const g = tf.grad((s: tf.Tensor) => specAugment(s, opts).sum())(one);
  const gv = g.arraySync() as number[][];
  const kept = gv.flat().reduce((s, v) => s + v, 0);
  let expectedKept = 0;
  for (let t = 0; t < 60; t++) {
    for (let f = 0; f < 24; f++) {
      if (!masks.time[0].some((m) => t >= m.start && t < m.start + m.width) && !masks.freq[0].some((m) => f >= m.start && f < m.start + m.width)) expectedKept++;
    }
  }
  assert.equal(kept, expectedKept);
  assert.throws(() => specAugment(tf.zeros([5]), opts), /\[frames, freq\] or \[batch, frames, freq\], got \[5\]/);
  tf.dispose([spec, one, g]);
});

test('augmentations leak no tensors', async () => {
  const x = tf.randomNormal([2, 200], 0, 1, 'float32', 1);
  const n = tf.randomNormal([2, 50], 0, 1, 'float32', 2);
  const spec = tf.randomUniform([2, 30, 16], 0, 1, 'float32', 3);
  await assertNoLeak(() => applyGain(x, [1, 2]), 'applyGain');
  await assertNoLeak(() => timeShift(x, [3, -4], { mode: 'zero' }), 'timeShift');
  await assertNoLeak(() => fitLength(n, 200, { offset: 7 }), 'fitLength');
  await assertNoLeak(() => mixAtSnr(x, n, [0, 5]), 'mixAtSnr');
  await assertNoLeak(() => specAugment(spec, { seed: 1, value: 'mean' }), 'specAugment');
  tf.dispose([x, n, spec]);
});
