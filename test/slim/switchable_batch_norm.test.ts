// Switchable batch norm: one set of statistics and affine parameters per width, each trained only at its
// width; off-list widths borrow the next set above without touching running statistics; extraction.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertClose, assertNoLeak } from '../helpers';
import { SwitchableBatchNorm } from '../../lib/slim';

before(async () => {
  await setupBackend();
});

const snapshot = (m: SwitchableBatchNorm) => new Map(m.namedBuffers().map(([k, v]) => [k, v.clone()]));

test('each width has its own set, sized for that width, and training at a width updates only its statistics', () => {
  const sbn = new SwitchableBatchNorm({ numFeatures: 8, widths: [1, 0.25, 0.5] });
  assert.deepEqual(sbn.widths, [0.25, 0.5, 1], 'widths sorted');
  assert.deepEqual(sbn.namedParameters().map(([k, v]) => `${k}:${v.shape}`),
    ['bn.0.weight:2', 'bn.0.bias:2', 'bn.1.weight:4', 'bn.1.bias:4', 'bn.2.weight:8', 'bn.2.bias:8']);
  const x4 = tf.add(tf.mul(tf.randomNormal([64, 4], 0, 1, 'float32', 1), 3), 5);
  const x8 = tf.add(tf.mul(tf.randomNormal([64, 8], 0, 1, 'float32', 2), 0.5), -2);
  const before0 = snapshot(sbn);
  tf.tidy(() => sbn.forward(x4, { training: true, width: 0.5 }));
  const after1 = snapshot(sbn);
  for (const k of ['bn.0.runningMean', 'bn.0.runningVar', 'bn.2.runningMean', 'bn.2.runningVar']) {
    assertClose(after1.get(k)!, before0.get(k)!, { atol: 0, rtol: 0, label: `${k} untouched by width 0.5` });
  }
  tf.tidy(() => {
    // running = 0.9 * running + 0.1 * batch (unbiased variance), as nn.BatchNorm.
    const { mean, variance } = tf.moments(x4, 0);
    assertClose(after1.get('bn.1.runningMean')!, tf.mul(mean, 0.1), { atol: 1e-5, label: 'width 0.5 mean' });
    assertClose(after1.get('bn.1.runningVar')!, tf.add(0.9, tf.mul(variance, 0.1 * 64 / 63)), { atol: 1e-5, label: 'width 0.5 var' });
  });
  tf.tidy(() => sbn.forward(x8, { training: true, width: 1 }));
  const after2 = snapshot(sbn);
  assertClose(after2.get('bn.1.runningMean')!, after1.get('bn.1.runningMean')!, { atol: 0, rtol: 0, label: 'width 0.5 kept by width 1' });
  tf.tidy(() => assertClose(after2.get('bn.2.runningMean')!, tf.mul(tf.mean(x8, 0), 0.1), { atol: 1e-5, label: 'width 1 mean' }));
  // Evaluation at each width uses that width's statistics and affine parameters.
  tf.tidy(() => {
    sbn.set(1).weight!.assign(tf.fill([4], 2));
    const s = sbn.set(1);
    const expected = tf.add(tf.mul(tf.div(tf.sub(x4, s.runningMean!), tf.sqrt(tf.add(s.runningVar!, 1e-5))), 2), s.bias!);
    assertClose(sbn.forward(x4, { training: false, width: 0.5 }), expected, { atol: 1e-5, label: 'eval at width 0.5' });
  });
  // Gradients reach only the set of the width that ran.
  tf.tidy(() => {
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(sbn.forward(x4, { training: true, width: 0.5 }))) as tf.Scalar, sbn.parameters());
    const named = sbn.namedParameters();
    const got = named.filter(([, v]) => grads[v.name]).map(([k]) => k);
    assert.deepEqual(got, ['bn.1.weight', 'bn.1.bias']);
  });
  tf.dispose([x4, x8, ...before0.values(), ...after1.values(), ...after2.values()]);
  sbn.dispose();
});

test('an off-list width borrows the next set above: batch statistics in training, no running-statistics update', () => {
  const sbn = new SwitchableBatchNorm({ numFeatures: 8, widths: [0.5, 1] });
  assert.deepEqual(sbn.setFor(0.6), { index: 1, own: false });
  assert.deepEqual(sbn.setFor(0.3), { index: 0, own: false });
  assert.deepEqual(sbn.setFor(0.5), { index: 0, own: true });
  const x = tf.randomNormal([32, 5], 2, 3, 'float32', 3); // 0.6 * 8 = 4.8 -> 5 channels
  const before0 = snapshot(sbn);
  tf.tidy(() => {
    const y = sbn.forward(x, { training: true, width: 0.6 });
    const { mean, variance } = tf.moments(y, 0);
    assertClose(mean, tf.zeros([5]), { atol: 1e-4, label: 'normalised with batch mean' });
    assertClose(variance, tf.ones([5]), { atol: 1e-3, label: 'normalised with batch variance' });
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(sbn.forward(x, { training: true, width: 0.6 }), y)) as tf.Scalar, sbn.parameters());
    assert.deepEqual(sbn.namedParameters().filter(([, v]) => grads[v.name]).map(([k]) => k), ['bn.1.weight', 'bn.1.bias'],
      'the borrowed set trains its sliced affine parameters');
    assertClose(tf.slice(grads[sbn.set(1).weight!.name], [5], [3]), tf.zeros([3]), { atol: 0, label: 'inactive channels get no gradient' });
  });
  const after = snapshot(sbn);
  for (const [k, v] of before0) assertClose(after.get(k)!, v, { atol: 0, rtol: 0, label: `${k} untouched` });
  // Evaluation uses the borrowed set's running statistics, sliced.
  tf.tidy(() => {
    sbn.set(1).runningMean!.assign(tf.range(0, 8).toFloat());
    const y = sbn.forward(x, { training: false, width: 0.6 });
    const expected = tf.div(tf.sub(x, tf.range(0, 5).toFloat()), Math.sqrt(1 + 1e-5));
    assertClose(y, expected, { atol: 1e-5, label: 'eval with the sliced borrowed statistics' });
  });
  tf.dispose([x, ...before0.values(), ...after.values()]);
  sbn.dispose();
});

test('extract gives a one-width batch norm with the serving set, equal in evaluation', async () => {
  const sbn = new SwitchableBatchNorm({ numFeatures: 8, widths: [0.25, 0.5, 1] });
  tf.tidy(() => {
    for (const [i, v] of sbn.namedParameters().concat(sbn.namedBuffers()).entries()) {
      v[1].assign(tf.add(tf.randomUniform(v[1].shape, 0.5, 1.5, 'float32', i), 0));
    }
  });
  for (const w of [0.25, 0.5, 0.6, 1]) {
    const sub = sbn.extract(w);
    assert.deepEqual(sub.widths, [1]);
    assert.equal(sub.numFeatures, Math.max(1, Math.round(8 * w)));
    const x = tf.randomNormal([6, sub.numFeatures]);
    tf.tidy(() => assertClose(sub.forward(x, { training: false }), sbn.forward(x, { training: false, width: w }),
      { atol: 1e-6, label: `width ${w}` }));
    x.dispose();
    sub.dispose();
  }
  const x = tf.randomNormal([6, 4]);
  await assertNoLeak(() => sbn.forward(x, { training: true, width: 0.5 }), 'SwitchableBatchNorm training');
  await assertNoLeak(() => sbn.forward(x, { training: true, width: 0.45 }), 'SwitchableBatchNorm off-list training');
  x.dispose();
  sbn.dispose();
});
