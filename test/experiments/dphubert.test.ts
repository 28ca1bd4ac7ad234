// The DPHuBERT recipe (PAPERS.md section 3): the quick preset through the CLI (a row per model, the baseline at the
// pruned student's size, claims with intervals and verdicts consistent with them, plots, the pruned model saved in
// both formats and reloading at its small size); the teacher cached across runs; a kill -9 in the middle of the
// pruning resumes and ends with the same numbers; the pieces (crops, baseline size, leading-part copy, config checks).
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { killThenResume, ROOT, setupBackend } from '../helpers';
import { loadModel } from '../../lib/nn/serialize';
import { Wav2Vec2Model } from '../../lib/models/wav2vec2';
import { loadDphubert } from '../../lib/models/wav2vec2_dphubert';
import { openRun } from '../../lib/experiments/run';
import { resolvePreset } from '../../lib/experiments/presets';
import { baselineArgs, contiguousCrops, DPHUBERT_PRESETS, DphubertResults, fitLength, loadLeading, recipe, teacherKey }
  from '../../lib/experiments/dphubert';
import { BaseDataset } from '../../lib/data/dataset';

before(async () => {
  await setupBackend();
});

const CLI = path.join(ROOT, 'dist', 'cli.js');
const CACHE = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-dphubert-cache-'));
const ENV = { ...process.env, SLIMSPEECH_BACKEND: process.env.SLIMSPEECH_TEST_BACKEND ?? 'wasm', SLIMSPEECH_CACHE: CACHE };

function cliRun(out: string, sets: string[] = [], env = ENV): { status: number | null; stdout: string; stderr: string } {
  assert.ok(fs.existsSync(CLI), 'dist/ is missing: run npm install (it builds the package)');
  return spawnSync(process.execPath, [CLI, 'run', 'dphubert', '--preset', 'quick', '--out', out, ...sets.flatMap((s) => ['--set', s])],
    { cwd: ROOT, encoding: 'utf8', env });
}

let cli: { out: string; results: DphubertResults; stdout: string } | undefined;
function quickCli(): { out: string; results: DphubertResults; stdout: string } {
  if (cli) return cli;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-dphubert-'));
  const r = cliRun(out);
  assert.equal(r.status, 0, `the CLI failed:\n${r.stderr}\n${r.stdout.slice(-3000)}`);
  cli = { out, results: JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')), stdout: r.stdout };
  return cli;
}

test('CLI, quick preset: teacher, pruned student and baseline rows, the baseline at the pruned size, claims, plots', { timeout: 600_000 }, () => {
  const { out, results } = quickCli();
  for (const f of ['config.json', 'run.log', 'results.csv', 'plots/sparsity.html', 'plots/lagrangian.html', 'plots/structure.html',
    'plots/sweep.html', 'plots/layer-weights.html', 'plots/distill-loss.html', 'plots/teacher.html']) assert.ok(fs.existsSync(path.join(out, f)), f);
  assert.equal(results.experiment, 'dphubert');
  assert.deepEqual(results.rows.map((r) => r.model), ['teacher', 'dphubert-0.5', 'distill-only']);
  const [teacher, pruned, base] = results.rows;
  assert.equal(teacher.params, results.teacher.params);
  assert.ok((pruned.params as number) < (teacher.params as number), 'pruning removed parameters');
  assert.ok(Math.abs((base.params as number) - (pruned.params as number)) / (pruned.params as number) < 0.02,
    `the baseline (${base.params}) has the pruned student's size (${pruned.params})`);
  for (const r of results.rows) for (const k of ['kws', 'sid']) assert.ok((r[k] as number) >= 0 && (r[k] as number) <= 1, `${r.model} ${k}`);
  const p = results.pruning['0.5'];
  assert.equal(p.steps.length, 6, 'prune.steps optimizer steps of distillation with pruning');
  assert.equal(p.final.length, 3, 'final.steps of final distillation');
  assert.equal(results.baseline!.steps.length + results.baseline!.final.length, 9, 'the baseline trains for the same 9 steps');
  for (const k of ['sparsity', 'target', 'lambda1', 'lambda2', 'distill']) assert.equal(typeof p.steps[0][k], 'number', `step term ${k}`);
  assert.equal(p.steps[0].target, 0, 'the target ramps from 0');
  assert.ok(Math.abs(p.steps[5].target - 0.5) < 1e-6, 'and reaches 0.5 after the warm-up (half of 6 steps)');
  assert.doesNotMatch(fs.readFileSync(path.join(out, 'run.log'), 'utf8'), /not at equal size/);
  assert.equal(p.kept!.heads.length, 2);
  assert.equal(results.claims.length, 2);
  for (const c of results.claims) {
    const [lo, hi] = c.interval;
    const failed = c.evidence.some((e) => e.precondition && !e.precondition.ok);
    const expected = failed ? 'inconclusive' : lo > c.threshold ? 'holds' : hi <= c.threshold ? 'does not hold' : 'inconclusive';
    assert.equal(c.verdict, expected, `${c.id}: ${c.reason}`);
    assert.equal(c.items, c.id.endsWith('kws') ? results.data.probes.kws.test : results.data.probes.sid.test);
  }
  assert.match(fs.readFileSync(path.join(out, 'run.log'), 'utf8'), /teacher: cached in /, 'the first run pre-trains the teacher and caches it');
});

test('the pruned student reloads at its small size in both formats, with the same hidden states', { timeout: 600_000 }, async () => {
  const { out, results } = quickCli();
  const dir = path.join(out, 'models', 'dphubert-0.5');
  const a = (await loadModel(dir)) as Wav2Vec2Model;
  const b = loadDphubert(path.join(dir, 'pytorch'));
  assert.equal(a.numParams(), results.rows[1].params);
  assert.equal(b.numParams(), a.numParams());
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'pytorch', 'config.json'), 'utf8'));
  assert.deepEqual(cfg.encoder_num_heads, results.pruning['0.5'].kept!.heads);
  const x = tf.randomNormal([1, 8000], 0, 0.1, 'float32', 5);
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a.forward(x, { training: false }), b.forward(x, { training: false })))).dataSync()[0]);
  assert.ok(d < 1e-5, `the DPHuBERT-format copy computes the same hidden states (difference ${d})`);
  tf.dispose([x]);
  a.dispose();
  b.dispose();
});

