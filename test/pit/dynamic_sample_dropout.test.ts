// Dynamic sample dropout: the three conditions and the two modes on hand-made cases, the margin, never-seen
// samples, pitLossWithMemory (one pass, memory updated, terms, gradients, no read back), errors, leaks.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertClose, assertNoLeak } from '../helpers';
import { assignmentLoss, AssignmentMemory, dynamicSampleDropout, DynamicSampleDropoutOptions, pitFromPairwise, pitLossWithMemory } from '../../lib/pit';
import { countReads } from './read_spy';

before(async () => {
  await setupBackend();
});

const ints = (v: number[]) => tf.tensor1d(v, 'int32');
const perms = (v: number[][]) => tf.tensor2d(v, undefined, 'int32');

// Memory: samples 0, 1, 2 seen once with best assignments [0,1], [0,1], [1,0] at 10 dB; sample 3 never seen.
// Now: sample 0 keeps its assignment at 8 dB (worse), 1 switches to 12 dB (better), 2 switches to 9.5 dB (worse),
// 3 is new.
function scene() {
  const memory = new AssignmentMemory({ numSamples: 4, numSources: 2 });
  const [i0, p0, m0] = [ints([0, 1, 2]), perms([[0, 1], [0, 1], [1, 0]]), tf.tensor1d([10, 10, 10])];
  memory.update(i0, p0, m0);
  tf.dispose([i0, p0, m0]);
  const ids = ints([0, 1, 2, 3]);
  const current = { perm: perms([[0, 1], [1, 0], [0, 1], [1, 0]]), metric: tf.tensor1d([8, 12, 9.5, 0]),
    pairwise: tf.tensor3d([[[1, 2], [3, 4]], [[5, 6], [7, 8]], [[-1, -2], [-3, -4]], [[0.5, 0.25], [2, 4]]]) };
  const dispose = () => { tf.dispose([ids, current.perm, current.metric, current.pairwise]); memory.dispose(); };
  return { memory, ids, current, dispose };
}

/** Mean pair loss of assignment p in the scene's pairwise matrices. */
const pairLoss = (pw: number[][][], b: number, p: number[]) => p.reduce((s, j, i) => s + pw[b][i][j], 0) / p.length;
const PW = [[[1, 2], [3, 4]], [[5, 6], [7, 8]], [[-1, -2], [-3, -4]], [[0.5, 0.25], [2, 4]]];

test('the three conditions flag the right samples; a sample never seen is never flagged', async () => {
  const cases: [DynamicSampleDropoutOptions, boolean[]][] = [
    [{ when: 'switch' }, [false, true, true, false]],
    [{ when: 'worse' }, [true, false, true, false]],
    [{ when: 'worse', margin: 1 }, [true, false, false, false]],
    [{ when: 'switch-and-worse' }, [false, false, true, false]],
    [{}, [false, false, true, false]],
    [{ when: 'switch-and-worse', margin: 1 }, [false, false, false, false]],
  ];
  const s = scene();
  for (const [opts, expected] of cases) {
    for (const mode of ['drop', 'reorder'] as const) {
      const r = dynamicSampleDropout(s.current, s.memory, s.ids, { ...opts, mode });
      assert.deepEqual(Array.from(await r.flagged.data(), Boolean), expected, `${JSON.stringify(opts)} ${mode}`);
      tf.dispose(Object.values(r) as tf.Tensor[]);
    }
  }
  s.dispose();
});

test('drop mode: flagged samples weigh 0 and the loss is the mean over the kept ones', async () => {
  const s = scene();
  const r = dynamicSampleDropout(s.current, s.memory, s.ids, { mode: 'drop', when: 'switch' });
  assert.deepEqual(Array.from(await r.weights.data()), [1, 0, 0, 1]);
  assert.deepEqual(await r.perm.array(), await s.current.perm.array(), 'drop mode scores under the current assignment');
  const cur = await s.current.perm.array();
  const l = cur.map((p, b) => pairLoss(PW, b, p));
  assertClose(r.perExample!, l, { atol: 1e-6, label: 'drop per example' });
  assertClose(r.loss!, (l[0] + l[3]) / 2, { atol: 1e-6, label: 'drop loss' });
  tf.dispose(Object.values(r) as tf.Tensor[]);
  // All dropped: the loss is 0 (the denominator is max(sum w, 1)).
  const ids = ints([1, 2]), cur2 = { perm: perms([[1, 0], [0, 1]]), metric: tf.tensor1d([1, 1]), pairwise: tf.ones([2, 2, 2]) };
  const all = dynamicSampleDropout(cur2, s.memory, ids, { when: 'switch' });
  assert.deepEqual(Array.from(await all.weights.data()), [0, 0]);
  assert.equal((await all.loss!.data())[0], 0);
  tf.dispose([ids, cur2.perm, cur2.metric, cur2.pairwise, ...Object.values(all) as tf.Tensor[]]);
  // Without pairwise losses: flags, weights and assignments only.
  const bare = dynamicSampleDropout({ perm: s.current.perm, metric: s.current.metric }, s.memory, s.ids);
  assert.equal(bare.loss, undefined);
  assert.equal(bare.perExample, undefined);
  tf.dispose(Object.values(bare) as tf.Tensor[]);
  s.dispose();
});

