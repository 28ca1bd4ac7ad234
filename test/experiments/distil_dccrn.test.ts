// The Distil-DCCRN recipe (PAPERS.md section 2) at the quick preset through the CLI: run directory,
// results.json (rows per test set and variant with the noisy input as baseline, the claims with intervals
// and verdicts consistent with them), saved models usable by `slimspeech enhance`, plots; the test mixtures
// built deterministically from held-out speakers and noises; a Conv-TasNet teacher bridged by the layer
// mapping; and an in-process run that leaks nothing.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ROOT, setupBackend } from '../helpers';
import { readWav } from '../../lib/audio/wav';
import { openRun } from '../../lib/experiments/run';
import { DCCRN_VARIANTS, DistilDccrnResults, embeddedTestMixtures, recipe } from '../../lib/experiments/distil_dccrn';

before(async () => {
  await setupBackend();
});

const CLI = path.join(ROOT, 'dist', 'cli.js');
const ENV = { ...process.env, SLIMSPEECH_BACKEND: process.env.SLIMSPEECH_TEST_BACKEND ?? 'wasm' };

let cli: { out: string; results: DistilDccrnResults } | undefined;
function quickCli(): { out: string; results: DistilDccrnResults } {
  if (cli) return cli;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-dccrn-'));
  const r = spawnSync(process.execPath, [CLI, 'run', 'distil-dccrn', '--preset', 'quick', '--out', out], { cwd: ROOT, encoding: 'utf8', env: ENV });
  assert.equal(r.status, 0, `the CLI failed:\n${r.stderr}\n${r.stdout.slice(-3000)}`);
  cli = { out, results: JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) };
  return cli;
}

test('CLI, quick preset: rows per test set and variant, the noisy input as baseline, claims with intervals', { timeout: 600_000 }, () => {
  const { out, results } = quickCli();
  for (const f of ['config.json', 'run.log', 'results.csv', 'plots/training-curves.html', 'plots/pareto.html', 'plots/spectrogram.html',
    'plots/attention-maps.html']) assert.ok(fs.existsSync(path.join(out, f)), f);
  assert.equal(results.experiment, 'distil-dccrn');
  for (const set of ['test', 'stored']) {
    const rows = results.rows.filter((r) => r.set === set);
    assert.deepEqual(rows.map((r) => r.variant), ['noisy', ...DCCRN_VARIANTS], `${set}: every variant after the noisy input`);
    for (const r of rows) {
      for (const k of ['siSnr', 'siSnri', 'pesqWb', 'stoi', 'estoi']) assert.equal(typeof r[k], 'number', `${set} ${r.variant} ${k}`);
      assert.equal(r.pesqNb, null, 'narrow-band PESQ only when asked for (pesqModes)');
      if (r.variant !== 'noisy') assert.ok((r.params as number) > 0 && (r.rtf as number) > 0 && (r.macsPerSecond as number) > 0);
    }
    assert.equal(rows[0].siSnri, 0, 'the noisy input improves on itself by 0 dB');
  }
  assert.equal(results.rows.find((r) => r.set === 'test')!.items, 8, 'quick: 8 test mixtures');
  assert.equal(results.rows.find((r) => r.set === 'stored')!.items, 4, 'quick: 4 of the 20 stored test pairs');
  const params = (v: string) => results.rows.find((r) => r.variant === v)!.params as number;
  assert.ok(params('student') < params('full') && params('full') < params('teacher'), 'student < full DCCRN < teacher');
  assert.deepEqual(results.claims.map((c) => c.id), ['atkl-beats-student-si-snr', 'atkl-beats-student-pesq',
    'student-matches-full-si-snr', 'student-matches-full-pesq']);
  for (const c of results.claims) {
    const [lo, hi] = c.interval;
    const failed = c.evidence.some((e) => e.precondition && !e.precondition.ok);
    const strict = c.strict === true;
    const expected = failed ? 'inconclusive' : (strict ? lo > c.threshold : lo >= c.threshold) ? 'holds'
      : (strict ? hi <= c.threshold : hi < c.threshold) ? 'does not hold' : 'inconclusive';
    assert.equal(c.verdict, expected, `${c.id}: ${c.reason}`);
    assert.equal(c.items, 8);
  }
  assert.ok(results.mapping.length === 4, 'the four mapped pairs are reported');
});

test('the saved models enhance WAV files through `slimspeech enhance`', { timeout: 600_000 }, () => {
  const { out } = quickCli();
  const noisyDir = path.join(ROOT, 'data', 'enh', 'test_set', 'synthetic', 'no_reverb', 'noisy');
  const file = path.join(noisyDir, fs.readdirSync(noisyDir).sort()[0]);
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-dccrn-enh-'));
  const r = spawnSync(process.execPath, [CLI, 'enhance', path.join(out, 'models', 'student-atkl'), file, '--out', dest, '--quiet'],
    { cwd: ROOT, encoding: 'utf8', env: ENV });
  assert.equal(r.status, 0, r.stderr);
  const a = readWav(file), b = readWav(path.join(dest, path.basename(file)));
  assert.equal(b.sampleRate, a.sampleRate);
  assert.equal(b.channelData[0].length, a.channelData[0].length);
  assert.ok(b.channelData[0].some((v) => v !== 0), 'not silence');
});

test('test mixtures are built deterministically from held-out speakers and noises', async () => {
  const a = await embeddedTestMixtures(8, [0, 10], 16000, 0);
  const b = await embeddedTestMixtures(8, [0, 10], 16000, 0);
  const c = await embeddedTestMixtures(8, [0, 10], 16000, 1);
  assert.deepEqual(a.map((p) => p.name), b.map((p) => p.name));
  assert.deepEqual(Array.from(a[3].noisy.subarray(0, 50)), Array.from(b[3].noisy.subarray(0, 50)));
  assert.notDeepEqual(Array.from(a[3].noisy.subarray(0, 50)), Array.from(c[3].noisy.subarray(0, 50)), 'another seed, other noise offsets');
  assert.deepEqual(a.map((p) => p.snrDb), [0, 10, 0, 10, 0, 10, 0, 10]);
  const train = fs.readFileSync(path.join(ROOT, 'data', 'enh', 'train.csv'), 'utf8');
  for (const p of a) {
    const [utt, noise] = p.name.split(' + ');
    assert.ok(!train.includes(utt.split('/')[0]), `${utt}: a speaker of the training recipes`);
    assert.ok(!train.includes(noise.split(' ')[0]), `${noise}: a noise of the training recipes`);
  }
});

test('a Conv-TasNet teacher: the mapping bridges its blocks to the DCCRN student, and a run leaks nothing', { timeout: 600_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-dccrn-tasnet-'));
  const before = tf.memory().numTensors;
  const run = openRun(recipe, { preset: 'quick', out, quiet: true, set: ['teacherKind=conv-tasnet', 'variants=["student-atkl"]', 'testMixtures=4'] });
  const res = await run.all();
  const mapping = (res as DistilDccrnResults).mapping;
  assert.equal(mapping.length, 4);
  assert.ok(mapping.every((m) => String(m.teacher).startsWith('block')), 'teacher taps are TCN blocks');
  assert.ok(run.state.trained['student-atkl']!.history.epochs[0].feature > 0, 'the AT-KL term was trained');
  run.dispose();
  assert.equal(tf.memory().numTensors, before, 'tensors left behind');
});
