import { eer } from '../metrics/eer';
import { Rng } from '../util/rng';

/** A verdict on a claim, decided by a 95% interval, never by a difference smaller than its interval. */
export type Verdict = 'holds' | 'does not hold' | 'inconclusive';

/**
 * A claim under test: "A - B is at least `threshold`" (direction 'higher', e.g. slimmable accuracy within
 * one point of the baseline: threshold -0.01) or "A - B is at most `threshold`" (direction 'lower', e.g. an
 * error rate no worse by more than 0.5 points: threshold 0.005), where A and B are the means over test items
 * (and seeds) of a metric measured on each item for the two variants.
 */
export interface ClaimSpec {
  /** Short identifier, unique in a recipe. */
  id: string;
  /** The claim in one sentence. */
  statement: string;
  /** What is measured per item, in words (e.g. 'test accuracy, mean over widths'). */
  metric: string;
  /** Names of the two variants compared, A first. */
  variants: [string, string];
  /** 'higher': the claim is A - B >= threshold; 'lower': A - B <= threshold. */
  direction: 'higher' | 'lower';
  /** The margin the difference is compared with, in the metric's unit. */
  threshold: number;
  /**
   * A strict claim ("A beats B": A - B > threshold for 'higher', < for 'lower'): it holds only when the whole
   * interval is strictly beyond the threshold, and does not hold when the whole interval is at or short of it
   * (two variants that trained identically, interval [0, 0], do not beat each other). Default false: "at
   * least" / "at most", for claims of the form "within a margin of".
   */
  strict?: boolean;
  /** Factor and unit for display (e.g. 100 and 'points' for accuracies in [0, 1]). Default 1 and ''. */
  display?: { scale: number; unit: string };
  /**
   * What is compared: 'mean' (the default), the mean of a per-item value; or 'eer', the equal error rate of
   * verification trials, with `a` and `b` the two systems' scores per trial and the evidence's `labels` (1 target,
   * 0 non-target). Either way the interval is a paired bootstrap over the items (trials are resampled, both
   * systems on the same draw; a draw lacking a class is drawn again).
   */
  statistic?: 'mean' | 'eer';
}

/** The evidence of one seed: the metric per test item for both variants (paired by index). */
export interface ClaimEvidence {
  seed: number;
  a: number[];
  b: number[];
  /**
   * A condition the comparison needs, checked by the recipe (e.g. both variants learned something: above the
   * majority-class baseline). When it fails, the verdict is 'inconclusive' with this reason.
   */
  precondition?: { ok: boolean; reason: string };
  /** For statistic 'eer': each trial's label, 1 (same speaker) or 0. */
  labels?: number[];
}

/** A claim with its evidence, interval and verdict, as results.json stores it. */
export interface ClaimResult extends ClaimSpec {
  /** Mean of A and of B over seeds and items. */
  meanA: number;
  meanB: number;
  /** meanA - meanB. */
  difference: number;
  /** 95% percentile bootstrap interval of the difference. */
  interval: [number, number];
  verdict: Verdict;
  /** Why the verdict is what it is, in one sentence with the numbers. */
  reason: string;
  /** Items per seed, seeds, bootstrap resamples. */
  items: number;
  seeds: number;
  resamples: number;
  /** The difference per seed. */
  perSeed: { seed: number; difference: number; meanA: number; meanB: number }[];
  /** The evidence itself, so that a multi-seed run can pool its seeds. */
  evidence: ClaimEvidence[];
}

/** Options of {@link evaluateClaim}. */
export interface ClaimOptions {
  /** Bootstrap resamples. Default 2000. */
  resamples?: number;
  /** Seed of the resampling. Default 0. */
  seed?: number;
  /** Coverage of the interval. Default 0.95. */
  level?: number;
}

const mean = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s / v.length;
};

