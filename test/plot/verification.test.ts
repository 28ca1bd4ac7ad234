import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, fixture, setupBackend } from '../helpers';
import { probit } from '../../lib/plot/normal';
import { detCurve, histogram, rocCurve, scoreDistributions } from '../../lib/plot/verification';

interface Curve { fpr: number[]; tpr: number[]; thresholds_after_first: number[] }
interface DetRocFixture {
  trials: { scores: number[]; labels: number[] };
  roc: Curve;
  roc_drop_intermediate: Curve;
  det: { fpr: number[]; fnr: number[]; thresholds: number[] };
  det_probit_inside: { index: number[]; x: number[]; y: number[] };
}
// Written by test/reference/plot_det_roc.py: scipy.stats.norm.ppf, sklearn roc_curve and det_curve. The
// curves themselves are lib/metrics/roc_curve.ts, tested against sklearn in test/metrics/roc_curve.test.ts;
// here the figures are checked to carry them.
const fx = fixture<DetRocFixture>('plot_det_roc');
const { scores, labels } = fx.trials;

test('detCurve: hover data of the trace holds sklearn det_curve rates and thresholds', async () => {
  const fig = await detCurve({ scores, labels });
  const hover = fig.data[0].customdata as number[][];
  assertClose(hover.map((h) => h[0]), fx.det.fpr, { atol: 1e-15, label: 'det fpr' });
  assertClose(hover.map((h) => h[1]), fx.det.fnr, { atol: 1e-15, label: 'det fnr' });
  assertClose(hover.map((h) => h[2]), fx.det.thresholds, { atol: 0, label: 'det thresholds' });
});

test('detCurve: probit-transformed trace equals norm.ppf of the DET rates; tick labels are percents', async () => {
  await setupBackend();
  const s = tf.tensor1d(scores);
  const l = tf.tensor1d(labels, 'int32');
  const fig = await detCurve({ student: { scores: s, labels: l } }, { range: [0.01, 0.6] });
  tf.dispose([s, l]);
  assert.equal(fig.data.length, 2, 'one system and the diagonal');
  const trace = fig.data[0];
  assert.equal(trace.name, 'student');
  const x = trace.x as number[];
  const y = trace.y as number[];
  assertClose(fx.det_probit_inside.index.map((i) => x[i]), fx.det_probit_inside.x, { atol: 1e-6, rtol: 1e-6, label: 'det x' });
  assertClose(fx.det_probit_inside.index.map((i) => y[i]), fx.det_probit_inside.y, { atol: 1e-6, rtol: 1e-6, label: 'det y' });
  // Rates of exactly 0 lie at -infinity: drawn finite, far beyond the visible range.
  assert.ok(x.every(Number.isFinite) && y.every(Number.isFinite));
  const [lo, hi] = fig.layout.xaxis?.range as [number, number];
  assertClose([lo, hi], [probit(0.01), probit(0.6)], { atol: 1e-12 });
  assert.ok(Math.min(...x) < lo - 2, 'fpr = 0 is drawn off the axis');
  assert.deepEqual(fig.layout.xaxis?.ticktext, ['1', '2', '5', '10', '20', '40', '60']);
  assertClose(fig.layout.xaxis?.tickvals as number[], [0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6].map(probit));
  assert.equal(fig.layout.xaxis?.title?.text, 'false alarm rate (%)');
  assert.equal(fig.layout.yaxis?.title?.text, 'miss rate (%)');
  assert.equal(fig.layout.yaxis?.scaleanchor, 'x');
});

test('detCurve of Gaussian scores is close to the straight line probit(miss) = -d\' - probit(fa)', async () => {
  // Target scores ~ N(d', 1), non-target ~ N(0, 1), taken at exact quantiles so the empirical curve is
  // the theoretical one up to the sampling grid.
  const n = 2000;
  const d = 1.5;
  const q = Array.from({ length: n }, (_, i) => probit((i + 0.5) / n));
  const fig = await detCurve({ scores: [...q.map((v) => v + d), ...q], labels: [...q.map(() => 1), ...q.map(() => 0)] });
  const x = fig.data[0].x as number[];
  const y = fig.data[0].y as number[];
  for (let i = 0; i < x.length; i++) {
    if (Math.abs(x[i]) < 2 && Math.abs(y[i]) < 2) assert.ok(Math.abs(y[i] + d + x[i]) < 0.01, `point ${i}: (${x[i]}, ${y[i]})`);
  }
});

