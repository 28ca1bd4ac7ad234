// The OS-KDFT recipe (PAPERS.md section 4): the quick preset through the CLI (a row per variant, EER claims over
// trials and the SSL-speed claim with verdicts consistent with their intervals, plots, saved models that
// `slimspeech verify` and `embed` use); a kill -9 mid-training resumes with the same numbers; the one-step loss is
// the distillation of the first half without adapters plus the fine-tuning of the second half with them; the
// student starts as the teacher's first layers; scoring, rate factors and config checks.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { assertClose, killThenResume, ROOT, setupBackend } from '../helpers';
import { LinearProjection } from '../../lib/distill/projection';
import { AamSoftmax } from '../../lib/models/ecapa_tdnn';
import { Wav2Vec2Model } from '../../lib/models/wav2vec2';
import { eer } from '../../lib/metrics/eer';
import { openRun } from '../../lib/experiments/run';
import { resolvePreset } from '../../lib/experiments/presets';
import { allPairs, buildBackend, buildStudent, kdLoss, OS_KDFT_PRESETS, OsKdftResults, osKdftStep, recipe, scoreTrials, SpeakerModel,
  sslRateFactor, trialScore } from '../../lib/experiments/os_kdft';

before(async () => {
  await setupBackend();
});

const CLI = path.join(ROOT, 'dist', 'cli.js');
const CACHE = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-oskdft-cache-'));
const ENV = { ...process.env, SLIMSPEECH_BACKEND: process.env.SLIMSPEECH_TEST_BACKEND ?? 'wasm', SLIMSPEECH_CACHE: CACHE };
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: ENV });
const runArgs = (out: string, sets: string[] = []) => ['run', 'os-kdft', '--preset', 'quick', '--out', out, ...sets.flatMap((s) => ['--set', s])];

let quick: { out: string; results: OsKdftResults } | undefined;
function quickCli(): { out: string; results: OsKdftResults } {
  if (quick) return quick;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-oskdft-'));
  const r = cli(runArgs(out));
  assert.equal(r.status, 0, `the CLI failed:\n${r.stderr}\n${r.stdout.slice(-3000)}`);
  quick = { out, results: JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) };
  return quick;
}

test('CLI, quick preset: a row per variant, EER claims over trials and the speed claim, plots, models', { timeout: 600_000 }, () => {
  const { out, results } = quickCli();
  for (const f of ['results.csv', 'plots/losses.html', 'plots/det.html', 'plots/scores.html', 'plots/embeddings.html']) {
    assert.ok(fs.existsSync(path.join(out, f)), f);
  }
  assert.deepEqual(results.rows.map((r) => r.variant), ['teacher-ft', 'kd-then-ft', 'ft-only', 'os-kdft']);
  const by = Object.fromEntries(results.rows.map((r) => [r.variant, r]));
  assert.equal(by['teacher-ft'].sslParams, results.teacher.params, 'the fine-tuned teacher keeps its size');
  assert.equal(by['kd-then-ft'].sslParams, by['ft-only'].sslParams, 'the students have one size');
  assert.ok((by['os-kdft'].sslParams as number) > (by['ft-only'].sslParams as number), 'OS-KDFT adds its adapters');
  assert.ok((by['ft-only'].sslParams as number) < results.teacher.params);
  for (const r of results.rows) {
    assert.equal(results.scores[r.variant as 'os-kdft']!.trials.length, results.data.trials);
    assert.equal(r.eer, Number(eer(results.scores[r.variant as 'os-kdft']!.trials, results.labels.trials).eer.toFixed(4)), `${r.variant}: EER of its scores`);
  }
  assert.equal(results.data.pairs, results.data.test * (results.data.test - 1) / 2);
  const curve = results.curves['kd-then-ft']!;
  assert.equal(curve.length, 2, 'kd-then-ft: one epoch of each step');
  assert.equal(typeof curve[0].kd, 'number');
  assert.equal(typeof curve[1].ft, 'number');
  assert.equal(results.claims.length, 3);
  for (const c of results.claims) {
    const [lo, hi] = c.interval;
    const failed = c.evidence.some((e) => e.precondition && !e.precondition.ok);
    const expected = failed ? 'inconclusive' : c.direction === 'lower' ? (hi <= c.threshold ? 'holds' : lo > c.threshold ? 'does not hold' : 'inconclusive')
      : (lo >= c.threshold ? 'holds' : hi < c.threshold ? 'does not hold' : 'inconclusive');
    assert.equal(c.verdict, expected, `${c.id}: ${c.reason}`);
  }
  assert.equal(results.claims[0].statistic, 'eer');
  assert.equal(results.claims[0].meanA, eer(results.scores['os-kdft']!.trials, results.labels.trials).eer);
});

