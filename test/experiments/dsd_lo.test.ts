// The DSD + LO recipe (PAPERS.md section 5): the quick preset through the CLI (rows per model and variant with the
// mixture as baseline, claims with intervals and verdicts consistent with them, label-switch curves, plots, saved
// models usable by `slimspeech separate`); a kill -9 in the middle of a DSD training resumes with the assignment
// memory and ends with the same numbers; the training step's loss is what its doc says; nothing leaks.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { killThenResume, ROOT, setupBackend } from '../helpers';
import { readWav, writeWav } from '../../lib/audio/wav';
import { loadModel } from '../../lib/nn/serialize';
import { AssignmentMemory } from '../../lib/pit/assignment_memory';
import { pairwiseLosses, pitFromPairwise } from '../../lib/pit/pit_loss';
import { openRun } from '../../lib/experiments/run';
import { resolvePreset } from '../../lib/experiments/presets';
import { DSD_LO_PRESETS, DsdLoConfig, DsdLoResults, buildSeparator, loWeight, recipe, SEP_VARIANTS, separationStep,
  SepBatch } from '../../lib/experiments/dsd_lo';

before(async () => {
  await setupBackend();
});

const CLI = path.join(ROOT, 'dist', 'cli.js');
const ENV = { ...process.env, SLIMSPEECH_BACKEND: process.env.SLIMSPEECH_TEST_BACKEND ?? 'wasm' };

function cliRun(out: string, sets: string[] = []): { status: number | null; stdout: string; stderr: string } {
  assert.ok(fs.existsSync(CLI), 'dist/ is missing: run npm install (it builds the package)');
  return spawnSync(process.execPath, [CLI, 'run', 'dsd-lo', '--preset', 'quick', '--out', out, ...sets.flatMap((s) => ['--set', s])],
    { cwd: ROOT, encoding: 'utf8', env: ENV });
}

let cli: { out: string; results: DsdLoResults } | undefined;
function quickCli(): { out: string; results: DsdLoResults } {
  if (cli) return cli;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-dsdlo-'));
  const r = cliRun(out);
  assert.equal(r.status, 0, `the CLI failed:\n${r.stderr}\n${r.stdout.slice(-3000)}`);
  cli = { out, results: JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) };
  return cli;
}

test('CLI, quick preset: a row per model and variant after the mixture, label-switch curves, claims with intervals, plots', { timeout: 600_000 }, () => {
  const { out, results } = quickCli();
  for (const f of ['config.json', 'run.log', 'results.csv', 'plots/label-switches.html', 'plots/flagged.html', 'plots/validation.html',
    'plots/examples.html', 'plots/listen.html']) assert.ok(fs.existsSync(path.join(out, f)), f);
  assert.equal(results.experiment, 'dsd-lo');
  assert.deepEqual(results.rows.map((r) => `${r.model}/${r.variant}`),
    ['-/mixture', ...['conv-tasnet', 'dprnn'].flatMap((m) => SEP_VARIANTS.map((v) => `${m}/${v}`))]);
  const mix = results.rows[0];
  assert.equal(mix.siSnri, 0);
  assert.equal(mix.sdri, 0);
  for (const r of results.rows.slice(1)) {
    for (const k of ['siSnri', 'sdri', 'stoi', 'params', 'rtf', 'validSiSnri']) assert.equal(typeof r[k], 'number', `${r.name} ${k}`);
    assert.equal(r.pesqNb, null, 'quick: no PESQ');
    assert.equal(r.items, 4);
    const eps = results.curves[`${r.model}/${r.variant}` as keyof DsdLoResults['curves']]!;
    assert.equal(eps.length, 2);
    assert.ok(eps[0].switchRate === null || Number.isNaN(eps[0].switchRate), 'no label switches can be counted in epoch 1');
    assert.ok(eps[1].switchRate >= 0 && eps[1].switchRate <= 1, `${r.name}: epoch 2 switch rate ${eps[1].switchRate}`);
    assert.ok(eps[1].flaggedShare >= 0 && eps[1].flaggedShare <= 1);
    if (!String(r.variant).includes('dsd')) assert.equal(eps[1].flaggedShare, 0, `${r.name}: only DSD flags samples`);
    if (String(r.variant).includes('lo')) assert.equal(typeof eps[0].layers, 'number', `${r.name}: the layer loss is logged`);
  }
  assert.equal(results.claims.length, 6);
  for (const c of results.claims) {
    const [lo, hi] = c.interval;
    const failed = c.evidence.some((e) => e.precondition && !e.precondition.ok);
    const strict = c.strict === true;
    const expected = failed ? 'inconclusive' : (strict ? lo > c.threshold : lo >= c.threshold) ? 'holds'
      : (strict ? hi <= c.threshold : hi < c.threshold) ? 'does not hold' : 'inconclusive';
    assert.equal(c.verdict, expected, `${c.id}: ${c.reason}`);
    assert.equal(c.items, 4);
  }
});

