// The experiment kit on a toy recipe: steps in order over one state, the run directory, cached steps and
// their keys, resuming an interrupted training (counting the optimizer steps run after the restart),
// stale checkpoints, --fresh, groups, errors, and pooling over seeds.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';
import { Linear, manualSeed, loadModel, saveModel } from '../../lib/nn';
import { Recipe, RecipeConfig } from '../../lib/experiments/recipe';
import { openRun, Run } from '../../lib/experiments/run';
import { runRecipe } from '../../lib/experiments/seeds';
import { Rng } from '../../lib/train';

before(async () => {
  await setupBackend();
});

interface ToyConfig extends RecipeConfig { epochs: number; lr: number; crashAfterEpoch: number | null; note: string }
interface ToyState { calls: Record<string, number>; xs?: number[][]; ys?: number[]; model?: Linear; loss?: number }

const counts: Record<string, number> = {};
const bump = (s: ToyState, k: string) => { s.calls[k] = (s.calls[k] ?? 0) + 1; counts[k] = (counts[k] ?? 0) + 1; };

const toy: Recipe<ToyConfig, ToyState> = {
  name: 'toy', description: 'a toy recipe',
  presets: { default: { seed: 0, microBatch: null, epochs: 3, lr: 0.05, crashAfterEpoch: null, note: 'n' }, quick: { epochs: 2 }, paper: {} },
  rowKey: ['variant'],
  initialState: () => ({ calls: {} }),
  dispose: (s) => { s.model?.dispose(); },
  steps: () => [
    { name: 'data', title: 'toy data', inputs: (c) => ({ seed: c.seed }), run: async (run) => {
      bump(run.state, 'data');
      const r = new Rng(`${run.seed}/data`);
      run.state.xs = Array.from({ length: 40 }, () => [r.normal(), r.normal()]);
      run.state.ys = run.state.xs.map(([a, b]) => 2 * a - b);
    } },
    { name: 'train:model', title: 'a linear model', after: ['data'], inputs: (c) => ({ epochs: c.epochs, lr: c.lr }),
      run: async (run) => {
        bump(run.state, 'train');
        manualSeed(run.seed);
        const m = new Linear({ inFeatures: 2, outFeatures: 1 });
        run.state.model = m;
        await run.fit<{ x: tf.Tensor2D; y: tf.Tensor2D }>({
          modules: m, epochs: run.config.epochs, optimizer: { kind: 'sgd', lr: run.config.lr }, progress: 'none',
          batches: (_e, rng) => {
            const idx = rng.shuffle([...Array(40).keys()]);
            return [0, 10, 20, 30].map((s) => ({ x: tf.tensor2d(idx.slice(s, s + 10).map((i) => run.state.xs![i])),
              y: tf.tensor2d(idx.slice(s, s + 10).map((i) => [run.state.ys![i]])) }));
          },
          step: (b, ctx) => tf.losses.meanSquaredError(b.y, m.forward(b.x, ctx)) as tf.Scalar,
          onEpoch: (rec) => { if (rec.epoch === run.config.crashAfterEpoch) throw new Error('simulated crash'); },
        });
      },
      save: async (run, dir) => { await saveModel(run.state.model!, path.join(dir, 'm')); },
      load: async (run, dir) => { run.state.model = (await loadModel(path.join(dir, 'm'))) as Linear; } },
    { name: 'train:probe', title: 'a step after the model', after: ['train:model'], inputs: () => null,
      run: async (run) => { bump(run.state, 'probe'); }, save: async () => undefined, load: async () => undefined },
    { name: 'report', title: 'results', run: async (run) => {
      bump(run.state, 'report');
      const x = tf.tensor2d(run.state.xs!);
      const pred = run.state.model!.forward(x, { training: false });
      const err = Array.from(await tf.abs(tf.sub(pred.reshape([-1]), tf.tensor1d(run.state.ys!))).data());
      tf.dispose([x, pred]);
      run.state.loss = err.reduce((a, b) => a + b, 0) / err.length;
      run.report({ rows: [{ variant: 'model', error: run.state.loss, note: run.config.note }], baselines: { zero: 1 },
        claims: [{ spec: { id: 'small', statement: 'error below 1', metric: 'abs error', variants: ['model', 'one'], direction: 'lower', threshold: 0 },
          evidence: { a: err, b: err.map(() => 1) } }] });
    } },
  ],
};

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ss-run-'));
const quiet = { quiet: true, progress: 'none' as const };
const weights = (r: Run<ToyConfig, ToyState>) => Array.from(r.state.model!.parameters().flatMap((p) => Array.from(p.dataSync())));