test('slimspeech verify and embed with a saved model; errors name the file', { timeout: 600_000 }, () => {
  const { out } = quickCli();
  const model = path.join(out, 'models', 'os-kdft');
  const wavs = path.join(ROOT, 'data', 'sv', 'wav');
  const spk = fs.readdirSync(wavs).sort();
  const files = spk.slice(0, 2).map((s) => { const v = fs.readdirSync(path.join(wavs, s))[0]; const d = path.join(wavs, s, v);
    return path.join(d, fs.readdirSync(d).filter((f) => f.endsWith('.wav'))[0]); });
  const r = cli(['verify', model, files[0], files[1]]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^score -?\d\.\d{4}, threshold -?\d\.\d{4}: (same speaker|different speakers)/);
  const swapped = cli(['verify', model, files[1], files[0]]);
  assert.equal(swapped.stdout.split(',')[0], r.stdout.split(',')[0], 'the score is symmetric');
  const csv = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ss-embed-')), 'e.csv');
  const e = cli(['embed', model, ...files, '--out', csv]);
  assert.equal(e.status, 0, e.stderr);
  const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(lines.length, 3);
  const v = lines[1].split(',').slice(1).map(Number);
  assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-4, 'unit-length embeddings');
  const bad = cli(['verify', model, files[0], path.join(ROOT, 'nope.wav')]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /cannot read .*nope\.wav/);
  const notSv = cli(['verify', path.join(ROOT, 'data'), files[0], files[1]]);
  assert.match(notSv.stderr, /is not a saved slimspeech model/);
});

test('a variant trained alone ends as in the full run: nothing it draws depends on what ran before it', { timeout: 600_000 }, () => {
  const { results } = quickCli();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-oskdft-alone-'));
  assert.equal(cli(runArgs(out, ['variants=["os-kdft"]'])).status, 0);
  const alone = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as OsKdftResults;
  assert.deepEqual(alone.scores['os-kdft'], results.scores['os-kdft'], 'the same trial scores');
});

test('kill -9 during OS-KDFT training, then the same command: it resumes and ends with identical numbers', { timeout: 600_000 }, async () => {
  quickCli();
  const sets = ['variants=["os-kdft"]', 'epochs=4', 'latency={"utterances":1,"runs":1}'];
  const whole = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-oskdft-whole-'));
  assert.equal(cli(runArgs(whole, sets)).status, 0);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-oskdft-kill-'));
  const ck = path.join(out, 'checkpoints', 'train_os-kdft.os-kdft', 'checkpoint.ckpt');
  await killThenResume([CLI, ...runArgs(out, sets)], out, { cwd: ROOT, env: ENV }, () => fs.existsSync(ck), 'the OS-KDFT training');
  const a = JSON.parse(fs.readFileSync(path.join(whole, 'results.json'), 'utf8')) as OsKdftResults;
  const b = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as OsKdftResults;
  assert.deepEqual(b.scores, a.scores, 'the same scores on every trial');
  assert.deepEqual(b.curves['os-kdft']!.map((e) => [e.kd, e.ft]), a.curves['os-kdft']!.map((e) => [e.kd, e.ft]), 'the same losses per epoch');
});

const config = () => resolvePreset(OS_KDFT_PRESETS, 'quick');
const TEACHER = { extractorConvLayerConfig: [[8, 10, 5], [8, 3, 2]] as [number, number, number][], encoderEmbedDim: 16, encoderNumLayers: 3,
  encoderNumHeads: 2, encoderFfIntermFeatures: 24, encoderPosConvKernel: 4, encoderPosConvGroups: 2, encoderLayerDrop: 0, encoderDropout: 0,
  encoderAttentionDropout: 0, encoderProjectionDropout: 0 };

test('the student is the teacher\'s first layers: its hidden states equal the teacher\'s first ones (new adapters change nothing)', () => {
  const teacher = new Wav2Vec2Model(TEACHER);
  const student = buildStudent(teacher, 2, { hidden: 4 });
  const x = tf.randomNormal([2, 1200], 0, 0.3, 'float32', 1);
  const t = teacher.hiddenStates(x, { training: false }), s = student.hiddenStates(x, { training: false });
  assert.equal(s.length, 3);
  s.forEach((h, i) => assertClose(h, t[i], { atol: 1e-6, label: `hidden state ${i}` }));
  assert.throws(() => buildStudent(teacher, 4, null), /studentLayers must be an integer in \[1, 3\]/);
  tf.dispose([x, ...t, ...s]);
  teacher.dispose();
  student.dispose();
});

