// The assignment memory: updates and label-switch statistics on a hand-made sequence, epoch counters, save/load,
// train.fit checkpoint and resume, errors, leaks.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertNoLeak } from '../helpers';
import { AssignmentMemory, pairwiseLosses, pitLossWithMemory } from '../../lib/pit';
import { loadModel, Linear, manualSeed, saveModel } from '../../lib/nn';
import { fit, Rng } from '../../lib/train';
import { countReads } from './read_spy';

before(async () => {
  await setupBackend();
});

const ints = (v: number[]) => tf.tensor1d(v, 'int32');
const perms = (v: number[][]) => tf.tensor2d(v, undefined, 'int32');

/** Runs one update and disposes its inputs. */
function visit(m: AssignmentMemory, ids: number[], perm: number[][], metric: number[], opts: { flagged?: boolean[]; epoch?: number } = {}) {
  const t = { ids: ints(ids), perm: perms(perm), metric: tf.tensor1d(metric), flagged: opts.flagged ? tf.tensor1d(opts.flagged, 'bool') : undefined };
  m.update(t.ids, t.perm, t.metric, { flagged: t.flagged, epoch: opts.epoch });
  tf.dispose([t.ids, t.perm, t.metric, ...(t.flagged ? [t.flagged] : [])]);
}

async function state(m: AssignmentMemory) {
  return {
    bestPerm: await m.bestPerm.array(), bestMetric: await m.bestMetric.array(), lastPerm: await m.lastPerm.array(),
    lastMetric: await m.lastMetric.array(), seen: await m.seen.array(),
  };
}

test('a new memory holds nothing: -1 assignments, no visits, empty statistics', async () => {
  const m = new AssignmentMemory({ numSamples: 3, numSources: 2 });
  assert.deepEqual(await m.bestPerm.array(), [[-1, -1], [-1, -1], [-1, -1]]);
  assert.deepEqual(await m.seen.array(), [0, 0, 0]);
  const s = await m.statistics();
  assert.deepEqual({ ...s, switchRate: 0, flaggedShare: 0 }, { epoch: 0, seen: 0, revisited: 0, switched: 0, flagged: 0, switchRate: 0, flaggedShare: 0 });
  assert.ok(Number.isNaN(s.switchRate) && Number.isNaN(s.flaggedShare));
  m.dispose();
});

test('update keeps the best assignment and metric, tracks the last, counts visits; statistics per epoch', async () => {
  const m = new AssignmentMemory({ numSamples: 4, numSources: 2 });
  visit(m, [0, 2], [[0, 1], [1, 0]], [5, 3], { epoch: 1 });
  visit(m, [1, 3], [[1, 0], [0, 1]], [2, -1], { epoch: 1, flagged: [false, false] });
  let s = await m.statistics();
  assert.deepEqual({ ...s, switchRate: 0 }, { epoch: 1, seen: 4, revisited: 0, switched: 0, flagged: 0, switchRate: 0, flaggedShare: 0 });
  assert.ok(Number.isNaN(s.switchRate), 'no sample revisited in the first epoch: the switch rate is undefined');
  // Epoch 2: sample 2 switches and improves (new best), sample 0 keeps its assignment and gets worse (best kept).
  visit(m, [2, 0], [[0, 1], [0, 1]], [4, 4], { epoch: 2, flagged: [true, false] });
  // Sample 1 switches and gets worse (best kept), then switches back later in the same epoch.
  visit(m, [1], [[0, 1]], [1], { epoch: 2 });
  s = await m.statistics();
  assert.deepEqual(s, { epoch: 2, seen: 3, revisited: 3, switched: 2, flagged: 1, switchRate: 2 / 3, flaggedShare: 1 / 3 });
  visit(m, [1], [[1, 0]], [1.5], { epoch: 2 });
  assert.deepEqual(await state(m), {
    bestPerm: [[0, 1], [1, 0], [0, 1], [0, 1]], bestMetric: [5, 2, 4, -1],
    lastPerm: [[0, 1], [1, 0], [0, 1], [0, 1]], lastMetric: [4, 1.5, 4, -1], seen: [2, 3, 2, 1],
  });
  assert.deepEqual(await m.statistics(), s, 'a second visit in the same epoch counts each sample once');
  // Updates without an epoch never reset the counters; startEpoch does.
  visit(m, [3], [[1, 0]], [0]);
  assert.deepEqual({ ...(await m.statistics()) }, { epoch: 2, seen: 4, revisited: 4, switched: 3, flagged: 1, switchRate: 3 / 4, flaggedShare: 1 / 4 });
  m.startEpoch(7);
  assert.deepEqual({ ...(await m.statistics()), switchRate: 0, flaggedShare: 0 }, { epoch: 7, seen: 0, revisited: 0, switched: 0, flagged: 0, switchRate: 0, flaggedShare: 0 });
  assert.deepEqual((await state(m)).seen, [2, 3, 2, 2], 'startEpoch keeps the memory itself');
  const r = m.remembered(ints([3, 0]));
  assert.deepEqual(await r.seen.array(), [1, 1]);
  assert.deepEqual(await r.bestPerm.array(), [[1, 0], [0, 1]]);
  assert.deepEqual(await r.bestMetric.array(), [0, 5]);
  assert.deepEqual(await r.lastPerm.array(), [[1, 0], [0, 1]]);
  tf.dispose(Object.values(r));
  m.dispose();
});

