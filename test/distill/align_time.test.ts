import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { alignTime, TimeAlignMethod } from '../../lib/distill/align_time';
import { setupBackend, fixture, fromFixture, assertClose, assertNoLeak, FixtureTensor } from '../helpers';

interface AlignCase {
  name: string; length: number; axis: number; method: TimeAlignMethod;
  x: FixtureTensor; cotangent: FixtureTensor; y: FixtureTensor; grad: FixtureTensor;
}
const { cases } = fixture<{ cases: AlignCase[] }>('distill_align_time');

before(async () => { await setupBackend(); });

test('alignTime equals F.adaptive_avg_pool1d and F.interpolate(linear, align_corners=False) along time and frequency, with gradients', () => {
  assert.ok(cases.length >= 10);
  for (const c of cases) {
    const x = fromFixture(c.x), w = fromFixture(c.cotangent);
    const opts = { method: c.method, axis: c.axis };
    const y = alignTime(x, c.length, opts);
    assertClose(y, c.y, { atol: 1e-6, rtol: 1e-5, label: `alignTime ${c.name}` });
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(alignTime(v, c.length, opts), w)))(x);
    assertClose(g, c.grad, { atol: 1e-6, rtol: 1e-5, label: `alignTime grad ${c.name}` });
    tf.dispose([x, w, y, g]);
  }
});

test('alignTime keeps constants (rows of weights sum to 1) and returns a copy at equal length', async () => {
  const ones = tf.fill([2, 9, 3], 2.5);
  for (const method of ['avg-pool', 'linear'] as const) {
    for (const len of [1, 4, 9, 13]) {
      assertClose(alignTime(ones, len, { method }), tf.fill([2, len, 3], 2.5), { atol: 1e-6, label: `${method} ${len}` });
    }
  }
  const x = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 1);
  const same = alignTime(x, 5, { method: 'linear' });
  assert.notEqual(same, x);
  assertClose(same, x, { atol: 0, label: 'equal length' });
  // Integer ratio: plain average pooling of k consecutive frames.
  const v = tf.tensor3d([[[1], [3], [5], [7], [9], [11]]]);
  assertClose(alignTime(v, 2), [3, 9], { atol: 1e-6, label: 'mean of 3 frames' });
  assertClose(alignTime(v, 3, { method: 'linear' }), [2, 6, 10], { atol: 1e-6, label: 'linear at half-frame centres' });
  tf.dispose([ones, x, same, v]);
});

test('alignTime rejects bad axes, lengths and methods, naming the shape', () => {
  const x = tf.zeros([2, 5, 3]);
  assert.throws(() => alignTime(x, 3, { axis: 0 }), /axis must be .* got 0 for \[2, 5, 3\]/);
  assert.throws(() => alignTime(x, 3, { axis: 3 }), /got 3 for \[2, 5, 3\]/);
  assert.throws(() => alignTime(x, 0), /length must be an integer >= 1; got 0/);
  assert.throws(() => alignTime(x, 2.5), /length must be an integer/);
  assert.throws(() => alignTime(x, 3, { method: 'nearest' as TimeAlignMethod }), /method must be 'avg-pool' or 'linear'/);
  x.dispose();
});

test('alignTime leaks no tensors, gradients included', async () => {
  const x = tf.randomNormal([2, 10, 3, 2], 0, 1, 'float32', 2);
  await assertNoLeak(() => alignTime(x, 4), 'alignTime avg-pool');
  await assertNoLeak(() => alignTime(x, 5), 'alignTime avg-pool integer');
  await assertNoLeak(() => alignTime(x, 7, { method: 'linear', axis: 2 }), 'alignTime linear');
  await assertNoLeak(() => tf.grad((v: tf.Tensor) => tf.sum(alignTime(v, 4, { method: 'linear' })))(x), 'alignTime grad');
  x.dispose();
});
