import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { stoi, stoiBatch, STOI_SHORT_INPUT_VALUE } from '../../lib/metrics/stoi';
import { octaveResampleFilter, resampleOct, resampleOctLength, resampleOctPair } from '../../lib/metrics/stoi_resample';
import { thirdOctaveBands } from '../../lib/metrics/stoi_bands';
import { readWav } from '../../lib/audio/wav';
import { ROOT, setupBackend, fixture, assertClose, assertNoLeak } from '../helpers';

interface StoiCase {
  name: string; sampleRate: number; about: string; length: number; estimate: string; reference: string;
  stoi: number; estoi: number; estoi_random: boolean; pystoi_fails: boolean;
}
interface ResampleCase { p: number; q: number; x: number[]; y: number[]; filterLength: number }
const ref = fixture<{
  cases: StoiCase[]; resample: ResampleCase[]; bands: { lo: number[]; hi: number[] };
  pystoi_check?: { max_abs_stoi: number; max_abs_estoi: number };
}>('metrics_stoi');

/** int16 little-endian, base64 -> Float32Array of value / 32768 (as readWav gives int16 WAVs). */
function decode(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  const out = new Float32Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readInt16LE(2 * i) / 32768;
  return out;
}

const SHARED = path.join(ROOT, '..', 'shared', 'reference', 'speech_quality');
interface SharedCase { name: string; reference: string; degraded: string; sampleRate: number; stoi: number; estoi: number }

function loadShared(rel: string): Float32Array {
  const file = rel.startsWith('data/') ? path.join(ROOT, rel) : path.join(SHARED, rel);
  return readWav(file).channelData[0];
}

before(async () => { await setupBackend(); });

// Measured worst |slimspeech - pystoi 0.4.1| on the 56 shared cases: STOI 1.9e-15, ESTOI 8.9e-16 (float64 throughout;
// pystoi's ESTOI adds eps-scaled random noise); asserted at 1e-12, a margin for other float64 rounding (Math.*, FFT).
const TOL = 1e-12;

test('stoi equals pystoi 0.4.1 (STOI and ESTOI) on the 56 shared 16 kHz speech pairs', () => {
  assert.ok(fs.existsSync(path.join(SHARED, 'cases.json')), `${SHARED} is missing: the shared reference fixtures sit beside the clone (../shared)`);
  const shared = JSON.parse(fs.readFileSync(path.join(SHARED, 'cases.json'), 'utf8')) as { cases: SharedCase[] };
  assert.equal(shared.cases.length, 56);
  let worstS = 0;
  let worstE = 0;
  for (const c of shared.cases) {
    const clean = loadShared(c.reference);
    const degraded = loadShared(c.degraded);
    worstS = Math.max(worstS, assertClose(stoi(degraded, clean, c.sampleRate), c.stoi, { atol: TOL, rtol: 0, label: `STOI ${c.name}` }));
    worstE = Math.max(worstE, assertClose(stoi(degraded, clean, c.sampleRate, { extended: true }), c.estoi,
      { atol: TOL, rtol: 0, label: `ESTOI ${c.name}` }));
  }
  assert.ok(worstS <= TOL && worstE <= TOL, `worst STOI ${worstS}, ESTOI ${worstE}`);
});

test('stoi equals the numpy reference on 8/10/16/22.05/44.1/48 kHz, silences, short inputs and the 30-frame boundary', () => {
  assert.ok(ref.cases.length >= 15);
  // The fixture records how far the numpy reference was from the real pystoi 0.4.1 on these cases.
  assert.ok(ref.pystoi_check && ref.pystoi_check.max_abs_stoi < 1e-12 && ref.pystoi_check.max_abs_estoi < 1e-12);
  const rates = new Set<number>();
  for (const c of ref.cases) {
    const est = decode(c.estimate);
    const rf = decode(c.reference);
    assert.equal(rf.length, c.length, c.name);
    rates.add(c.sampleRate);
    assertClose(stoi(est, rf, c.sampleRate, { onShort: 'silent' }), c.stoi, { atol: TOL, rtol: 0, label: `STOI ${c.name}` });
    assertClose(stoi(est, rf, c.sampleRate, { extended: true, onShort: 'silent' }), c.estoi,
      { atol: TOL, rtol: 0, label: `ESTOI ${c.name}` });
  }
  for (const r of [8000, 10000, 16000, 22050, 44100, 48000]) assert.ok(rates.has(r), `a case at ${r} Hz`);
  assert.ok(ref.cases.filter((c) => c.stoi === STOI_SHORT_INPUT_VALUE).length >= 3, 'short cases');
});