test('update reads nothing back, checks its inputs and leaks nothing', async () => {
  const m = new AssignmentMemory({ numSamples: 5, numSources: 3 });
  const ids = ints([4, 1]), perm = perms([[2, 0, 1], [0, 1, 2]]), metric = tf.tensor1d([1, 2]);
  assert.equal(countReads(() => m.update(ids, perm, metric, { epoch: 1, flagged: tf.tensor1d([1, 0], 'bool') })), 0);
  assert.throws(() => m.update(tf.tensor1d([1, 2]), perm, metric), /ids must be an int32 \[batch\] tensor, got float32 \[2\]/);
  assert.throws(() => m.update(ids, perms([[0, 1], [1, 0]]), metric), /int32 perm \[B, 3\] and metric \[B\], got ids \[2\], perm int32 \[2,2\] and metric \[2\]/);
  assert.throws(() => m.update(ids, perm, metric, { flagged: tf.ones([3], 'bool') }), /flagged must be \[2\], got \[3\]/);
  assert.throws(() => new AssignmentMemory({ numSamples: 0, numSources: 2 }), /positive integers, got 0 and 2/);
  assert.throws(() => m.forward(ids, { training: true }), /no forward pass/);
  await assertNoLeak(() => m.update(ids, perm, metric, { epoch: 2 }), 'AssignmentMemory.update');
  await assertNoLeak(() => m.remembered(ids), 'AssignmentMemory.remembered');
  await assertNoLeak(() => m.statistics(), 'AssignmentMemory.statistics');
  tf.dispose([ids, perm, metric]);
  m.dispose();
});