function quantile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Percentile bootstrap interval of the mean paired difference (Efron & Tibshirani 1993, ch. 13), over
 * items for one seed and hierarchically over seeds then items for several: each resample draws seeds with
 * replacement, then items with replacement within each drawn seed, and takes the mean of a - b over
 * everything drawn. Pairing (the same items for A and B) removes the items' own difficulty from the
 * spread, which is what makes a comparison of two models on one small test set readable.
 *
 * @param diffs per seed, the per-item differences a - b
 * @returns the `level` interval [lo, hi]
 */
export function pairedBootstrap(diffs: number[][], options: ClaimOptions = {}): [number, number] {
  const { resamples = 2000, seed = 0, level = 0.95 } = options;
  if (!diffs.length || diffs.some((d) => !d.length)) throw new Error('pairedBootstrap: every seed needs at least one item');
  const rng = new Rng(`bootstrap/${seed}`);
  const stats = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0, n = 0;
    for (let s = 0; s < diffs.length; s++) {
      const d = diffs.length > 1 ? diffs[rng.int(diffs.length)] : diffs[0];
      for (let i = 0; i < d.length; i++) sum += d[rng.int(d.length)];
      n += d.length;
    }
    stats[r] = sum / n;
  }
  stats.sort();
  const tail = (1 - level) / 2;
  return [quantile(stats, tail), quantile(stats, 1 - tail)];
}

function fmt(v: number, spec: ClaimSpec): string {
  const { scale = 1, unit = '' } = spec.display ?? {};
  const x = v * scale;
  return `${x >= 0 ? '+' : ''}${x.toFixed(Math.abs(scale) >= 100 ? 1 : 3)}${unit ? ` ${unit}` : ''}`;
}

/**
 * Percentile bootstrap interval of a paired difference of a statistic computed on sets of items (EER over trials),
 * hierarchical over seeds as {@link pairedBootstrap}: each resample draws seeds with replacement and, within each,
 * items with replacement (again while `valid` refuses the draw, e.g. one without target trials), takes
 * stat(a) - stat(b) on the drawn items and averages over the drawn seeds.
 */
export function pairedBootstrapStatistic(evidence: { a: number[]; b: number[]; labels?: number[] }[],
  stat: (values: number[], labels: number[]) => number, options: ClaimOptions & { valid?: (labels: number[]) => boolean } = {}): [number, number] {
  const { resamples = 2000, seed = 0, level = 0.95, valid = () => true } = options;
  const rng = new Rng(`bootstrap/${seed}`);
  const stats = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let s = 0; s < evidence.length; s++) {
      const e = evidence.length > 1 ? evidence[rng.int(evidence.length)] : evidence[0];
      const n = e.a.length;
      let idx: number[] = [];
      let labels: number[] = [];
      for (let tries = 0; tries < 100; tries++) {
        idx = Array.from({ length: n }, () => rng.int(n));
        labels = idx.map((i) => e.labels?.[i] ?? 0);
        if (valid(labels)) break;
      }
      sum += stat(idx.map((i) => e.a[i]), labels) - stat(idx.map((i) => e.b[i]), labels);
    }
    stats[r] = sum / evidence.length;
  }
  stats.sort();
  const tail = (1 - level) / 2;
  return [quantile(stats, tail), quantile(stats, 1 - tail)];
}

const eerOf = (scores: number[], labels: number[]) => eer(scores, labels).eer;
const bothClasses = (labels: number[]) => labels.includes(0) && labels.includes(1);

/**
 * Decides a claim from its evidence (one entry per seed): the mean paired difference A - B, its 95%
 * bootstrap interval ({@link pairedBootstrap}) and the verdict. For direction 'higher': 'holds' when the
 * whole interval is at or above the threshold (strictly above for a `strict` claim), 'does not hold' when it is
 * wholly below (at or below for a strict one), otherwise 'inconclusive' (the data cannot tell). 'lower' mirrors it. A failed precondition of any seed makes it
 * 'inconclusive' whatever the numbers.
 */