test('the one-step loss: distillation of the first copy without adapters plus AAM-softmax of the second copy with them', () => {
  const c = { ...config(), kd: { loss: 'distilhubert' as const, layers: [1, 3], weight: 100 } };
  const teacher = new Wav2Vec2Model(TEACHER);
  const ssl = buildStudent(teacher, 1, { hidden: 4, noise: null });
  for (const [k, v] of ssl.namedParameters()) if (k.includes('.adapter.')) v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 3));
  const model = new SpeakerModel(ssl, buildBackend('light', 1, 16, { channels: 8, attentionHidden: 8, embeddingDim: 6 }));
  const aam = new AamSoftmax({ embeddingDim: 6, numClasses: 3 });
  const heads = [0, 1].map(() => new LinearProjection({ inFeatures: 16, outFeatures: 16 }));
  const clean = tf.randomNormal([2, 1200], 0, 0.3, 'float32', 4) as tf.Tensor2D;
  const noisy = tf.add(clean, tf.randomNormal([2, 1200], 0, 0.05, 'float32', 5)) as tf.Tensor2D;
  const labels = tf.tensor1d([0, 2], 'int32');
  const ctx = { training: false };
  const out = osKdftStep(c, teacher, model, aam, heads)({ clean, noisy, labels }, ctx, { epoch: 1, step: 0, batchIndex: 0 }) as
    { loss: tf.Scalar; terms: Record<string, tf.Scalar> };
  const th = teacher.forward(clean, ctx);
  const kd = kdLoss(c, ssl.forward(noisy, { ...ctx, adapters: 'off' }), th, heads, 1, ctx).dataSync()[0];
  const ft = aam.loss(model.forward(noisy, { ...ctx, adapters: 'on' }), labels).dataSync()[0];
  assert.ok(Math.abs(out.terms.kd.dataSync()[0] - kd) < 1e-4, `kd ${out.terms.kd.dataSync()[0]} against ${kd}`);
  assert.ok(Math.abs(out.terms.ft.dataSync()[0] - ft) < 1e-3, `ft ${out.terms.ft.dataSync()[0]} against ${ft}`);
  assert.ok(Math.abs(out.loss.dataSync()[0] - (kd + ft)) < 1e-3);
  const noAdapters = kdLoss(c, ssl.forward(noisy, { ...ctx, adapters: 'on' }), th, heads, 1, ctx).dataSync()[0];
  assert.ok(Math.abs(noAdapters - kd) > 1e-4, 'the adapters matter, so the first copy really ran without them');
  tf.dispose([clean, noisy, labels, th, out.loss, ...Object.values(out.terms)]);
  [teacher, model, aam, ...heads].forEach((m) => m.dispose());
});

test('scoring: half the whole-utterance cosine, half the mean segment cosine; all pairs; EER as metrics.eer; the SSL rate factor', () => {
  const u = (v: number[]) => { const n = Math.hypot(...v); return Float32Array.from(v, (x) => x / n); };
  const a = { full: u([1, 0]), segments: [u([1, 0]), u([0, 1])] }, b = { full: u([1, 1]), segments: [u([1, 0])] };
  assert.ok(Math.abs(trialScore(a, b) - (0.5 * Math.SQRT1_2 + 0.5 * (1 + 0) / 2)) < 1e-6);
  const utts = [0, 0, 1].map((speaker) => ({ audio: new Float32Array(1), speaker, path: '' }));
  assert.deepEqual(allPairs(utts).map((p) => p.label), [1, 0, 0]);
  const emb = [a, b, { full: u([0, 1]), segments: [u([0, 1])] }];
  const r = scoreTrials(emb, allPairs(utts));
  assert.equal(r.eer, eer(r.scores, [1, 0, 0]).eer);
  const f = sslRateFactor({ ...config(), kdWarmupEpochs: 2, kdDecay: 0.5 }, 10);
  assert.deepEqual([f(0), f(9), f(19), f(20), f(35)].map((v) => Number(v.toFixed(6))), [0.05, 0.5, 1, 1, 0.5]);
});

test('config checks name the field', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-oskdft-cfg-'));
  const open = (set: string[]) => openRun(recipe, { preset: 'quick', quiet: true, out, set });
  assert.throws(() => open(['variants=["both"]']), /unknown variant 'both'/);
  assert.throws(() => open(['studentLayers=3']), /studentLayers 3 exceeds the teacher's 2 layers/);
  assert.throws(() => open(['kd.layers=[5]']), /kd.layers entry 5 is not a hidden state of the teacher \(0..2\)/);
  assert.throws(() => open(['epochs=1']), /kd-then-ft needs epochs >= 2/);
  assert.throws(() => openRun(recipe, { preset: 'paper', quiet: true, out }), /teacher.path is not set/);
});
