import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, fixture, FixtureTensor, fromFixture, setupBackend } from '../helpers';
import { resample, resampleArray, resampledLength, resampleKernel, ResamplingMethod } from '../../lib/audio/resample';

interface Case {
  name: string; orig: number; new: number; method: ResamplingMethod; lowpassFilterWidth: number; rolloff: number;
  beta: number | null; x: FixtureTensor; y: FixtureTensor; v?: FixtureTensor; gradX?: FixtureTensor;
}
// torchaudio.functional.resample in float64: test/reference/audio_resample.py.
const { cases } = fixture<{ cases: Case[] }>('audio_resample');
const optsOf = (c: Case) => ({ method: c.method, lowpassFilterWidth: c.lowpassFilterWidth, rolloff: c.rolloff, beta: c.beta ?? undefined });

before(async () => { await setupBackend(); });

// Inputs are N(0, 1) and the kernel's taps sum to about 1: float32 rounding over ~100-500 taps stays
// below 1e-5.
test('resample equals torchaudio.functional.resample (16k<->8k, 44.1k->16k, 22.05k->16k, kaiser)', () => {
  for (const c of cases) {
    const x = fromFixture(c.x);
    const y = resample(x, c.orig, c.new, optsOf(c));
    assertClose(y, c.y, { atol: 1e-5, rtol: 0, label: `resample ${c.name}` });
    tf.dispose([x, y]);
  }
});

test('resampleArray equals torchaudio on each channel', () => {
  for (const c of cases) {
    const T = c.x.shape[c.x.shape.length - 1];
    const To = c.y.shape[c.y.shape.length - 1];
    assert.equal(resampledLength(T, c.orig, c.new), To);
    for (let r = 0; r * T < c.x.data.length; r++) {
      const y = resampleArray(Float32Array.from(c.x.data.slice(r * T, (r + 1) * T)), c.orig, c.new, optsOf(c));
      assertClose(y, c.y.data.slice(r * To, (r + 1) * To), { atol: 1e-5, rtol: 0, label: `resampleArray ${c.name}` });
    }
  }
});

test('gradient of sum(resample(x) * v) equals torch autograd', () => {
  for (const c of cases.filter((k) => k.gradX)) {
    const x = fromFixture(c.x);
    const v = fromFixture(c.v as FixtureTensor);
    const g = tf.grad((xi: tf.Tensor) => resample(xi, c.orig, c.new, optsOf(c)).mul(v).sum())(x);
    assertClose(g, c.gradX as FixtureTensor, { atol: 1e-5, rtol: 0, label: `resample grad ${c.name}` });
    tf.dispose([x, v, g]);
  }
});

test('resampling keeps a low tone and removes one above the new Nyquist frequency', () => {
  const tone = (f: number, sr: number, n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * f * i) / sr));
  const kept = resampleArray(tone(1000, 16000, 1600), 16000, 8000);
  const expected = tone(1000, 8000, 800);
  // away from the zero-padded edges the 1 kHz tone is reproduced
  assertClose(kept.slice(100, 700), expected.slice(100, 700), { atol: 2e-3, rtol: 0, label: 'passband tone' });
  const removed = resampleArray(tone(6000, 16000, 1600), 16000, 8000).slice(100, 700);
  assert.ok(Math.max(...removed.map(Math.abs)) < 1e-2, 'a 6 kHz tone is filtered out at 8 kHz');
});

test('equal rates copy, and bad rates or options are refused', async () => {
  const x = tf.tensor1d([1, 2, 3]);
  const same = resample(x, 16000, 16000);
  assert.notEqual(same, x);
  assert.deepEqual(Array.from(same.dataSync()), [1, 2, 3]);
  assert.deepEqual(Array.from(resampleArray(Float32Array.from([1, 2]), 8000, 8000)), [1, 2]);
  assert.throws(() => resample(x, 44100, 5512.5), /newFreq must be a positive integer .* got 5512.5/);
  assert.throws(() => resample(x, 0, 8000), /origFreq must be a positive integer/);
  assert.throws(() => resampleKernel(2, 1, { rolloff: 1.5 }), /rolloff must be in \(0, 1\], got 1.5/);
  assert.throws(() => resampleKernel(2, 1, { method: 'linear' as ResamplingMethod }), /got 'linear'/);
  assert.throws(() => resampleArray([1, 2] as unknown as Float32Array, 2, 1), /expected a Float32Array/);
  assert.throws(() => resampleKernel(44100, 16001), /reduces to 44100 -> 16001 and needs a 16001 x \d+ kernel/);
  const k = resampleKernel(44100, 16000);
  assert.deepEqual([k.orig, k.new, k.width, k.taps.length], [441, 160, 17, 160 * (2 * 17 + 441)]);
  const batch = tf.randomNormal([2, 3, 100], 0, 1, 'float32', 5);
  await assertNoLeak(() => resample(batch, 16000, 8000), 'resample');
  tf.dispose([x, same, batch]);
});