test('reorder mode: flagged samples are scored under their remembered best assignment, all weigh 1', async () => {
  const s = scene();
  const r = dynamicSampleDropout(s.current, s.memory, s.ids, { mode: 'reorder', when: 'switch' });
  assert.deepEqual(Array.from(await r.weights.data()), [1, 1, 1, 1]);
  const used = [[0, 1], [0, 1], [1, 0], [1, 0]];
  assert.deepEqual(await r.perm.array(), used);
  const l = used.map((p, b) => pairLoss(PW, b, p));
  assertClose(r.perExample!, l, { atol: 1e-6, label: 'reorder per example' });
  assertClose(r.loss!, l.reduce((a, b) => a + b, 0) / 4, { atol: 1e-6, label: 'reorder loss' });
  tf.dispose(Object.values(r) as tf.Tensor[]);
  // 'worse' flags sample 0, whose remembered assignment is its current one: nothing changes for it.
  const w = dynamicSampleDropout(s.current, s.memory, s.ids, { mode: 'reorder', when: 'worse' });
  assert.deepEqual(await w.perm.array(), [[0, 1], [1, 0], [1, 0], [1, 0]]);
  tf.dispose(Object.values(w) as tf.Tensor[]);
  s.dispose();
});

test('pitLossWithMemory: PIT, dropout and the memory update from one pairwise matrix', async () => {
  const memory = new AssignmentMemory({ numSamples: 6, numSources: 3 });
  const pw1 = tf.randomUniform([4, 3, 3], -10, 10, 'float32', 1), ids1 = ints([5, 0, 3, 1]);
  const first = pitLossWithMemory(pw1, ids1, memory, { dropout: { when: 'switch' }, epoch: 1 });
  const plain = pitFromPairwise(pw1);
  // Nothing remembered yet: nothing flagged, the loss is PIT's.
  assertClose(first.loss, plain.loss, { atol: 1e-6, label: 'first visit loss' });
  assert.deepEqual(await first.perm.array(), await plain.perm.array());
  assert.deepEqual(Array.from(await first.flagged.data(), Boolean), [false, false, false, false]);
  const r1 = memory.remembered(ids1);
  assert.deepEqual(await r1.lastPerm.array(), await plain.perm.array(), 'the memory holds the current assignment');
  assertClose(r1.bestMetric, tf.neg(plain.perExample), { atol: 1e-6, label: 'metric = -perExample' });
  // Second visit of samples 5 and 0: sample 5's best assignment changes, sample 0's stays (same matrix).
  const pw2 = tf.concat([tf.reverse(tf.slice(pw1, [0, 0, 0], [1, 3, 3]), 2), tf.slice(pw1, [1, 0, 0], [1, 3, 3]), tf.randomUniform([1, 3, 3], -10, 10, 'float32', 2)]);
  const ids2 = ints([5, 0, 2]);
  const second = pitLossWithMemory(pw2, ids2, memory, { dropout: { when: 'switch' }, epoch: 2 });
  const p2 = pitFromPairwise(pw2);
  const old = await plain.perm.array(), now = await p2.perm.array();
  const expectFlag = [JSON.stringify(now[0]) !== JSON.stringify(old[0]), false, false];
  assert.deepEqual(Array.from(await second.flagged.data(), Boolean), expectFlag);
  assert.ok(expectFlag[0], 'reversing the columns changes the best assignment');
  const l = await p2.perExample.data();
  assertClose(second.loss, (l[1] + l[2]) / 2, { atol: 1e-5, label: 'second visit: sample 5 dropped' });
  assertClose(second.terms.pit, p2.loss, { atol: 1e-6, label: 'term pit' });
  assertClose(second.terms.flagged, 1 / 3, { atol: 1e-6, label: 'term flagged' });
  assertClose(second.terms.switched, 1 / 3, { atol: 1e-6, label: 'term switched' });
  const stats = await memory.statistics();
  assert.deepEqual({ ...stats }, { epoch: 2, seen: 3, revisited: 2, switched: 1, flagged: 1, switchRate: 0.5, flaggedShare: 1 / 3 });
  // Without dropout: the memory and its statistics still follow, nothing is flagged.
  const third = pitLossWithMemory(pw1, ids1, memory, { epoch: 3 });
  assertClose(third.loss, plain.loss, { atol: 1e-6, label: 'no dropout' });
  assert.deepEqual(Array.from(await third.flagged.data(), Boolean), [false, false, false, false]);
  assert.equal((await memory.statistics()).switched, 1, 'sample 5 switched back');
  tf.dispose([pw1, ids1, pw2, ids2, plain.loss, plain.perm, plain.perExample, p2.loss, p2.perm, p2.perExample,
    ...Object.values(r1), ...[first, second, third].flatMap((r) => [r.loss, r.perm, r.perExample, r.flagged, ...Object.values(r.terms)])]);
  memory.dispose();
});

