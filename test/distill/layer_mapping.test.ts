import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { LayerMapping, mapLayers, relativeDepthPairs } from '../../lib/distill/layer_mapping';
import { alignTime } from '../../lib/distill/align_time';
import { ConvProjection, LinearProjection } from '../../lib/distill/projection';
import { hiddenStateLoss, mse } from '../../lib/distill/hidden_state_loss';
import { loadModel, saveModel } from '../../lib/nn/serialize';
import { Linear } from '../../lib/nn/linear';
import { Sequential } from '../../lib/nn/sequential';
import { setupBackend, assertClose, assertNoLeak } from '../helpers';

before(async () => { await setupBackend(); });

const shapes = (entries: [string, number[]][]) => new Map(entries);
const disposeAligned = (a: { student: tf.Tensor; teacher: tf.Tensor }[]) => a.forEach((p) => tf.dispose([p.student, p.teacher]));

test('relativeDepthPairs: nearest relative depth, ties to the deeper layer, last meets last, equal depths give the identity', () => {
  assert.deepEqual(relativeDepthPairs(3, 12), [3, 7, 11]); // layers 4, 8, 12 (DPHuBERT's)
  assert.deepEqual(relativeDepthPairs(4, 12), [2, 5, 8, 11]);
  assert.deepEqual(relativeDepthPairs(2, 3), [1, 2]); // 1.5 rounds up to 2
  assert.deepEqual(relativeDepthPairs(4, 2), [0, 0, 1, 1]); // 0.5 -> 1, 1, 1.5 -> 2, 2
  assert.deepEqual(relativeDepthPairs(5, 2), [0, 0, 0, 1, 1]); // 0.4 rounds to 0, clamped to the first layer
  for (const n of [1, 2, 5, 12]) assert.deepEqual(relativeDepthPairs(n, n), Array.from({ length: n }, (_, i) => i));
  assert.throws(() => relativeDepthPairs(0, 3), /tap counts must be integers >= 1; got 0 and 3/);
});

test('the mapping of equal architectures is the identity: tap i with tap i, no projection, aligned features unchanged', () => {
  const make = () => new Sequential([new Linear({ inFeatures: 4, outFeatures: 6 }), new Linear({ inFeatures: 6, outFeatures: 6 }),
    new Linear({ inFeatures: 6, outFeatures: 3 })]);
  const a = make(), b = make();
  const x = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 1);
  const ta = new Map<string, tf.Tensor>(), tb = new Map<string, tf.Tensor>();
  tf.dispose([a.forward(x, { training: false, taps: ta }), b.forward(x, { training: false, taps: tb })]);
  const m = mapLayers(ta, tb);
  assert.deepEqual(m.pairs.map((p) => [p.student, p.teacher]), [['0', '0'], ['1', '1'], ['2', '2']]);
  assert.ok(m.pairs.every((p) => p.projectionModule === null));
  assert.equal(m.numParams(), 0);
  const aligned = m.align(ta, tb);
  aligned.forEach((p) => {
    assertClose(p.student, ta.get(p.pair.student)!, { atol: 0, label: `student ${p.pair.student}` });
    assertClose(p.teacher, tb.get(p.pair.teacher)!, { atol: 0, label: `teacher ${p.pair.teacher}` });
  });
  assertClose(m.loss(ta, ta, (s, t) => mse(s, t)), 0, { atol: 0, label: 'mapping loss of a model against itself' });
  disposeAligned(aligned);
  tf.dispose([x, ...ta.values(), ...tb.values()]);
  [a, b, m].forEach((v) => v.dispose());
});

