// DPHuBERT's pruning machinery on models.Wav2Vec2Model: gates on conv channels, heads, attention layers, FFN
// units and FFN layers; prune.expectedParams (equal to the real count for ungated models, to the ungated count
// with every gate open, and to the materialised model's count with hard gates); prune.materialize (outputs equal
// to the gated model in eval mode, soft gate values folded in, blocks dropped); the LagrangianController.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';
import { Wav2Vec2Model, Wav2Vec2ModelArgs } from '../../lib/models/wav2vec2';
import { expectedParams, expectedSparsity, materialize, ungatedParams } from '../../lib/prune/wav2vec2';
import { LagrangianController } from '../../lib/prune/lagrangian';
import { HardConcrete } from '../../lib/prune/hard_concrete';
import { Rng } from '../../lib/util/rng';

before(async () => {
  await setupBackend();
});

const SMALL: Wav2Vec2ModelArgs = {
  extractorConvLayerConfig: [[12, 10, 5], [10, 3, 2], [8, 2, 2]], encoderEmbedDim: 16, encoderNumLayers: 3, encoderNumHeads: 4,
  encoderFfIntermFeatures: 24, encoderPosConvKernel: 4, encoderPosConvGroups: 2,
};
const ALL_GATES = { convChannels: true, attentionHeads: true, attentionLayers: true, ffnUnits: true, ffnLayers: true };

const gates = (m: Wav2Vec2Model) => m.namedModules().filter(([, g]) => g instanceof HardConcrete).map(([k, g]) => [k, g as HardConcrete] as const);
const scalar = (t: tf.Scalar) => { const v = t.dataSync()[0]; t.dispose(); return v; };

test('expectedParams equals the real count of ungated models of several shapes', () => {
  for (const args of [SMALL, { ...SMALL, extractorMode: 'layer_norm', extractorConvBias: true, encoderLayerNormFirst: true } as Wav2Vec2ModelArgs,
    { ...SMALL, encoderNumHeads: [4, 0, 2], encoderHeadDim: 4, encoderFfIntermFeatures: [24, 0, 7], encoderUseAttention: [true, false, true] }]) {
    const m = new Wav2Vec2Model(args);
    assert.equal(scalar(expectedParams(m)), m.numParams());
    m.dispose();
  }
});

test('with every gate open expectedParams is the ungated count; it is differentiable in the gates and falls as they close', () => {
  const m = new Wav2Vec2Model({ ...SMALL, prune: ALL_GATES });
  const found = gates(m).map(([k]) => k);
  for (const re of [/convLayers\.1\.hardConcrete$/, /attention\.hardConcreteForHeads$/, /attention\.hardConcreteForLayer$/,
    /feedForward\.hardConcreteForIntermediate$/, /feedForward\.hardConcreteForLayer$/]) {
    assert.ok(found.some((k) => re.test(k)), `a gate matching ${re}`);
  }
  for (const [, g] of gates(m)) g.logAlpha.assign(tf.fill(g.logAlpha.shape, 30));
  const full = ungatedParams(m);
  assert.ok(Math.abs(scalar(expectedParams(m)) - full) < 1e-3 * full, 'all gates open');
  const plain = new Wav2Vec2Model(SMALL);
  assert.equal(full, plain.numParams(), 'ungatedParams: the gates\' own log_alpha apart');
  plain.dispose();
  const vars = gates(m).map(([, g]) => g.logAlpha);
  const { grads } = tf.variableGrads(() => expectedParams(m), vars);
  assert.ok(Object.values(grads).every((g) => tf.tidy(() => tf.min(g).dataSync()[0]) >= 0), 'opening a gate never lowers the count');
  tf.dispose(Object.values(grads));
  for (const [, g] of gates(m)) g.logAlpha.assign(tf.fill(g.logAlpha.shape, 0));
  const half = scalar(expectedParams(m));
  assert.ok(half < 0.8 * full, `half-open gates: ${half} of ${full}`);
  const s = scalar(expectedSparsity(m, full));
  assert.ok(Math.abs(s - (1 - half / full)) < 1e-6);
  m.dispose();
});

/** A gated model whose gates are set: some units closed (log_alpha -12), the rest open (+12) or soft (log_alpha ~ 1). */
function prunedModel(args: Wav2Vec2ModelArgs, soft: boolean, seed: number): Wav2Vec2Model {
  const m = new Wav2Vec2Model({ ...args, prune: ALL_GATES });
  const r = new Rng(seed);
  for (const [k, g] of gates(m)) {
    const n = g.args.n;
    const layerGate = n === 1;
    const v = Float32Array.from({ length: n }, (_, i) => {
      // Keep at least one unit per gate group; close about a third of the others; layer gates mostly open.
      const closed = layerGate ? k.includes('layers.1.feedForward') : i > 0 && r.uniform() < 0.35;
      return closed ? -12 : soft ? 0.6 + r.uniform() : 12;
    });
    g.logAlpha.assign(tf.tensor1d(v));
  }
  return m;
}