test('gradients: drop mode reaches only the kept samples\' chosen pairs; reorder mode the remembered pairs', async () => {
  for (const mode of ['drop', 'reorder'] as const) {
    const s = scene();
    const expected = dynamicSampleDropout(s.current, s.memory, s.ids, { mode, when: 'switch' });
    const g = tf.grad((pw: tf.Tensor) => dynamicSampleDropout({ ...s.current, pairwise: pw }, s.memory, s.ids, { mode, when: 'switch' }).loss!)(s.current.pairwise);
    // d loss / d pw[b, i, j] = w_b / (S * max(sum w, 1)) where perm[b, i] = j, else 0.
    const w = await expected.weights.data(), used = await expected.perm.array();
    const sw = Math.max(Array.from(w).reduce((a, b) => a + b, 0), 1);
    const want = used.map((p, b) => [0, 1].map((i) => [0, 1].map((j) => (p[i] === j ? w[b] / (2 * sw) : 0))));
    assertClose(g, want.flat(2), { atol: 1e-7, label: `${mode} gradient` });
    tf.dispose([g, ...Object.values(expected) as tf.Tensor[]]);
    s.dispose();
  }
  // Through pitLossWithMemory and assignmentLoss with a known matrix.
  const memory = new AssignmentMemory({ numSamples: 2, numSources: 2 });
  const pw = tf.tensor3d([[[0, 5], [5, 0]], [[5, 0], [0, 5]]]), ids = ints([0, 1]);
  const g = tf.grad((x: tf.Tensor) => pitLossWithMemory(x, ids, memory, { dropout: {} }).loss)(pw);
  assert.deepEqual(await g.array(), [[[0.25, 0], [0, 0.25]], [[0, 0.25], [0.25, 0]]]);
  const known = perms([[1, 0], [1, 0]]);
  const gk = tf.grad((x: tf.Tensor) => tf.sum(assignmentLoss(x, known)))(pw);
  assert.deepEqual(await gk.array(), [[[0, 0.5], [0.5, 0]], [[0, 0.5], [0.5, 0]]]);
  tf.dispose([pw, ids, g, known, gk]);
  memory.dispose();
});

test('a training step with dynamic sample dropout reads nothing back from the device (up to 3 sources)', () => {
  const memory = new AssignmentMemory({ numSamples: 10, numSources: 3 });
  const pw = tf.randomUniform([4, 3, 3], -10, 10, 'float32', 5), ids = ints([9, 2, 4, 0]);
  for (const mode of ['drop', 'reorder'] as const) {
    const reads = countReads(() => {
      for (let k = 0; k < 2; k++) {
        tf.grad((x: tf.Tensor) => pitLossWithMemory(x, ids, memory, { dropout: { mode, when: 'switch' }, epoch: k + 1 }).loss)(pw).dispose();
      }
    });
    assert.equal(reads, 0, `${mode}: ${reads} read(s)`);
  }
  tf.dispose([pw, ids]);
  memory.dispose();
});

test('dynamicSampleDropout and pitLossWithMemory check shapes and leak nothing', async () => {
  const s = scene();
  assert.throws(() => dynamicSampleDropout({ perm: perms([[0, 1]]), metric: s.current.metric }, s.memory, s.ids),
    /expected ids int32 \[B\], perm int32 \[B, 2\], metric \[B\] and pairwise \[B, 2, 2\]; got ids int32 \[4\], perm int32 \[1,2\], metric \[4\]/);
  assert.throws(() => dynamicSampleDropout({ ...s.current, pairwise: tf.zeros([4, 3, 3]) }, s.memory, s.ids), /and pairwise \[4,3,3\]/);
  assert.throws(() => pitLossWithMemory(tf.zeros([4, 3, 3]), s.ids, s.memory), /expected pairwise \[B, 2, 2\] and int32 ids \[B\], got \[4,3,3\] and int32 \[4\]/);
  assert.throws(() => pitLossWithMemory(s.current.pairwise, tf.zeros([4]), s.memory), /got \[4,2,2\] and float32 \[4\]/);
  for (const mode of ['drop', 'reorder'] as const) {
    await assertNoLeak(() => dynamicSampleDropout(s.current, s.memory, s.ids, { mode }), `dynamicSampleDropout ${mode}`);
    await assertNoLeak(() => pitLossWithMemory(s.current.pairwise, s.ids, s.memory, { dropout: { mode }, epoch: 4 }), `pitLossWithMemory ${mode}`);
  }
  await assertNoLeak(() => tf.grad((x: tf.Tensor) => pitLossWithMemory(x, s.ids, s.memory, { dropout: {} }).loss)(s.current.pairwise), 'pitLossWithMemory gradient');
  s.dispose();
});
