// enhancementScores: each row equals the single metrics it gathers, SI-SNRi is the difference to the noisy
// input, the noisy input gets its own rows (SI-SNRi 0), means skip what is not finite, errors name the
// argument, and nothing leaks.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ROOT, setupBackend } from '../helpers';
import { readWav } from '../../lib/audio/wav';
import { enhancementScores } from '../../lib/metrics/enhancement_scores';
import { pesq } from '../../lib/metrics/pesq';
import { siSnr } from '../../lib/metrics/si_snr';
import { stoi } from '../../lib/metrics/stoi';
import { Rng } from '../../lib/util/rng';

before(async () => {
  await setupBackend();
});

const DIR = path.join(ROOT, 'data', 'enh', 'test_set', 'synthetic', 'no_reverb');

async function pair(k: number): Promise<{ clean: Float32Array; noisy: Float32Array }> {
  const clean = (await readWav(path.join(DIR, 'clean', `clean_fileid_${k}.wav`))).channelData[0];
  const fs = await import('node:fs');
  const name = fs.readdirSync(path.join(DIR, 'noisy')).find((f) => f.endsWith(`_fileid_${k}.wav`))!;
  const noisy = (await readWav(path.join(DIR, 'noisy', name))).channelData[0];
  return { clean: clean.subarray(0, 3 * 16000), noisy: noisy.subarray(0, 3 * 16000) };
}

test('rows equal the single metrics; SI-SNRi is relative to the noisy input; means over the items', async () => {
  const pairs = await Promise.all([0, 1].map(pair));
  const r = new Rng(3);
  // A stand-in "enhanced" signal: the clean one plus a little noise.
  const enhanced = pairs.map((p) => Float32Array.from(p.clean, (v) => v + 0.003 * r.normal()));
  const res = enhancementScores(enhanced, pairs.map((p) => p.clean), pairs.map((p) => p.noisy), 16000);
  assert.equal(res.rows.length, 2);
  pairs.forEach((p, i) => {
    const row = res.rows[i];
    const snr = (x: Float32Array) => tf.tidy(() => siSnr(tf.tensor1d(x), tf.tensor1d(p.clean)).dataSync()[0]);
    assert.ok(Math.abs(row.siSnr - snr(enhanced[i])) < 1e-4);
    assert.ok(Math.abs(row.siSnri! - (snr(enhanced[i]) - snr(p.noisy))) < 1e-4);
    assert.equal(row.stoi, stoi(enhanced[i], p.clean, 16000));
    assert.equal(row.estoi, stoi(enhanced[i], p.clean, 16000, { extended: true }));
    assert.equal(row.pesqWb, pesq(enhanced[i], p.clean, 16000, { mode: 'wb' }));
    assert.equal(row.pesqNb, pesq(enhanced[i], p.clean, 16000, { mode: 'nb' }));
    assert.ok(row.pesqWb! > res.noisy!.rows[i].pesqWb!, 'the stand-in beats the noisy input');
    assert.equal(res.noisy!.rows[i].siSnri, 0);
  });
  for (const k of ['siSnr', 'stoi', 'pesqWb']) {
    assert.ok(Math.abs(res.mean[k] - (res.rows[0][k]! + res.rows[1][k]!) / 2) < 1e-12, k);
  }
  const plain = enhancementScores(enhanced, pairs.map((p) => p.clean), undefined, 16000, { pesq: [], stoi: false });
  assert.equal(plain.rows[0].siSnri, null);
  assert.equal(plain.rows[0].pesqWb, null);
  assert.equal(plain.rows[0].stoi, null);
  assert.equal(plain.noisy, undefined);
  assert.deepEqual(Object.keys(plain.mean), ['siSnr']);
});

test('a silent reference scores PESQ NaN, left out of the mean; mismatched inputs are errors; nothing leaks', async () => {
  const p = await pair(2);
  const silent = new Float32Array(p.clean.length);
  const res = enhancementScores([p.noisy, p.noisy], [p.clean, silent], undefined, 16000, { pesq: ['wb'], stoi: false });
  assert.ok(Number.isNaN(res.rows[1].pesqWb!));
  assert.equal(res.mean.pesqWb, res.rows[0].pesqWb);
  assert.throws(() => enhancementScores([p.noisy], [p.clean, p.clean], undefined, 16000), /same number of signals; got 1, 2/);
  assert.throws(() => enhancementScores([p.noisy.subarray(1)], [p.clean], undefined, 16000), /estimates\[0\] has \d+ samples, references\[0\] \d+/);
  const before = tf.memory().numTensors;
  const t = tf.tensor2d(p.noisy, [1, p.noisy.length]);
  const c = tf.tensor2d(p.clean, [1, p.clean.length]);
  enhancementScores(t, c, t, 16000, { pesq: [], stoi: false });
  tf.dispose([t, c]);
  assert.equal(tf.memory().numTensors, before);
});
