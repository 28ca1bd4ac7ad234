// AT-KL (Distil-DCCRN's feature loss as slimspeech defines it) and the channel-wise KL ablation: values
// and gradients against PyTorch float64 (test/reference/distill_at_kl.py), zero for equal features,
// invariance to the features' scale, errors, leaks.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, fixture, FixtureTensor, fromFixture, setupBackend } from '../helpers';
import { atKl, AtKlOptions, channelKl } from '../../lib/distill/at_kl';

before(async () => {
  await setupBackend();
});

interface Case {
  kind: 'at' | 'ckl'; options: AtKlOptions & { temperature?: number }; student: FixtureTensor; teacher: FixtureTensor;
  loss: number; gradStudent: FixtureTensor; gradTeacher: FixtureTensor;
}
const { cases } = fixture<{ cases: Case[] }>('distill_at_kl');

test('atKl and channelKl equal the PyTorch reference, value and gradients of both arguments', () => {
  assert.ok(cases.length >= 7);
  for (const [i, c] of cases.entries()) {
    const s = fromFixture(c.student), t = fromFixture(c.teacher);
    const f = (a: tf.Tensor, b: tf.Tensor) => (c.kind === 'at' ? atKl(a, b, c.options) : channelKl(a, b, c.options));
    const loss = f(s, t);
    assertClose(loss, c.loss, { atol: 1e-5, rtol: 1e-4, label: `case ${i} loss` });
    const [gs, gt] = tf.grads((a: tf.Tensor, b: tf.Tensor) => f(a, b))([s, t]);
    assertClose(gs, c.gradStudent, { atol: 1e-5, rtol: 1e-3, label: `case ${i} d/dstudent` });
    assertClose(gt, c.gradTeacher, { atol: 1e-5, rtol: 1e-3, label: `case ${i} d/dteacher` });
    tf.dispose([s, t, loss, gs, gt]);
  }
});

test('atKl is 0 for equal features and does not change when a feature is scaled', () => {
  const s = tf.randomNormal([2, 9, 4, 6], 0, 1, 'float32', 3);
  const t = tf.randomNormal([2, 9, 4, 6], 0, 1, 'float32', 4);
  assertClose(atKl(s, s.clone()), 0, { atol: 1e-6, label: 'equal features' });
  assertClose(channelKl(s, s.clone()), 0, { atol: 1e-6, label: 'equal features, channel KL' });
  const base = atKl(s, t).dataSync()[0];
  assert.ok(base > 0);
  assertClose(atKl(tf.mul(s, 7), tf.mul(t, 0.01)), base, { atol: 1e-5, rtol: 1e-3, label: 'scale invariance' });
  tf.dispose([s, t]);
});

test('errors name the shapes; nothing leaks', async () => {
  const a = tf.zeros([2, 5, 3]), b = tf.zeros([2, 6, 3]);
  assert.throws(() => atKl(a, b), /atKl: student and teacher must be aligned .* got student \[2, 5, 3\] and teacher \[2, 6, 3\]/);
  assert.throws(() => atKl(a, a, { over: [] }), /over must list/);
  assert.throws(() => atKl(a, a, { temperature: 0 }), /temperature must be a finite number > 0/);
  assert.throws(() => channelKl(a, b), /channelKl: .* got student \[2, 5, 3\] and teacher \[2, 6, 3\]/);
  const s = tf.randomNormal([2, 5, 3, 4]), t = tf.randomNormal([2, 5, 3, 4]);
  await assertNoLeak(() => atKl(s, t), 'atKl');
  await assertNoLeak(() => channelKl(s, t), 'channelKl');
  await assertNoLeak(() => tf.grads((x: tf.Tensor) => atKl(x, t))([s]), 'atKl gradient');
  tf.dispose([a, b, s, t]);
});