test('all() runs the steps in order over one state and writes the run directory', async () => {
  const out = tmp();
  const run = openRun(toy, { ...quiet, out, preset: 'quick', set: ['note=hello'] });
  const res = await run.all();
  assert.deepEqual([...run.done.keys()], ['data', 'train:model', 'train:probe', 'report']);
  assert.ok([...run.done.values()].every((o) => o.status === 'ran'));
  assert.equal(run.done.get('train:model')!.optimizerSteps, 8, '2 epochs of 4 batches');
  const cfg = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
  assert.equal(cfg.experiment, 'toy');
  assert.equal(cfg.preset, 'quick');
  assert.deepEqual(cfg.overrides, ['note=hello']);
  assert.equal(cfg.config.epochs, 2);
  assert.equal(cfg.seed, 0);
  assert.equal(typeof cfg.version, 'string');
  assert.equal(typeof cfg.backend, 'string');
  assert.equal(res.rows[0].note, 'hello');
  assert.equal(res.claims[0].verdict, 'holds');
  for (const f of ['results.json', 'results.csv', 'run.log', 'checkpoints/train_model/checkpoint.ckpt', 'steps/train_model/step.json']) {
    assert.ok(fs.existsSync(path.join(out, f)), f);
  }
  assert.match(fs.readFileSync(path.join(out, 'run.log'), 'utf8'), /\[2\/4\] train:model: done in .*8 optimizer steps run here/);
  run.dispose();
});

test('a rerun reuses cached steps whose inputs are unchanged and reruns those whose inputs (or predecessors) changed', async () => {
  const out = tmp();
  const first = openRun(toy, { ...quiet, out, preset: 'quick' });
  await first.all();
  const w = weights(first);
  first.dispose();
  const again = openRun(toy, { ...quiet, out, preset: 'quick', set: ['note=other'] });
  await again.all();
  assert.equal(again.done.get('train:model')!.status, 'cached');
  assert.equal(again.done.get('train:probe')!.status, 'cached');
  assert.equal(again.done.get('data')!.status, 'ran', 'a step without save/load always runs');
  assert.deepEqual(again.state.calls, { data: 1, report: 1 });
  assert.deepEqual(weights(again), w, 'the cached model is the trained one');
  again.dispose();
  const changed = openRun(toy, { ...quiet, out, preset: 'quick', set: ['lr=0.02'] });
  await changed.all();
  assert.equal(changed.done.get('train:model')!.status, 'ran');
  assert.equal(changed.done.get('train:probe')!.status, 'ran', 'a step after a changed step reruns');
  assert.equal(changed.done.get('train:model')!.optimizerSteps, 8, 'the stale checkpoint (other key) is not resumed');
  changed.dispose();
  const fresh = openRun(toy, { ...quiet, out, preset: 'quick', set: ['lr=0.02'], fresh: true });
  await fresh.all();
  assert.equal(fresh.done.get('train:model')!.status, 'ran', '--fresh ignores the cache');
  fresh.dispose();
});

