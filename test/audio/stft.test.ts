import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, fixture, FixtureTensor, fromFixture, setupBackend } from '../helpers';
import { istft, stft, stftFrames } from '../../lib/audio/stft';

interface Config { nFft: number; hopLength: number; winLength: number; center: boolean }
interface StftCase { name: string; config: Config; x: FixtureTensor; real: FixtureTensor; imag: FixtureTensor; weights: FixtureTensor; gradX: FixtureTensor }
interface IstftCase {
  name: string; config: Config; specReal: FixtureTensor; specImag: FixtureTensor; length: number | null;
  y: FixtureTensor | null; v?: FixtureTensor; gradReal?: FixtureTensor; gradImag?: FixtureTensor;
}
// torch.stft / torch.istft in float64 with autograd gradients: test/reference/audio_stft.py.
const fx = fixture<{ stft: StftCase[]; istft: IstftCase[] }>('audio_stft');

before(async () => { await setupBackend(); });

// Float32 sums of nFft products of O(1) terms: errors grow like eps32 * sqrt(nFft) * |x|; 1e-5 per
// unit of the largest magnitude in a case is ten times that for nFft <= 256.
function scaleOf(t: FixtureTensor): number {
  return t.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

test('stft equals torch.stft (frames-first) on odd/even nFft, short windows, uneven hops, batches', () => {
  for (const c of fx.stft) {
    const x = fromFixture(c.x);
    const { real, imag } = stft(x, c.config);
    const atol = 1e-5 * Math.max(scaleOf(c.real), scaleOf(c.imag));
    assertClose(real, c.real, { atol, rtol: 0, label: `stft real ${c.name}` });
    assertClose(imag, c.imag, { atol, rtol: 0, label: `stft imag ${c.name}` });
    assert.equal(stftFrames(c.x.shape[c.x.shape.length - 1], c.config), c.real.shape[c.real.shape.length - 2]);
    tf.dispose([x, real, imag]);
  }
});

test('gradient of sum(|stft(x)|^2 * W) w.r.t. x equals torch autograd', () => {
  for (const c of fx.stft) {
    const x = fromFixture(c.x);
    const w = fromFixture(c.weights);
    const g = tf.grad((xi: tf.Tensor) => {
      const { real, imag } = stft(xi, c.config);
      return real.square().add(imag.square()).mul(w).sum();
    })(x);
    assertClose(g, c.gradX, { atol: 1e-5 * scaleOf(c.gradX), rtol: 0, label: `stft grad ${c.name}` });
    tf.dispose([x, w, g]);
  }
});

test('istft(stft(x)) reconstructs x', () => {
  // Frames must overlap (hop < winLength) for the envelope to be non-zero; without `center` the Hann
  // envelope is 0 at the first sample.
  for (const c of fx.stft.filter((s) => s.config.center && s.config.hopLength < s.config.winLength)) {
    const x = fromFixture(c.x);
    const spec = stft(x, c.config);
    const time = c.x.shape[c.x.shape.length - 1];
    const y = istft(spec, { ...c.config, length: time });
    assertClose(y, x, { atol: 1e-5 * scaleOf(c.x), rtol: 0, label: `istft(stft) ${c.name}` });
    tf.dispose([x, spec.real, spec.imag, y]);
  }
});

test('istft equals torch.istft on arbitrary spectra, with its gradient', () => {
  for (const c of fx.istft) {
    const re = fromFixture(c.specReal);
    const im = fromFixture(c.specImag);
    const opts = { ...c.config, length: c.length ?? undefined };
    if (c.y === null) {
      assert.throws(() => istft({ real: re, imag: im }, opts), /summed squared window is 0 at output sample 0 .*NOLA/);
      tf.dispose([re, im]);
      continue;
    }
    const y = istft({ real: re, imag: im }, opts);
    assertClose(y, c.y, { atol: 1e-5 * scaleOf(c.y), rtol: 0, label: `istft ${c.name}` });
    const v = fromFixture(c.v as FixtureTensor);
    const [gr, gi] = tf.grads((a: tf.Tensor, b: tf.Tensor) => istft({ real: a, imag: b }, opts).mul(v).sum())([re, im]);
    assertClose(gr, c.gradReal as FixtureTensor, { atol: 1e-5 * scaleOf(c.gradReal as FixtureTensor), rtol: 0, label: `istft grad real ${c.name}` });
    assertClose(gi, c.gradImag as FixtureTensor, { atol: 1e-5 * scaleOf(c.gradImag as FixtureTensor), rtol: 0, label: `istft grad imag ${c.name}` });
    tf.dispose([re, im, y, v, gr, gi]);
  }
});

test('stft of a sinusoid on a bin peaks at that bin with amplitude sum(w)/2', () => {
  const nFft = 64;
  const x = tf.tensor1d(Float32Array.from({ length: 640 }, (_, n) => Math.cos((2 * Math.PI * 5 * n) / nFft)));
  const { real, imag } = stft(x, { nFft, hopLength: 16 });
  const mag = real.square().add(imag.square()).sqrt();
  const mid = mag.slice([10, 0], [1, 33]).dataSync();
  assert.equal(mid.indexOf(Math.max(...mid)), 5);
  // periodic Hann sums to nFft / 2, a unit cosine puts half of it in its bin
  assertClose(mid[5], nFft / 4, { atol: 1e-4, label: 'sinusoid peak' });
  tf.dispose([x, real, imag, mag]);
});

test('stft and istft check their arguments', () => {
  const x = tf.zeros([2, 3, 100]);
  assert.throws(() => stft(x, { nFft: 16 }), /\[time\] or \[batch, time\], got \[2, 3, 100\]/);
  const short = tf.zeros([8]);
  assert.throws(() => stft(short, { nFft: 16 }), /reflect padding of 8 samples .* got shape \[8\]/);
  assert.throws(() => stft(short, { nFft: 16, center: false }), /shape \[8\] is shorter than nFft 16/);
  assert.throws(() => stft(short, { nFft: 4, winLength: 5 }), /winLength must be an integer in \[1, nFft = 4\], got 5/);
  assert.throws(() => stft(short, { nFft: 4, hopLength: 0 }), /hopLength must be a positive integer, got 0/);
  assert.throws(() => stft(short, { nFft: 0 }), /nFft must be a positive integer, got 0/);
  assert.throws(() => stft(short, { nFft: 4, window: [1, 1] }), /window has 2 values, winLength is 4/);
  const re = tf.zeros([5, 9]);
  const im = tf.zeros([5, 9]);
  assert.throws(() => istft({ real: re, imag: im }, { nFft: 20 }), /shape \[batch\?, frames, 11\] \(nFft 20\), got \[5, 9\] and \[5, 9\]/);
  assert.throws(() => istft({ real: re, imag: tf.zeros([4, 9]) }, { nFft: 16 }), /got \[5, 9\] and \[4, 9\]/);
  tf.dispose([x, short, re, im]);
});

test('hopLength defaults to floor(nFft / 4) and winLength to nFft, as torch.stft', () => {
  const x = tf.randomNormal([100], 0, 1, 'float32', 4);
  const a = stft(x, { nFft: 16, winLength: 8 });
  const b = stft(x, { nFft: 16, winLength: 8, hopLength: 4 });
  assert.deepEqual(a.real.shape, [26, 9]); // torch: 1 + 100 // 4 frames
  assertClose(a.real, b.real, { atol: 0, rtol: 0, label: 'default hop' });
  const c = stft(x, { nFft: 16 });
  const d = stft(x, { nFft: 16, winLength: 16, hopLength: 4 });
  assertClose(c.imag, d.imag, { atol: 0, rtol: 0, label: 'default winLength' });
  tf.dispose([x, a.real, a.imag, b.real, b.imag, c.real, c.imag, d.real, d.imag]);
});

test('stft accepts a custom window', () => {
  // A rectangular window of nFft makes bin 0 the frame sum.
  const x = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8]);
  const { real, imag } = stft(x, { nFft: 4, hopLength: 4, center: false, window: [1, 1, 1, 1] });
  assertClose(real.slice([0, 0], [2, 1]), [10, 26], { atol: 1e-6, label: 'rectangular window' });
  assertClose(imag.slice([0, 0], [2, 1]), [0, 0], { atol: 1e-6, label: 'rectangular window imag' });
  tf.dispose([x, real, imag]);
});

