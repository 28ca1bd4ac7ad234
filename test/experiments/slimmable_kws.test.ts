// The slimmable-KWS experiment (PAPERS.md section 1): the quick preset through the CLI (results.json schema,
// results.csv, plots, saved subnets that reload at their smaller size and equal the supernet at their width),
// the claim computed from the rows, the same-budget batches, the baseline architectures, config errors, and
// an in-process run that leaks no tensors.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ROOT, setupBackend } from '../helpers';
import { loadModel } from '../../lib/nn/serialize';
import { countParams } from '../../lib/metrics/size';
import { extractSubnet } from '../../lib/slim/extract';
import { Rng } from '../../lib/util/rng';
import { applyOverrides } from '../../lib/experiments/types';
import { getExperiment } from '../../lib/experiments';
import {
  buildKwsSupernet, buildKwsWidthModel, formatKwsTable, KWS_ARCHS, KwsData, kwsClaim, kwsCsv, KwsRow, kwsTrainBatches,
  prepareKwsData, runSlimmableKws, SLIMMABLE_KWS_PRESETS, SlimmableKwsConfig, SlimmableKwsResults,
} from '../../lib/experiments/slimmable-kws';

before(async () => {
  await setupBackend();
});

const quick = (sets: string[] = []): SlimmableKwsConfig => applyOverrides(SLIMMABLE_KWS_PRESETS.quick, sets);
const WIDTHS = SLIMMABLE_KWS_PRESETS.quick.widths;
const PLOTS = ['training-curves', 'accuracy-per-width', 'pareto', 'latency-per-width', 'confusion-matrix', 'spectrogram'];

let cli: { out: string; results: SlimmableKwsResults; seconds: number } | undefined;

function runCli(): { out: string; results: SlimmableKwsResults; seconds: number } {
  if (cli) return cli;
  assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'cli.js')), 'dist/ is missing: run npm install (it builds the package)');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-kws-'));
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'run', 'slimmable-kws', '--preset', 'quick', '--out', out],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SLIMSPEECH_BACKEND: process.env.SLIMSPEECH_TEST_BACKEND ?? 'wasm' } });
  const seconds = (Date.now() - t0) / 1000;
  assert.equal(r.status, 0, `the CLI failed:\n${r.stderr}\n${r.stdout.slice(-3000)}`);
  cli = { out, results: JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')), seconds };
  return cli;
}

test('CLI, quick preset: finishes well under a minute and writes results.json with the documented schema', { timeout: 120_000 }, () => {
  const { results, seconds } = runCli();
  assert.ok(seconds < 60, `the quick preset took ${seconds.toFixed(1)} s`);
  assert.equal(results.experiment, 'slimmable-kws');
  assert.equal(results.preset, 'quick');
  assert.equal(typeof results.backend, 'string');
  assert.ok(results.backend.length > 0);
  assert.equal(results.rows.length, KWS_ARCHS.length * 2 * WIDTHS.length);
  for (const arch of KWS_ARCHS) {
    for (const variant of ['slimmable', 'independent']) {
      const ws = results.rows.filter((r) => r.arch === arch && r.variant === variant).map((r) => r.width).sort((a, b) => a - b);
      assert.deepEqual(ws, WIDTHS, `${arch} ${variant}: every width once`);
    }
  }
  for (const r of results.rows) {
    const where = `${r.arch} ${r.variant} ${r.width}`;
    for (const k of ['width', 'params', 'macs', 'accuracy', 'latencyMs', 'accuracyValidation'] as const) {
      assert.equal(typeof r[k], 'number', `${where}: ${k} is a number`);
      assert.ok(Number.isFinite(r[k] as number), `${where}: ${k} is finite`);
    }
    assert.ok(Number.isInteger(r.params) && r.params > 0 && Number.isInteger(r.macs) && r.macs > 0, `${where}: params, macs`);
    for (const k of ['accuracy', 'accuracyRecorded', 'accuracyValidation'] as const) {
      assert.ok((r[k] as number) >= 0 && (r[k] as number) <= 1, `${where}: ${k} ${r[k]} in [0, 1]`);
    }
    assert.ok(r.latencyMs > 0, `${where}: latency`);
    assert.equal(typeof r.model, 'string', `${where}: saved model path`);
  }
  // The two variants of a width have the same architecture, hence the same size.
  for (const r of results.rows.filter((x) => x.variant === 'slimmable')) {
    const twin = results.rows.find((x) => x.arch === r.arch && x.variant === 'independent' && x.width === r.width)!;
    assert.equal(twin.params, r.params, `${r.arch} ${r.width}: params of both variants`);
    assert.equal(twin.macs, r.macs, `${r.arch} ${r.width}: MACs of both variants`);
  }
  assert.equal(results.claim.statement, 'mean accuracy of slimmable subnets within 1 point of (or above) the same widths trained alone, for both architectures');
  assert.equal(typeof results.claim.holds, 'boolean');
  assert.equal(typeof results.claim.detail, 'string');
  assert.deepEqual(results.claim, kwsClaim(results.rows, KWS_ARCHS, results.data.test), 'the claim follows from the rows');
  assert.ok(results.data.testRecorded > 0 && results.data.testRecorded < results.data.test);
  for (const e of results.extraction) assert.ok(e.maxAbsDiff < 1e-4, `${e.arch} ${e.width}: extracted subnet differs by ${e.maxAbsDiff}`);
});

