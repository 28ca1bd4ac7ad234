import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { hiddenStateLoss, hiddenStateTerms, mse, CosineLossType } from '../../lib/distill/hidden_state_loss';
import { setupBackend, fixture, fromFixture, assertClose, assertNoLeak, FixtureTensor } from '../helpers';

interface HiddenCase {
  name: string; cos: CosineLossType; l1: number; cosWeight: number; l2: number;
  student: FixtureTensor; teacher: FixtureTensor; loss: FixtureTensor;
  term_l1: FixtureTensor; term_l2: FixtureTensor; term_cos: FixtureTensor;
  grad_student: FixtureTensor; grad_teacher: FixtureTensor;
}
const { cases } = fixture<{ cases: HiddenCase[] }>('distill_hidden_state_loss');

before(async () => { await setupBackend(); });

test("hiddenStateLoss equals DPHuBERT's DistillLoss (L1 + cosine 'raw' | 'log_sig' + MSE), forward and both gradients", () => {
  assert.ok(cases.length >= 6);
  for (const c of cases) {
    const s = fromFixture(c.student), t = fromFixture(c.teacher);
    const opts = { l1: c.l1, cos: c.cos, cosWeight: c.cosWeight, l2: c.l2 };
    const loss = hiddenStateLoss(s, t, opts);
    assert.deepEqual(loss.shape, []);
    assertClose(loss, c.loss, { atol: 1e-6, rtol: 1e-5, label: `hiddenStateLoss ${c.name}` });
    const [gs, gt] = tf.grads((a: tf.Tensor, b: tf.Tensor) => hiddenStateLoss(a, b, opts))([s, t]);
    assertClose(gs, c.grad_student, { atol: 1e-7, rtol: 1e-4, label: `hiddenStateLoss grad student ${c.name}` });
    assertClose(gt, c.grad_teacher, { atol: 1e-7, rtol: 1e-4, label: `hiddenStateLoss grad teacher ${c.name}` });
    tf.dispose([s, t, loss, gs, gt]);
  }
});

test('hiddenStateTerms gives the unweighted L1, MSE and cosine terms of the reference; mse equals nn.MSELoss', () => {
  for (const c of cases) {
    const s = fromFixture(c.student), t = fromFixture(c.teacher);
    const terms = hiddenStateTerms(s, t, { cos: c.cos });
    assertClose(terms.l1, c.term_l1, { atol: 1e-6, rtol: 1e-5, label: `term l1 ${c.name}` });
    assertClose(terms.l2, c.term_l2, { atol: 1e-6, rtol: 1e-5, label: `term l2 ${c.name}` });
    assertClose(terms.cos, c.term_cos, { atol: 1e-6, rtol: 1e-5, label: `term cos ${c.name}` });
    const m = mse(s, t);
    assertClose(m, c.term_l2, { atol: 1e-6, rtol: 1e-5, label: `mse ${c.name}` });
    const g = tf.grad((a: tf.Tensor) => mse(a, t))(s);
    assertClose(g, tf.div(tf.mul(tf.sub(s, t), 2), s.size), { atol: 1e-7, rtol: 1e-5, label: `mse grad ${c.name}` });
    tf.dispose([s, t, terms.l1, terms.l2, terms.cos, m, g]);
  }
});

