import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, fixture, assertClose, assertNoLeak } from '../helpers';
import { HardConcrete } from '../../lib/prune';
import { manualSeed } from '../../lib/nn';
import { Rng } from '../../lib/util/rng';

const { cases } = fixture<{ cases: { logAlpha: number[]; l0: number; u: number[]; w: number[]; sample: number[]; gradSample: number[]; evalMask: number[] }[] }>('prune_hard_concrete');

before(async () => {
  await setupBackend();
});

for (const [k, c] of cases.entries()) {
  test(`HardConcrete case ${k}: L0, training sample and its gradient, evaluation mask equal the reference`, () => {
    const g = new HardConcrete({ n: c.logAlpha.length });
    g.logAlpha.assign(tf.tensor1d(c.logAlpha));
    assertClose(g.l0Norm(), c.l0, { atol: 1e-5, label: 'L0' });
    const u = tf.tensor1d(c.u);
    assertClose(g.sampleWith(u), c.sample, { atol: 1e-6, label: 'sample' });
    const w = tf.tensor1d(c.w);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(g.sampleWith(u), w)) as tf.Scalar, [g.logAlpha]);
    assertClose(grads[g.logAlpha.name], c.gradSample, { atol: 1e-6, label: 'sample grad' });
    assertClose(g.mask({ training: false }), c.evalMask, { atol: 1e-6, label: 'eval mask' });
    tf.dispose([u, w, ...Object.values(grads)]);
    g.dispose();
  });
}

test('HardConcrete initialisation, sampling from ctx.rng, forward and errors', async () => {
  manualSeed(1);
  const g = new HardConcrete({ n: 1000, initMean: 0.5 });
  const la = Array.from(g.logAlpha.dataSync());
  const mean = la.reduce((a, b) => a + b, 0) / la.length;
  assert.ok(Math.abs(mean) < 0.002, `log_alpha ~ N(log(1-m) - log(m) = 0, 0.01): mean ${mean}`);
  const a = g.mask({ training: true, rng: new Rng(3) }).dataSync(), b = g.mask({ training: true, rng: new Rng(3) }).dataSync();
  assert.deepEqual(Array.from(a), Array.from(b));
  assert.ok(Array.from(a).every((v) => v >= 0 && v <= 1) && a.some((v) => v === 0 || v === 1));
  const x = tf.ones([2, 1000]);
  assertClose(tf.sum(g.forward(x, { training: false }), 0), tf.mul(g.mask({ training: false }), 2));
  assert.throws(() => g.forward(tf.ones([2, 3]), { training: false }), /last axis must be 1000/);
  assert.throws(() => new HardConcrete({ n: 0 }), /positive integer/);
  await assertNoLeak(() => g.forward(x, { training: true, rng: new Rng(1) }), 'HardConcrete.forward');
  x.dispose();
  g.dispose();
});

test('without ctx.rng, successive training samples differ', () => {
  const g = new HardConcrete({ n: 16, initMean: 0.5 });
  const a = g.mask({ training: true }), b = g.mask({ training: true });
  assert.notDeepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  tf.dispose([a, b]);
  g.dispose();
});
