import { NumbersLike, readVector } from './inputs';

/** A receiver operating characteristic, as sklearn.metrics.roc_curve returns it. */
export interface RocCurve {
  /** False-positive (false-acceptance) rate at each threshold, non-decreasing from 0 to 1. */
  fpr: number[];
  /** True-positive rate (1 - miss rate) at each threshold, non-decreasing from 0 to 1. */
  tpr: number[];
  /** Decreasing thresholds: trials with score >= thresholds[i] are accepted. thresholds[0] is +Infinity (accept nothing). */
  thresholds: number[];
}

/** A detection error trade-off curve, as sklearn.metrics.det_curve returns it. */
export interface DetCurve {
  /** False-positive (false-alarm) rate, decreasing. */
  fpr: number[];
  /** False-negative (miss) rate, increasing. */
  fnr: number[];
  /** Increasing thresholds: trials with score >= thresholds[i] are accepted. */
  thresholds: number[];
}

/** Options of {@link rocCurve}. */
export interface RocCurveOptions {
  /**
   * Drop the points that lie on a straight segment between their neighbours, as sklearn's
   * `drop_intermediate` (a point is kept when the second difference of its false- or true-positive count
   * is non-zero). The piecewise-linear curve is unchanged. Default true.
   */
  dropIntermediate?: boolean;
}

/** Scores and 0/1 labels of verification trials, validated (shared by metrics and plot). */
export interface Trials {
  scores: Float64Array;
  labels: Uint8Array;
  targets: number;
  nonTargets: number;
}

/**
 * Reads and validates trials: equal non-zero lengths, finite scores, labels exactly 0 or 1 (1 = target
 * trial), at least one trial of each class (shared by metrics and plot).
 */
export function readTrials(scores: NumbersLike, labels: NumbersLike, fn: string): Trials {
  const s = readVector(scores, 'scores', fn);
  const l = readVector(labels, 'labels', fn);
  if (s.length !== l.length) throw new Error(`${fn}: ${s.length} scores but ${l.length} labels`);
  const out = new Uint8Array(l.length);
  let targets = 0;
  for (let i = 0; i < l.length; i++) {
    if (l[i] !== 0 && l[i] !== 1) throw new Error(`${fn}: labels must be 0 (non-target) or 1 (target); labels[${i}] is ${l[i]}`);
    if (!Number.isFinite(s[i])) throw new Error(`${fn}: scores must be finite; scores[${i}] is ${s[i]}`);
    out[i] = l[i];
    targets += l[i];
  }
  const nonTargets = l.length - targets;
  if (targets === 0 || nonTargets === 0) {
    throw new Error(`${fn}: needs at least one target (label 1) and one non-target (label 0) trial; got ` +
      `${targets} target and ${nonTargets} non-target trials`);
  }
  return { scores: s, labels: out, targets, nonTargets };
}

/** Cumulative counts at each distinct score, highest score first (sklearn's _binary_clf_curve). */
export interface OperatingPoints {
  /** Non-targets with score >= thresholds[k]. */
  fps: number[];
  /** Targets with score >= thresholds[k]. */
  tps: number[];
  /** The distinct scores, decreasing. */
  thresholds: number[];
}

/** Counts accepted targets and non-targets at every distinct score, ties grouped (shared by metrics and plot). */
export function operatingPoints(trials: Trials): OperatingPoints {
  const { scores, labels } = trials;
  const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a]);
  const fps: number[] = [];
  const tps: number[] = [];
  const thresholds: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (labels[i] === 1) tp++; else fp++;
    // A threshold only separates distinct scores: tied trials are accepted or rejected together.
    if (k === order.length - 1 || scores[order[k + 1]] !== scores[i]) {
      fps.push(fp);
      tps.push(tp);
      thresholds.push(scores[i]);
    }
  }
  return { fps, tps, thresholds };
}

/** The ROC of validated trials (internal to slimspeech (metrics and plot); see {@link rocCurve}). */
export function rocFromTrials(trials: Trials, dropIntermediate: boolean): RocCurve {
  let { fps, tps, thresholds } = operatingPoints(trials);
  if (dropIntermediate && fps.length > 2) {
    const keep: number[] = [];
    for (let k = 0; k < fps.length; k++) {
      const corner = k === 0 || k === fps.length - 1 ||
        fps[k - 1] - 2 * fps[k] + fps[k + 1] !== 0 || tps[k - 1] - 2 * tps[k] + tps[k + 1] !== 0;
      if (corner) keep.push(k);
    }
    fps = keep.map((k) => fps[k]);
    tps = keep.map((k) => tps[k]);
    thresholds = keep.map((k) => thresholds[k]);
  }
  return {
    fpr: [0, ...fps.map((v) => v / trials.nonTargets)],
    tpr: [0, ...tps.map((v) => v / trials.targets)],
    thresholds: [Infinity, ...thresholds],
  };
}

/**
 * The ROC curve of verification (detection) trials, equal to `sklearn.metrics.roc_curve(labels, scores)`
 * except thresholds[0]: +Infinity (as sklearn >= 1.3), where sklearn 1.2 writes max(score) + 1.
 * A trial is accepted when its score >= threshold; tied scores form one threshold. The first point is
 * (0, 0) (accept nothing), the last (1, 1) (accept everything).
 *
 * @param scores one score per trial, higher = more likely a target (1-D tensor or array)
 * @param labels 1 for a target trial, 0 for a non-target trial (1-D tensor or array); both classes required
 * @returns fpr, tpr and thresholds, one entry per ROC point
 */
export function rocCurve(scores: NumbersLike, labels: NumbersLike, options: RocCurveOptions = {}): RocCurve {
  const trials = readTrials(scores, labels, 'rocCurve');
  return rocFromTrials(trials, options.dropIntermediate ?? true);
}

/**
 * The detection error trade-off curve (Martin et al., "The DET curve in assessment of detection task
 * performance", 1997), equal to `sklearn.metrics.det_curve(labels, scores)`: false-alarm and miss rates at
 * each distinct score, from the highest threshold with the fewest false alarms down to the first at which
 * no target is missed, in increasing threshold order. A DET plot draws them on normal-deviate (probit) axes.
 *
 * @param scores one score per trial, higher = more likely a target
 * @param labels 1 = target, 0 = non-target; both classes required
 */
export function detCurve(scores: NumbersLike, labels: NumbersLike): DetCurve {
  const trials = readTrials(scores, labels, 'detCurve');
  const { fps, tps, thresholds } = operatingPoints(trials);
  // From the last point that still has the fewest false positives to the first that misses no target.
  let first = 0;
  while (first + 1 < fps.length && fps[first + 1] === fps[0]) first++;
  let last = 0;
  while (tps[last] !== trials.targets) last++;
  const fpr: number[] = [];
  const fnr: number[] = [];
  const thr: number[] = [];
  for (let k = last; k >= first; k--) {
    fpr.push(fps[k] / trials.nonTargets);
    fnr.push((trials.targets - tps[k]) / trials.targets);
    thr.push(thresholds[k]);
  }
  return { fpr, fnr, thresholds: thr };
}
