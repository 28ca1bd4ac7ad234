import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { minDcf } from '../../lib/metrics/min_dcf';
import { setupBackend, assertClose, assertNoLeak } from '../helpers';
import { verificationCases } from './verification_fixture';

before(async () => { await setupBackend(); });

test('minDcf equals the NIST normalised minDCF written in numpy (and SpeechBrain\'s, where accept-all is not optimal)', async () => {
  let checked = 0;
  for (const c of verificationCases) {
    for (const p of c.min_dcf) {
      const r = await minDcf(c.scores, c.labels, { pTarget: p.p_target, cMiss: p.c_miss, cFa: p.c_fa });
      const label = `minDcf ${c.name} p=${p.p_target} cMiss=${p.c_miss} cFa=${p.c_fa}`;
      assertClose(r.minDcf, p.min_dcf, { atol: 1e-14, rtol: 1e-14, label });
      assert.equal(r.threshold, p.threshold === null ? Infinity : p.threshold, `${label}: threshold`);
      assert.ok(r.minDcf >= 0 && r.minDcf <= 1 + 1e-12, `${label}: ${r.minDcf} outside [0, 1] (a trivial system costs 1)`);
      checked++;
    }
  }
  assert.ok(checked >= 100);
});

test('minDcf defaults to pTarget 0.01, cMiss = cFa = 1, and reads tensors', async () => {
  const c = verificationCases.find((x) => x.name.startsWith('gaussian_1'))!;
  const p = c.min_dcf.find((x) => x.p_target === 0.01 && x.c_miss === 1 && x.c_fa === 1)!;
  const s = tf.tensor1d(c.scores), l = tf.tensor1d(c.labels, 'int32');
  const r = await minDcf(s, l);
  assertClose(r.minDcf, p.min_dcf, { atol: 1e-14, label: 'minDcf defaults, tensor input' });
  assert.equal(r.threshold, p.threshold);
  tf.dispose([s, l]);
});

test('minDcf: perfect separation costs 0; reversed scores cost 1 with reject-all (+Infinity) as the threshold', async () => {
  assert.deepEqual(await minDcf([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0]), { minDcf: 0, threshold: 0.8 });
  assert.deepEqual(await minDcf([0.1, 0.2, 0.9, 0.8], [1, 1, 0, 0]), { minDcf: 1, threshold: Infinity });
  // pTarget 0.5: C_def = 0.5, and accepting everything (threshold = lowest score) costs 0.5 too; the
  // lowest of the tied thresholds is returned.
  assert.deepEqual(await minDcf([0.1, 0.2, 0.9, 0.8], [1, 1, 0, 0], { pTarget: 0.5 }), { minDcf: 1, threshold: 0.1 });
});

test('minDcf rejects bad cost parameters and bad trials', async () => {
  assert.throws(() => minDcf([0, 1], [0, 1], { pTarget: 0 }), /pTarget must lie in \(0, 1\); got 0/);
  assert.throws(() => minDcf([0, 1], [0, 1], { pTarget: 1 }), /pTarget/);
  assert.throws(() => minDcf([0, 1], [0, 1], { cMiss: 0 }), /cMiss and cFa must be finite and > 0; got cMiss 0, cFa 1/);
  assert.throws(() => minDcf([0, 1], [0, 3]), /^Error: minDcf: labels must be 0/);
  assert.throws(() => minDcf([0, 1], [0, 0]), /minDcf: needs at least one target/);
});

test('minDcf reads tensors without leaking', async () => {
  const s = tf.tensor1d([0.3, 0.1, 0.7, 0.4]), l = tf.tensor1d([1, 0, 1, 0], 'int32');
  await assertNoLeak(() => minDcf(s, l), 'minDcf');
  tf.dispose([s, l]);
});