test('identical features: L1 and MSE 0, cosine term -1 (raw) or -log sigmoid(1) (log_sig), gradients of L1 and MSE exactly 0', async () => {
  const x = tf.randomNormal([2, 5, 6], 0, 1, 'float32', 1);
  assertClose(hiddenStateLoss(x, x, { cosWeight: 0, l2: 1 }), 0, { atol: 0, label: 'L1 + MSE of (x, x)' });
  assertClose(mse(x, x), 0, { atol: 0, label: 'mse(x, x)' });
  assertClose(hiddenStateLoss(x, x), -1, { atol: 1e-6, label: 'raw at x = x' });
  assertClose(hiddenStateLoss(x, x, { cos: 'log_sig' }), Math.log(1 + Math.exp(-1)), { atol: 1e-6, label: 'log_sig at x = x' });
  // A copy: tf.grad of f(a, x) at a = x itself would differentiate through both arguments.
  const copy = x.clone();
  const g = await tf.grad((a: tf.Tensor) => hiddenStateLoss(a, x, { cosWeight: 0, l2: 1 }))(copy).data();
  assert.ok(g.every((v) => v === 0), 'L1 + MSE gradient at identical features is not 0');
  // The cosine term is at its minimum where s = t, and stays there under positive scaling of s.
  const gc = tf.grad((a: tf.Tensor) => hiddenStateLoss(a, x, { l1: 0 }))(tf.mul(x, 3));
  assertClose(gc, tf.zerosLike(gc), { atol: 1e-6, label: 'cosine gradient at s = 3 t' });
  tf.dispose([x, copy, gc]);
});

test('stacking layers on axis 1 gives the mean of the per-layer losses (DPHuBERT); a term of weight 0 is left out', () => {
  const s = [0, 1, 2].map((i) => tf.randomNormal([2, 4, 5], 0, 1, 'float32', 10 + i));
  const t = [0, 1, 2].map((i) => tf.randomNormal([2, 4, 5], 0, 1, 'float32', 20 + i));
  const opts = { cos: 'log_sig' as const, l2: 0.5 };
  const stacked = hiddenStateLoss(tf.stack(s, 1), tf.stack(t, 1), opts);
  const perLayer = tf.div(tf.addN(s.map((si, i) => hiddenStateLoss(si, t[i], opts))), 3);
  assertClose(stacked, perLayer, { atol: 1e-6, label: 'stacked = mean over layers' });
  const terms = hiddenStateTerms(s[0], t[0], { cos: 'log_sig' });
  assertClose(hiddenStateLoss(s[0], t[0], { l1: 2, cosWeight: 0 }), tf.mul(terms.l1, 2), { atol: 1e-6, label: 'L1 only' });
  assertClose(hiddenStateLoss(s[0], t[0], { l1: 0, cos: 'log_sig' }), terms.cos, { atol: 1e-6, label: 'cosine only' });
  assertClose(hiddenStateLoss(s[0], t[0], { l1: 0, cosWeight: 0 }), 0, { atol: 0, label: 'no term' });
  tf.dispose([...s, ...t, stacked, perLayer, terms.l1, terms.l2, terms.cos]);
});

test('hidden-state losses reject mismatched shapes and bad options, naming the shapes', () => {
  const a = tf.zeros([2, 3, 4]), b = tf.zeros([2, 3, 5]), c = tf.zeros([4]);
  assert.throws(() => hiddenStateLoss(a, b), /student \[2, 3, 4\] and teacher \[2, 3, 5\]/);
  assert.throws(() => hiddenStateLoss(c, c), /student \[4\]/);
  assert.throws(() => hiddenStateTerms(a, b), /student \[2, 3, 4\] and teacher \[2, 3, 5\]/);
  assert.throws(() => mse(a, b), /student \[2, 3, 4\] and teacher \[2, 3, 5\]/);
  assert.throws(() => hiddenStateLoss(a, a, { cos: 'cosine' as CosineLossType }), /cos must be 'raw' or 'log_sig'/);
  assert.throws(() => hiddenStateLoss(a, a, { l1: NaN }), /l1 must be a finite number/);
  tf.dispose([a, b, c]);
});

test('hidden-state losses leak no tensors, gradients included', async () => {
  const s = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 2);
  const t = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 3);
  await assertNoLeak(() => hiddenStateLoss(s, t, { cos: 'log_sig', l2: 1 }), 'hiddenStateLoss');
  await assertNoLeak(() => hiddenStateTerms(s, t), 'hiddenStateTerms');
  await assertNoLeak(() => mse(s, t), 'mse');
  await assertNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => hiddenStateLoss(a, b, { l2: 1 }))([s, t]), 'hiddenStateLoss grads');
  tf.dispose([s, t]);
});
