import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, fixture, FixtureTensor, fromFixture, setupBackend } from '../helpers';
import {
  amplitudeToDb, AmplitudeToDbOptions, dctMatrix, hzToMel, logMel, melFilterbank, melFilterbankArray,
  MelFilterbankOptions, melSpectrogram, MelSpectrogramOptions, melToHz, mfcc, MfccOptions,
} from '../../lib/audio/features';

interface Fx {
  fbanks: { options: MelFilterbankOptions & { norm: 'slaney' | null }; fb: FixtureTensor }[];
  dct: { nMfcc: number; nMels: number; norm: 'ortho' | null; dct: FixtureTensor }[];
  mel: { name: string; options: MelSpectrogramOptions & { norm?: 'slaney' | null }; x: FixtureTensor; y: FixtureTensor; weights?: FixtureTensor; gradX?: FixtureTensor }[];
  db: { options: AmplitudeToDbOptions; x: FixtureTensor; yExample: FixtureTensor; yBatch: FixtureTensor }[];
  mfcc: { name: string; options: MfccOptions & { norm?: 'ortho' | null }; x: FixtureTensor; yExample: FixtureTensor; yBatch: FixtureTensor; weights?: FixtureTensor; gradX?: FixtureTensor }[];
}
// torchaudio 0.13.1 in float64: test/reference/audio_features.py.
const fx = fixture<Fx>('audio_features');
const noNull = <T extends { norm?: unknown }>(o: T) => ({ ...o, norm: o.norm ?? undefined });

before(async () => { await setupBackend(); });

