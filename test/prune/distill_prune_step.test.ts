// DPHuBERT's joint distillation and pruning, end to end on a tiny model with train.fit: a student copied from
// the teacher with gates everywhere, identity heads, the Lagrangian controller ascending; the expected sparsity
// follows the ramped target, the multipliers move, and the materialised student is smaller and exact.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';
import { Wav2Vec2Model, Wav2Vec2ModelArgs } from '../../lib/models/wav2vec2';
import { LinearProjection } from '../../lib/distill/projection';
import { distillPruneStep } from '../../lib/prune/distill_prune_step';
import { LagrangianController } from '../../lib/prune/lagrangian';
import { expectedSparsity, materialize, ungatedParams } from '../../lib/prune/wav2vec2';
import { fit } from '../../lib/train/fit';
import { Rng } from '../../lib/util/rng';

before(async () => {
  await setupBackend();
});

const ARGS: Wav2Vec2ModelArgs = {
  extractorConvLayerConfig: [[16, 10, 5], [16, 3, 2], [16, 2, 2]], encoderEmbedDim: 16, encoderNumLayers: 2, encoderNumHeads: 4,
  encoderFfIntermFeatures: 32, encoderPosConvKernel: 4, encoderPosConvGroups: 2, encoderLayerDrop: 0,
};

test('distill + prune with train.fit: sparsity follows the target, multipliers ascend, the student materialises smaller', async () => {
  const teacher = new Wav2Vec2Model(ARGS);
  const student = new Wav2Vec2Model({ ...ARGS, prune: { convChannels: true, attentionHeads: true, attentionLayers: true, ffnUnits: true, ffnLayers: true } });
  student.loadStateDict(teacher.stateDict(), false);   // the student starts as the teacher (gates aside)
  const layers = [0, 1, 2];
  const heads = layers.map(() => new LinearProjection({ inFeatures: 16, outFeatures: 16 }));
  const controller = new LagrangianController({ targetSparsity: 0.4, warmupSteps: 20 });
  const reference = ungatedParams(student);
  const step = distillPruneStep(student, teacher, { layers, heads, controller });
  const gates = student.namedParameters().filter(([k]) => k.includes('hardConcrete')).map(([, v]) => v);
  const rest = [...student.namedParameters().filter(([k]) => !k.includes('hardConcrete')).map(([, v]) => v),
    ...heads.flatMap((h) => h.parameters())];
  const data = new Rng(1);
  const waves = Array.from({ length: 8 }, () => Float32Array.from({ length: 1600 }, () => 0.3 * data.normal()));
  const history = await fit({
    modules: { student, controller, ...Object.fromEntries(heads.map((h, i) => [`head${i}`, h])) },
    step, epochs: 20, seed: 0, progress: 'none',
    batches: () => [0, 4].map((s) => ({ x: tf.tensor2d(waves.slice(s, s + 4).flatMap((w) => Array.from(w)), [4, 1600]) })),
    optimizer: { kind: 'adamw', lr: 1e-3, groups: [
      { params: rest, lr: 1e-3, name: 'model' },
      { params: gates, lr: 0.1, weightDecay: 0, name: 'gates' },
      { params: controller.parameters(), lr: -0.5, weightDecay: 0, name: 'lagrangian' },
    ] },
  });
  const first = history.steps[0], last = history.steps[history.steps.length - 1];
  assert.equal(history.steps.length, 40);
  assert.ok(first.distill < 0.05, `the student starts as the teacher (distill ${first.distill})`);
  assert.equal(first.target, 0);
  assert.ok(Math.abs(last.target - 0.4) < 1e-6, 'the target ramps to 0.4 over 20 steps');
  assert.ok(last.sparsity > first.sparsity + 0.1, `expected sparsity rose from ${first.sparsity} to ${last.sparsity}`);
  const s = tf.tidy(() => expectedSparsity(student, reference).dataSync()[0]);
  assert.ok(Math.abs(s - last.sparsity) < 0.05);
  assert.ok(controller.lambda1.dataSync()[0] < 0, 'l1 went negative while the sparsity lagged the target');
  const { model: small, report } = materialize(student);
  assert.ok(small.numParams() < reference, `materialised ${small.numParams()} of ${reference}`);
  assert.equal(report.exact, true);
  const x = tf.tensor2d(Array.from(waves[0]), [1, 1600]);
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(student.forward(x, { training: false }), small.forward(x, { training: false })))).dataSync()[0]);
  assert.ok(diff <= 1e-5, `materialised outputs differ by ${diff}`);
  tf.dispose([x]);
  [teacher, student, small, controller, ...heads].forEach((m) => m.dispose());
});

test('distillPruneStep refuses mismatched layers and heads, and layers the models do not have', () => {
  const m = new Wav2Vec2Model(ARGS);
  const head = new LinearProjection({ inFeatures: 16, outFeatures: 16 });
  assert.throws(() => distillPruneStep(m, m, { layers: [0, 1], heads: [head] }), /2 layers, 2 student layers and 1 heads/);
  assert.throws(() => distillPruneStep(m, m, { layers: [3], heads: [head] }), /layer 3 does not exist in the student \(2 layers\)/);
  assert.throws(() => distillPruneStep(m, m, { layers: [0], studentLayers: [3], heads: [head] }), /layer 3 does not exist in the student/);
  m.dispose();
  head.dispose();
});

test('distillPruneStep with studentLayers: a shallower student\'s layers [0, 1] learn the teacher\'s [0, 2]; the multipliers are logged', () => {
  const teacher = new Wav2Vec2Model(ARGS);
  const student = new Wav2Vec2Model({ ...ARGS, encoderNumLayers: 1 });
  const heads = [0, 1].map(() => new LinearProjection({ inFeatures: 16, outFeatures: 16 }));
  const controller = new LagrangianController({ targetSparsity: 0.3 });
  controller.lambda1.assign(tf.scalar(-0.25));
  const x = tf.randomNormal([2, 1600], 0, 0.3, 'float32', 4);
  const step = distillPruneStep(student, teacher, { layers: [0, 2], studentLayers: [0, 1], heads, controller, referenceParams: 1e6 });
  const out = step({ x }, { training: false }, { epoch: 1, step: 0, batchIndex: 0 }) as { loss: tf.Scalar; terms: Record<string, tf.Scalar> };
  const th = teacher.hiddenStates(x, { training: false }), sh = student.hiddenStates(x, { training: false });
  const t = tf.stack([th[0], th[2]], 1), p = tf.stack([sh[0], sh[1]], 1);
  const l1 = tf.mean(tf.abs(tf.sub(p, t))).dataSync()[0];
  const cos = tf.neg(tf.mean(tf.div(tf.sum(tf.mul(p, t), -1), tf.mul(tf.norm(p, 'euclidean', -1), tf.norm(t, 'euclidean', -1))))).dataSync()[0];
  assert.ok(Math.abs(out.terms.distill.dataSync()[0] - (l1 + cos)) < 1e-4, `${out.terms.distill.dataSync()[0]} against ${l1 + cos}`);
  assert.equal(out.terms.lambda1.dataSync()[0], -0.25);
  assert.equal(out.terms.lambda2.dataSync()[0], 0);
  tf.dispose([x, t, p, ...th, ...sh, out.loss, ...Object.values(out.terms)]);
  [teacher, student, controller, ...heads].forEach((m) => m.dispose());
});
