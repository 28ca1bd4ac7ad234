import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { klDivergence, KlReduction } from '../../lib/distill/kl_divergence';
import { setupBackend, fixture, fromFixture, assertClose, assertNoLeak, FixtureTensor } from '../helpers';

interface KlCase {
  name: string; temperature: number; reduction: KlReduction;
  student: FixtureTensor; teacher: FixtureTensor; cotangent: FixtureTensor;
  loss: FixtureTensor; grad_student: FixtureTensor; grad_teacher: FixtureTensor;
}
const { cases } = fixture<{ cases: KlCase[] }>('distill_kl_divergence');

before(async () => { await setupBackend(); });

test('klDivergence equals torch kl_div(log_softmax(s/T), softmax(t/T), batchmean) * T^2, forward and both gradients', () => {
  assert.ok(cases.length >= 10);
  for (const c of cases) {
    const s = fromFixture(c.student);
    const t = fromFixture(c.teacher);
    const w = fromFixture(c.cotangent);
    const opts = { temperature: c.temperature, reduction: c.reduction };
    const loss = klDivergence(s, t, opts);
    // Float32 log-softmax of logits up to ~600/T: absolute error grows with the loss, relative stays ~1e-6.
    assertClose(loss, c.loss, { atol: 1e-5, rtol: 2e-5, label: `klDivergence ${c.name}` });
    const [gs, gt] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(klDivergence(a, b, opts), w)))([s, t]);
    assertClose(gs, c.grad_student, { atol: 2e-6, rtol: 1e-4, label: `klDivergence grad student ${c.name}` });
    assertClose(gt, c.grad_teacher, { atol: 2e-6, rtol: 1e-4, label: `klDivergence grad teacher ${c.name}` });
    tf.dispose([s, t, w, loss, gs, gt]);
  }
});

test('klDivergence(p, p) = 0, also when the student is the teacher shifted per row (softmax is shift-invariant)', () => {
  const t = tf.randomNormal([6, 9], 0, 3, 'float32', 1);
  const shifted = tf.add(t, tf.tensor2d([[5], [-3], [100], [0], [-50], [0.5]]));
  for (const T of [0.5, 1, 4]) {
    assertClose(klDivergence(t, t, { temperature: T }), 0, { atol: 1e-6, label: `KL(p,p) T=${T}` });
    assertClose(klDivergence(shifted, t, { temperature: T }), 0, { atol: 2e-5, label: `KL(p+c,p) T=${T}` });
  }
  tf.dispose([t, shifted]);
});

test('klDivergence is non-negative and its student gradient is T (q - p) / batch (Hinton et al., eq. 2)', async () => {
  const batch = 5, classes = 7, T = 2.5;
  const s = tf.randomNormal([batch, classes], 0, 2, 'float32', 3);
  const t = tf.randomNormal([batch, classes], 0, 2, 'float32', 4);
  const none = klDivergence(s, t, { temperature: T, reduction: 'none' });
  for (const v of await none.data()) assert.ok(v >= 0, `per-row KL ${v} < 0`);
  const g = tf.grad((a: tf.Tensor) => klDivergence(a, t, { temperature: T }))(s);
  // Independent float64 softmax in plain JS.
  const sv = await s.data(), tv = await t.data();
  const expected: number[] = [];
  for (let b = 0; b < batch; b++) {
    const soft = (v: ArrayLike<number>) => {
      const row = Array.from({ length: classes }, (_, c) => v[b * classes + c] / T);
      const m = Math.max(...row);
      const e = row.map((x) => Math.exp(x - m));
      const z = e.reduce((x, y) => x + y, 0);
      return e.map((x) => x / z);
    };
    const q = soft(sv), p = soft(tv);
    for (let c = 0; c < classes; c++) expected.push(T * (q[c] - p[c]) / batch);
  }
  assertClose(g, expected, { atol: 1e-6, rtol: 1e-5, label: 'analytic KD gradient' });
  tf.dispose([s, t, none, g]);
});

test('klDivergence reductions agree: sum = batch * batchmean = sum of none; T scales as T^2 KL at T = 1 of s/T, t/T', () => {
  const s = tf.randomNormal([4, 6], 0, 1.5, 'float32', 5);
  const t = tf.randomNormal([4, 6], 0, 1.5, 'float32', 6);
  const mean = klDivergence(s, t, { temperature: 3 });
  const sum = klDivergence(s, t, { temperature: 3, reduction: 'sum' });
  const none = klDivergence(s, t, { temperature: 3, reduction: 'none' });
  assert.deepEqual(mean.shape, []);
  assert.deepEqual(none.shape, [4]);
  assertClose(sum, tf.mul(mean, 4), { atol: 1e-6, label: 'sum vs batchmean' });
  assertClose(tf.sum(none), sum, { atol: 1e-6, label: 'none vs sum' });
  const atOne = klDivergence(tf.div(s, 3), tf.div(t, 3));
  assertClose(mean, tf.mul(atOne, 9), { atol: 1e-6, rtol: 1e-5, label: 'T^2 scaling' });
  tf.dispose([s, t, mean, sum, none, atOne]);
});

test('klDivergence stays finite for huge logits where a plain softmax would overflow', async () => {
  const s = tf.tensor2d([[1e4, -1e4, 0], [3e4, 3e4 - 1, -3e4]]);
  const t = tf.tensor2d([[-1e4, 1e4, 0], [3e4 - 1, 3e4, 0]]);
  const v = await klDivergence(s, t).data();
  assert.ok(Number.isFinite(v[0]) && v[0] > 0, `KL ${v[0]}`);
  // Row 0: teacher puts all mass on class 1, student's log-probability there is -2e4: KL = 2e4; row 1:
  // p = q reversed over two classes one logit apart: KL = (e - 1) / (e + 1) * 1 = tanh(1/2).
  assertClose(v[0], (2e4 + Math.tanh(0.5)) / 2, { rtol: 1e-6, label: 'huge logits KL' });
  tf.dispose([s, t]);
});

test('klDivergence rejects mismatched shapes, rank-1 logits and bad temperatures, naming the shapes', () => {
  const a = tf.zeros([2, 3]), b = tf.zeros([2, 4]), c = tf.zeros([3]);
  assert.throws(() => klDivergence(a, b), /student \[2, 3\] and teacher \[2, 4\]/);
  assert.throws(() => klDivergence(c, c), /student \[3\]/);
  assert.throws(() => klDivergence(a, a, { temperature: 0 }), /temperature must be a finite number > 0; got 0/);
  assert.throws(() => klDivergence(a, a, { temperature: -1 }), /temperature/);
  assert.throws(() => klDivergence(a, a, { reduction: 'mean' as KlReduction }), /reduction must be/);
  tf.dispose([a, b, c]);
});

test('klDivergence and its gradients leak no tensors', async () => {
  const s = tf.randomNormal([3, 5], 0, 1, 'float32', 7);
  const t = tf.randomNormal([3, 5], 0, 1, 'float32', 8);
  await assertNoLeak(() => klDivergence(s, t, { temperature: 2 }), 'klDivergence');
  await assertNoLeak(() => klDivergence(s, t, { reduction: 'none' }), 'klDivergence none');
  await assertNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => klDivergence(a, b, { temperature: 2 }))([s, t]), 'klDivergence grads');
  tf.dispose([s, t]);
});
