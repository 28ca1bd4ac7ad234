import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { siSnr, siSnrImprovement } from '../../lib/metrics/si_snr';
import { setupBackend, fixture, fromFixture, assertClose, assertNoLeak, FixtureTensor } from '../helpers';

interface SiSnrCase {
  name: string; zero_mean: boolean; eps: number; estimate: FixtureTensor; reference: FixtureTensor;
  cotangent: FixtureTensor; si_snr: FixtureTensor; grad_estimate: FixtureTensor; grad_reference: FixtureTensor;
}
interface SiSnriCase { name: string; estimate: FixtureTensor; reference: FixtureTensor; mixture: FixtureTensor; si_snri: FixtureTensor }
const ref = fixture<{ si_snr: SiSnrCase[]; si_snri: SiSnriCase[] }>('metrics_si_snr');

before(async () => { await setupBackend(); });

// Float32 sums over a few hundred samples: relative errors ~1e-6 in the energies, ~1e-5 dB after the log.
const DB = { atol: 1e-4, rtol: 1e-5 };

test('siSnr equals the torchmetrics SI-SNR formula in torch float64, forward and gradients in both inputs', () => {
  assert.ok(ref.si_snr.length >= 6);
  for (const c of ref.si_snr) {
    const est = fromFixture(c.estimate);
    const rf = fromFixture(c.reference);
    const w = fromFixture(c.cotangent);
    const opts = { eps: c.eps, zeroMean: c.zero_mean };
    const v = siSnr(est, rf, opts);
    assertClose(v, c.si_snr, { ...DB, label: `siSnr ${c.name}` });
    const [ge, gr] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(siSnr(a, b, opts), w)))([est, rf]);
    // Gradients are ~1e-2 per sample; relative float32 error of the energies carries over.
    assertClose(ge, c.grad_estimate, { atol: 1e-6, rtol: 1e-3, label: `siSnr grad estimate ${c.name}` });
    assertClose(gr, c.grad_reference, { atol: 1e-6, rtol: 1e-3, label: `siSnr grad reference ${c.name}` });
    tf.dispose([est, rf, w, v, ge, gr]);
  }
});

test('siSnrImprovement equals SI-SNR(estimate) - SI-SNR(mixture) from torch, with a full or a broadcast mixture', () => {
  for (const c of ref.si_snri) {
    const [est, rf, mix] = [fromFixture(c.estimate), fromFixture(c.reference), fromFixture(c.mixture)];
    const v = siSnrImprovement(est, rf, mix);
    assertClose(v, c.si_snri, { ...DB, label: `siSnrImprovement ${c.name}` });
    tf.dispose([est, rf, mix, v]);
  }
});

test('siSnr is invariant to the gain of either signal (including sign) and, zero-mean, to DC offsets', async () => {
  const r = tf.randomNormal([3, 1000], 0, 1, 'float32', 21);
  const e = tf.add(r, tf.randomNormal([3, 1000], 0, 0.3, 'float32', 22));
  const base = siSnr(e, r);
  for (const g of [0.01, 3, -2]) {
    assertClose(siSnr(tf.mul(e, g), r), base, { ...DB, label: `estimate gain ${g}` });
    assertClose(siSnr(e, tf.mul(r, g)), base, { ...DB, label: `reference gain ${g}` });
  }
  assertClose(siSnr(tf.add(e, 5), tf.sub(r, 2)), base, { atol: 1e-3, label: 'DC offsets' });
  const noCentre = siSnr(tf.add(e, 5), r, { zeroMean: false });
  const [v, b] = [await noCentre.data(), await base.data()];
  for (let i = 0; i < 3; i++) assert.ok(v[i] < b[i] - 1, `without zeroMean a DC offset costs SI-SNR: ${v[i]} vs ${b[i]}`);
  tf.dispose([r, e, base, noCentre]);
});