test('saveModel then loadModel gives the same memory', async () => {
  const m = new AssignmentMemory({ numSamples: 4, numSources: 3 });
  visit(m, [0, 3], [[2, 0, 1], [0, 2, 1]], [3.5, -2], { epoch: 1, flagged: [true, false] });
  visit(m, [3], [[1, 0, 2]], [-1], { epoch: 2 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slimspeech-memory-'));
  try {
    await saveModel(m, dir);
    const back = await loadModel(dir);
    assert.ok(back instanceof AssignmentMemory);
    assert.deepEqual(await state(back), await state(m));
    assert.deepEqual(await back.statistics(), await m.statistics());
    assert.equal(back.bestPerm.dtype, 'int32');
    back.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    m.dispose();
  }
});

// A toy separation problem for train.fit: 8 samples of 2 sources x 12 steps; the model maps the mixture to 2
// estimates with one linear layer. Sample ids travel with the batch.
const N = 8, S = 2, T = 12;
const data = (() => {
  const r = new Rng(3);
  return Array.from({ length: N }, () => Array.from({ length: S }, () => Array.from({ length: T }, () => r.normal(0, 1))));
})();
type Batch = { mix: tf.Tensor2D; src: tf.Tensor3D; ids: tf.Tensor1D };
function batches(_epoch: number, rng: Rng): Batch[] {
  const order = rng.shuffle([...Array(N).keys()]);
  const out: Batch[] = [];
  for (let i = 0; i < N; i += 4) {
    const b = order.slice(i, i + 4);
    // Fresh noise on the mixture every epoch (from the epoch's generator, so a resumed run draws the same) keeps
    // the assignments unsettled: samples switch and get worse.
    out.push({ mix: tf.tensor2d(b.map((j) => data[j][0].map((v, t) => v + data[j][1][t] + rng.normal(0, 2)))), src: tf.tensor3d(b.map((j) => data[j])), ids: ints(b) });
  }
  return out;
}

async function train(dir: string, maxSteps?: number) {
  manualSeed(1);
  const model = new Linear({ inFeatures: T, outFeatures: S * T });
  const memory = new AssignmentMemory({ numSamples: N, numSources: S });
  const history = await fit<Batch>({
    modules: { model, memory }, epochs: 4, seed: 2, progress: 'none', maxSteps, optimizer: { kind: 'adam', lr: 0.05 },
    checkpoint: { dir }, batches,
    step: (b, ctx, info) => {
      const est = tf.reshape(model.forward(b.mix, ctx), [-1, S, T]);
      const r = pitLossWithMemory(pairwiseLosses(est, b.src), b.ids, memory, { dropout: { when: 'worse' }, epoch: info.epoch });
      return { loss: r.loss, terms: r.terms };
    },
    validate: async () => {
      const s = await memory.statistics();
      return { switchRate: s.switchRate, flaggedShare: s.flaggedShare, seen: s.seen };
    },
  });
  return { model, memory, history };
}

test('the memory lives in train.fit checkpoints: a run killed mid-epoch and resumed ends with the same memory', async () => {
  const dirs = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'slimspeech-memory-fit-')));
  try {
    const whole = await train(dirs[0]);
    // 2 steps per epoch: the kill comes after the first batch of epoch 3, the resumed run starts a fresh process
    // state (new model and memory) from the checkpoint.
    const killed = await train(dirs[1], 5);
    assert.equal(killed.history.steps.length, 5);
    const killedSeen = (await killed.memory.seen.array() as number[]).reduce((a, b) => a + b, 0);
    assert.equal(killedSeen, 20, 'five steps of four samples were remembered before the kill');
    killed.model.dispose();
    killed.memory.dispose();
    const resumed = await train(dirs[1]);
    assert.deepEqual(await state(resumed.memory), await state(whole.memory));
    for (const name of ['epoch', 'epochSeen', 'epochRevisited', 'epochSwitched', 'epochFlagged'] as const) {
      assert.deepEqual(await resumed.memory[name].array(), await whole.memory[name].array(), name);
    }
    // (A NaN comes back from the checkpoint's JSON history as null: compare as JSON.)
    const stats = (h: typeof whole.history) => JSON.stringify(h.epochs.map((e) => [e.switchRate, e.flaggedShare, e.seen]));
    assert.equal(stats(resumed.history), stats(whole.history), 'per-epoch statistics, the resumed epoch included');
    assert.equal(whole.history.epochs[3].seen, N);
    assert.ok(whole.history.epochs.slice(1).every((e) => e.switchRate > 0 && e.flaggedShare > 0), `switches and flags happen: ${stats(whole.history)}`);
    assert.deepEqual(resumed.history.steps.map((s) => s.loss), whole.history.steps.map((s) => s.loss));
    for (const r of [whole, resumed]) { r.model.dispose(); r.memory.dispose(); }
  } finally {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
});
