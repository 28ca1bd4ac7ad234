import { NumbersLike } from './inputs';
import { operatingPoints, readTrials } from './roc_curve';

/** Options of {@link minDcf}: the NIST SRE detection cost parameters. */
export interface MinDcfOptions {
  /** Prior probability of a target trial. Default 0.01 (VoxCeleb / NIST SRE 2008-2010 convention). */
  pTarget?: number;
  /** Cost of a miss (rejecting a target trial). Default 1. */
  cMiss?: number;
  /** Cost of a false alarm (accepting a non-target trial). Default 1. */
  cFa?: number;
}

/** Result of {@link minDcf}. */
export interface MinDcfResult {
  /** Minimum normalised detection cost, >= 0; 1 means no threshold beats the better trivial system. */
  minDcf: number;
  /** A threshold reaching it (accept when score >= threshold); +Infinity when rejecting every trial is optimal. */
  threshold: number;
}

/**
 * Minimum normalised detection cost function, as NIST SRE defines it and Kaldi's compute_min_dcf.py and
 * SpeechBrain compute it:
 *
 *   C_det(t) = cMiss * pMiss(t) * pTarget + cFa * pFa(t) * (1 - pTarget)
 *   C_def = min(cMiss * pTarget, cFa * (1 - pTarget))     (cost of always rejecting or always accepting)
 *   minDcf = min_t C_det(t) / C_def
 *
 * with pMiss(t) = targets scored below t / targets, pFa(t) = non-targets scored >= t / non-targets, and t
 * over every distinct score plus +Infinity, so both accepting every trial (t = the lowest score) and
 * rejecting every trial are candidates. When several thresholds reach the minimum, the lowest is returned
 * (as Kaldi, which scans upwards with a strict '<'). SpeechBrain's `minDCF` returns min C_det un-normalised
 * and omits the accept-all point: compare it with minDcf * C_def.
 *
 * @param scores one score per trial, higher = more likely a target (1-D tensor or array)
 * @param labels 1 for a target trial, 0 for a non-target; both classes must be present
 * @throws when lengths differ, a label is not 0/1, a score is not finite, a class is missing, or a cost
 *   parameter is out of range (pTarget in (0, 1), costs > 0)
 */
export function minDcf(scores: NumbersLike, labels: NumbersLike, options: MinDcfOptions = {}): MinDcfResult {
  const { pTarget = 0.01, cMiss = 1, cFa = 1 } = options;
  if (!(pTarget > 0 && pTarget < 1)) throw new Error(`minDcf: pTarget must lie in (0, 1); got ${pTarget}`);
  if (!(cMiss > 0 && Number.isFinite(cMiss)) || !(cFa > 0 && Number.isFinite(cFa))) {
    throw new Error(`minDcf: cMiss and cFa must be finite and > 0; got cMiss ${cMiss}, cFa ${cFa}`);
  }
  const trials = readTrials(scores, labels, 'minDcf');
  const { fps, tps, thresholds } = operatingPoints(trials);
  const cost = (misses: number, falseAlarms: number) =>
    cMiss * (misses / trials.targets) * pTarget + cFa * (falseAlarms / trials.nonTargets) * (1 - pTarget);
  // Reject all (t = +Infinity) first, then decreasing thresholds: '<=' keeps the lowest among equal costs.
  let best = cost(trials.targets, 0);
  let bestThreshold = Infinity;
  for (let k = 0; k < thresholds.length; k++) {
    const c = cost(trials.targets - tps[k], fps[k]);
    if (c <= best) {
      best = c;
      bestThreshold = thresholds[k];
    }
  }
  return { minDcf: best / Math.min(cMiss * pTarget, cFa * (1 - pTarget)), threshold: bestThreshold };
}