test('resampleOct equals pystoi\'s resample_oct (scipy resample_poly with the Octave filter) via the numpy reference', () => {
  for (const r of ref.resample) {
    const f = octaveResampleFilter(r.p, r.q);
    assert.equal(f.taps.length, r.filterLength, `filter length ${r.q} -> ${r.p}`);
    assertClose(f.taps.reduce((a, b) => a + b, 0), 1, { atol: 1e-12, label: 'unit sum' });
    const y = resampleOct(r.x, r.p, r.q);
    assert.equal(y.length, resampleOctLength(r.x.length, r.p, r.q));
    assertClose(y, r.y, { atol: 1e-12, rtol: 0, label: `resampleOct ${r.q} -> ${r.p}` });
    const [a, b] = resampleOctPair(r.x, r.x.map((v) => -2 * v), r.p, r.q, f);
    assert.deepEqual(a, y);
    assert.deepEqual(b, y.map((v) => -2 * v));
  }
  assert.throws(() => resampleOctPair([1, 2], [1], 10000, 16000), /resampleOctPair: x and y must have one length; got 2 and 1/);
  assert.deepEqual(Array.from(resampleOct([1, 2, 3], 10000, 10000)), [1, 2, 3]);
  assert.throws(() => octaveResampleFilter(10000, 0), /q must be a positive integer; got 0/);
});

test('thirdOctaveBands gives pystoi\'s 15 band edges at 10 kHz / 512 bins, centres 150 * 2^(k/3)', () => {
  const b = thirdOctaveBands(10000, 512, 15, 150);
  assert.deepEqual(Array.from(b.lo), ref.bands.lo);
  assert.deepEqual(Array.from(b.hi), ref.bands.hi);
  assertClose(b.centerFrequencies[3], 300, { atol: 1e-9 });
  for (let k = 1; k < 15; k++) assert.equal(b.lo[k], b.hi[k - 1], 'bands tile the spectrum');
});

test('identical, inverted and rescaled copies score 1 (STOI and ESTOI); an all-zero estimate scores 0', () => {
  const c = ref.cases.find((x) => x.name === 'speech-noisy-16000')!;
  const clean = decode(c.reference);
  const f64 = Float64Array.from(clean);
  for (const extended of [false, true]) {
    assertClose(stoi(clean, clean, 16000, { extended }), 1, { atol: 1e-12, label: `identical ${extended}` });
    assertClose(stoi(f64.map((v) => -v), f64, 16000, { extended }), 1, { atol: 1e-12, label: `inverted ${extended}` });
    assertClose(stoi(f64.map((v) => 3.7 * v), f64, 16000, { extended }), 1, { atol: 1e-12, label: `scaled ${extended}` });
    assert.equal(stoi(new Float64Array(f64.length), f64, 16000, { extended }), 0);
  }
  // A degraded estimate scores below 1 and ESTOI, which also penalises modulation in the noise, lower still.
  const noisy = decode(c.estimate);
  const [s, e] = [stoi(noisy, clean, 16000), stoi(noisy, clean, 16000, { extended: true })];
  assert.ok(s < 0.95 && e < s, `STOI ${s}, ESTOI ${e}`);
});

test('stoi accepts Float32Array, Float64Array, number[] and 1-D tensors alike, arguments as (estimate, reference)', () => {
  const c = ref.cases.find((x) => x.name === 'speech-noisy-8000')!;
  const [est, rf] = [decode(c.estimate), decode(c.reference)];
  const expected = stoi(est, rf, 8000);
  assert.equal(stoi(Float64Array.from(est), Float64Array.from(rf), 8000), expected);
  assert.equal(stoi(Array.from(est), Array.from(rf), 8000), expected);
  const [te, tr] = [tf.tensor1d(est), tf.tensor1d(rf)];
  assert.equal(stoi(te, tr, 8000), expected);
  tf.dispose([te, tr]);
  // Swapping the arguments changes the value: silence and normalisation are decided on the reference.
  assert.notEqual(stoi(rf, est, 8000), expected);
  assertClose(expected, c.stoi, { atol: TOL, label: 'same pair' });
});

test('stoiBatch equals stoi per item, for [batch, time] tensors and arrays of signals; leaks no tensors', async () => {
  const c = ref.cases.find((x) => x.name === 'speech-noisy-16000')!;
  const [noisy, clean] = [decode(c.estimate), decode(c.reference)];
  const ests = [noisy, clean, noisy.map((v) => 0.5 * v), new Float32Array(clean.length), clean];
  const refs = [clean, clean, clean, clean, noisy];
  for (const extended of [false, true]) {
    const single = ests.map((e, i) => stoi(e, refs[i], 16000, { extended }));
    const E = tf.tensor2d(ests.map((e) => Array.from(e)));
    const R = tf.tensor2d(refs.map((r) => Array.from(r)));
    assert.deepEqual(stoiBatch(E, R, 16000, { extended }), single);
    assert.deepEqual(stoiBatch(ests, refs, 16000, { extended }), single);
    tf.dispose([E, R]);
  }
  assert.deepEqual(stoiBatch([], [], 16000), []);
  const [E, R, e1] = [tf.tensor2d([Array.from(ests[0])]), tf.tensor2d([Array.from(refs[0])]), tf.tensor1d(ests[0])];
  await assertNoLeak(() => { stoiBatch(E, R, 16000); stoi(e1, refs[0], 16000); }, 'stoi');
  tf.dispose([E, R, e1]);
});