test('an interrupted training resumes from its checkpoint, runs only the remaining steps and ends as an uninterrupted run', async () => {
  const whole = openRun(toy, { ...quiet, out: tmp() });
  await whole.all();
  const out = tmp();
  const crashed = openRun(toy, { ...quiet, out, set: ['crashAfterEpoch=2'] });
  await assert.rejects(crashed.all(), /simulated crash/);
  assert.equal(crashed.done.has('train:model'), false);
  crashed.dispose();
  const resumed = openRun(toy, { ...quiet, out });
  const res = await resumed.all();
  const o = resumed.done.get('train:model')!;
  assert.equal(o.status, 'ran');
  assert.deepEqual(o.resumed, { epoch: 3, batchIndex: 0, step: 8 }, 'resumed at epoch 3 after 8 steps');
  assert.equal(o.optimizerSteps, 4, 'only the last epoch ran after the restart');
  assert.deepEqual(weights(resumed), weights(whole), 'same weights as the uninterrupted run');
  assert.equal(res.rows[0].error, whole.results!.rows[0].error);
  assert.match(fs.readFileSync(path.join(out, 'run.log'), 'utf8'), /resumed from .*checkpoint\.ckpt at epoch 3, batch 0, after 8 optimizer step/);
  whole.dispose();
  resumed.dispose();
});

test('step(name) runs earlier steps first, a group by its prefix, and never a step twice', async () => {
  const run = openRun(toy, { ...quiet, out: tmp() });
  const got = await run.step('train');
  assert.deepEqual(got.map((o) => o.name), ['train:model', 'train:probe']);
  assert.deepEqual(run.state.calls, { data: 1, train: 1, probe: 1 });
  await run.step('data');
  assert.equal(run.state.calls.data, 1);
  await assert.rejects(run.step('evaluate'), /no step or group 'evaluate'; steps: data, train:model, train:probe, report/);
  await run.step('report');
  run.dispose();
});

test('runRecipe with seeds pools the seeds: rows with intervals, claims over seeds and items, each seed kept', async () => {
  const out = tmp();
  const res = await runRecipe(toy, { ...quiet, out, preset: 'quick', seeds: 2 });
  assert.deepEqual(res.seeds, [0, 1]);
  for (const s of [0, 1]) assert.ok(fs.existsSync(path.join(out, `seed-${s}`, 'results.json')));
  const r = res.rows[0];
  assert.equal(typeof r.errorLo, 'number');
  assert.ok((r.errorLo as number) <= (r.error as number) && (r.error as number) <= (r.errorHi as number));
  assert.equal(res.claims[0].seeds, 2);
  assert.equal(res.claims[0].evidence.length, 2);
  assert.equal((res.perSeed as unknown[]).length, 2);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')).seeds, [0, 1]);
  await assert.rejects(runRecipe(toy, { ...quiet, out, seeds: 0 }), /--seeds must be a positive integer/);
});

test('two trainings in one step need their own labels (each has its own checkpoint)', async () => {
  const twice: Recipe<ToyConfig, ToyState> = { ...toy, steps: () => [{ name: 'train:two', title: 'two fits', run: async (run) => {
    for (let k = 0; k < 2; k++) {
      const m = new Linear({ inFeatures: 2, outFeatures: 1 });
      try {
        await run.fit<{ x: tf.Tensor2D }>({ modules: m, epochs: 1, progress: 'none', batches: () => [{ x: tf.ones([2, 2]) as tf.Tensor2D }],
          step: (b, ctx) => tf.mean(m.forward(b.x, ctx)) as tf.Scalar });
      } finally {
        m.dispose();
      }
    }
  } }] };
  const run = openRun(twice, { ...quiet, out: tmp() });
  await assert.rejects(run.all(), /trains twice with the same label/);
  assert.match(fs.readFileSync(run.path('run.log'), 'utf8'), /\[1\/1\] train:two: failed after/);
  run.dispose();
});

test('a recipe whose steps name an unknown predecessor is refused', () => {
  const bad: Recipe<ToyConfig, ToyState> = { ...toy, steps: () => [{ name: 'b', title: 'b', after: ['a'], run: async () => undefined }] };
  assert.throws(() => openRun(bad, { ...quiet, out: tmp() }), /step 'b' comes after 'a', which is not an earlier step/);
});