test('siSnr of ref + orthogonal noise is 10 log10(|ref|^2 / |noise|^2) on a 1 s signal at 16 kHz', () => {
  // Independent float64 construction: noise made orthogonal to the (zero-mean) reference by Gram-Schmidt.
  const n = 16000;
  const rs = Array.from({ length: n }, (_, i) => Math.sin(2 * Math.PI * 440 * i / 16000) + 0.5 * Math.sin(2 * Math.PI * 1234 * i / 16000));
  const ns = Array.from({ length: n }, (_, i) => Math.sin(2 * Math.PI * 3001 * i / 16000 + 0.3) + 0.2 * Math.cos(0.77 * i));
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const dot = (a: number[], b: number[]) => a.reduce((acc, x, i) => acc + x * b[i], 0);
  const mr = mean(rs), mn = mean(ns);
  const rc = rs.map((x) => x - mr);
  let nc = ns.map((x) => x - mn);
  const proj = dot(nc, rc) / dot(rc, rc);
  nc = nc.map((x, i) => 0.1 * (x - proj * rc[i]));
  const expected = 10 * Math.log10(dot(rc, rc) / dot(nc, nc));
  const est = tf.tensor1d(rc.map((x, i) => x + nc[i]));
  const v = siSnr(est, tf.tensor1d(rc));
  assert.deepEqual(v.shape, []);
  assertClose(v, expected, { atol: 1e-3, label: 'orthogonal noise, 16k samples' });
  tf.dispose([est, v]);
});

test('siSnr of silence is 0 dB with finite gradients; a perfect estimate scores very high', async () => {
  const z = tf.zeros([2, 100]);
  assertClose(siSnr(z, z), [0, 0], { atol: 1e-6, label: 'silence' });
  const g = tf.grad((a: tf.Tensor) => tf.sum(siSnr(a, z)))(z);
  assert.ok((await g.data()).every(Number.isFinite), 'silence gradient is finite');
  const r = tf.randomNormal([2, 500], 0, 1, 'float32', 23);
  for (const v of await siSnr(r, r).data()) assert.ok(v > 60, `perfect estimate SI-SNR ${v}`);
  tf.dispose([z, g, r]);
});

test('negative SI-SNR works as a training loss: one gradient step raises SI-SNR', async () => {
  const r = tf.randomNormal([2, 400], 0, 1, 'float32', 24);
  const e = tf.add(r, tf.randomNormal([2, 400], 0, 1, 'float32', 25));
  const g = tf.grad((a: tf.Tensor) => tf.neg(tf.mean(siSnr(a, r))))(e);
  const stepped = tf.sub(e, tf.mul(g, 10));
  const before_ = await siSnr(e, r).data();
  const after = await siSnr(stepped, r).data();
  for (let i = 0; i < 2; i++) assert.ok(after[i] > before_[i] + 0.1, `SI-SNR ${before_[i]} -> ${after[i]}`);
  tf.dispose([r, e, g, stepped]);
});

test('siSnr and siSnrImprovement reject mismatched shapes, naming them', () => {
  const a = tf.zeros([2, 100]), b = tf.zeros([2, 99]), s = tf.zeros([2, 3, 100]);
  assert.throws(() => siSnr(a, b), /estimate \[2, 100\] and reference \[2, 99\]/);
  assert.throws(() => siSnr(tf.scalar(1), tf.scalar(1)), /estimate \[\]/);
  assert.throws(() => siSnrImprovement(s, s, b), /mixture \[2, 99\]/);
  assert.throws(() => siSnrImprovement(s, s, tf.zeros([3, 3, 100])), /mixture \[3, 3, 100\]/);
  const ok = siSnrImprovement(s, s, tf.zeros([2, 1, 100]));
  assert.deepEqual(ok.shape, [2, 3]);
  tf.dispose([a, b, s, ok]);
});

test('siSnr, siSnrImprovement and their gradients leak no tensors', async () => {
  const r = tf.randomNormal([2, 3, 64], 0, 1, 'float32', 26);
  const e = tf.randomNormal([2, 3, 64], 0, 1, 'float32', 27);
  const m = tf.sum(r, 1, true);
  await assertNoLeak(() => siSnr(e, r), 'siSnr');
  await assertNoLeak(() => siSnrImprovement(e, r, m), 'siSnrImprovement broadcast');
  await assertNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(siSnr(a, b)))([e, r]), 'siSnr grads');
  tf.dispose([r, e, m]);
});