test('fewer than 30 frames after silence removal gives 1e-5 with a RuntimeWarning, silently, or an error', async () => {
  const c = ref.cases.find((x) => x.name === 'short-by-silence-16000')!;
  const [est, rf] = [decode(c.estimate), decode(c.reference)];
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    assert.equal(stoi(est, rf, 16000), STOI_SHORT_INPUT_VALUE);
    await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
  } finally {
    process.off('warning', onWarning);
  }
  assert.equal(warnings.length, 1, warnings.map((w) => w.message).join('\n'));
  assert.equal(warnings[0].name, 'RuntimeWarning');
  assert.match(warnings[0].message, /stoi: only \d+ STFT frame\(s\) left after removing silent frames, fewer than the 30/);
  assert.equal(stoi(est, rf, 16000, { onShort: 'silent', extended: true }), STOI_SHORT_INPUT_VALUE);
  assert.throws(() => stoi(est, rf, 16000, { onShort: 'throw' }), /stoi: only \d+ STFT frame\(s\) left/);
  const long = ref.cases.find((x) => x.name === 'speech-noisy-16000')!;
  assert.throws(() => stoiBatch([decode(long.estimate), est], [decode(long.reference), rf], 16000, { onShort: 'throw' }),
    /stoiBatch: item 1: only/);
  // A single sample: no frame at all (pystoi fails here with an indexing error).
  assert.equal(stoi([0.5], [0.25], 16000, { onShort: 'silent' }), STOI_SHORT_INPUT_VALUE);
});

test('stoi and stoiBatch reject bad input, naming the argument and what was received', () => {
  const x = new Float32Array(5000).map((_, i) => Math.sin(i / 7));
  assert.throws(() => stoi(x, x.subarray(1), 16000), /stoi: estimate and reference must have the same length; got estimate 5000 and reference 4999 samples/);
  assert.throws(() => stoi(new Float32Array(0), new Float32Array(0), 16000), /stoi: estimate is empty \(0 samples\)/);
  const bad = Float64Array.from(x);
  bad[17] = NaN;
  assert.throws(() => stoi(bad, x, 16000), /stoi: estimate\[17\] is NaN/);
  bad[17] = -Infinity;
  assert.throws(() => stoi(x, bad, 16000), /stoi: reference\[17\] is -Infinity/);
  for (const sr of [0, -16000, NaN, Infinity]) {
    assert.throws(() => stoi(x, x, sr), new RegExp(`stoi: sampleRate must be a positive, finite number of Hz; got ${sr}`));
  }
  assert.throws(() => stoi(x, x, 16000.5), /stoi: sampleRate must be an integer number of Hz.*got 16000.5/);
  assert.throws(() => stoi(x, x, '16000' as unknown as number), /sampleRate must be a positive, finite number of Hz; got 16000/);
  const t2 = tf.zeros([2, 5000]);
  assert.throws(() => stoi(t2, x, 16000), /stoi: estimate must be 1-D; got a tensor of shape \[2, 5000\]/);
  assert.throws(() => stoiBatch(x as unknown as tf.Tensor, t2, 16000), /stoiBatch: estimates must be a \[batch, time\] tensor or an array of signals/);
  assert.throws(() => stoiBatch(t2, tf.zeros([2, 4999]), 16000), /stoiBatch: estimates\[0\] and references\[0\] must have the same length; got 5000 and 4999/);
  assert.throws(() => stoiBatch(t2, tf.zeros([3, 5000]), 16000), /stoiBatch: estimates and references must hold the same number of signals; got 2 and 3/);
  assert.throws(() => stoiBatch([x, bad], [x, x], 16000), /stoiBatch: estimates\[1\]\[17\] is -Infinity/);
  assert.throws(() => stoiBatch(tf.zeros([5000]), t2, 16000), /stoiBatch: estimates must be a \[batch, time\] tensor; got shape \[5000\]/);
  assert.throws(() => stoi(x, x, 16000, { onShort: 'loud' as 'warn' }), /options.onShort must be 'warn', 'silent' or 'throw'; got loud/);
  assert.throws(() => stoi(x, x, 16000, { extended: 1 as unknown as boolean }), /options.extended must be a boolean; got 1/);
  tf.dispose(t2);
});
