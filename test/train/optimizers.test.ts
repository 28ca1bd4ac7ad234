// Optimizers, schedules and clipping against torch.optim (test/reference/train_optimizers.py).
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, fixture, assertClose, assertNoLeak } from '../helpers';
import { Optimizer, OptimizerKind, lrFactor, clipByGlobalNorm, globalNorm } from '../../lib/train';

interface Fx {
  p0: number[]; q0: number[]; a: number[]; b: number[]; c: number[]; d: number[]; factors: number[];
  cases: { kind: OptimizerKind; options: Record<string, unknown>; groups: { lr: number; weight_decay?: number }[];
    clip: number | null; p: number[]; q: number[]; norms: number[] }[];
}
const fx = fixture<Fx>('train_optimizers');

before(async () => {
  await setupBackend();
});

for (const c of fx.cases) {
  test(`${c.kind} ${JSON.stringify(c.options)} groups ${JSON.stringify(c.groups)}${c.clip ? ` clip ${c.clip}` : ''} follows torch.optim`, async () => {
    const p = tf.variable(tf.tensor(fx.p0, [3, 2]));
    const q = tf.variable(tf.tensor(fx.q0, [4]));
    const [a, b, cc, d] = [tf.tensor(fx.a, [3, 2]), tf.tensor(fx.b, [3, 2]), tf.tensor(fx.c, [4]), tf.tensor(fx.d, [4])];
    const o = c.options;
    const opt = new Optimizer(c.groups.map((g, i) => ({ params: [i === 0 ? p : q], lr: g.lr, weightDecay: g.weight_decay })), {
      kind: c.kind, lr: 0.001, betas: o.betas as [number, number] | undefined, eps: o.eps as number | undefined,
      weightDecay: o.weight_decay as number | undefined, momentum: o.momentum as number | undefined,
      nesterov: o.nesterov as boolean | undefined,
    });
    const norms: number[] = [];
    for (const f of fx.factors) {
      const { value, grads } = tf.variableGrads(() => tf.addN([
        tf.sum(tf.mul(a, tf.square(p))), tf.sum(tf.mul(b, p)), tf.sum(tf.mul(cc, tf.square(q))), tf.sum(tf.mul(d, q))]) as tf.Scalar, [p, q]);
      let g = [grads[p.name], grads[q.name]];
      if (c.clip) {
        const r = clipByGlobalNorm(g, c.clip);
        norms.push((await r.norm.data())[0]);
        tf.dispose([...g, r.norm]);
        g = r.grads;
      }
      opt.step(new Map([[p, g[0]], [q, g[1]]]), f);
      tf.dispose([value, ...g]);
    }
    assertClose(p, c.p, { atol: 2e-6, rtol: 1e-5, label: `${c.kind} p` });
    assertClose(q, c.q, { atol: 2e-6, rtol: 1e-5, label: `${c.kind} q` });
    if (c.clip) assertClose(norms, c.norms, { atol: 1e-5, rtol: 1e-5, label: 'clip norms' });
    assert.equal(opt.steps, fx.factors.length);
    // State round trip: a fresh optimizer given the state continues identically.
    const st = opt.getState();
    const opt2 = new Optimizer(opt.groups, { ...opt.opts });
    opt2.setState(st);
    const g1 = new Map([[p, tf.onesLike(p)], [q, tf.onesLike(q)]]);
    const pc = p.clone(), qc = q.clone();
    opt.step(g1);
    const after1 = [p.clone(), q.clone()];
    p.assign(pc); q.assign(qc);
    opt2.step(g1);
    assertClose(p, after1[0], { atol: 0, rtol: 0 });
    assertClose(q, after1[1], { atol: 0, rtol: 0 });
    tf.dispose([p, q, a, b, cc, d, pc, qc, ...after1, ...g1.values(), ...st.tensors.values()]);
    opt.dispose(); opt2.dispose();
  });
}

