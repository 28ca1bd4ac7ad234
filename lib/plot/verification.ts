// Verification plots from trial scores: DET (probit axes) and ROC curves, score distributions.
import { detCurve as detRates, readTrials as checkTrials, rocCurve as rocRates } from '../metrics/roc_curve';
import { Figure, FigureOptions, Trace, Vector, axis, baseLayout, color, describe, isArrayOrTensor, named, toVector } from './figure';
import { probit } from './normal';

/** Verification trials: one score per trial and its label, 1 = target (same speaker), 0 = non-target. */
export interface Trials {
  /** Higher means more likely a target trial. */
  scores: Vector;
  /** 1 for a target trial, 0 for a non-target trial. */
  labels: Vector;
}

function isTrials(x: unknown): x is Trials {
  return typeof x === 'object' && x !== null && isArrayOrTensor((x as Trials).scores) &&
    isArrayOrTensor((x as Trials).labels);
}

/**
 * Reads trials with `await t.data()` as every plot helper does, then checks them as the metrics do (equal
 * lengths, finite scores, labels 0/1, both classes) so that errors name the argument, e.g. `trials.student`.
 */
async function readTrials(trials: unknown, arg: string): Promise<{ scores: number[]; labels: number[] }> {
  if (!isTrials(trials)) throw new Error(`${arg}: expected {scores, labels}, received ${describe(trials)}`);
  const scores = await toVector(trials.scores, `${arg}.scores`);
  const labels = await toVector(trials.labels, `${arg}.labels`);
  checkTrials(scores, labels, arg);
  return { scores, labels };
}

/** Options of `detCurve`. */
export interface DetCurveOptions extends FigureOptions {
  /** Visible range of both error rates, as fractions. Default: [0.001, 0.5]. */
  range?: [number, number];
  /** x-axis title. Default: 'false alarm rate (%)'. */
  xTitle?: string;
  /** y-axis title. Default: 'miss rate (%)'. */
  yTitle?: string;
}

/** Candidate DET ticks, as fractions. */
const DET_TICKS = [1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8,
  0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999];

/** A rate of 0 or 1 lies at infinity on a probit axis: draw it just beyond any visible range instead. */
const PROBIT_CLIP = 1e-9;

function probitAxis(title: string, lo: number, hi: number): Record<string, unknown> {
  const ticks = DET_TICKS.filter((p) => p >= lo * (1 - 1e-9) && p <= hi * (1 + 1e-9));
  return axis(title, {
    range: [probit(lo), probit(hi)], tickvals: ticks.map(probit),
    ticktext: ticks.map((p) => String(Number((p * 100).toPrecision(6)))), zeroline: false, constrain: 'domain',
  });
}

/**
 * DET curves (Martin et al. 1997) of one or several systems, e.g. `detCurve({teacher, student})` with
 * each a Trials: miss rate against false alarm rate on normal-deviate (probit) axes, where the curve of
 * Gaussian scores is a straight line; the axes are labelled in percent. The dashed diagonal is
 * miss = false alarm: a curve crosses it at its EER. Points are from `metrics.detCurve` (sklearn's
 * det_curve); a rate of exactly 0 is drawn beyond the visible range.
 */
export async function detCurve(trials: Trials | Record<string, Trials>, opts: DetCurveOptions = {}): Promise<Figure> {
  const { range = [0.001, 0.5], xTitle = 'false alarm rate (%)', yTitle = 'miss rate (%)' } = opts;
  if (!(Array.isArray(range) && range.length === 2 && range[0] > 0 && range[1] < 1 && range[0] < range[1])) {
    throw new Error(`detCurve: options.range must be [lo, hi] with 0 < lo < hi < 1, received ${JSON.stringify(range)}`);
  }
  const [lo, hi] = range;
  const entries = named(trials, isTrials, 'system', 'trials');
  const clip = (p: number) => probit(Math.min(Math.max(p, PROBIT_CLIP), 1 - PROBIT_CLIP));
  const data: Trace[] = [];
  for (let i = 0; i < entries.length; i++) {
    const { name, value, arg } = entries[i];
    const { scores, labels } = await readTrials(value, arg);
    const det = detRates(scores, labels);
    data.push({
      type: 'scatter', mode: 'lines', name, x: det.fpr.map(clip), y: det.fnr.map(clip),
      customdata: det.fpr.map((f, k) => [f, det.fnr[k], det.thresholds[k]]), line: { color: color(i), width: 2 },
      hovertemplate: 'false alarm %{customdata[0]:.2%}<br>miss %{customdata[1]:.2%}<br>threshold %{customdata[2]:.4g}',
    });
  }
  data.push({ type: 'scatter', mode: 'lines', name: 'miss = false alarm', x: [probit(lo), probit(hi)],
    y: [probit(lo), probit(hi)], showlegend: false, hoverinfo: 'skip', line: { color: '#999', dash: 'dash', width: 1 } });
  const layout = baseLayout(opts);
  layout.xaxis = probitAxis(xTitle, lo, hi);
  layout.yaxis = { ...probitAxis(yTitle, lo, hi), scaleanchor: 'x' };
  return { data, layout };
}

