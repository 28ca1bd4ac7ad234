// PIT loss: equal to a brute-force PyTorch PIT and to asteroid's PITLossWrapper (pw_mtx, exhaustive and
// Hungarian), a known permutation is recovered, the solvers agree, the exhaustive path reads nothing back.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, fixture, fromFixture, assertClose, assertNoLeak, FixtureTensor } from '../helpers';
import { countReads } from './read_spy';
import { assignmentLoss, pairwiseLosses, pitFromPairwise, pitLoss, PitSolver } from '../../lib/pit';

const { cases } = fixture<{ cases: { est: FixtureTensor; ref: FixtureTensor; loss: number; perm: number[][]; grad: FixtureTensor; perExample: number[] }[] }>('pit_loss');

interface AsteroidCase {
  kind: string; solver: 'exhaustive' | 'hungarian'; est: FixtureTensor; ref: FixtureTensor; pairwise: FixtureTensor; loss: number;
  perExample: FixtureTensor; batchIndices: number[][]; perm: number[][]; reordered: FixtureTensor; grad: FixtureTensor;
}
const asteroid = fixture<{ cases: AsteroidCase[] }>('pit_asteroid');

before(async () => {
  await setupBackend();
});

for (const c of cases) {
  test(`pitLoss on ${c.est.shape} equals brute-force PyTorch: loss, assignment, gradient`, async () => {
    const est = fromFixture(c.est), ref = fromFixture(c.ref);
    const r = pitLoss(est, ref, { solver: 'exhaustive' });
    assertClose(r.loss, c.loss, { atol: 1e-4, label: 'pit loss' });
    assertClose(r.perExample, c.perExample, { atol: 1e-4, label: 'pit per example' });
    assert.equal(r.perm.dtype, 'int32');
    assert.deepEqual(await r.perm.array(), c.perm);
    const g = tf.grad((e: tf.Tensor) => pitLoss(e, ref).loss)(est);
    assertClose(g, c.grad, { atol: 1e-4, rtol: 1e-3, label: 'pit grad' });
    tf.dispose([est, ref, r.loss, r.perExample, r.perm, g]);
  });
}

for (const c of asteroid.cases) {
  const [B, S] = c.est.shape;
  test(`pitLoss equals asteroid's PITLossWrapper(pairwise_neg_sisdr, 'pw_mtx') on ${c.kind} [${c.est.shape}] (asteroid: ${c.solver})`, async () => {
    const est = fromFixture(c.est), ref = fromFixture(c.ref);
    const pw = pairwiseLosses(est, ref);
    // asteroid takes 10 log10(ratio + 1e-8), slimspeech (torchmetrics) 10 log10((|t|^2 + eps) / (|n|^2 + eps)): they
    // part only for nearly orthogonal pairs (below about -30 dB, where 1e-8 is not small against the ratio).
    const got = pw.dataSync(), close: number[] = [], closeRef: number[] = [];
    c.pairwise.data.forEach((v, k) => { if (Math.abs(v) < 30) { close.push(got[k]); closeRef.push(v); } });
    assertClose(got, c.pairwise.data, { atol: 0.1, label: 'asteroid pairwise, all' });
    assertClose(close, closeRef, { atol: 2e-4, rtol: 1e-4, label: 'asteroid pairwise above -30 dB' });
    const solvers: PitSolver[] = ['auto', 'exhaustive', 'hungarian'];
    for (const solver of solvers) {
      const r = pitLoss(est, ref, { solver });
      assertClose(r.loss, c.loss, { atol: 1e-4, label: `asteroid loss (${solver})` });
      assertClose(r.perExample, c.perExample, { atol: 1e-4, label: `asteroid per example (${solver})` });
      assert.deepEqual(await r.perm.array(), c.perm, `assignment (${solver}): perm[b][i] is the inverse of asteroid's batch_indices`);
      tf.dispose([r.loss, r.perExample, r.perm]);
    }
    // The gradient flows through the best assignment only, on both solvers.
    for (const solver of ['exhaustive', 'hungarian'] as PitSolver[]) {
      const g = tf.grad((e: tf.Tensor) => pitLoss(e, ref, { solver }).loss)(est);
      assertClose(g, c.grad, { atol: 1e-5, rtol: 2e-3, label: `asteroid grad (${solver})` });
      g.dispose();
    }
    tf.dispose([est, ref, pw]);
    assert.equal(B * S > 0, true);
  });
}

test('a known assignment: the loss is that assignment\'s mean pair loss and perm is that assignment (S = 2..5)', async () => {
  for (const [S, perms] of [[2, [[1, 0], [0, 1]]], [3, [[2, 0, 1], [1, 2, 0]]], [4, [[3, 1, 0, 2], [1, 0, 3, 2]]], [5, [[4, 0, 1, 3, 2], [0, 1, 2, 3, 4]]]] as [number, number[][]][]) {
    const ref = tf.randomNormal([2, S, 64], 0, 1, 'float32', 3 + S);
    const noise = tf.randomNormal([2, S, 64], 0, 0.3, 'float32', 9 + S);
    // Estimate i is a noisy copy of reference perms[b][i].
    const est = tf.add(tf.stack(perms.map((p, b) => tf.gather(tf.squeeze(tf.slice(ref, [b, 0, 0], [1, S, 64]), [0]), p))), noise);
    const pw = pairwiseLosses(est, ref);
    const known = tf.tensor2d(perms, [2, S], 'int32');
    const expected = assignmentLoss(pw, known);
    for (const solver of ['auto', 'exhaustive', 'hungarian'] as PitSolver[]) {
      const r = pitLoss(est, ref, { solver });
      assert.deepEqual(await r.perm.array(), perms, `S = ${S}, ${solver}`);
      assertClose(r.perExample, expected, { atol: 1e-5, label: `known assignment S = ${S}` });
      assertClose(r.loss, tf.mean(expected), { atol: 1e-5, label: `known assignment loss S = ${S}` });
      tf.dispose([r.loss, r.perExample, r.perm]);
    }
    tf.dispose([ref, noise, est, pw, known, expected]);
  }
});

