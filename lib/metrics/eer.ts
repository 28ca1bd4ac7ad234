import { NumbersLike } from './inputs';
import { readTrials, rocFromTrials } from './roc_curve';

/** Result of {@link eer}. */
export interface EerResult {
  /** Equal error rate in [0, 1]: the false-acceptance rate at which it equals the miss rate. */
  eer: number;
  /**
   * The score threshold at that point (accept when score >= threshold), interpolated like the rates; when
   * the crossing falls between two ROC points, no single threshold reaches the EER exactly.
   */
  threshold: number;
}

/**
 * Equal error rate of verification trials (speaker verification's headline metric), from the ROC curve
 * exactly as the usual recipe on `sklearn.metrics.roc_curve(labels, scores)` (drop_intermediate on):
 *
 *   fnr = 1 - tpr;  d_k = fnr_k - fpr_k   (strictly decreasing from 1 at (0, 0) to -1 at (1, 1))
 *   j = first k with d_k <= 0;  i = j - 1;  w = d_i / (d_i - d_j)
 *   eer = fpr_i + w * (fpr_j - fpr_i)       (the straight ROC segment i..j crosses fpr = fnr there)
 *   threshold = thr_i + w * (thr_j - thr_i), thr_0 taken as thr_1 (the highest score)
 *
 * and eer = fpr_j, threshold = thr_j when d_j = 0 (the crossing is a ROC point). This equals
 * `brentq(lambda x: 1 - x - interp1d(fpr, tpr)(x), 0, 1)` to rounding. Ties in scores are handled as
 * sklearn does: tied trials share one threshold. Perfect separation gives 0, perfectly inverted scores 1,
 * scores that are all equal 0.5.
 *
 * @param scores one score per trial, higher = more likely a target (1-D tensor or array)
 * @param labels 1 for a target trial, 0 for a non-target; both classes must be present
 * @throws when lengths differ, a label is not 0/1, a score is not finite, or a class is missing
 */
export function eer(scores: NumbersLike, labels: NumbersLike): EerResult {
  const { fpr, tpr, thresholds } = rocFromTrials(readTrials(scores, labels, 'eer'), true);
  const thr = (k: number) => thresholds[k === 0 ? 1 : k];
  const d = (k: number) => (1 - tpr[k]) - fpr[k];
  let j = 1;
  while (d(j) > 0) j++; // terminates: the last point is (1, 1), where d = -1
  const dj = d(j);
  if (dj === 0) return { eer: fpr[j], threshold: thr(j) };
  const i = j - 1;
  const di = d(i);
  const w = di / (di - dj);
  return { eer: fpr[i] + w * (fpr[j] - fpr[i]), threshold: thr(i) + w * (thr(j) - thr(i)) };
}
