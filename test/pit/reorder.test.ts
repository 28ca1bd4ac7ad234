// Reordering estimates to follow the references: equal to asteroid's reorder_source, inverse permutations,
// gradients, errors, leaks.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, fixture, fromFixture, assertClose, assertNoLeak, FixtureTensor } from '../helpers';
import { invertPermutation, pitLoss, reorderSources } from '../../lib/pit';

const asteroid = fixture<{
  cases: { kind: string; est: FixtureTensor; ref: FixtureTensor; perm: number[][]; batchIndices: number[][]; reordered: FixtureTensor }[];
  reorder: { source: FixtureTensor; perm: number[][]; batchIndices: number[][]; reordered: FixtureTensor }[];
}>('pit_asteroid');

before(async () => {
  await setupBackend();
});

test('reorderSources(source, perm) equals asteroid\'s reorder_source(source, batch_indices) for perm = inverse of batch_indices', async () => {
  for (const c of asteroid.reorder) {
    const src = fromFixture(c.source), perm = tf.tensor2d(c.perm, undefined, 'int32');
    const out = reorderSources(src, perm);
    assertClose(out, c.reordered, { atol: 1e-6, rtol: 0, label: 'reorder_source' });
    const inv = invertPermutation(perm);
    assert.equal(inv.dtype, 'int32');
    assert.deepEqual(await inv.array(), c.batchIndices);
    tf.dispose([src, perm, out, inv]);
  }
});

test('pitLoss then reorderSources equals asteroid\'s PITLossWrapper(..., return_est=True)', () => {
  for (const c of asteroid.cases) {
    const est = fromFixture(c.est), ref = fromFixture(c.ref);
    const r = pitLoss(est, ref);
    const out = reorderSources(est, r.perm);
    assertClose(out, c.reordered, { atol: 1e-6, rtol: 0, label: `return_est ${c.kind} [${c.est.shape}]` });
    tf.dispose([est, ref, r.loss, r.perm, r.perExample, out]);
  }
});

test('invertPermutation is an involution and reorderSources pairs estimate i with reference perm[i]', async () => {
  const perm = tf.tensor2d([[2, 0, 3, 1], [0, 1, 2, 3], [3, 2, 1, 0]], undefined, 'int32');
  const inv = invertPermutation(perm);
  assert.deepEqual(await inv.array(), [[1, 3, 0, 2], [0, 1, 2, 3], [3, 2, 1, 0]]);
  const back = invertPermutation(inv);
  assert.deepEqual(await back.array(), await perm.array());
  // Estimate i of example b holds the value 10 * b + i: output k must be the estimate whose perm is k.
  const est = tf.tensor3d([0, 1, 2].map((b) => [0, 1, 2, 3].map((i) => [10 * b + i])));
  const out = await reorderSources(est, perm).array() as number[][][];
  const p = await perm.array();
  p.forEach((row, b) => row.forEach((k, i) => assert.equal(out[b][k][0], 10 * b + i)));
  const one = tf.tensor2d([[0], [0]], undefined, 'int32');
  assert.deepEqual(await invertPermutation(one).array(), [[0], [0]]);
  tf.dispose([perm, inv, back, est, one]);
});

test('the gradient of reorderSources routes each output\'s gradient back to its estimate', async () => {
  const perm = tf.tensor2d([[1, 2, 0], [0, 2, 1]], undefined, 'int32');
  const est = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1);
  const w = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 2);
  const g = tf.grad((e: tf.Tensor) => tf.sum(tf.mul(reorderSources(e, perm), w)))(est);
  // d/d est[b, i] = w[b, perm[b, i]]: estimate i went to output perm[b, i].
  const p = await perm.array(), wv = await w.array() as number[][][];
  assertClose(g, p.flatMap((row, b) => row.flatMap((k) => wv[b][k])), { atol: 1e-6, label: 'reorder gradient' });
  tf.dispose([perm, est, w, g]);
});

test('reorderSources and invertPermutation check their inputs and leak nothing', async () => {
  const est = tf.zeros([2, 3, 5]);
  assert.throws(() => reorderSources(est, tf.zeros([2, 3])), /int32 \[batch, sources\] tensor, got float32 \[2,3\]/);
  assert.throws(() => reorderSources(est, tf.zeros([2, 2], 'int32')), /got \[2,3,5\] and \[2,2\]/);
  assert.throws(() => invertPermutation(tf.zeros([3], 'int32')), /got int32 \[3\]/);
  const perm = tf.tensor2d([[1, 2, 0], [0, 2, 1]], undefined, 'int32');
  await assertNoLeak(() => reorderSources(est, perm), 'reorderSources');
  await assertNoLeak(() => invertPermutation(perm), 'invertPermutation');
  tf.dispose([est, perm]);
});
