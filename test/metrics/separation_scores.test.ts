// separationScores: the estimates are matched to the references whatever their order, each row equals the
// single metrics of the matched pairs averaged over the sources, the improvements are differences to the
// mixture's own rows, mixtureRows are reused as given, and errors name the argument.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ROOT, setupBackend } from '../helpers';
import { readWav } from '../../lib/audio/wav';
import { separationScores } from '../../lib/metrics/separation_scores';
import { bssSdr } from '../../lib/metrics/bss_sdr';
import { pesq } from '../../lib/metrics/pesq';
import { siSnr } from '../../lib/metrics/si_snr';
import { stoi } from '../../lib/metrics/stoi';
import { Rng } from '../../lib/util/rng';

before(async () => {
  await setupBackend();
});

const DIR = path.join(ROOT, 'data', 'enh', 'test_set', 'synthetic', 'no_reverb', 'clean');

/** Two speech sources of 20000 samples, their mixture, and stand-in estimates: each source plus a little of the other. */
async function mixture(k: number) {
  const s = await Promise.all([k, k + 1].map(async (i) => (await readWav(path.join(DIR, `clean_fileid_${i}.wav`))).channelData[0].slice(0, N)));
  const mix = Float32Array.from(s[0], (v, t) => v + s[1][t]);
  const r = new Rng(k);
  const est = [0, 1].map((j) => Float32Array.from(s[j], (v, t) => v + 0.2 * s[1 - j][t] + 0.002 * r.normal()));
  return { s, mix, est };
}

const N = 20000;
const snr = (e: Float32Array, r: Float32Array) => tf.tidy(() => siSnr(tf.tensor1d(e), tf.tensor1d(r)).dataSync()[0]);

test('rows equal the single metrics of the matched pairs; the order of the estimates does not matter', async () => {
  const a = await mixture(0);
  const b = await mixture(2);
  // The second mixture's estimates come in swapped order.
  const res = separationScores([a.est, [b.est[1], b.est[0]]], [a.s, b.s], [a.mix, b.mix], 16000, { pesq: ['nb'] });
  assert.deepEqual(res.rows[0].perm, [0, 1]);
  assert.deepEqual(res.rows[1].perm, [1, 0]);
  [a, b].forEach((m, i) => {
    const row = res.rows[i];
    const base = res.mixture.rows[i];
    const avg = (f: (e: Float32Array, r: Float32Array) => number) => (f(m.est[0], m.s[0]) + f(m.est[1], m.s[1])) / 2;
    assert.ok(Math.abs(row.siSnr - avg(snr)) < 1e-3, `siSnr ${row.siSnr} vs ${avg(snr)}`);
    assert.ok(Math.abs(row.sdr! - avg((e, r) => bssSdr(e, r))) < 1e-4);
    assert.ok(Math.abs(row.stoi! - avg((e, r) => stoi(e, r, 16000))) < 1e-9);
    assert.ok(Math.abs(row.pesqNb! - avg((e, r) => pesq(e, r, 16000, { mode: 'nb' }))) < 1e-9);
    assert.equal(row.pesqWb, null);
    // The mixture as the estimate of each source.
    const mixSnr = (snr(m.mix, m.s[0]) + snr(m.mix, m.s[1])) / 2;
    assert.ok(Math.abs(base.siSnr - mixSnr) < 1e-3);
    assert.ok(Math.abs(row.siSnri - (row.siSnr - base.siSnr)) < 1e-12);
    assert.ok(Math.abs(row.sdri! - (row.sdr! - base.sdr!)) < 1e-12);
    assert.equal(base.siSnri, 0);
    assert.ok(row.siSnri > 5, 'the stand-in estimates improve on the mixture');
  });
  assert.ok(Math.abs(res.mean.siSnri - (res.rows[0].siSnri + res.rows[1].siSnri) / 2) < 1e-12);
  // Swapping the estimates of the first mixture changes nothing but perm.
  const swapped = separationScores([[a.est[1], a.est[0]]], [a.s], [a.mix], 16000, { pesq: ['nb'] });
  assert.deepEqual(swapped.rows[0].perm, [1, 0]);
  for (const k of ['siSnr', 'sdr', 'stoi', 'pesqNb']) assert.equal(swapped.rows[0][k], res.rows[0][k], k);
});

test('mixtureRows are reused as given; metrics can be switched off; errors name the argument', async () => {
  const a = await mixture(0);
  const first = separationScores([a.est], [a.s], [a.mix], 16000, { pesq: [], stoi: false });
  assert.equal(first.rows[0].stoi, null);
  assert.deepEqual(Object.keys(first.mean).sort(), ['sdr', 'sdri', 'siSnr', 'siSnri']);
  // Reused rows are taken as they are: a doctored baseline shows up in the improvement.
  const doctored = [{ ...first.mixture.rows[0], siSnr: first.mixture.rows[0].siSnr - 1 }];
  const again = separationScores([a.est], [a.s], [a.mix], 16000, { pesq: [], stoi: false, mixtureRows: doctored });
  assert.ok(Math.abs(again.rows[0].siSnri - (first.rows[0].siSnri + 1)) < 1e-12);
  const noSdr = separationScores([a.est], [a.s], [a.mix], 16000, { pesq: [], stoi: false, sdr: false });
  assert.equal(noSdr.rows[0].sdr, null);
  assert.equal(noSdr.rows[0].sdri, null);
  assert.throws(() => separationScores([a.est, a.est], [a.s], [a.mix], 16000), /same number of mixtures/);
  assert.throws(() => separationScores([[a.est[0]]], [a.s], [a.mix], 16000), /mixture 0 has 1 estimates and 2 references/);
  assert.throws(() => separationScores([[a.est[0], a.est[1].subarray(1)]], [a.s], [a.mix], 16000), /estimates\[0\]\[1\] has 19999 samples, mixture 0 has 20000/);
  assert.throws(() => separationScores([a.est], [a.s], [a.mix], 16000, { mixtureRows: [] }), /mixtureRows holds 0 rows for 1 mixtures/);
  const before = tf.memory().numTensors;
  separationScores([tf.tensor2d([...a.est[0], ...a.est[1]], [2, N])], [a.s], [a.mix], 16000, { pesq: [], stoi: false });
  assert.equal(tf.memory().numTensors - before, 1, 'only the caller\'s own tensor remains');
});
