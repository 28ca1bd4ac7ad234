// The slimmable-KWS recipe (PAPERS.md section 1) on the kit: the quick preset through the CLI (run
// directory, results.json schema, claims with intervals, results.csv, plots, saved subnets that reload at
// their smaller size and equal the supernet at their width), kill -9 in the middle of a training and a
// rerun that resumes it and ends with the same numbers (counting the optimizer steps run after the restart),
// a test-sized task on which the models learn (above the majority-class baseline), pooling seeds, the
// same-budget batches, the baseline architectures, config errors, and an in-process run that leaks nothing.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ROOT, setupBackend } from '../helpers';
import { loadModel } from '../../lib/nn/serialize';
import { countParams } from '../../lib/metrics/size';
import { extractSubnet } from '../../lib/slim/extract';
import { readCheckpoint } from '../../lib/train/checkpoint';
import { Rng } from '../../lib/util/rng';
import { applyOverrides, resolvePreset } from '../../lib/experiments/presets';
import { getRecipe } from '../../lib/experiments/recipes';
import { openRun } from '../../lib/experiments/run';
import { runRecipe } from '../../lib/experiments/seeds';
import {
  buildKwsSupernet, buildKwsWidthModel, KWS_ARCHS, KwsData, kwsTrainBatches, prepareKwsData, recipe, SLIMMABLE_KWS_PRESETS,
  SlimmableKwsConfig, SlimmableKwsResults,
} from '../../lib/experiments/slimmable_kws';

before(async () => {
  await setupBackend();
});

const quick = (sets: string[] = []): SlimmableKwsConfig => applyOverrides(resolvePreset(SLIMMABLE_KWS_PRESETS, 'quick'), sets);
const WIDTHS = quick().widths;
const PLOTS = ['training-curves', 'accuracy-per-width', 'accuracy-by-voice', 'recalibration', 'pareto', 'latency-per-width',
  'confusion-matrix', 'spectrogram'];
const CLI = path.join(ROOT, 'dist', 'cli.js');
const ENV = { ...process.env, SLIMSPEECH_BACKEND: process.env.SLIMSPEECH_TEST_BACKEND ?? 'wasm' };

function cliRun(out: string, sets: string[] = []): { status: number | null; stdout: string; stderr: string } {
  assert.ok(fs.existsSync(CLI), 'dist/ is missing: run npm install (it builds the package)');
  return spawnSync(process.execPath, [CLI, 'run', 'slimmable-kws', '--preset', 'quick', '--out', out, ...sets.flatMap((s) => ['--set', s])],
    { cwd: ROOT, encoding: 'utf8', env: ENV });
}