test('shape-aware pairs: frame rate (avg-pool or linear), channels (LinearProjection), freq and channels of 4-D maps (ConvProjection)', () => {
  const s = new Map<string, tf.Tensor>([
    ['s1', tf.randomNormal([2, 40, 16], 0, 1, 'float32', 2)],
    ['s2', tf.randomNormal([2, 20, 8, 4], 0, 1, 'float32', 3)],
  ]);
  const t = new Map<string, tf.Tensor>([
    ['t1', tf.randomNormal([2, 20, 32], 0, 1, 'float32', 4)],
    ['t2', tf.randomNormal([2, 20, 32], 0, 1, 'float32', 5)],
    ['t3', tf.randomNormal([2, 10, 4, 6], 0, 1, 'float32', 6)],
  ]);
  const m = mapLayers(s, t, { strategy: 'explicit', pairs: [['s1', 't1'], ['s2', 't3'], ['s2', 't2']], time: 'linear' });
  const [p1, p2, p3] = m.pairs;
  assert.ok(p1.projectionModule instanceof LinearProjection);
  assert.deepEqual([p1.time, p1.freq, p1.flatten], ['linear', 'none', 'none']);
  assert.ok(p2.projectionModule instanceof ConvProjection);
  assert.deepEqual([p2.time, p2.freq, p2.flatten], ['linear', 'avg-pool', 'none']);
  assert.deepEqual([p3.flatten, p3.projection], ['student', 'none']); // 8 * 4 = 32 channels: no projection needed
  const aligned = m.align(s, t);
  assert.deepEqual(aligned.map((a) => a.student.shape), [[2, 20, 32], [2, 10, 4, 6], [2, 20, 32]]);
  const e1 = p1.projectionModule!.forward(alignTime(s.get('s1')!, 20, { method: 'linear' }), { training: true });
  assertClose(aligned[0].student, e1, { atol: 1e-6, label: 'resample then project' });
  const e2 = p2.projectionModule!.forward(alignTime(alignTime(s.get('s2')!, 10, { method: 'linear' }), 4, { axis: 2 }), { training: true });
  assertClose(aligned[1].student, e2, { atol: 1e-6, label: 'time, freq, then 1x1 conv' });
  assertClose(aligned[2].student, tf.reshape(s.get('s2')!, [2, 20, 32]), { atol: 0, label: 'freq and channels merged' });
  // Frame counts may change from call to call: the student follows this call's teacher frames.
  const s60 = new Map([['s1', tf.randomNormal([2, 60, 16], 0, 1, 'float32', 7)], ['s2', tf.randomNormal([2, 30, 8, 4], 0, 1, 'float32', 8)]]);
  const t30 = new Map([['t1', tf.zeros([2, 30, 32])], ['t2', tf.zeros([2, 30, 32])], ['t3', tf.zeros([2, 15, 4, 6])]]);
  const again = m.align(s60, t30);
  assert.deepEqual(again.map((a) => a.student.shape), [[2, 30, 32], [2, 15, 4, 6], [2, 30, 32]]);
  disposeAligned([...aligned, ...again]);
  tf.dispose([e1, e2, ...s.values(), ...t.values(), ...s60.values(), ...t30.values()]);
  m.dispose();
});

test("projection 'always' gives identity-initialised heads where channels match (DPHuBERT), which change nothing", () => {
  const s = new Map<string, tf.Tensor>([['a', tf.randomNormal([2, 6, 5], 0, 1, 'float32', 9)], ['b', tf.randomNormal([2, 6, 3, 5], 0, 1, 'float32', 10)]]);
  const m = mapLayers(s, s, { projection: 'always' });
  assert.deepEqual(m.pairs.map((p) => p.projectionModule?.typeName()), ['LinearProjection', 'ConvProjection']);
  const aligned = m.align(s, s);
  aligned.forEach((a) => assertClose(a.student, a.teacher, { atol: 0, label: `identity head ${a.pair.student}` }));
  assert.equal(m.parameters().length, 4);
  disposeAligned(aligned);
  tf.dispose([...s.values()]);
  m.dispose();
});

test('table(): one row per pair with depths, shapes, resampling, channels, projection and parameter count', () => {
  const m = mapLayers(
    shapes([['enc.0', [2, 40, 16]], ['enc.1', [2, 40, 8, 4]]]),
    shapes([['l1', [2, 20, 32]], ['l2', [2, 20, 32]], ['l3', [2, 20, 32]], ['l4', [2, 20, 32]]]),
  );
  assert.deepEqual(m.table(), [
    { student: 'enc.0', teacher: 'l2', depth: '1/2 -> 2/4', studentShape: '[2, 40, 16]', teacherShape: '[2, 20, 32]',
      time: '40 -> 20 (avg-pool)', freq: '', channels: '16 -> 32', projection: 'LinearProjection', params: 16 * 32 + 32 },
    { student: 'enc.1', teacher: 'l4', depth: '2/2 -> 4/4', studentShape: '[2, 40, 8, 4] as [2, 40, 32]',
      teacherShape: '[2, 20, 32]', time: '40 -> 20 (avg-pool)', freq: '', channels: '32', projection: '', params: 0 },
  ]);
  assert.deepEqual(m.studentNames(), ['enc.0', 'enc.1']);
  assert.deepEqual(m.teacherNames(), ['l2', 'l4']);
  m.dispose();
});

test('loss(): fn over aligned pairs, mean (DPHuBERT) or sum (DistilHuBERT) over pairs', () => {
  const s = new Map<string, tf.Tensor>([['a', tf.randomNormal([2, 8, 4], 0, 1, 'float32', 11)], ['b', tf.randomNormal([2, 8, 4], 0, 1, 'float32', 12)]]);
  const t = new Map<string, tf.Tensor>([['x', tf.randomNormal([2, 4, 4], 0, 1, 'float32', 13)], ['y', tf.randomNormal([2, 4, 4], 0, 1, 'float32', 14)]]);
  const m = mapLayers(s, t);
  const per = ['a', 'b'].map((k, i) => hiddenStateLoss(alignTime(s.get(k)!, 4), t.get(['x', 'y'][i])!));
  assertClose(m.loss(s, t, (a, b) => hiddenStateLoss(a, b)), tf.div(tf.add(per[0], per[1]), 2), { atol: 1e-6, label: 'mean' });
  assertClose(m.loss(s, t, (a, b) => hiddenStateLoss(a, b), 'sum'), tf.add(per[0], per[1]), { atol: 1e-6, label: 'sum' });
  tf.dispose([...per, ...s.values(), ...t.values()]);
  m.dispose();
});