export function evaluateClaim(spec: ClaimSpec, evidence: ClaimEvidence[], options: ClaimOptions = {}): ClaimResult {
  if (!evidence.length) throw new Error(`claim '${spec.id}': no evidence`);
  for (const e of evidence) {
    if (e.a.length !== e.b.length || !e.a.length) {
      throw new Error(`claim '${spec.id}', seed ${e.seed}: needs the same non-zero number of items for both variants, got ${e.a.length} and ${e.b.length}`);
    }
    if ([...e.a, ...e.b].some((v) => !Number.isFinite(v))) throw new Error(`claim '${spec.id}', seed ${e.seed}: a per-item value is not finite`);
  }
  const resamples = options.resamples ?? 2000;
  const isEer = spec.statistic === 'eer';
  if (isEer) {
    for (const e of evidence) {
      if (!e.labels || e.labels.length !== e.a.length || !bothClasses(e.labels)) {
        throw new Error(`claim '${spec.id}', seed ${e.seed}: statistic 'eer' needs one label (0 or 1) per trial, both classes present`);
      }
    }
  }
  // Per seed, the statistic of A and of B on all its items.
  const perSeedStats = evidence.map((e) => (isEer ? { a: eerOf(e.a, e.labels!), b: eerOf(e.b, e.labels!) } : { a: mean(e.a), b: mean(e.b) }));
  const meanA = isEer ? mean(perSeedStats.map((p) => p.a)) : mean(evidence.flatMap((e) => e.a));
  const meanB = isEer ? mean(perSeedStats.map((p) => p.b)) : mean(evidence.flatMap((e) => e.b));
  const difference = meanA - meanB;
  const interval = isEer ? pairedBootstrapStatistic(evidence, eerOf, { ...options, resamples, valid: bothClasses })
    : pairedBootstrap(evidence.map((e) => e.a.map((v, i) => v - e.b[i])), { ...options, resamples });
  const [lo, hi] = interval;
  const failed = evidence.find((e) => e.precondition && !e.precondition.ok);
  let verdict: Verdict;
  let reason: string;
  const span = `${fmt(difference, spec)}, 95% interval [${fmt(lo, spec)}, ${fmt(hi, spec)}]`;
  const t = spec.threshold;
  const strict = spec.strict ?? false;
  const bound = `${spec.direction === 'higher' ? (strict ? 'above' : 'at least') : (strict ? 'below' : 'at most')} ${fmt(t, spec)}`;
  const beyond = spec.direction === 'higher' ? (strict ? lo > t : lo >= t) : (strict ? hi < t : hi <= t);
  const short = spec.direction === 'higher' ? (strict ? hi <= t : hi < t) : (strict ? lo >= t : lo > t);
  if (failed) {
    verdict = 'inconclusive';
    reason = `${failed.precondition!.reason} (seed ${failed.seed}), so the comparison says nothing (difference ${span})`;
  } else if (beyond) {
    verdict = 'holds';
    reason = `difference ${span}: the whole interval is ${bound}`;
  } else if (short) {
    verdict = 'does not hold';
    reason = `difference ${span}: the whole interval misses ${bound}`;
  } else {
    verdict = 'inconclusive';
    reason = `difference ${span} straddles the threshold (${bound}): this test set cannot tell`;
  }
  return {
    ...spec, meanA, meanB, difference, interval, verdict, reason,
    items: evidence[0].a.length, seeds: evidence.length, resamples,
    perSeed: evidence.map((e, k) => ({ seed: e.seed, meanA: perSeedStats[k].a, meanB: perSeedStats[k].b, difference: perSeedStats[k].a - perSeedStats[k].b })),
    evidence,
  };
}

/** One line per claim: the statement, the difference with its interval, and the verdict in capitals. */
export function formatClaims(claims: ClaimResult[]): string {
  return claims.map((c) => `${c.statement}: ${c.verdict.toUpperCase()} (${c.reason})`).join('\n');
}