test('a variable in two groups is refused; unknown kinds are refused', () => {
  const v = tf.variable(tf.zeros([2]));
  assert.throws(() => new Optimizer([{ params: [v] }, { params: [v] }], { kind: 'adam' }), /more than one group/);
  assert.throws(() => new Optimizer([v], { kind: 'lamb' as OptimizerKind }), /unknown kind 'lamb'/);
  v.dispose();
});

test('optimizer steps leak nothing beyond their state', async () => {
  const v = tf.variable(tf.ones([5]));
  const opt = new Optimizer([v], { kind: 'adamw', lr: 0.1 });
  const g = tf.ones([5]);
  opt.step(new Map([[v, g]]));
  await assertNoLeak(() => opt.step(new Map([[v, g]])), 'Optimizer.step');
  tf.dispose([v, g]);
  opt.dispose();
});

test('lrFactor: warm-up, then constant, linear and cosine decay', () => {
  // Closed forms: warm-up (s+1)/W; linear 1 - p; cosine (1 + cos(pi p)) / 2, p = (s - W) / (T - W).
  assert.equal(lrFactor(0, { warmupSteps: 4 }), 0.25);
  assert.equal(lrFactor(3, { warmupSteps: 4 }), 1);
  assert.equal(lrFactor(100, { warmupSteps: 4 }), 1);
  assert.equal(lrFactor(4, { warmupSteps: 4, decay: 'linear', totalSteps: 14 }), 1);
  assert.equal(lrFactor(9, { warmupSteps: 4, decay: 'linear', totalSteps: 14 }), 0.5);
  assert.equal(lrFactor(14, { warmupSteps: 4, decay: 'linear', totalSteps: 14 }), 0);
  assert.equal(lrFactor(20, { decay: 'linear', totalSteps: 14, minRatio: 0.1 }), 0.1);
  assert.ok(Math.abs(lrFactor(9, { warmupSteps: 4, decay: 'cosine', totalSteps: 14 }) - 0.5) < 1e-12);
  assert.ok(Math.abs(lrFactor(6, { decay: 'cosine', totalSteps: 12 }) - 0.5) < 1e-12);
  assert.ok(Math.abs(lrFactor(3, { decay: 'cosine', totalSteps: 12, minRatio: 0.2 }) - (0.2 + 0.8 * (1 + Math.cos(Math.PI / 4)) / 2)) < 1e-12);
  assert.throws(() => lrFactor(5, { decay: 'cosine' }), /needs totalSteps/);
});

test('globalNorm and clipByGlobalNorm', () => {
  const g = [tf.tensor([3, 0]), tf.tensor([[4]])];
  assertClose(globalNorm(g), 5);
  const { grads, norm } = clipByGlobalNorm(g, 1);
  assertClose(norm, 5);
  assertClose(grads[0], [3 / (5 + 1e-6), 0], { atol: 1e-7 });
  const { grads: same } = clipByGlobalNorm(g, 10);
  assertClose(same[1], [4]);
  tf.dispose([...g, ...grads, norm, ...same]);
});

test('a group\'s lrScale multiplies its rate at each step (0-based, counted by the optimizer), on top of the schedule', () => {
  const a = tf.variable(tf.scalar(1)), b = tf.variable(tf.scalar(1));
  const opt = new Optimizer([{ params: [a], lr: 0.1, lrScale: (t) => (t === 0 ? 0 : 2) }, { params: [b], lr: 0.1 }], { kind: 'sgd' });
  const g = () => new Map<tf.Variable, tf.Tensor>([[a, tf.scalar(1)], [b, tf.scalar(1)]]);
  const g1 = g();
  opt.step(g1, 0.5);
  assert.equal(a.dataSync()[0], 1, 'step 0: factor 0');
  assert.ok(Math.abs(b.dataSync()[0] - 0.95) < 1e-7, 'the other group: 0.1 * 0.5');
  const g2 = g();
  opt.step(g2, 0.5);
  assert.ok(Math.abs(a.dataSync()[0] - 0.9) < 1e-7, `step 1: 0.1 * 0.5 * 2 (got ${a.dataSync()[0]})`);
  tf.dispose([...g1.values(), ...g2.values(), a, b]);
});
