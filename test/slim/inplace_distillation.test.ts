// In-place distillation with the sandwich rule: no distillation gradient reaches the teacher's predictions,
// the one-tape gradient equals the per-width accumulation of the reference, widths come from ctx.rng, and a
// supernet trains with train.fit (loss finite and decreasing).
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertClose, assertNoLeak } from '../helpers';
import { Activation, Ctx, manualSeed, Module, Sequential } from '../../lib/nn';
import { fit, Rng } from '../../lib/train';
import { crossEntropy } from '../../lib/metrics/cross_entropy';
import { klDivergence } from '../../lib/distill/kl_divergence';
import {
  sandwichWidths, SlimLinear, slimmableLoss, slimmableStep, SwitchableBatchNorm,
} from '../../lib/slim';
import { slimDsCnn } from '../../lib/models';

before(async () => {
  await setupBackend();
});

/** Records the width of every call, then runs the wrapped model. Not registered: only used in memory. */
class WidthSpy extends Module {
  readonly seen: (number | undefined)[] = [];
  constructor(readonly inner: Module) {
    super();
    this.addModule('inner', inner);
  }
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    this.seen.push(ctx.width);
    return this.inner.forward(x, ctx);
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

function gradsOf(f: () => tf.Scalar, vars: tf.Variable[]): tf.Tensor[] {
  const { value, grads } = tf.variableGrads(f, vars);
  value.dispose();
  return vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
}

test('the distillation term sends no gradient through the teacher: weights only the teacher uses get none', () => {
  manualSeed(3);
  const head = new SlimLinear({ inFeatures: 8, outFeatures: 3, slimOut: false });
  const model = new Sequential([new SlimLinear({ inFeatures: 4, outFeatures: 8, slimIn: false }), new Activation('tanh'), head]);
  const x = tf.randomNormal([5, 4], 0, 1, 'float32', 1);
  const y = tf.tensor1d([0, 1, 2, 1, 0], 'int32');
  const ctx: Ctx = { training: true };
  // At width 0.25 the student uses hidden units 0..1, i.e. head rows 0..1; rows 2..7 feed only the teacher.
  const [dW] = gradsOf(() => slimmableLoss(model, x, ctx, { labels: y, stepWidths: [1, 0.25] }).terms!.kd, [head.weight]);
  assertClose(tf.slice(dW, [2, 0], [6, 3]), tf.zeros([6, 3]), { atol: 0, rtol: 0, label: 'teacher-only rows' });
  assert.ok(tf.max(tf.abs(tf.slice(dW, [0, 0], [2, 3]))).dataSync()[0] > 1e-4, 'the student rows do learn');
  // Without the stop-gradient the same KL would push the teacher too: the check above is not vacuous.
  const [dWraw] = gradsOf(() => klDivergence(model.forward(x, { training: true, width: 0.25 }), model.forward(x, ctx)) as tf.Scalar,
    [head.weight]);
  assert.ok(tf.max(tf.abs(tf.slice(dWraw, [2, 0], [6, 3]))).dataSync()[0] > 1e-4, 'an undetached teacher would get gradient');
  tf.dispose([dW, dWraw, x, y]);
  model.dispose();
});

test('the one-tape gradient equals the sum of per-width gradients (reference: backward per width, one step)', () => {
  manualSeed(4);
  const model = new Sequential([new SlimLinear({ inFeatures: 6, outFeatures: 8, slimIn: false }), new Activation('tanh'),
    new SlimLinear({ inFeatures: 8, outFeatures: 4, slimOut: false })]);
  const vars = model.parameters();
  const x = tf.randomNormal([7, 6], 0, 1, 'float32', 2);
  const y = tf.tensor1d([0, 1, 2, 3, 0, 1, 2], 'int32');
  const ctx: Ctx = { training: true };
  const widths = [1, 0.25, 0.5, 0.5];
  const T = 2;
  const together = gradsOf(() => slimmableLoss(model, x, ctx, { labels: y, stepWidths: widths, temperature: T }).loss, vars);
  const teacher = tf.tidy(() => model.forward(x, { ...ctx, width: 1 }));
  const parts = [gradsOf(() => crossEntropy(model.forward(x, { ...ctx, width: 1 }), y) as tf.Scalar, vars),
    ...widths.slice(1).map((w) => gradsOf(() => klDivergence(model.forward(x, { ...ctx, width: w }), teacher, { temperature: T }) as tf.Scalar, vars))];
  vars.forEach((v, i) => {
    const sum = tf.addN(parts.map((p) => p[i]));
    assertClose(together[i], sum, { atol: 1e-6, rtol: 1e-5, label: v.name });
    sum.dispose();
  });
  tf.tidy(() => {
    const { loss, terms } = slimmableLoss(model, x, ctx, { labels: y, stepWidths: widths, temperature: T });
    assertClose(loss, tf.add(terms!.ce, terms!.kd), { label: 'loss = ce + kd' });
    const noKd = slimmableLoss(model, x, ctx, { labels: y, stepWidths: widths, distill: false });
    const ceAll = tf.addN(widths.slice(1).map((w) => crossEntropy(model.forward(x, { ...ctx, width: w }), y)));
    assertClose(noKd.terms!.kd, ceAll, { atol: 1e-6, label: 'without distillation every width learns from the labels' });
  });
  tf.dispose([...together, teacher, ...parts.flat(), x, y]);
  model.dispose();
});

test('the widths of a step are the sandwich of a fork of ctx.rng: deterministic per step', () => {
  manualSeed(5);
  const spy = new WidthSpy(new SlimLinear({ inFeatures: 4, outFeatures: 3, slimIn: false, slimOut: false }));
  const x = tf.randomNormal([3, 4]);
  const y = tf.tensor1d([0, 1, 2], 'int32');
  const run = (seed: number) => {
    spy.seen.length = 0;
    tf.dispose(tf.tidy(() => slimmableLoss(spy, x, { training: true, rng: new Rng(seed) },
      { labels: y, widths: [0.25, 0.5, 0.75, 1], n: 5 }).loss));
    return [...spy.seen];
  };
  const a = run(11);
  assert.deepEqual(a, sandwichWidths({ widths: [0.25, 0.5, 0.75, 1], n: 5, rng: new Rng(11).fork('sandwich') }));
  assert.deepEqual(a.slice(0, 2), [1, 0.25]);
  assert.deepEqual(run(11), a);
  assert.throws(() => slimmableLoss(spy, x, { training: true }, { labels: y }), /needs a random source/);
  tf.dispose([x, y]);
  spy.dispose();
});

test('slimmableLoss leaks nothing, inside and outside a gradient tape', async () => {
  manualSeed(6);
  const model = new Sequential([new SlimLinear({ inFeatures: 4, outFeatures: 8, slimIn: false }), new SwitchableBatchNorm({ numFeatures: 8 }),
    new Activation('relu'), new SlimLinear({ inFeatures: 8, outFeatures: 3, slimOut: false })]);
  const x = tf.randomNormal([6, 4]);
  const y = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');
  await assertNoLeak(() => slimmableLoss(model, x, { training: true, rng: new Rng(1) }, { labels: y }), 'slimmableLoss');
  await assertNoLeak(() => {
    const { value, grads } = tf.variableGrads(() => slimmableLoss(model, x, { training: true, rng: new Rng(1) }, { labels: y }).loss,
      model.parameters());
    return [value, ...Object.values(grads)];
  }, 'slimmableLoss gradients');
  tf.dispose([x, y]);
  model.dispose();
});

// A 3-class toy problem: 96 points in 6-D around three centres.
function toyBatches(batchSize: number) {
  const r = new Rng(42);
  const xs: number[][] = [], ys: number[] = [];
  for (let i = 0; i < 96; i++) {
    const c = i % 3;
    xs.push(Array.from({ length: 6 }, (_, k) => (k % 3 === c ? 1.5 : 0) + r.normal(0, 0.8)));
    ys.push(c);
  }
  return (_epoch: number, rng: Rng) => {
    const idx = rng.shuffle([...Array(96).keys()]);
    const out: { x: tf.Tensor; y: tf.Tensor }[] = [];
    for (let i = 0; i < 96; i += batchSize) {
      const b = idx.slice(i, i + batchSize);
      out.push({ x: tf.tensor2d(b.map((j) => xs[j])), y: tf.tensor1d(b.map((j) => ys[j]), 'int32') });
    }
    return out;
  };
}

test('a slimmable MLP trains with fit and slimmableStep: finite, decreasing loss; every width learns', async () => {
  manualSeed(7);
  const model = new Sequential([new SlimLinear({ inFeatures: 6, outFeatures: 16, slimIn: false }),
    new SwitchableBatchNorm({ numFeatures: 16 }), new Activation('relu'), new SlimLinear({ inFeatures: 16, outFeatures: 3, slimOut: false })]);
  const history = await fit({ modules: model, step: slimmableStep(model, { widths: [0.25, 0.5, 0.75, 1] }),
    batches: toyBatches(16), epochs: 8, seed: 1, progress: 'none', optimizer: { kind: 'adam', lr: 0.02 } });
  const losses = history.epochs.map((e) => e.loss);
  assert.ok(losses.every(Number.isFinite), `finite losses ${losses}`);
  assert.ok(losses[losses.length - 1] < 0.6 * losses[0], `loss decreases: ${losses.map((l) => l.toFixed(3))}`);
  assert.ok(history.steps.every((s) => Number.isFinite(s.ce as number) && Number.isFinite(s.kd as number)), 'ce and kd logged');
  const all = toyBatches(96)(1, new Rng(0))[0];
  for (const w of [0.25, 0.5, 0.75, 1]) {
    const acc = tf.tidy(() => tf.mean(tf.equal(tf.argMax(model.forward(all.x, { training: false, width: w }), 1), all.y).toFloat()).dataSync()[0]);
    assert.ok(acc > 0.6, `accuracy ${acc} at width ${w} beats chance (1/3)`);
  }
  tf.dispose([all.x, all.y]);
  model.dispose();
});

test('a DS-CNN supernet takes a few training steps on log-mel input', async () => {
  manualSeed(8);
  const model = slimDsCnn({ preset: 'quick', frames: 12, mels: 8, numClasses: 3, channels: [8, 8] });
  const r = new Rng(1);
  const data = Array.from({ length: 4 }, (_, i) => ({
    x: tf.tensor3d(Array.from({ length: 8 * 12 * 8 }, () => r.normal()), [8, 12, 8]),
    y: tf.tensor1d(Array.from({ length: 8 }, (_, k) => (k + i) % 3), 'int32'),
  }));
  const history = await fit({ modules: model, step: slimmableStep(model), epochs: 3, seed: 2, progress: 'none',
    batches: () => data.map((b) => ({ x: b.x.clone(), y: b.y.clone() })), optimizer: { kind: 'adam', lr: 0.01 } });
  const losses = history.epochs.map((e) => e.loss);
  assert.ok(losses.every(Number.isFinite), `finite losses ${losses}`);
  assert.ok(losses[2] < losses[0], `loss decreases: ${losses}`);
  tf.dispose(data.flatMap((b) => [b.x, b.y]));
  model.dispose();
});