test('a saved model separates a WAV file through `slimspeech separate`', { timeout: 600_000 }, () => {
  const { out } = quickCli();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-dsdlo-sep-'));
  const mixFile = path.join(dir, 'mix.wav');
  const x = Float32Array.from({ length: 16000 }, (_, i) => 0.3 * Math.sin(i / 5) + 0.2 * Math.sin(i / 17));
  writeWav(mixFile, x, 16000);
  const r = spawnSync(process.execPath, [CLI, 'separate', path.join(out, 'models', 'dprnn-pit-dsd-lo'), mixFile, '--out', path.join(dir, 'out'), '--quiet'],
    { cwd: ROOT, encoding: 'utf8', env: ENV });
  assert.equal(r.status, 0, r.stderr);
  for (const k of [1, 2]) {
    const w = readWav(path.join(dir, 'out', `mix_s${k}.wav`));
    assert.equal(w.sampleRate, 16000);
    assert.equal(w.channelData[0].length, 16000);
  }
});

test('kill -9 during a DSD training, then the same command: it resumes with the assignment memory and ends with identical numbers',
  { timeout: 600_000 }, async () => {
    const sets = ['models=["conv-tasnet"]', 'variants=["pit-dsd-drop"]', 'epochs=3', 'maxItems={"train":48,"valid":4,"test":4}',
      'dsd={"when":"switch","margin":0,"combinedMode":"drop"}', 'convTasnet={"encoderDim":32,"bottleneck":16,"hidden":32,"skip":16}'];
    const whole = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-dsdlo-whole-'));
    const w = cliRun(whole, sets);
    assert.equal(w.status, 0, w.stderr);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-dsdlo-kill-'));
    const ckptDir = path.join(out, 'checkpoints');
    const checkpointed = () => fs.existsSync(ckptDir) &&
      fs.readdirSync(ckptDir).some((d) => fs.existsSync(path.join(ckptDir, d, 'checkpoint.ckpt')));
    await killThenResume([CLI, 'run', 'dsd-lo', '--preset', 'quick', '--out', out, ...sets.flatMap((s) => ['--set', s])], out,
      { cwd: ROOT, env: ENV }, checkpointed);
    const a = JSON.parse(fs.readFileSync(path.join(whole, 'results.json'), 'utf8')) as DsdLoResults;
    const b = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as DsdLoResults;
    const noTime = (r: DsdLoResults) => r.rows.map((x) => ({ ...x, rtf: 0 }));
    assert.deepEqual(noTime(b), noTime(a), 'the same table as the uninterrupted run');
    const curves = (r: DsdLoResults) => Object.values(r.curves).map((eps) => eps!.map((e) => ({ ...e, seconds: 0 })));
    assert.deepEqual(curves(b), curves(a), 'the same loss terms, label-switch rates and flagged shares per epoch');
    assert.ok(a.curves['conv-tasnet/pit-dsd-drop']!.slice(1).some((e) => e.flaggedShare > 0), 'DSD flagged some samples, so the memory mattered');
    // The memories themselves: every buffer equal.
    const stepDir = (root: string) => path.join(root, 'steps', fs.readdirSync(path.join(root, 'steps')).find((d) => d.includes('pit-dsd-drop'))!, 'memory');
    const ma = (await loadModel(stepDir(whole))) as AssignmentMemory;
    const mb = (await loadModel(stepDir(out))) as AssignmentMemory;
    for (const [name, v] of ma.namedBuffers()) {
      const u = mb.namedBuffers().find(([n]) => n === name)![1];
      assert.deepEqual(Array.from(await u.data()), Array.from(await v.data()), `memory buffer ${name}`);
    }
    assert.ok(Array.from(await ma.seen.data()).every((s) => s === 3), 'every training mixture seen once per epoch');
    ma.dispose();
    mb.dispose();
  });

function tinyConfig(over: Partial<DsdLoConfig> = {}): DsdLoConfig {
  return { ...resolvePreset(DSD_LO_PRESETS, 'quick'), ...over };
}