test('CLI, quick preset: results.csv holds the same rows', { timeout: 120_000 }, () => {
  const { out, results } = runCli();
  const lines = fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n');
  const head = lines[0].split(',');
  for (const k of ['arch', 'variant', 'width', 'params', 'macs', 'accuracy', 'accuracyRecorded', 'latencyMs']) assert.ok(head.includes(k), `column ${k}`);
  assert.equal(lines.length - 1, results.rows.length);
  lines.slice(1).forEach((line, i) => {
    const cells = line.split(',');
    const r = results.rows[i];
    assert.equal(cells[head.indexOf('arch')], r.arch);
    assert.equal(cells[head.indexOf('variant')], r.variant);
    assert.equal(Number(cells[head.indexOf('width')]), r.width);
    assert.equal(Number(cells[head.indexOf('params')]), r.params);
    assert.equal(Number(cells[head.indexOf('accuracy')]), r.accuracy);
  });
});

test('CLI, quick preset: every plot is written as offline HTML next to one plotly.js', { timeout: 120_000 }, () => {
  const { out } = runCli();
  const files = fs.readdirSync(out);
  assert.equal(files.filter((f) => /^plotly-.*\.js$/.test(f)).length, 1, 'one sibling plotly.js');
  for (const name of PLOTS) {
    const file = path.join(out, `${name}.html`);
    assert.ok(fs.existsSync(file), `${name}.html`);
    const html = fs.readFileSync(file, 'utf8');
    assert.match(html, /<script src="plotly-[^"]+\.js"><\/script>/, `${name}.html references the sibling plotly.js`);
    assert.doesNotMatch(html, /https?:\/\/cdn/i, `${name}.html fetches nothing`);
    assert.ok((html.match(/class="slimspeech-plot"/g) ?? []).length >= 1, `${name}.html holds a figure`);
  }
});

test('CLI, quick preset: every saved subnet reloads at its smaller size and equals the supernet at its width', { timeout: 120_000 }, async () => {
  const { out, results } = runCli();
  const x = tf.randomNormal([3, results.data.frames, results.data.mels], 0, 1, 'float32', 7);
  try {
    for (const arch of KWS_ARCHS) {
      const supernet = await loadModel(path.join(out, 'models', `${arch}-supernet`));
      const rows = results.rows.filter((r) => r.arch === arch);
      const widest = Math.max(...rows.map((r) => r.params));
      for (const r of rows) {
        assert.equal(r.model, path.join('models', r.variant === 'slimmable' ? `${arch}-w${r.width}` : `${arch}-independent-w${r.width}`));
        const m = await loadModel(path.join(out, r.model as string));
        assert.equal(m.numParams(), r.params, `${r.model}: parameters`);
        assert.equal(countParams(m), r.params);
        if (r.width < 1) assert.ok(r.params < widest, `${r.model}: ${r.params} parameters, widest ${widest}`);
        if (r.variant === 'slimmable') {
          const [a, b] = tf.tidy(() => [m.forward(x, { training: false }), supernet.forward(x, { training: false, width: r.width })]);
          const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
          assert.ok(d < 1e-4, `${r.model}: |subnet - supernet at ${r.width}| = ${d}`);
          tf.dispose([a, b]);
        }
        m.dispose();
      }
      supernet.dispose();
    }
  } finally {
    x.dispose();
  }
});