test('a trained LayerMapping saves and loads: same pairs, same aligned features', async () => {
  const s = new Map<string, tf.Tensor>([['a', tf.randomNormal([2, 6, 5], 0, 1, 'float32', 15)], ['b', tf.randomNormal([2, 6, 3, 5], 0, 1, 'float32', 16)]]);
  const t = new Map<string, tf.Tensor>([['x', tf.randomNormal([2, 3, 7], 0, 1, 'float32', 17)], ['y', tf.randomNormal([2, 3, 2, 4], 0, 1, 'float32', 18)]]);
  const m = mapLayers(s, t, { time: 'linear' });
  for (const v of m.parameters()) tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.1, 'float32', 19))));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-mapping-'));
  try {
    await saveModel(m, dir);
    const back = await loadModel(dir) as LayerMapping;
    assert.ok(back instanceof LayerMapping);
    assert.deepEqual(back.table(), m.table());
    const a1 = m.align(s, t), a2 = back.align(s, t);
    a1.forEach((p, i) => assertClose(a2[i].student, p.student, { atol: 0, label: `reloaded pair ${i}` }));
    disposeAligned([...a1, ...a2]);
    back.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    tf.dispose([...s.values(), ...t.values()]);
    m.dispose();
  }
});

test('mapLayers and align reject what cannot be paired, naming taps and shapes', () => {
  const s = shapes([['a', [2, 6, 5]], ['v', [2, 5]]]);
  const t = shapes([['x', [2, 6, 7]], ['w', [3, 6, 7]]]);
  assert.throws(() => mapLayers(new Map(), t), /no taps to map \(0 student, 2 teacher\)/);
  assert.throws(() => mapLayers(s, t, { strategy: 'explicit' }), /needs options.pairs/);
  assert.throws(() => mapLayers(s, t, { pairs: [['a', 'x']] }), /only for strategy 'explicit'/);
  assert.throws(() => mapLayers(s, t, { strategy: 'explicit', pairs: [['b', 'x']] }), /no student tap 'b'; student taps: a, v/);
  assert.throws(() => mapLayers(s, t, { strategy: 'explicit', pairs: [['a', 'z']] }), /no teacher tap 'z'; teacher taps: x, w/);
  assert.throws(() => mapLayers(s, t, { strategy: 'explicit', pairs: [['v', 'x']] }), /cannot pair a \[batch, channels\] feature/);
  assert.throws(() => mapLayers(s, t, { strategy: 'explicit', pairs: [['a', 'w']] }), /'a' -> 'w' \(student \[2, 6, 5\], teacher \[3, 6, 7\]\): batch sizes differ/);
  assert.throws(() => mapLayers(s, t, { strategy: 'explicit', pairs: [['a', 'x']], projection: 'never' }), /channels differ \(5 -> 7\)/);
  assert.throws(() => mapLayers(s, t, { time: 'nearest' as 'linear' }), /time must be 'avg-pool' or 'linear'/);
  const m = mapLayers(s, t, { strategy: 'explicit', pairs: [['a', 'x']] });
  const sa = new Map([['a', tf.zeros([2, 6, 5])]]), tx = new Map([['x', tf.zeros([2, 6, 7])]]);
  assert.throws(() => m.align(new Map(), tx), /no student tap 'a'; given: none/);
  const bad = new Map([['a', tf.zeros([2, 6, 1, 5])]]);
  assert.throws(() => m.align(bad, tx), /mapped for student \[2, 6, 5\] and teacher \[2, 6, 7\]; got \[2, 6, 1, 5\]/);
  const wrongChannels = new Map([['a', tf.zeros([2, 6, 4])]]);
  assert.throws(() => m.align(wrongChannels, tx), /expected last axis 5/);
  assert.throws(() => m.forward(tf.zeros([1]), { training: false }), /no forward/);
  tf.dispose([...sa.values(), ...tx.values(), ...bad.values(), ...wrongChannels.values()]);
  m.dispose();
});

test('align and loss leak no tensors, gradients to the projections included', async () => {
  const s = new Map<string, tf.Tensor>([['a', tf.randomNormal([2, 8, 3], 0, 1, 'float32', 20)], ['b', tf.randomNormal([2, 8, 4, 3], 0, 1, 'float32', 21)]]);
  const t = new Map<string, tf.Tensor>([['x', tf.randomNormal([2, 4, 5], 0, 1, 'float32', 22)], ['y', tf.randomNormal([2, 4, 2, 6], 0, 1, 'float32', 23)]]);
  const m = mapLayers(s, t);
  await assertNoLeak(() => m.align(s, t).map((a) => [a.student, a.teacher]), 'align');
  await assertNoLeak(() => m.loss(s, t, (a, b) => mse(a, b)), 'loss');
  await assertNoLeak(() => tf.variableGrads(() => m.loss(s, t, (a, b) => hiddenStateLoss(a, b)), m.parameters()), 'loss grads');
  tf.dispose([...s.values(), ...t.values()]);
  m.dispose();
});