test('a perfect estimate in a known order gives a very negative loss and is recovered', async () => {
  const ref = tf.randomNormal([2, 3, 64], 0, 1, 'float32', 3);
  const est = tf.stack([tf.gather(ref.slice([0, 0, 0], [1, 3, 64]).squeeze([0]), [2, 0, 1]), tf.gather(ref.slice([1, 0, 0], [1, 3, 64]).squeeze([0]), [1, 2, 0])]);
  const r = pitLoss(est, ref);
  // est[0] = ref[0][[2, 0, 1]]: estimate 0 is reference 2, estimate 1 is reference 0, estimate 2 is reference 1.
  assert.deepEqual(await r.perm.array(), [[2, 0, 1], [1, 2, 0]]);
  // SI-SNR of a perfect estimate is 10 log10((|t|^2 + eps) / eps): very negative loss.
  assert.ok(r.loss.dataSync()[0] < -60);
  tf.dispose([ref, est, r.loss, r.perExample, r.perm]);
});

test('exhaustive search and the Hungarian solver agree on random pairwise matrices (S = 2..6)', async () => {
  for (let S = 2; S <= 6; S++) {
    const pw = tf.randomUniform([16, S, S], -20, 20, 'float32', 40 + S);
    const a = pitFromPairwise(pw, { solver: 'exhaustive' }), b = pitFromPairwise(pw, { solver: 'hungarian' });
    assert.deepEqual(await a.perm.array(), await b.perm.array(), `S = ${S}`);
    assertClose(a.perExample, b.perExample, { atol: 1e-5, label: `solvers S = ${S}` });
    tf.dispose([pw, a.loss, a.perm, a.perExample, b.loss, b.perm, b.perExample]);
  }
});

test('the exhaustive path (auto up to 3 sources) reads nothing back from the device; the Hungarian path does', () => {
  for (const S of [1, 2, 3]) {
    const est = tf.randomNormal([4, S, 50], 0, 1, 'float32', S), ref = tf.randomNormal([4, S, 50], 0, 1, 'float32', 10 + S);
    let r: ReturnType<typeof pitLoss> | undefined;
    const reads = countReads(() => {
      r = pitLoss(est, ref);
      tf.grad((x: tf.Tensor) => pitLoss(x, ref).loss)(est).dispose();
    });
    assert.equal(reads, 0, `S = ${S}: ${reads} read(s) from the device`);
    tf.dispose([est, ref, r!.loss, r!.perm, r!.perExample]);
  }
  const est = tf.randomNormal([2, 4, 50]), ref = tf.randomNormal([2, 4, 50]);
  let r: ReturnType<typeof pitLoss> | undefined;
  assert.ok(countReads(() => { r = pitLoss(est, ref); }) > 0, 'the spy sees the Hungarian path read back');
  tf.dispose([est, ref, r!.loss, r!.perm, r!.perExample]);
});

test('pitLoss, pairwiseLosses, pitFromPairwise and assignmentLoss check shapes and leak nothing', async () => {
  assert.throws(() => pitLoss(tf.zeros([2, 2, 10]), tf.zeros([2, 3, 10])), /\[batch, sources, time\], got \[2,2,10\] and \[2,3,10\]/);
  assert.throws(() => pairwiseLosses(tf.zeros([2, 10]), tf.zeros([2, 10])), /got \[2,10\] and \[2,10\]/);
  assert.throws(() => pitLoss(tf.zeros([1, 2, 10]), tf.zeros([1, 2, 10]), { pairLoss: (e) => tf.sum(e, -1) }), /pairLoss must give \[batch, S, S\] = \[1, 2, 2\], got \[1,2,1\]/);
  assert.throws(() => pitFromPairwise(tf.zeros([2, 2, 3])), /\[batch, S, S\], got \[2,2,3\]/);
  assert.throws(() => pitFromPairwise(tf.zeros([1, 9, 9]), { solver: 'exhaustive' }), /sources <= 8/);
  assert.throws(() => assignmentLoss(tf.zeros([2, 2, 2]), tf.zeros([2, 2])), /int32 perm \[batch, S\], got \[2,2,2\] and float32 \[2,2\]/);
  const e = tf.randomNormal([2, 2, 50]), r = tf.randomNormal([2, 2, 50]);
  const e4 = tf.randomNormal([2, 4, 50]), r4 = tf.randomNormal([2, 4, 50]);
  await assertNoLeak(() => pitLoss(e, r), 'pitLoss');
  await assertNoLeak(() => pitLoss(e4, r4), 'pitLoss (Hungarian)');
  await assertNoLeak(() => tf.grad((x: tf.Tensor) => pitLoss(x, r).loss)(e), 'pitLoss gradient');
  tf.dispose([e, r, e4, r4]);
});
