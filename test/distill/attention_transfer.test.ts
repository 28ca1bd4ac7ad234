import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { attentionMap, attentionTransfer, AttentionAxis, AttentionNormalization, AttentionTransferMode } from '../../lib/distill/attention_transfer';
import { setupBackend, fixture, fromFixture, assertClose, assertNoLeak, FixtureTensor } from '../helpers';

interface TransferCase {
  name: string; mode: AttentionTransferMode; p: number;
  student: FixtureTensor; teacher: FixtureTensor; loss: FixtureTensor; grad_student: FixtureTensor; grad_teacher: FixtureTensor;
}
interface MapCase {
  name: string; over: AttentionAxis; p: number; reduce: 'mean' | 'sum'; normalize: AttentionNormalization;
  feature: FixtureTensor; cotangent: FixtureTensor; map: FixtureTensor; grad: FixtureTensor;
}
const { transfer, maps } = fixture<{ transfer: TransferCase[]; maps: MapCase[] }>('distill_attention_transfer');

before(async () => { await setupBackend(); });

test("attentionTransfer equals torchdistill's ATLoss in 'code' and 'paper' modes (NCHW reference), forward and both gradients", () => {
  assert.ok(transfer.length >= 8);
  assert.ok(transfer.some((c) => c.mode === 'code') && transfer.some((c) => c.mode === 'paper'));
  for (const c of transfer) {
    const s = fromFixture(c.student), t = fromFixture(c.teacher);
    const opts = { mode: c.mode, p: c.p };
    const loss = attentionTransfer(s, t, opts);
    assert.deepEqual(loss.shape, []);
    assertClose(loss, c.loss, { atol: 1e-7, rtol: 1e-4, label: `attentionTransfer ${c.name}` });
    const [gs, gt] = tf.grads((a: tf.Tensor, b: tf.Tensor) => attentionTransfer(a, b, opts))([s, t]);
    assertClose(gs, c.grad_student, { atol: 1e-7, rtol: 1e-4, label: `attentionTransfer grad student ${c.name}` });
    assertClose(gt, c.grad_teacher, { atol: 1e-7, rtol: 1e-4, label: `attentionTransfer grad teacher ${c.name}` });
    tf.dispose([s, t, loss, gs, gt]);
  }
});

test('attentionMap over position, time and channel with each reduction and normalisation equals the reference, with gradients', () => {
  assert.ok(maps.length >= 8);
  for (const c of maps) {
    const x = fromFixture(c.feature), w = fromFixture(c.cotangent);
    const opts = { over: c.over, p: c.p, reduce: c.reduce, normalize: c.normalize };
    const a = attentionMap(x, opts);
    assertClose(a, c.map, { atol: 1e-6, rtol: 1e-5, label: `attentionMap ${c.name}` });
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(attentionMap(v, opts), w)))(x);
    assertClose(g, c.grad, { atol: 1e-6, rtol: 1e-4, label: `attentionMap grad ${c.name}` });
    tf.dispose([x, w, a, g]);
  }
});

test('attentionMap shapes: position flattens time-major, time keeps frames, channel keeps channels; l2 rows have norm 1, sum rows sum to 1', async () => {
  const x = tf.randomNormal([2, 5, 3, 4], 0, 1, 'float32', 1);
  assert.deepEqual(attentionMap(x).shape, [2, 15]);
  assert.deepEqual(attentionMap(x, { over: 'time' }).shape, [2, 5]);
  assert.deepEqual(attentionMap(x, { over: 'channel' }).shape, [2, 4]);
  assertClose(tf.norm(attentionMap(x, { over: 'time' }), 2, 1), [1, 1], { atol: 1e-6, label: 'l2 rows' });
  assertClose(tf.sum(attentionMap(x, { over: 'channel', normalize: 'sum' }), 1), [1, 1], { atol: 1e-6, label: 'sum rows' });
  // Position j = t * freq + f holds mean_c x[b, t, f, c]^2 before normalisation.
  const raw = await attentionMap(x, { normalize: 'none' }).data();
  const xv = await x.data();
  let m = 0;
  for (let c = 0; c < 4; c++) m += xv[((1 * 5 + 2) * 3 + 1) * 4 + c] ** 2 / 4;
  assertClose(raw[15 + 2 * 3 + 1], m, { atol: 1e-6, label: 'time-major position' });
  // For [batch, time, channels], position and time are the same map.
  const x3 = tf.randomNormal([2, 6, 3], 0, 1, 'float32', 2);
  assertClose(attentionMap(x3), attentionMap(x3, { over: 'time' }), { atol: 0, label: 'rank 3 position = time' });
  tf.dispose([x, x3]);
});

