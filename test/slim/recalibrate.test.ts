// Batch-norm recalibration: the width's running statistics become the statistics of the calibration data at
// that width (batch average as torch momentum=None, or pooled), checked against direct computation; other
// widths and the affine parameters stay; off-list widths go through extractSubnet.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertClose, assertNoLeak } from '../helpers';
import { Activation, Linear, manualSeed, Sequential } from '../../lib/nn';
import {
  cloneModule, extractSubnet, recalibrateBatchNorm, SlimLinear, SwitchableBatchNorm,
} from '../../lib/slim';
import { slimDsCnn } from '../../lib/models';

let data: tf.Tensor[];

before(async () => {
  await setupBackend();
  data = [10, 6, 8].map((n, i) => tf.tidy(() => tf.add(tf.mul(tf.randomNormal([n, 4], 0, 1, 'float32', 30 + i), 1 + i), i)));
});

function mlp() {
  manualSeed(21);
  const first = new SlimLinear({ inFeatures: 4, outFeatures: 8, slimIn: false });
  const bn = new SwitchableBatchNorm({ numFeatures: 8, widths: [0.5, 1] });
  const model = new Sequential([first, bn, new Activation('relu'), new SlimLinear({ inFeatures: 8, outFeatures: 3, slimOut: false })]);
  return { model, first, bn };
}

function unbiasedMoments(h: tf.Tensor): { mean: tf.Tensor; variance: tf.Tensor } {
  const n = h.shape[0];
  const { mean, variance } = tf.moments(h, 0);
  return { mean, variance: tf.mul(variance, n / (n - 1)) };
}

test("'batchAverage' gives the average of batch means and unbiased variances (torch momentum=None)", async () => {
  const { model, first, bn } = mlp();
  const other = bn.set(1).namedBuffers().map(([k, v]) => [k, v.clone()] as const);
  const gamma = bn.set(0).weight!.clone();
  const res = await recalibrateBatchNorm(model, data, { width: 0.5 });
  assert.deepEqual(res, { layers: 1, batches: 3 });
  tf.tidy(() => {
    const stats = data.map((x) => unbiasedMoments(first.forward(x, { training: false, width: 0.5 })));
    const mean = tf.div(tf.addN(stats.map((s) => s.mean)), 3);
    const variance = tf.div(tf.addN(stats.map((s) => s.variance)), 3);
    assertClose(bn.set(0).runningMean!, mean, { atol: 1e-5, label: 'running mean' });
    assertClose(bn.set(0).runningVar!, variance, { atol: 1e-4, rtol: 1e-4, label: 'running var' });
    for (const [k, v] of other) assertClose(new Map(bn.set(1).namedBuffers()).get(k)!, v, { atol: 0, rtol: 0, label: `width 1 ${k} kept` });
    assertClose(bn.set(0).weight!, gamma, { atol: 0, rtol: 0, label: 'affine kept' });
  });
  tf.dispose([gamma, ...other.map(([, v]) => v)]);
  model.dispose();
});

test("'pooled' gives the exact mean and unbiased variance of all calibration positions; evaluation uses them", async () => {
  const { model, first, bn } = mlp();
  await recalibrateBatchNorm(model, data, { width: 0.5, statistic: 'pooled' });
  tf.tidy(() => {
    const h = tf.concat(data.map((x) => first.forward(x, { training: false, width: 0.5 })), 0);
    const { mean, variance } = unbiasedMoments(h);
    assertClose(bn.set(0).runningMean!, mean, { atol: 1e-5, label: 'pooled mean' });
    assertClose(bn.set(0).runningVar!, variance, { atol: 1e-4, rtol: 1e-4, label: 'pooled var' });
    const y = bn.forward(h, { training: false, width: 0.5 });
    const expected = tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5))), bn.set(0).weight!), bn.set(0).bias!);
    assertClose(y, expected, { atol: 1e-4, label: 'evaluation normalises with the recalibrated statistics' });
  });
  model.dispose();
});

test('in a deep supernet every switchable batch norm gets the statistics of its own input at that width', async () => {
  manualSeed(22);
  const model = slimDsCnn({ preset: 'quick', frames: 10, mels: 6, channels: [8, 8, 8] });
  const x = tf.randomNormal([6, 10, 6], 1, 2, 'float32', 7);
  // Reference: a training-mode pass of a copy normalises with batch statistics, as calibration does.
  const copy = cloneModule(model);
  const taps = new Map<string, tf.Tensor>();
  tf.dispose(copy.forward(x, { training: true, width: 0.5, taps }));
  await recalibrateBatchNorm(model, [x], { width: 0.5, statistic: 'pooled' });
  const layers = model.features.layers;
  let checked = 0;
  layers.forEach((m, i) => {
    if (!(m instanceof SwitchableBatchNorm)) return;
    tf.tidy(() => {
      const input = taps.get(`features.${i - 1}`)!;
      const h = tf.reshape(input, [-1, input.shape[3]!]);
      const { mean, variance } = unbiasedMoments(h);
      const set = m.set(m.setFor(0.5).index);
      assertClose(set.runningMean!, mean, { atol: 1e-4, rtol: 1e-4, label: `features.${i} mean` });
      assertClose(set.runningVar!, variance, { atol: 1e-4, rtol: 1e-3, label: `features.${i} var` });
    });
    checked += 1;
  });
  assert.equal(checked, 5);
  tf.dispose([x, ...taps.values()]);
  copy.dispose();
  model.dispose();
});

test('an off-list width is recalibrated through its extracted subnet; errors say why', async () => {
  const { model } = mlp();
  await assert.rejects(recalibrateBatchNorm(model, data, { width: 0.6 }), /width 0.6 has no statistics of its own in '1'.*extractSubnet/);
  await assert.rejects(recalibrateBatchNorm(model, [], { width: 0.5 }), /no calibration batch/);
  await assert.rejects(recalibrateBatchNorm(new Linear({ inFeatures: 2, outFeatures: 2 }), data), /no SwitchableBatchNorm/);
  const sub = extractSubnet(model, 0.6) as Sequential;
  const res = await recalibrateBatchNorm(sub, data, { statistic: 'pooled' });
  assert.equal(res.layers, 1);
  tf.tidy(() => {
    const h = tf.concat(data.map((x) => sub.layers[0].forward(x, { training: false })), 0);
    assert.equal(h.shape[1], 5);
    assertClose((sub.layers[1] as SwitchableBatchNorm).set(0).runningMean!, tf.mean(h, 0), { atol: 1e-5, label: 'subnet mean' });
  });
  sub.dispose();
  model.dispose();
});

test('recalibration leaks no tensors', async () => {
  const { model } = mlp();
  for (const statistic of ['batchAverage', 'pooled'] as const) {
    await assertNoLeak(() => recalibrateBatchNorm(model, data, { width: 1, statistic }).then(() => undefined), `recalibrate ${statistic}`);
  }
  model.dispose();
});