/** Options of `rocCurve`. */
export interface RocCurveOptions extends FigureOptions {
  /** Append the area under the curve to each legend entry. Default: true. */
  showAuc?: boolean;
  /** x-axis title. Default: 'false positive rate'. */
  xTitle?: string;
  /** y-axis title. Default: 'true positive rate'. */
  yTitle?: string;
}

/** Area under a piecewise-linear curve through (x, y), x non-decreasing (trapezoids). */
function trapezoid(x: number[], y: number[]): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return area;
}

/**
 * ROC curves of one or several systems (true positive rate against false positive rate, from
 * `metrics.rocCurve` with intermediate collinear points dropped), with the chance diagonal and each system's
 * AUC in its legend entry.
 */
export async function rocCurve(trials: Trials | Record<string, Trials>, opts: RocCurveOptions = {}): Promise<Figure> {
  const { showAuc = true, xTitle = 'false positive rate', yTitle = 'true positive rate' } = opts;
  const entries = named(trials, isTrials, 'system', 'trials');
  const data: Trace[] = [];
  for (let i = 0; i < entries.length; i++) {
    const { name, value, arg } = entries[i];
    const { scores, labels } = await readTrials(value, arg);
    const roc = rocRates(scores, labels, { dropIntermediate: true });
    const auc = trapezoid(roc.fpr, roc.tpr);
    data.push({
      type: 'scatter', mode: 'lines', name: showAuc ? `${name} (AUC ${auc.toFixed(3)})` : name, x: roc.fpr, y: roc.tpr,
      line: { color: color(i), width: 2 },
    });
  }
  data.push({ type: 'scatter', mode: 'lines', name: 'chance', x: [0, 1], y: [0, 1], showlegend: false, hoverinfo: 'skip',
    line: { color: '#999', dash: 'dash', width: 1 } });
  const layout = baseLayout(opts);
  layout.xaxis = axis(xTitle, { range: [0, 1], constrain: 'domain' });
  layout.yaxis = axis(yTitle, { range: [0, 1], scaleanchor: 'x', constrain: 'domain' });
  return { data, layout };
}

/** Options of `scoreDistributions`. */
export interface ScoreDistributionsOptions extends FigureOptions {
  /** Number of equal-width bins spanning all scores. Default: 50. */
  bins?: number;
  /** 'density' (each class integrates to 1, so unequal class sizes compare) or 'count'. Default: 'density'. */
  normalize?: 'density' | 'count';
  /** Draw a vertical line at this decision threshold (e.g. the EER threshold). Default: none. */
  threshold?: number;
  /** x-axis title. Default: 'score'. */
  xTitle?: string;
  /** Legend names of the two classes. Default: ['target', 'non-target']. */
  names?: [string, string];
}

/** Histogram of `values` on the bins [lo + k w, lo + (k + 1) w); the last bin also holds hi. */
export function histogram(values: number[], lo: number, width: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)))]++;
  return counts;
}

/**
 * Score distributions of target and non-target trials as two overlaid histograms on common bins, e.g.
 * `scoreDistributions({scores, labels}, {threshold: eer.threshold})`: how well the scores separate.
 */
export async function scoreDistributions(trials: Trials, opts: ScoreDistributionsOptions = {}): Promise<Figure> {
  const { bins = 50, normalize = 'density', xTitle = 'score', names = ['target', 'non-target'] } = opts;
  if (!(Number.isInteger(bins) && bins > 0)) {
    throw new Error(`scoreDistributions: options.bins must be a positive integer, received ${bins}`);
  }
  if (normalize !== 'density' && normalize !== 'count') {
    throw new Error(`scoreDistributions: options.normalize must be 'density' or 'count', received ${describe(normalize)}`);
  }
  const { scores, labels } = await readTrials(trials, 'trials');
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of scores) { if (s < lo) lo = s; if (s > hi) hi = s; }
  if (lo === hi) { lo -= 0.5; hi += 0.5; }
  const width = (hi - lo) / bins;
  const centers = Array.from({ length: bins }, (_, k) => lo + (k + 0.5) * width);
  const data: Trace[] = [1, 0].map((cls, i) => {
    const values = scores.filter((_, k) => labels[k] === cls);
    const counts = histogram(values, lo, width, bins);
    const y = normalize === 'density' ? counts.map((c) => c / (values.length * width)) : counts;
    return { type: 'bar', name: `${names[i]} (${values.length})`, x: centers, y, width, opacity: 0.55,
      marker: { color: color(i === 0 ? 2 : 3) } };
  });
  const layout = baseLayout(opts, { topSpace: opts.threshold === undefined ? 0 : 20 });
  layout.barmode = 'overlay';
  layout.bargap = 0;
  layout.xaxis = axis(xTitle);
  layout.yaxis = axis(normalize);
  if (opts.threshold !== undefined) {
    if (!Number.isFinite(opts.threshold)) throw new Error(`scoreDistributions: options.threshold must be finite, received ${opts.threshold}`);
    layout.shapes = [{ type: 'line', xref: 'x', yref: 'paper', x0: opts.threshold, x1: opts.threshold, y0: 0, y1: 1,
      line: { color: '#444', dash: 'dot', width: 1.5 } }];
    layout.annotations = [{ text: 'threshold', x: opts.threshold, xref: 'x', y: 1, yref: 'paper', yanchor: 'bottom',
      showarrow: false }];
  }
  return { data, layout };
}