test('stft and istft leak no tensors', async () => {
  const x = tf.randomNormal([2, 300], 0, 1, 'float32', 1);
  await assertNoLeak(() => stft(x, { nFft: 32, hopLength: 8 }), 'stft');
  const spec = stft(x, { nFft: 32, hopLength: 8 });
  await assertNoLeak(() => istft(spec, { nFft: 32, hopLength: 8, length: 300 }), 'istft');
  await assertNoLeak(() => tf.grad((xi: tf.Tensor) => stft(xi, { nFft: 32, hopLength: 8 }).real.sum())(x), 'stft grad');
  tf.dispose([x, spec.real, spec.imag]);
});

test('stftPacked and istftPacked equal stft and istft with real and imaginary parts on a last axis of 2', async () => {
  const { stftPacked, istftPacked } = await import('../../lib/audio/stft');
  const x = tf.randomNormal([3, 1000], 0, 1, 'float32', 4);
  for (const opts of [{ nFft: 256, hopLength: 64 }, { nFft: 255, hopLength: 100, winLength: 200 }]) {
    const s = stft(x, opts);
    const p = stftPacked(x, opts);
    assertClose(p, tf.stack([s.real, s.imag], -1), { atol: 1e-5, label: 'stftPacked' });
    // The last samples divide by a tiny squared-window sum, which magnifies float32 summation-order differences.
    assertClose(istftPacked(p, { ...opts, length: 1000 }), istft(s, { ...opts, length: 1000 }), { atol: 3e-4, label: 'istftPacked' });
    assertClose(stftPacked(x.slice([0, 0], [1, 1000]).squeeze([0]), opts), p.slice([0, 0, 0, 0], [1, -1, -1, -1]).squeeze([0]), { atol: 1e-5 });
    const g1 = tf.grad((v: tf.Tensor) => tf.sum(tf.square(istftPacked(stftPacked(v, opts), { ...opts, length: 1000 }))))(x);
    const g2 = tf.grad((v: tf.Tensor) => tf.sum(tf.square(istft(stft(v, opts), { ...opts, length: 1000 }))))(x);
    assertClose(g1, g2, { atol: 6e-4, label: 'packed gradient' });
  }
  assert.throws(() => istftPacked(tf.zeros([2, 5, 129]), { nFft: 256 }), /expected a spectrum \[batch\?, frames, 129, 2\]/);
  x.dispose();
});