function maxAbs(t: FixtureTensor): number {
  return t.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

test('hzToMel and melToHz invert each other on both scales, with the slaney break at 1 kHz', () => {
  for (const scale of ['htk', 'slaney'] as const) {
    for (const f of [0, 100, 999, 1000, 4000, 8000]) assertClose(melToHz(hzToMel(f, scale), scale), f, { atol: 1e-9, label: `mel ${scale}` });
  }
  assertClose(hzToMel(1000, 'slaney'), 15, { atol: 1e-12, label: 'slaney 1 kHz' });
  assertClose(hzToMel(700, 'htk'), 2595 * Math.log10(2), { atol: 1e-9, label: 'htk 700 Hz' });
});

test('melFilterbank equals torchaudio melscale_fbanks (htk/slaney scales, slaney norm)', () => {
  for (const c of fx.fbanks) {
    const label = `fbank ${c.options.melScale} ${c.options.norm}`;
    // torchaudio builds the bank in float32; ours is float64
    assertClose(melFilterbankArray(noNull(c.options)), c.fb.data, { atol: 1e-6 * maxAbs(c.fb), rtol: 0, label });
    const t = melFilterbank(noNull(c.options));
    assertClose(t, c.fb, { atol: 1e-6 * maxAbs(c.fb), rtol: 0, label: `${label} tensor` });
    t.dispose();
  }
});

test('dctMatrix equals torchaudio create_dct', () => {
  for (const c of fx.dct) {
    assertClose(dctMatrix(c.nMfcc, c.nMels, c.norm ?? 'none'), c.dct.data, { atol: 1e-6, rtol: 0, label: `dct ${c.norm}` });
  }
  assert.throws(() => dctMatrix(9, 8), /nMfcc must be an integer in \[1, nMels = 8\], got 9/);
});

test('melSpectrogram equals torchaudio MelSpectrogram (defaults, slaney, power 1 + normalized + pad, no center)', () => {
  for (const c of fx.mel) {
    const x = fromFixture(c.x);
    const y = melSpectrogram(x, noNull(c.options));
    assertClose(y, c.y, { atol: 1e-5 * maxAbs(c.y), rtol: 0, label: `melSpectrogram ${c.name}` });
    tf.dispose([x, y]);
  }
});

test('gradient of sum(melSpectrogram(x) * W) equals torch autograd', () => {
  const withGrad = fx.mel.filter((c) => c.gradX);
  assert.ok(withGrad.length >= 2);
  for (const c of withGrad) {
    const x = fromFixture(c.x);
    const w = fromFixture(c.weights as FixtureTensor);
    const g = tf.grad((xi: tf.Tensor) => melSpectrogram(xi, noNull(c.options)).mul(w).sum())(x);
    assertClose(g, c.gradX as FixtureTensor, { atol: 1e-5 * maxAbs(c.gradX as FixtureTensor), rtol: 0, label: `melSpectrogram grad ${c.name}` });
    tf.dispose([x, w, g]);
  }
});

test('amplitudeToDb equals torchaudio amplitude_to_DB, floors per example or over the batch', () => {
  for (const c of fx.db) {
    const x = fromFixture(c.x);
    for (const [scope, expected] of [['example', c.yExample], ['batch', c.yBatch]] as const) {
      const y = amplitudeToDb(x, { ...c.options, topDbScope: scope });
      // log10 of float32 inputs: about 1e-6 relative, i.e. a few 1e-5 dB at 100 dB
      assertClose(y, expected, { atol: 1e-4, rtol: 0, label: `amplitudeToDb ${c.options.stype} ${c.options.topDb} ${scope}` });
      y.dispose();
    }
    x.dispose();
  }
});

test('mfcc equals torchaudio MFCC per clip, and over the batch with topDbScope batch', () => {
  for (const c of fx.mfcc) {
    const x = fromFixture(c.x);
    const opts = noNull(c.options) as MfccOptions;
    opts.norm = c.options.norm === null ? 'none' : c.options.norm;
    // dB values of order 100 through a DCT of up to 128 terms: float32 carries about 1e-5 relative
    const tol = 2e-5 * maxAbs(c.yExample);
    const ex = mfcc(x, opts);
    assertClose(ex, c.yExample, { atol: tol, rtol: 0, label: `mfcc ${c.name}` });
    const all = mfcc(x, { ...opts, topDbScope: 'batch' });
    assertClose(all, c.yBatch, { atol: tol, rtol: 0, label: `mfcc batch ${c.name}` });
    tf.dispose([x, ex, all]);
  }
  // The second case scales its second clip by 1e-3: the batch-wide floor then differs from per-clip.
  const differ = fx.mfcc.find((c) => c.name === 'small_batch_scales_differ');
  assert.ok(differ && differ.yExample.data.some((v, i) => Math.abs(v - differ.yBatch.data[i]) > 1));
});

test('gradient of sum(mfcc(x) * W) equals torch autograd', () => {
  const c = fx.mfcc.find((k) => k.gradX);
  assert.ok(c);
  const x = fromFixture(c.x);
  const w = fromFixture(c.weights as FixtureTensor);
  const g = tf.grad((xi: tf.Tensor) => mfcc(xi, noNull(c.options) as MfccOptions).mul(w).sum())(x);
  assertClose(g, c.gradX as FixtureTensor, { atol: 1e-4 * maxAbs(c.gradX as FixtureTensor), rtol: 0, label: `mfcc grad ${c.name}` });
  tf.dispose([x, w, g]);
});

test('logMel is log(mel + 1e-6) by default', () => {
  const x = tf.randomNormal([2, 600], 0, 0.3, 'float32', 2);
  const opts = { nFft: 128, hopLength: 64, nMels: 20 };
  const a = logMel(x, opts);
  const b = melSpectrogram(x, opts).add(1e-6).log();
  assertClose(a, b, { atol: 1e-6, rtol: 0, label: 'logMel' });
  const c = logMel(x, { ...opts, eps: 1 });
  assert.ok(c.min().dataSync()[0] >= 0, 'log(mel + 1) >= 0');
  tf.dispose([x, a, b, c]);
});

test('feature functions check arguments and leak nothing', async () => {
  const x = tf.randomNormal([2, 800], 0, 0.3, 'float32', 3);
  assert.throws(() => melSpectrogram(tf.zeros([1, 2, 800])), /\[time\] or \[batch, time\], got \[1, 2, 800\]/);
  assert.throws(() => melFilterbankArray({ nFreqs: 33, fMin: 9000 }), /need 0 <= fMin < fMax, got fMin 9000, fMax 8000/);
  assert.throws(() => mfcc(x, { nMfcc: 50, melOptions: { nMels: 40 } }), /cannot keep 50 coefficients from 40 mel bands/);
  assert.throws(() => amplitudeToDb(x, { topDb: -1 }), /topDb must be non-negative, got -1/);
  assert.throws(() => logMel(x, { eps: 0 }), /eps must be positive, got 0/);
  await assertNoLeak(() => melSpectrogram(x), 'melSpectrogram');
  await assertNoLeak(() => logMel(x), 'logMel');
  await assertNoLeak(() => mfcc(x), 'mfcc');
  const power = tf.randomUniform([2, 5, 7], 0, 1, 'float32', 4);
  await assertNoLeak(() => amplitudeToDb(power, { topDb: 80 }), 'amplitudeToDb');
  power.dispose();
  await assertNoLeak(() => melFilterbank({ nFreqs: 201 }), 'melFilterbank');
  x.dispose();
});
