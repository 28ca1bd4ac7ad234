import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { eer } from '../../lib/metrics/eer';
import { setupBackend, assertClose, assertNoLeak } from '../helpers';
import { verificationCases } from './verification_fixture';

before(async () => { await setupBackend(); });

test('eer equals the sklearn roc_curve + linear interpolation at FPR = FNR recipe (checked there against brentq)', async () => {
  for (const c of verificationCases) {
    const r = await eer(c.scores, c.labels);
    assertClose(r.eer, c.eer, { atol: 1e-14, rtol: 0, label: `eer ${c.name}` });
    assertClose(r.threshold, c.eer_threshold, { atol: 1e-12, rtol: 1e-12, label: `eer threshold ${c.name}` });
    assert.ok(r.eer >= 0 && r.eer <= 1, `${c.name}: eer ${r.eer} outside [0, 1]`);
  }
});

test('eer accepts tensors (float32 scores, int32 or bool labels)', async () => {
  const c = verificationCases.find((x) => x.name.startsWith('gaussian_6'))!;
  const s = tf.tensor1d(c.scores), l = tf.tensor1d(c.labels, 'int32'), b = tf.tensor1d(c.labels.map(Boolean), 'bool');
  assertClose((await eer(s, l)).eer, c.eer, { atol: 1e-14, label: 'eer tensor input' });
  assertClose((await eer(s, b)).eer, c.eer, { atol: 1e-14, label: 'eer bool labels' });
  tf.dispose([s, l, b]);
});

test('eer: perfect separation is 0 at the lowest target score, inverted scores 1, constant scores 0.5', async () => {
  assert.deepEqual(await eer([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0]), { eer: 0, threshold: 0.8 });
  assert.equal((await eer([0.1, 0.2, 0.9, 0.8], [1, 1, 0, 0])).eer, 1);
  assert.equal((await eer([3, 3, 3, 3, 3], [1, 0, 0, 1, 0])).eer, 0.5);
});

test('eer is unchanged by a strictly increasing map of the scores, and by swapping classes while negating scores', async () => {
  for (const c of verificationCases) {
    const base = (await eer(c.scores, c.labels)).eer;
    const mapped = await eer(c.scores.map((s) => Math.exp(s / 4) * 3 - 1), c.labels);
    assert.equal(mapped.eer, base, `${c.name}: monotone map`);
    const swapped = await eer(c.scores.map((s) => -s), c.labels.map((l) => 1 - l));
    assertClose(swapped.eer, base, { atol: 1e-12, label: `eer class swap ${c.name}` });
  }
});

test('eer rejects labels that are not 0/1 and trial lists missing a class', async () => {
  assert.throws(() => eer([0.1, 0.5], [0, 0.5]), /labels must be 0 \(non-target\) or 1 \(target\)/);
  assert.throws(() => eer([0.1, 0.5], [1, 1]), /^Error: eer: needs at least one target/);
});

test('eer reads tensors without leaking', async () => {
  const s = tf.tensor1d([0.3, 0.1, 0.7, 0.4]), l = tf.tensor1d([1, 0, 1, 0], 'int32');
  await assertNoLeak(() => eer(s, l), 'eer');
  tf.dispose([s, l]);
});