test('a second run reuses the cached teacher (no pre-training), another seed pre-trains its own', { timeout: 600_000 }, () => {
  quickCli();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-dphubert-2-'));
  const r = cliRun(out, ['probes.tasks=["kws"]']);
  assert.equal(r.status, 0, r.stderr);
  const log = fs.readFileSync(path.join(out, 'run.log'), 'utf8');
  assert.match(log, /teacher: the pre-trained teacher in .* \(same configuration/);
  assert.doesNotMatch(log, /pretrain epoch/);
  const cfg = resolvePreset(DPHUBERT_PRESETS, 'quick');
  assert.notEqual(teacherKey(cfg), teacherKey({ ...cfg, seed: 1 }));
  assert.notEqual(teacherKey(cfg), teacherKey({ ...cfg, teacher: { ...cfg.teacher, epochs: 2 } }));
  const otherPruning = { ...cfg, prune: { ...cfg.prune, steps: 99 } };
  assert.equal(teacherKey(cfg), teacherKey(otherPruning), 'pruning options do not touch the teacher');
});

test('kill -9 during pruning, then the same command: it resumes and ends with identical numbers', { timeout: 600_000 }, async () => {
  quickCli();   // the teacher is cached by now
  const sets = ['prune.steps=24', 'final.steps=6', 'probes.tasks=["kws"]'];
  const whole = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-dphubert-whole-'));
  const w = cliRun(whole, sets);
  assert.equal(w.status, 0, w.stderr);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-dphubert-kill-'));
  const ck = path.join(out, 'checkpoints', 'prune_0.5.prune', 'checkpoint.ckpt');
  await killThenResume([CLI, 'run', 'dphubert', '--preset', 'quick', '--out', out, ...sets.flatMap((s) => ['--set', s])], out,
    { cwd: ROOT, env: ENV }, () => fs.existsSync(ck), 'the pruning');
  const a = JSON.parse(fs.readFileSync(path.join(whole, 'results.json'), 'utf8')) as DphubertResults;
  const b = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as DphubertResults;
  const noTime = (r: DphubertResults) => r.rows.map((x) => ({ ...x, seconds: 0 }));
  assert.deepEqual(noTime(b), noTime(a), 'the same table as the uninterrupted run');
  const sparsity = (r: DphubertResults) => r.pruning['0.5'].steps.map((s) => s.sparsity);
  assert.deepEqual(sparsity(b), sparsity(a), 'the same expected sparsity at every step');
  assert.deepEqual(b.pruning['0.5'].kept, a.pruning['0.5'].kept, 'the same units kept');
});

class Clips extends BaseDataset<{ audio: Float32Array }> {
  constructor(readonly clips: Float32Array[]) { super(); }
  get length() { return this.clips.length; }
  async get(i: number) { return { audio: this.clips[i] }; }
}

test('crops join utterances in order and drop the remainder; clips are cut, padded or repeated', async () => {
  const a = Float32Array.from([1, 2, 3]), b = Float32Array.from([4, 5, 6, 7, 8]);
  const crops = await contiguousCrops(new Clips([a, b]), 3, null);
  assert.deepEqual(crops.map((c) => Array.from(c)), [[1, 2, 3], [4, 5, 6]]);
  const joined = await contiguousCrops(new Clips([b, a]), 4, null);
  assert.deepEqual(joined.map((c) => Array.from(c)), [[4, 5, 6, 7], [8, 1, 2, 3]], 'a crop spans two utterances');
  assert.equal((await contiguousCrops(new Clips([a, b]), 2, 3)).length, 3, 'at most max crops');
  assert.deepEqual(Array.from(fitLength(a, 7, 'repeat')), [1, 2, 3, 1, 2, 3, 1]);
  assert.deepEqual(Array.from(fitLength(a, 5, 'zeros')), [1, 2, 3, 0, 0]);
  assert.deepEqual(Array.from(fitLength(b, 2, 'zeros')), [4, 5]);
});

test('the baseline: the teacher\'s first layers, heads and FFN width narrowed in proportion to the size, initialised with the leading units', () => {
  const teacher = new Wav2Vec2Model({ extractorConvLayerConfig: [[8, 10, 5], [8, 3, 2]], encoderEmbedDim: 16, encoderNumLayers: 3, encoderNumHeads: 2,
    encoderFfIntermFeatures: 40, encoderPosConvKernel: 4, encoderPosConvGroups: 2 });
  const full2 = new Wav2Vec2Model({ ...teacher.args, encoderNumLayers: 2, encoderNumHeads: [2, 2], encoderFfIntermFeatures: [40, 40],
    encoderUseAttention: [true, true], encoderUseFeedForward: [true, true] });
  const want = full2.numParams() - 2 * 13 * (2 * 16 + 1);   // 13 FFN units fewer per layer
  const { args, params, ffn, heads } = baselineArgs(teacher, 2, want);
  assert.equal(ffn, 27);
  assert.equal(heads, 2, 'both heads kept: 27 of 40 FFN units is closer to 2 of 2 heads than 40 of 40 units to 1 of 2');
  const small = baselineArgs(teacher, 2, full2.numParams() - 2 * (536 + 20 * 33));
  assert.deepEqual([small.heads, small.ffn], [1, 20], 'half the heads and half the FFN units (536 parameters per head of 8 in width 16)');
  assert.equal(small.params, full2.numParams() - 2 * (536 + 20 * 33));
  assert.equal(params, want);
  const student = new Wav2Vec2Model(args);
  assert.equal(student.numParams(), want);
  loadLeading(student, teacher);
  const t = teacher.stateDict(), s = student.stateDict();
  const w = 'encoder.transformer.layers.1.feedForward.intermediateDense.weight';
  const key = [...s.keys()].find((k) => k.endsWith('layers.1.feedForward.intermediateDense.weight')) ?? w;
  const ts = t.get(key)!, ss = s.get(key)!;
  assert.deepEqual(ss.shape, [16, 27]);
  assert.deepEqual(Array.from(ss.dataSync()), Array.from(tf.slice(ts, [0, 0], [16, 27]).dataSync()));
  const pos = [...s.keys()].find((k) => k.includes('posConv'))!;
  assert.deepEqual(Array.from(s.get(pos)!.dataSync()), Array.from(t.get(pos)!.dataSync()));
  assert.throws(() => baselineArgs(teacher, 4, want), /baseline.layers 4 exceeds the teacher's 3 layers/);
  for (const m of [teacher, full2, student]) m.dispose();
});

test('config checks name the field', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-dphubert-cfg-'));
  const open = (set: string[]) => openRun(recipe, { preset: 'quick', quiet: true, out, set });
  assert.throws(() => open(['mainTarget=0.75']), /mainTarget 0.75 is not one of targets \[0.5\]/);
  assert.throws(() => open(['targets=[1.2]', 'mainTarget=1.2']), /every target sparsity must be in \[0, 1\)/);
  assert.throws(() => open(['distillLayers=[0,2]']), /maps its 3 hidden states .* make them agree/);
  assert.throws(() => open(['distillLayers=[0,1,7]']), /distillLayers entry 7 is not a hidden state of the teacher \(0..2\)/);
  assert.throws(() => open(['prune.lambdaLr=0.02']), /prune.lambdaLr must be <= 0/);
  assert.throws(() => open(['microBatch="auto"']), /microBatch must be null/);
  assert.throws(() => openRun(recipe, { preset: 'paper', quiet: true, out }), /teacher.path is not set: give the checkpoint with --set teacher.path=/);
});