let cli: { out: string; results: SlimmableKwsResults; seconds: number } | undefined;
function quickCli(): { out: string; results: SlimmableKwsResults; seconds: number } {
  if (cli) return cli;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-kws-'));
  const t0 = Date.now();
  const r = cliRun(out);
  assert.equal(r.status, 0, `the CLI failed:\n${r.stderr}\n${r.stdout.slice(-3000)}`);
  cli = { out, results: JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')), seconds: (Date.now() - t0) / 1000 };
  return cli;
}

test('CLI, quick preset: the run directory and results.json with rows, baselines and claims with intervals', { timeout: 180_000 }, () => {
  const { out, results, seconds } = quickCli();
  assert.ok(seconds < 120, `the quick preset took ${seconds.toFixed(1)} s`);
  for (const f of ['config.json', 'run.log', 'results.json', 'results.csv', 'plots', 'models', 'checkpoints', 'steps']) {
    assert.ok(fs.existsSync(path.join(out, f)), f);
  }
  const cfg = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
  assert.deepEqual(cfg.config, quick());
  assert.equal(cfg.preset, 'quick');
  assert.equal(results.experiment, 'slimmable-kws');
  assert.equal(results.preset, 'quick');
  assert.deepEqual(results.seeds, [0]);
  assert.equal(results.rows.length, KWS_ARCHS.length * 2 * WIDTHS.length);
  for (const arch of KWS_ARCHS) {
    for (const variant of ['slimmable', 'independent']) {
      const ws = results.rows.filter((r) => r.arch === arch && r.variant === variant).map((r) => r.width).sort((a, b) => a - b);
      assert.deepEqual(ws, WIDTHS, `${arch} ${variant}: every width once`);
    }
  }
  for (const r of results.rows) {
    const where = `${r.arch} ${r.variant} ${r.width}`;
    assert.ok(Number.isInteger(r.params) && r.params > 0 && Number.isInteger(r.macs) && r.macs > 0, `${where}: params, macs`);
    for (const k of ['accuracy', 'accuracyRecorded', 'accuracySynthetic', 'accuracyValidation'] as const) {
      assert.ok((r[k] as number) >= 0 && (r[k] as number) <= 1, `${where}: ${k} ${r[k]} in [0, 1]`);
    }
    assert.ok(r.latencyMs > 0, `${where}: latency`);
    assert.equal(typeof r.model, 'string', `${where}: saved model path`);
  }
  for (const r of results.rows.filter((x) => x.variant === 'slimmable')) {
    const twin = results.rows.find((x) => x.arch === r.arch && x.variant === 'independent' && x.width === r.width)!;
    assert.equal(twin.params, r.params, `${r.arch} ${r.width}: params of both variants`);
    assert.equal(twin.macs, r.macs, `${r.arch} ${r.width}: MACs of both variants`);
  }
  // Baselines: chance is 1/12; the majority class (_unknown_ in training) scored on the test split.
  assert.ok(Math.abs(results.baselines.chance - 1 / 12) < 1e-12);
  const unknown = results.labels.indexOf('_unknown_');
  assert.ok(unknown >= 0 && results.baselines.majority > results.baselines.chance && results.baselines.majority < 0.5);
  // One claim per architecture, with its interval, a verdict consistent with it, and the per-item evidence.
  assert.deepEqual(results.claims.map((c) => c.id), KWS_ARCHS.map((a) => `slimmable-matches-alone-${a}`));
  for (const c of results.claims) {
    assert.equal(c.items, results.data.test);
    assert.ok(c.interval[0] <= c.difference && c.difference <= c.interval[1], `${c.id}: ${c.difference} in ${c.interval}`);
    const arch = c.id.split('-').pop()!;
    const mean = (v: string) => results.rows.filter((r) => r.arch === arch && r.variant === v).reduce((s, r) => s + r.accuracy, 0) / WIDTHS.length;
    assert.ok(Math.abs(c.difference - (mean('slimmable') - mean('independent'))) < 1e-9, `${c.id}: the difference follows from the rows`);
    const learned = Math.min(mean('slimmable'), mean('independent')) > results.baselines.majority;
    const expected = !learned ? 'inconclusive' : c.interval[0] >= c.threshold ? 'holds' : c.interval[1] < c.threshold ? 'does not hold' : 'inconclusive';
    assert.equal(c.verdict, expected, `${c.id}: ${c.reason}`);
  }
  assert.ok(results.data.testRecorded > 0 && results.data.testRecorded < results.data.test);
  for (const e of results.extraction) assert.ok(e.maxAbsDiff < 1e-4, `${e.arch} ${e.width}: extracted subnet differs by ${e.maxAbsDiff}`);
  assert.equal(results.recalibration.length, 2 * WIDTHS.length, 'DS-CNN: supernet and baselines at every width (KWT has no batch norm)');
});

test('CLI, quick preset: results.csv holds the same rows', { timeout: 180_000 }, () => {
  const { out, results } = quickCli();
  const lines = fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n');
  const head = lines[0].split(',');
  for (const k of ['arch', 'variant', 'width', 'params', 'macs', 'accuracy', 'accuracyRecorded', 'latencyMs']) assert.ok(head.includes(k), `column ${k}`);
  assert.equal(lines.length - 1, results.rows.length);
  lines.slice(1).forEach((line, i) => {
    const cells = line.split(',');
    const r = results.rows[i];
    assert.equal(cells[head.indexOf('arch')], r.arch);
    assert.equal(Number(cells[head.indexOf('width')]), r.width);
    assert.equal(Number(cells[head.indexOf('accuracy')]), r.accuracy);
  });
});

test('CLI, quick preset: every plot is written to plots/ as offline HTML next to one plotly.js', { timeout: 180_000 }, () => {
  const dir = path.join(quickCli().out, 'plots');
  assert.equal(fs.readdirSync(dir).filter((f) => /^plotly-.*\.js$/.test(f)).length, 1, 'one sibling plotly.js');
  for (const name of PLOTS) {
    const file = path.join(dir, `${name}.html`);
    assert.ok(fs.existsSync(file), `${name}.html`);
    const html = fs.readFileSync(file, 'utf8');
    assert.match(html, /<script src="plotly-[^"]+\.js"><\/script>/, `${name}.html references the sibling plotly.js`);
    assert.doesNotMatch(html, /https?:\/\/cdn/i, `${name}.html fetches nothing`);
  }
});

test('CLI, quick preset: every saved subnet reloads at its smaller size and equals the supernet at its width', { timeout: 180_000 }, async () => {
  const { out, results } = quickCli();
  const x = tf.randomNormal([3, results.data.frames, results.data.mels], 0, 1, 'float32', 7);
  try {
    for (const arch of KWS_ARCHS) {
      const supernet = await loadModel(path.join(out, 'models', `${arch}-supernet`));
      const rows = results.rows.filter((r) => r.arch === arch);
      const widest = Math.max(...rows.map((r) => r.params));
      for (const r of rows) {
        assert.equal(r.model, path.join('models', r.variant === 'slimmable' ? `${arch}-w${r.width}` : `${arch}-independent-w${r.width}`));
        const m = await loadModel(path.join(out, r.model as string));
        assert.equal(countParams(m), r.params, `${r.model}: parameters`);
        if (r.width < 1) assert.ok(r.params < widest, `${r.model}: ${r.params} parameters, widest ${widest}`);
        if (r.variant === 'slimmable') {
          const d = tf.tidy(() => tf.max(tf.abs(tf.sub(m.forward(x, { training: false }),
            supernet.forward(x, { training: false, width: r.width })))).dataSync()[0]);
          assert.ok(d < 1e-4, `${r.model}: |subnet - supernet at ${r.width}| = ${d}`);
        }
        m.dispose();
      }
      supernet.dispose();
    }
  } finally {
    x.dispose();
  }
});

function stepsRun(log: string): Map<string, { ran: number; cached: boolean; resumedAfter?: number }> {
  const out = new Map<string, { ran: number; cached: boolean; resumedAfter?: number }>();
  for (const m of log.matchAll(/\] ([\w:.-]+): .*reused from /g)) out.set(m[1], { ran: 0, cached: true });
  for (const m of log.matchAll(/\] ([\w:.-]+): done in [^,\n]*(?:, (\d+) optimizer steps run here(?: \(resumed at epoch \d+, after (\d+) steps\))?)?/g)) {
    out.set(m[1], { ran: Number(m[2] ?? 0), cached: false, ...(m[3] ? { resumedAfter: Number(m[3]) } : {}) });
  }
  return out;
}

