import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { rocCurve, detCurve } from '../../lib/metrics/roc_curve';
import { setupBackend, assertClose, assertNoLeak } from '../helpers';
import { verificationCases } from './verification_fixture';

before(async () => { await setupBackend(); });

// Rates are ratios of counts, computed the same way in float64 on both sides: any difference is a bug.
const EXACT = { atol: 1e-15, rtol: 0 };

test('rocCurve equals sklearn roc_curve (drop_intermediate on and off) on random, tied and edge-case scores', async () => {
  assert.ok(verificationCases.length >= 20);
  for (const c of verificationCases) {
    const roc = await rocCurve(c.scores, c.labels);
    assertClose(roc.fpr, c.roc.fpr, { ...EXACT, label: `roc fpr ${c.name}` });
    assertClose(roc.tpr, c.roc.tpr, { ...EXACT, label: `roc tpr ${c.name}` });
    assert.equal(roc.thresholds[0], Infinity);
    assertClose(roc.thresholds.slice(1), c.roc.thresholds_tail, { ...EXACT, label: `roc thresholds ${c.name}` });
    const full = await rocCurve(c.scores, c.labels, { dropIntermediate: false });
    assertClose(full.fpr, c.roc_full.fpr, { ...EXACT, label: `roc full fpr ${c.name}` });
    assertClose(full.tpr, c.roc_full.tpr, { ...EXACT, label: `roc full tpr ${c.name}` });
    assertClose(full.thresholds.slice(1), c.roc_full.thresholds_tail, { ...EXACT, label: `roc full thresholds ${c.name}` });
  }
});

test('detCurve equals sklearn det_curve', async () => {
  for (const c of verificationCases) {
    const det = await detCurve(c.scores, c.labels);
    assertClose(det.fpr, c.det.fpr, { ...EXACT, label: `det fpr ${c.name}` });
    assertClose(det.fnr, c.det.fnr, { ...EXACT, label: `det fnr ${c.name}` });
    assertClose(det.thresholds, c.det.thresholds, { ...EXACT, label: `det thresholds ${c.name}` });
  }
});

test('rocCurve reads float32 tensors (scores the fixture keeps float32-exact) the same as arrays', async () => {
  for (const c of verificationCases.filter((x) => x.name.startsWith('ties_') || x.name.startsWith('gaussian_1'))) {
    const s = tf.tensor1d(c.scores), l = tf.tensor1d(c.labels, 'int32');
    const roc = await rocCurve(s, l);
    assertClose(roc.fpr, c.roc.fpr, { ...EXACT, label: `roc tensor fpr ${c.name}` });
    assertClose(roc.thresholds.slice(1), c.roc.thresholds_tail, { ...EXACT, label: `roc tensor thresholds ${c.name}` });
    tf.dispose([s, l]);
  }
});

test('rocCurve starts at (0, 0), ends at (1, 1), and both rates never decrease', async () => {
  for (const c of verificationCases) {
    const { fpr, tpr, thresholds } = await rocCurve(c.scores, c.labels, { dropIntermediate: false });
    assert.deepEqual([fpr[0], tpr[0], fpr[fpr.length - 1], tpr[tpr.length - 1]], [0, 0, 1, 1], c.name);
    for (let k = 1; k < fpr.length; k++) {
      assert.ok(fpr[k] >= fpr[k - 1] && tpr[k] >= tpr[k - 1] && thresholds[k] < thresholds[k - 1], `${c.name} point ${k}`);
    }
  }
});

test('rocCurve and detCurve reject bad trials: labels not 0/1, a missing class, unequal lengths, non-finite scores, 2-D input', async () => {
  assert.throws(() => rocCurve([0.1, 0.2, 0.3], [0, 1, 2]), /labels must be 0 \(non-target\) or 1 \(target\); labels\[2\] is 2/);
  assert.throws(() => rocCurve([0.1, 0.2], [-1, 1]), /labels\[0\] is -1/);
  assert.throws(() => rocCurve([0.1, 0.2, 0.3], [1, 1, 1]), /at least one target \(label 1\) and one non-target \(label 0\) trial; got 3 target and 0 non-target/);
  assert.throws(() => detCurve([0.1, 0.2], [0, 0]), /got 0 target and 2 non-target/);
  assert.throws(() => rocCurve([0.1, 0.2, 0.3], [0, 1]), /3 scores but 2 labels/);
  assert.throws(() => rocCurve([0.1, NaN], [0, 1]), /scores must be finite; scores\[1\] is NaN/);
  assert.throws(() => rocCurve([], []), /at least one target/);
  const m = tf.zeros([2, 2]);
  assert.throws(() => rocCurve(m, [0, 1]), /scores must be 1-D; got a tensor of shape \[2, 2\]/);
  m.dispose();
});

test('rocCurve and detCurve read tensors without leaking', async () => {
  const s = tf.tensor1d([0.3, 0.1, 0.7, 0.4, 0.4]), l = tf.tensor1d([1, 0, 1, 0, 1], 'int32');
  await assertNoLeak(() => rocCurve(s, l), 'rocCurve');
  await assertNoLeak(() => detCurve(s, l), 'detCurve');
  tf.dispose([s, l]);
});