test('attentionTransfer is 0 with zero gradients for identical features, in both modes (the L2 norm has gradient 0 at 0)', async () => {
  const x = tf.randomNormal([3, 6, 2, 4], 0, 1, 'float32', 3);
  for (const mode of ['code', 'paper'] as const) {
    assertClose(attentionTransfer(x, x, { mode }), 0, { atol: 1e-7, label: `AT(x, x) ${mode}` });
    // A copy: tf.grad of f(a, x) at a = x itself would differentiate through both arguments.
    const copy = x.clone();
    const g = tf.grad((a: tf.Tensor) => attentionTransfer(a, x, { mode }))(copy);
    const v = await g.data();
    tf.dispose([copy, g]);
    assert.ok(v.every((e) => e === 0), `${mode}: gradient at identical features is not 0: ${v.slice(0, 4)}`);
  }
  // Scaling a feature (or reordering its channels) leaves its normalised attention map unchanged.
  const scaled = tf.mul(tf.reverse(x, 3), 7);
  assertClose(attentionTransfer(scaled, x, { mode: 'paper' }), 0, { atol: 1e-6, label: 'AT(7 x reversed, x)' });
  tf.dispose([x, scaled]);
});

test('attentionTransfer compares students and teachers with different channel counts; paper = sum of row norms / batch', async () => {
  const s = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 4);
  const t = tf.randomNormal([2, 4, 8], 0, 1, 'float32', 5);
  const as = attentionMap(s, { reduce: 'sum' }), at = attentionMap(t, { reduce: 'sum' });
  const expected = tf.div(tf.sum(tf.norm(tf.sub(as, at), 2, 1)), 2);
  assertClose(attentionTransfer(s, t, { mode: 'paper' }), expected, { atol: 1e-6, label: 'paper by hand' });
  assertClose(attentionTransfer(s, t), tf.mean(tf.square(tf.sub(attentionMap(s), attentionMap(t)))), { atol: 1e-7, label: 'code by hand' });
  tf.dispose([s, t, as, at, expected]);
});

test('attentionMap and attentionTransfer reject bad shapes and options, naming the shapes', () => {
  const a = tf.zeros([2, 5, 3]), b = tf.zeros([2, 6, 3]), c = tf.zeros([2, 5]), d = tf.zeros([2, 5, 1, 3]);
  assert.throws(() => attentionTransfer(a, b), /student \[2, 5, 3\] and teacher \[2, 6, 3\]/);
  assert.throws(() => attentionTransfer(a, d), /student \[2, 5, 3\] and teacher \[2, 5, 1, 3\]/);
  assert.throws(() => attentionTransfer(c, c), /got student \[2, 5\]/);
  assert.throws(() => attentionTransfer(a, a, { mode: 'both' as AttentionTransferMode }), /mode must be 'code' or 'paper'/);
  assert.throws(() => attentionMap(c), /got \[2, 5\]/);
  assert.throws(() => attentionMap(a, { over: 'freq' as AttentionAxis }), /over must be/);
  assert.throws(() => attentionMap(a, { p: 0 }), /p must be a finite number > 0; got 0/);
  assert.throws(() => attentionMap(a, { normalize: 'softmax' as AttentionNormalization }), /normalize must be/);
  assert.throws(() => attentionMap(a, { reduce: 'max' as 'sum' }), /reduce must be/);
  tf.dispose([a, b, c, d]);
});

test('attentionMap and attentionTransfer leak no tensors, gradients included', async () => {
  const s = tf.randomNormal([2, 4, 3, 5], 0, 1, 'float32', 6);
  const t = tf.randomNormal([2, 4, 3, 2], 0, 1, 'float32', 7);
  await assertNoLeak(() => attentionMap(s, { over: 'channel', p: 3, normalize: 'sum' }), 'attentionMap');
  await assertNoLeak(() => attentionTransfer(s, t), 'attentionTransfer code');
  await assertNoLeak(() => attentionTransfer(s, t, { mode: 'paper' }), 'attentionTransfer paper');
  await assertNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => attentionTransfer(a, b, { mode: 'paper' }))([s, t]), 'attentionTransfer grads');
  tf.dispose([s, t]);
});