test('the training step: PIT with the memory, plus the intermediate layers\' own PIT losses weighted by the schedule; DSD drops from every layer', async () => {
  const config = tinyConfig();
  const B = 3, T = 800;
  const x = tf.randomNormal([B, T], 0, 0.3, 'float32', 1) as tf.Tensor2D;
  const y = tf.randomNormal([B, 2, T], 0, 0.3, 'float32', 2) as tf.Tensor3D;
  const batch: SepBatch = { x, y, ids: tf.tensor1d([0, 1, 2], 'int32') };
  const model = buildSeparator('conv-tasnet', 'pit-lo', config);
  const memory = new AssignmentMemory({ numSamples: 3, numSources: 2 });
  const step = separationStep(model, memory, 'pit-lo', config, 10);
  const out = step(batch, { training: false }, { epoch: 1, step: 4, batchIndex: 0 }) as { loss: tf.Scalar; terms: Record<string, tf.Scalar> };
  const outs = model.forwardLayers(x, { training: false });
  assert.equal(outs.length, config.convTasnet.repeats);
  const pit = (o: tf.Tensor) => pitFromPairwise(pairwiseLosses(o, y)).loss.dataSync()[0];
  const layers = outs.slice(0, -1).map(pit).reduce((a, b) => a + b, 0) / (outs.length - 1);
  const w = loWeight(config, 4, 10);
  assert.ok(Math.abs(w - config.lo.weight * 0.6) < 1e-12, 'linear schedule: weight * (1 - 4/10)');
  assert.ok(Math.abs(out.loss.dataSync()[0] - (pit(outs[outs.length - 1]) + w * layers)) < 1e-4);
  assert.ok(Math.abs(out.terms.layers.dataSync()[0] - layers) < 1e-4);
  assert.deepEqual(Array.from(await memory.seen.data()), [1, 1, 1], 'the memory saw the batch');
  tf.dispose([out.loss, ...Object.values(out.terms), ...outs]);

  // DSD + LO in drop mode: a sample whose remembered best is unreachable (SI-SNR 100 dB) under another assignment is
  // flagged ('worse' alone here) and leaves the final and the layers' losses.
  const cfg2 = tinyConfig({ dsd: { when: 'worse', margin: 0, combinedMode: 'drop' }, lo: { heads: 'shared', weight: 1, schedule: 'constant' } });
  const m2 = buildSeparator('conv-tasnet', 'pit-dsd-lo', cfg2);
  const mem2 = new AssignmentMemory({ numSamples: 3, numSources: 2 });
  mem2.update(tf.tensor1d([1], 'int32'), tf.tensor2d([[1, 0]], [1, 2], 'int32'), tf.tensor1d([100]));
  const o2 = separationStep(m2, mem2, 'pit-dsd-lo', cfg2, 10)(batch, { training: false }, { epoch: 2, step: 0, batchIndex: 0 }) as
    { loss: tf.Scalar; terms: Record<string, tf.Scalar> };
  const outs2 = m2.forwardLayers(x, { training: false });
  const keptPit = (o: tf.Tensor) => {
    const per = pitFromPairwise(pairwiseLosses(o, y)).perExample.dataSync();
    return (per[0] + per[2]) / 2;
  };
  const want = keptPit(outs2[outs2.length - 1]) + outs2.slice(0, -1).map(keptPit).reduce((a, b) => a + b, 0) / (outs2.length - 1);
  assert.ok(Math.abs(o2.loss.dataSync()[0] - want) < 1e-4, `${o2.loss.dataSync()[0]} against ${want}`);
  assert.ok(Math.abs(o2.terms.flagged.dataSync()[0] - 1 / 3) < 1e-6, 'one of three flagged');
  tf.dispose([o2.loss, ...Object.values(o2.terms), ...outs2, x, y, batch.ids]);
  for (const m of [model, memory, m2, mem2]) m.dispose();
});

test('every variant of a model starts from the same weights; microBatch auto is refused', () => {
  const config = tinyConfig();
  const a = buildSeparator('dprnn', 'pit', config), b = buildSeparator('dprnn', 'pit-dsd-lo', { ...config, lo: { ...config.lo, heads: 'separate' } });
  const bw = new Map(b.namedParameters().map(([n, v]) => [n, v]));
  for (const [n, v] of a.namedParameters()) assert.deepEqual(Array.from(v.dataSync()), Array.from(bw.get(n)!.dataSync()), n);
  assert.ok(b.numParams() > a.numParams(), 'separate heads add parameters');
  a.dispose();
  b.dispose();
  assert.throws(() => openRun(recipe, { preset: 'quick', quiet: true, out: fs.mkdtempSync(path.join(os.tmpdir(), 'ss-dsdlo-mb-')), set: ['microBatch="auto"'] }),
    /microBatch 'auto' probes the step twice/);
});

test('an in-process run leaks no tensors', { timeout: 600_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-dsdlo-leak-'));
  const before = tf.memory().numTensors;
  const run = openRun(recipe, { preset: 'quick', out, quiet: true, set: ['models=["dprnn"]', 'variants=["pit","pit-dsd-lo"]'] });
  const res = (await run.all()) as DsdLoResults;
  assert.equal(res.rows.length, 3);
  run.dispose();
  assert.equal(tf.memory().numTensors, before, 'tensors left behind');
});