test('claim: per architecture, mean slimmable accuracy - mean independent accuracy >= -1 point', () => {
  const row = (arch: 'dscnn' | 'kwt', variant: 'slimmable' | 'independent', width: number, accuracy: number): KwsRow => ({
    arch, variant, width, accuracy, params: 1, macs: 1, latencyMs: 1, accuracyRecorded: null, accuracyValidation: 0, model: null });
  const rows = [
    row('dscnn', 'slimmable', 0.5, 0.80), row('dscnn', 'slimmable', 1, 0.90), row('dscnn', 'independent', 0.5, 0.82), row('dscnn', 'independent', 1, 0.895),
    row('kwt', 'slimmable', 0.5, 0.60), row('kwt', 'slimmable', 1, 0.70), row('kwt', 'independent', 0.5, 0.50), row('kwt', 'independent', 1, 0.70),
  ];
  const c = kwsClaim(rows, ['dscnn', 'kwt'], 200);
  assert.ok(Math.abs(c.perArch.dscnn!.differencePoints - -0.75) < 1e-9);
  assert.ok(Math.abs(c.perArch.kwt!.differencePoints - 5) < 1e-9);
  assert.equal(c.holds, true);
  assert.match(c.detail, /dscnn: slimmable 85\.0% vs independent 85\.8% \(-0\.7 points, holds\)/);
  assert.match(c.detail, /one item is 0\.5 points/);
  rows[0].accuracy = 0.78; // dscnn mean difference -1.75 points
  const failed = kwsClaim(rows, ['dscnn', 'kwt']);
  assert.equal(failed.holds, false);
  assert.equal(failed.perArch.dscnn!.holds, false);
  assert.equal(failed.perArch.kwt!.holds, true);
  assert.equal(kwsClaim(rows.filter((r) => r.variant === 'slimmable'), ['dscnn']).holds, false, 'no baseline: not held');
  assert.equal(kwsCsv(rows).split('\n')[0], 'arch,variant,width,accuracy,params,macs,latencyMs,accuracyRecorded,accuracyValidation,model');
  assert.match(formatKwsTable(rows), /dscnn\s+slimmable\s+0\.5\s+1\s+1\s+78\.0/);
});

test('config: presets are registered, --set overrides reach nested fields, the paper preset asks for dataRoot', async () => {
  const e = getExperiment('slimmable-kws');
  assert.deepEqual(Object.keys(e.presets).sort(), ['default', 'paper', 'quick']);
  for (const p of ['quick', 'default', 'paper'] as const) {
    const c = e.presets[p] as SlimmableKwsConfig;
    assert.deepEqual(c.archs, ['dscnn', 'kwt']);
    assert.deepEqual(c.widths, [0.25, 0.5, 0.75, 1]);
  }
  const c = quick(['lr.kwt=0.002', 'augment.copies=0', 'keywords=all']);
  assert.equal(c.lr.kwt, 0.002);
  assert.equal(c.augment.copies, 0);
  assert.equal(c.keywords, 'all');
  assert.equal(SLIMMABLE_KWS_PRESETS.quick.lr.kwt, 1e-3, 'overrides leave the preset alone');
  await assert.rejects(prepareKwsData(SLIMMABLE_KWS_PRESETS.paper), /dataRoot is empty.*--set dataRoot=/);
  await assert.rejects(prepareKwsData(quick(['dataRoot=/nonexistent/sc'])), /\/nonexistent\/sc/);
  await assert.rejects(runSlimmableKws(quick(['archs=["cnn"]']), { outDir: os.tmpdir(), log: () => undefined }, 'custom'), /unknown arch 'cnn'/);
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
  assert.equal(d.train[1].x.length, d.train[0].x.length);
  assert.equal(d.frames, 49);
  assert.equal(d.mels, 32);
  for (const s of [...d.train, d.validation, d.test]) {
    assert.equal(s.x.length, s.y.length);
    for (const r of s.x) assert.equal(r.length, d.frames * d.mels);
  }
  // Clean training features have zero mean and unit variance per band; the augmented copy differs.
  let mean = 0, sq = 0, diff = 0;
  for (const r of d.train[0].x) for (let i = 0; i < r.length; i += d.mels) { mean += r[i]; sq += r[i] * r[i]; }
  const n = d.train[0].x.length * d.frames;
  assert.ok(Math.abs(mean / n) < 1e-3 && Math.abs(sq / n - 1) < 1e-2, `band 0: mean ${mean / n}, var ${sq / n}`);
  for (let k = 0; k < d.train[0].x.length; k++) diff += Math.abs(d.train[0].x[k][0] - d.train[1].x[k][0]);
  assert.ok(diff > 0);
  const recorded = d.test.recorded.filter(Boolean).length;
  assert.equal(recorded, 33, 'the embedded test split has 33 recorded clips (manifest)');
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
      assert.equal(countParams(alone), countParams(sub));
      const again = buildKwsWidthModel(arch, w, cfg, d);
      const [p, q] = [alone.parameters()[0], again.parameters()[0]];
      assert.deepEqual(Array.from(p.dataSync()), Array.from(q.dataSync()), 'seeded initialisation');
      for (const m of [sub, alone, again]) m.dispose();
    }
    supernet.dispose();
  }
});

test('an in-process run leaks no tensors and writes its outputs', { timeout: 120_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-kws-mem-'));
  const cfg = quick(['epochs=1', 'latencyRuns=1']);
  const before = tf.memory().numTensors;
  const res = await runSlimmableKws(cfg, { outDir: out, log: () => undefined }, 'custom');
  assert.equal(tf.memory().numTensors, before, 'tensors left behind');
  assert.equal(res.preset, 'custom');
  assert.equal(res.rows.length, 16);
  assert.ok(fs.existsSync(path.join(out, 'results.json')) && fs.existsSync(path.join(out, 'models', 'kwt-w0.5', 'model.json')));
});