test('kill -9 during a training, then the same command: it resumes there, runs only the remaining steps, and ends with identical results',
  { timeout: 300_000 }, async () => {
    const sets = ['epochs=3', 'archs=["dscnn"]', 'latencyRuns=1'];
    const whole = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-kws-whole-'));
    const w = cliRun(whole, sets);
    assert.equal(w.status, 0, w.stderr);
    const wholeSteps = stepsRun(fs.readFileSync(path.join(whole, 'run.log'), 'utf8'));
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-kws-kill-'));
    // The third training (width 0.5 alone) is killed once its first epoch's checkpoint exists.
    const victim = 'alone:dscnn-w0.5';
    const ckpt = path.join(out, 'checkpoints', 'alone_dscnn-w0.5', 'checkpoint.ckpt');
    const child = spawn(process.execPath, [CLI, 'run', 'slimmable-kws', '--preset', 'quick', '--out', out, ...sets.flatMap((s) => ['--set', s])],
      { cwd: ROOT, env: ENV, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let killedAt: number | undefined;
    for (let i = 0; i < 6000 && killedAt === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
      if (fs.existsSync(ckpt) && !fs.existsSync(path.join(out, 'steps', 'alone_dscnn-w0.5', 'step.json'))) {
        child.kill('SIGKILL');
        killedAt = i;
      }
    }
    assert.notEqual(killedAt, undefined, 'the training to kill never wrote a checkpoint');
    await exited;
    const doneBefore = readCheckpoint(ckpt);
    const stepsBefore = doneBefore.meta.globalStep as number;
    tf.dispose([...doneBefore.tensors.values()]);
    assert.ok(stepsBefore > 0, 'killed after at least one checkpointed step');
    assert.ok(!fs.existsSync(path.join(out, 'results.json')), 'killed before the end');

    const logBefore = fs.readFileSync(path.join(out, 'run.log'), 'utf8').length;
    const again = cliRun(out, sets);
    assert.equal(again.status, 0, again.stderr);
    const log = fs.readFileSync(path.join(out, 'run.log'), 'utf8').slice(logBefore);
    const steps = stepsRun(log);
    const v = steps.get(victim)!;
    assert.equal(v.resumedAfter, stepsBefore, `${victim} resumed after the ${stepsBefore} steps of its checkpoint: ${log}`);
    assert.equal(v.ran, wholeSteps.get(victim)!.ran - stepsBefore, `${victim} ran only its remaining steps`);
    assert.match(log, /resumed from .*checkpoint\.ckpt at epoch \d+, batch \d+, after \d+ optimizer step/);
    for (const name of ['data', 'slimmable:dscnn', 'alone:dscnn-w0.25']) assert.equal(steps.get(name)?.cached, true, `${name} reused`);
    for (const name of ['alone:dscnn-w0.75', 'alone:dscnn-w1']) {
      assert.equal(steps.get(name)!.ran, wholeSteps.get(name)!.ran, `${name} ran in full once`);
    }
    const a = JSON.parse(fs.readFileSync(path.join(whole, 'results.json'), 'utf8')) as SlimmableKwsResults;
    const b = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as SlimmableKwsResults;
    const noTime = (r: SlimmableKwsResults) => r.rows.map((x) => ({ ...x, latencyMs: 0 }));
    assert.deepEqual(noTime(b), noTime(a), 'the same table as the uninterrupted run');
    assert.deepEqual(b.claims.map((c) => [c.difference, c.interval, c.verdict]), a.claims.map((c) => [c.difference, c.interval, c.verdict]));
    const loss = (r: SlimmableKwsResults) => r.curves.dscnn!.independent['0.5'].map((e) => e.loss);
    assert.deepEqual(loss(b), loss(a), 'the resumed training has the same losses per epoch');
  });

test('a test-sized task is learned: every model beats the majority-class baseline', { timeout: 300_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-kws-learn-'));
  const r = cliRun(out, ['epochs=12', 'archs=["dscnn"]', 'widths=[0.5,1]', 'batchSize=32', 'augment.noiseProb=0',
    'augment.specAugment=null', 'latencyRuns=1']);
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as SlimmableKwsResults;
  for (const row of res.rows) {
    assert.ok(row.accuracy > res.baselines.majority + 0.03,
      `${row.variant} ${row.width}: ${(100 * row.accuracy).toFixed(1)}% vs majority ${(100 * res.baselines.majority).toFixed(1)}%`);
  }
  assert.doesNotMatch(res.claims[0].reason, /majority-class baseline/, 'the claim is judged, not dismissed');
});

test('--seeds pools the seeds: rows with intervals over seeds, claims over seeds and items', { timeout: 300_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-kws-seeds-'));
  const res = await runRecipe(recipe, { preset: 'quick', out, quiet: true, seeds: 2,
    set: ['epochs=1', 'archs=["kwt"]', 'widths=[0.5,1]', 'latencyRuns=1'] });
  assert.deepEqual(res.seeds, [0, 1]);
  assert.equal(res.rows.length, 4);
  for (const row of res.rows) {
    assert.equal(typeof row.accuracyLo, 'number');
    assert.ok((row.accuracyLo as number) <= (row.accuracy as number) && (row.accuracy as number) <= (row.accuracyHi as number));
  }
  const seedResults = [0, 1].map((s) => JSON.parse(fs.readFileSync(path.join(out, `seed-${s}`, 'results.json'), 'utf8')) as SlimmableKwsResults);
  const mean = seedResults.reduce((a, r) => a + r.rows[0].accuracy, 0) / 2;
  assert.ok(Math.abs((res.rows[0].accuracy as number) - mean) < 1e-12, 'the pooled row is the mean of the seeds');
  assert.equal(res.claims[0].seeds, 2);
  assert.equal(res.claims[0].items, seedResults[0].data.test);
});

test('config: the presets resolve, --set reaches nested fields, errors name the problem', async () => {
  for (const p of ['quick', 'default', 'paper'] as const) {
    const c = resolvePreset(SLIMMABLE_KWS_PRESETS, p);
    assert.deepEqual(c.archs, ['dscnn', 'kwt']);
    assert.deepEqual(c.widths, [0.25, 0.5, 0.75, 1]);
    assert.equal(c.microBatch, 'auto');
  }
  assert.equal(resolvePreset(SLIMMABLE_KWS_PRESETS, 'paper').batchSize, 256);
  assert.equal(resolvePreset(SLIMMABLE_KWS_PRESETS, 'quick').augment.timeShiftMs, 100, 'quick inherits what it does not change');
  assert.equal(getRecipe('slimmable-kws'), recipe);
  assert.throws(() => getRecipe('nope'), /unknown experiment 'nope'; known: slimmable-kws/);
  const c = quick(['lr.kwt=0.002', 'augment.copies=0', 'keywords=all']);
  assert.equal(c.lr.kwt, 0.002);
  assert.equal(c.augment.copies, 0);
  assert.equal(c.keywords, 'all');
  await assert.rejects(prepareKwsData(resolvePreset(SLIMMABLE_KWS_PRESETS, 'paper')), /dataRoot is empty.*--set dataRoot=/);
  await assert.rejects(prepareKwsData(quick(['dataRoot=/nonexistent/sc'])), /\/nonexistent\/sc/);
  assert.throws(() => openRun(recipe, { preset: 'quick', set: ['archs=["cnn"]'], out: os.tmpdir(), quiet: true }), /unknown arch 'cnn'/);
});

let data: KwsData | undefined;
async function quickData(): Promise<KwsData> {
  data ??= await prepareKwsData(quick());
  return data;
}

test('data: normalised features of every split, an augmented copy of the training set, recorded test voices flagged', { timeout: 60_000 }, async () => {
  const d = await quickData();
  assert.equal(d.labels.length, 12);
  assert.deepEqual(d.labels.slice(-2), ['_unknown_', '_silence_']);
  assert.equal(d.train.length, 2, 'clean + one augmented copy');
  assert.equal(d.frames, 49);
  assert.equal(d.mels, 32);
  for (const s of [...d.train, d.validation, d.test]) {
    assert.equal(s.x.length, s.y.length);
    for (const r of s.x) assert.equal(r.length, d.frames * d.mels);
  }
  let mean = 0, sq = 0, diff = 0;
  for (const r of d.train[0].x) for (let i = 0; i < r.length; i += d.mels) { mean += r[i]; sq += r[i] * r[i]; }
  const n = d.train[0].x.length * d.frames;
  assert.ok(Math.abs(mean / n) < 1e-3 && Math.abs(sq / n - 1) < 1e-2, `band 0: mean ${mean / n}, var ${sq / n}`);
  for (let k = 0; k < d.train[0].x.length; k++) diff += Math.abs(d.train[0].x[k][0] - d.train[1].x[k][0]);
  assert.ok(diff > 0);
  assert.equal(d.test.recorded.filter(Boolean).length, 33, 'the embedded test split has 33 recorded clips (manifest)');
  const silence = d.labels.indexOf('_silence_');
  d.test.y.forEach((y, i) => { if (y === silence) assert.equal(d.test.recorded[i], false); });
});

test('same budget: every model sees the same batches for the same seed and epoch', { timeout: 60_000 }, async () => {
  const d = await quickData();
  const cfg = quick();
  const read = (seed: string) => [...kwsTrainBatches(d, cfg, new Rng(seed))].map((b) => {
    const v = { x: Array.from(b.x.dataSync()), y: Array.from(b.y.dataSync()) };
    tf.dispose([b.x, b.y]);
    return v;
  });
  const a = read('0/epoch/1');
  assert.equal(a.length, Math.ceil(d.train[0].y.length / cfg.batchSize));
  assert.deepEqual(read('0/epoch/1'), a);
  assert.notDeepEqual(read('0/epoch/2').map((b) => b.y), a.map((b) => b.y));
  assert.deepEqual(a.flatMap((b) => b.y).sort((p, q) => p - q), Array.from(d.train[0].y).sort((p, q) => p - q), 'every item once per epoch');
});

test('baseline models have the architecture of the subnet of their width, with their own initialisation', { timeout: 60_000 }, async () => {
  const d = await quickData();
  const cfg = quick();
  for (const arch of KWS_ARCHS) {
    const supernet = buildKwsSupernet(arch, cfg, d);
    for (const w of WIDTHS) {
      const sub = extractSubnet(supernet, w);
      const alone = buildKwsWidthModel(arch, w, cfg, d);
      assert.deepEqual(alone.spec(), sub.spec(), `${arch} ${w}`);
      const again = buildKwsWidthModel(arch, w, cfg, d);
      assert.deepEqual(Array.from(alone.parameters()[0].dataSync()), Array.from(again.parameters()[0].dataSync()), 'seeded initialisation');
      for (const m of [sub, alone, again]) m.dispose();
    }
    supernet.dispose();
  }
});

test('an in-process run leaks no tensors and the notebook-style step calls walk the same steps', { timeout: 180_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-kws-mem-'));
  const before = tf.memory().numTensors;
  const run = openRun(recipe, { preset: 'quick', set: ['epochs=1', 'latencyRuns=1', 'archs=["kwt"]'], out, quiet: true });
  await run.step('data');
  assert.ok(run.state.data);
  const trained = await run.step('slimmable');
  assert.deepEqual(trained.map((o) => o.name), ['slimmable:kwt']);
  const res = await run.all();
  assert.equal(res.rows.length, 8);
  run.dispose();
  assert.equal(tf.memory().numTensors, before, 'tensors left behind');
  assert.ok(fs.existsSync(path.join(out, 'results.json')) && fs.existsSync(path.join(out, 'models', 'kwt-w0.5', 'model.json')));
});