test('rocCurve: a trace per system with its AUC, and the chance diagonal', async () => {
  const fig = await rocCurve({ a: { scores, labels }, perfect: { scores: [0, 1, 2, 3], labels: [0, 0, 1, 1] } });
  assert.equal(fig.data.length, 3);
  assert.match(fig.data[0].name ?? '', /^a \(AUC 0\.\d{3}\)$/);
  assert.equal(fig.data[1].name, 'perfect (AUC 1.000)');
  assertClose(fig.data[0].x as number[], fx.roc_drop_intermediate.fpr, { atol: 1e-15, label: 'roc fpr' });
  assertClose(fig.data[0].y as number[], fx.roc_drop_intermediate.tpr, { atol: 1e-15, label: 'roc tpr' });
  assert.deepEqual(fig.data[2].x, [0, 1]);
  assert.equal(fig.layout.xaxis?.title?.text, 'false positive rate');
  // AUC by the Mann-Whitney statistic (ties count one half), independent of the ROC code.
  let wins = 0;
  let pairs = 0;
  scores.forEach((st, i) => labels[i] === 1 && scores.forEach((sn, j) => {
    if (labels[j] === 0) { pairs++; wins += st > sn ? 1 : st === sn ? 0.5 : 0; }
  }));
  assert.equal(fig.data[0].name, `a (AUC ${(wins / pairs).toFixed(3)})`);
});

test('verification inputs are checked, naming the argument: labels 0/1, both classes, equal lengths, finite scores', async () => {
  await assert.rejects(rocCurve({ scores: [1, 2], labels: [1, 2] }), /^Error: trials: labels must be 0 \(non-target\) or 1 \(target\); labels\[1\] is 2/);
  await assert.rejects(detCurve({ b: { scores: [1, 2], labels: [1, 1] } }), /^Error: trials\.b: needs at least one target \(label 1\) and one non-target \(label 0\) trial; got 2 target/);
  await assert.rejects(scoreDistributions({ scores: [1, NaN], labels: [0, 1] }), /^Error: trials: scores must be finite; scores\[1\] is NaN/);
  await assert.rejects(detCurve({ a: { scores: [1, 2, 3], labels: [0, 1] } }), /trials\.a: 3 scores but 2 labels/);
  await assert.rejects(detCurve({ scores: [1, 2], labels: [0, 1] }, { range: [0, 0.5] }), /range must be \[lo, hi\] with 0 < lo < hi < 1/);
  await assert.rejects(rocCurve({ a: [1, 2] } as never), /trials\.a: expected \{scores, labels\}/);
});

test('histogram puts values in [lo + k w, lo + (k + 1) w) and the maximum in the last bin', () => {
  assert.deepEqual(histogram([0, 0.49, 0.5, 1, 1.99, 2], 0, 0.5, 4), [2, 1, 1, 2]);
});

test('scoreDistributions: target and non-target densities on common bins, each integrating to 1', async () => {
  const fig = await scoreDistributions({ scores, labels }, { bins: 20, threshold: 0.75 });
  assert.equal(fig.data.length, 2);
  const nTarget = labels.filter((v) => v === 1).length;
  assert.deepEqual(fig.data.map((t) => t.name), [`target (${nTarget})`, `non-target (${labels.length - nTarget})`]);
  assert.deepEqual(fig.data[0].x, fig.data[1].x);
  for (const t of fig.data) {
    const area = (t.y as number[]).reduce((a, b) => a + b, 0) * (t.width as number);
    assertClose(area, 1, { atol: 1e-12 });
  }
  assert.equal(fig.layout.barmode, 'overlay');
  assert.equal((fig.layout.shapes as Array<{ x0: number }>)[0].x0, 0.75);
  const counts = await scoreDistributions({ scores, labels }, { normalize: 'count' });
  assert.equal((counts.data[0].y as number[]).reduce((a, b) => a + b, 0), nTarget);
  assert.equal(counts.layout.yaxis?.title?.text, 'count');
});