for (const [name, soft] of [['hard gates', false], ['soft gate values folded in', true]] as const) {
  test(`materialize (${name}): a smaller model with the gated model's eval outputs within 1e-5; nothing leaks`, () => {
    const m = prunedModel(SMALL, soft, soft ? 2 : 1);
    const x = tf.randomNormal([2, 1200], 0, 0.3, 'float32', 5);
    const ctx = { training: false };
    const before = tf.memory().numTensors;
    const { model: small, report } = materialize(m);
    const y1 = m.forward(x, ctx), y2 = small.forward(x, ctx);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(y1, y2))).dataSync()[0]);
    assert.ok(diff <= 1e-5, `max difference ${diff}`);
    assert.equal(report.useFeedForward[1], false, 'the closed FFN layer is dropped');
    assert.ok(small.numParams() < ungatedParams(m), 'physically smaller');
    assert.deepEqual(report.convChannels, (small.args.extractorConvLayerConfig).map((c) => c[0]));
    assert.equal(report.exact, true);
    assert.equal(report.convChannels[2], 8, 'the last conv layer has no gates (prune.convChannels: true)');
    assert.ok(report.convChannels[0] < 12 || report.convChannels[1] < 10, 'conv channels were removed');
    assert.equal(small.featureExtractor.dummyWeight, undefined);
    if (!soft) {
      // Hard gates: the expected L0 of every gate is its count of open units, so the prediction is the real size.
      const predicted = scalar(expectedParams(m));
      assert.ok(Math.abs(predicted - small.numParams()) < 1, `expectedParams ${predicted}, real ${small.numParams()}`);
    }
    tf.dispose([y1, y2]);
    small.dispose();
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
    m.dispose();
  });
}

test('materialize keeps an open attention block with no head left as its output bias, and refuses a layer with no channel', () => {
  const m = prunedModel(SMALL, false, 3);
  const heads = (m.encoder.transformer.layers.items[0] as unknown as { attention: { hardConcreteForHeads: HardConcrete } }).attention.hardConcreteForHeads;
  heads.logAlpha.assign(tf.fill([4], -12));
  const x = tf.randomNormal([1, 900], 0, 0.3, 'float32', 6);
  const { model: small, report } = materialize(m);
  assert.equal(report.heads[0], 0);
  assert.equal(report.useAttention[0], true);
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(m.forward(x, { training: false }), small.forward(x, { training: false })))).dataSync()[0]);
  assert.ok(diff <= 1e-5, `max difference ${diff}`);
  small.dispose();
  const conv = (m.featureExtractor.convLayers.items[1] as unknown as { hardConcrete: HardConcrete }).hardConcrete;
  conv.logAlpha.assign(tf.fill([10], -12));
  assert.throws(() => materialize(m), /every channel of conv layer 1 is pruned/);
  tf.dispose([x]);
  m.dispose();
});

test("materialize with prune.convChannels 'all' (the reference code's choice): the last layer's soft values go to dummyWeight; the layer-norm shift is reported", () => {
  const m = new Wav2Vec2Model({ ...SMALL, prune: { convChannels: 'all' } });
  const g = gates(m);
  assert.equal(g.length, 3, 'a gate on every conv layer');
  g[0][1].logAlpha.assign(tf.fill([12], 12));
  g[1][1].logAlpha.assign(tf.fill([10], 12));
  // The last layer: every channel kept with soft values: exact, the values in dummyWeight.
  g[2][1].logAlpha.assign(tf.linspace(2.5, 4, 8));
  const x = tf.randomNormal([1, 900], 0, 0.3, 'float32', 7);
  const ctx = { training: false };
  let r = materialize(m);
  assert.equal(r.report.exact, true);
  const mask = g[2][1].deterministicMask();
  assert.deepEqual(Array.from(r.model.featureExtractor.dummyWeight!.dataSync()), Array.from(mask.dataSync()));
  const d1 = tf.tidy(() => tf.max(tf.abs(tf.sub(m.forward(x, ctx), r.model.forward(x, ctx)))).dataSync()[0]);
  assert.ok(d1 <= 1e-5, `max difference ${d1}`);
  r.model.dispose();
  // Two channels of the last layer closed: the projection's layer norm now averages over 6 channels, not 8.
  g[2][1].logAlpha.assign(tf.tensor1d([12, -12, 12, 12, -12, 12, 12, 12]));
  r = materialize(m);
  assert.equal(r.report.exact, false);
  assert.match(r.report.inexact[0], /feature projection layer norm \(conv layer 2 lost 2 channels\)/);
  assert.deepEqual(r.report.convChannels, [12, 10, 6]);
  tf.dispose([x, mask]);
  r.model.dispose();
  m.dispose();
});

test('LagrangianController: l1 (s - t) + l2 (s - t)^2 with the target ramped; ascent moves the multipliers against the gap', () => {
  const c = new LagrangianController({ targetSparsity: 0.75, warmupSteps: 100 });
  assert.deepEqual([c.target(0), c.target(50), c.target(100), c.target(500)], [0, 0.375, 0.75, 0.75]);
  c.lambda1.assign(tf.scalar(2));
  c.lambda2.assign(tf.scalar(3));
  const s = tf.scalar(0.5);
  assert.ok(Math.abs(scalar(c.loss(s, 100)) - (2 * -0.25 + 3 * 0.0625)) < 1e-6);
  c.lambda1.assign(tf.scalar(0));
  c.lambda2.assign(tf.scalar(0));
  // Gradient ascent on the multipliers (a negative learning rate) while the sparsity is below the target.
  for (let i = 0; i < 3; i++) {
    const { grads } = tf.variableGrads(() => c.loss(s, 100), [c.lambda1, c.lambda2]);
    c.lambda1.assign(tf.sub(c.lambda1, tf.mul(-0.1, grads[c.lambda1.name])));
    c.lambda2.assign(tf.sub(c.lambda2, tf.mul(-0.1, grads[c.lambda2.name])));
    tf.dispose(Object.values(grads));
  }
  assert.ok(c.lambda1.dataSync()[0] < 0, 'l1 goes negative while s < t, so the loss rewards sparsity');
  assert.ok(c.lambda2.dataSync()[0] > 0);
  assert.throws(() => new LagrangianController({ targetSparsity: 1 }), /targetSparsity must be in \[0, 1\)/);
  tf.dispose([s]);
  c.dispose();
});
