import * as tf from '@tensorflow/tfjs';
import { siSnr } from '../metrics/si_snr';

/**
 * A pairwise loss for PIT: estimates and references [batch, S, 1, time] and [batch, 1, S, time] broadcast
 * to a loss matrix [batch, S, S] (row i: estimate i, column j: reference j). Lower is better.
 */
export type PairLoss = (estimate: tf.Tensor, reference: tf.Tensor) => tf.Tensor;

/** Negative SI-SNR (dB) of every estimate against every reference: the default pair loss (asteroid's pairwise_neg_sisdr). */
export const pairwiseNegSiSnr: PairLoss = (estimate, reference) => tf.tidy(() => {
  // [B, S, 1, T] and [B, 1, S, T] tiled to [B, S, S, T].
  const es = estimate.shape as number[], rs = reference.shape as number[];
  return tf.neg(siSnr(tf.tile(estimate, [1, 1, rs[2] / es[2], 1]), tf.tile(reference, [1, es[1] / rs[1], 1, 1])));
});

/** Options of {@link pitLoss}. */
export interface PitLossOptions {
  /** Pairwise loss. Default {@link pairwiseNegSiSnr}. */
  pairLoss?: PairLoss;
}

/** Result of {@link pitLoss}. */
export interface PitResult {
  /** Batch mean of the best permutation's mean pair loss (scalar, differentiable). */
  loss: tf.Scalar;
  /** perm[b][i]: the reference index assigned to estimate i in example b. */
  perm: number[][];
  /** The best permutation's mean pair loss per example [batch]. */
  perExample: tf.Tensor1D;
}

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) {
    for (let k = 0; k <= p.length; k++) out.push([...p.slice(0, k), n - 1, ...p.slice(k)]);
  }
  return out.sort((a, b) => a.join().localeCompare(b.join()));
}

/**
 * Permutation-invariant training loss (Yu et al. 2017; asteroid's PITLossWrapper with pit_from='pw_mtx'):
 * for each example, the mean over sources of pairLoss(estimate_i, reference_perm(i)), minimised over all
 * S! assignments; returns the batch mean of the minima, the best assignment per example and the per-example
 * losses. Estimates and references are [batch, sources, time]. The gradient flows through the best
 * assignment only. The assignment is read back from the device (a small [batch] argmin), which PIT needs
 * anyway to report and remember assignments. Exhaustive search: sources <= 8.
 */
export function pitLoss(estimates: tf.Tensor, references: tf.Tensor, opts: PitLossOptions = {}): PitResult {
  if (estimates.rank !== 3 || references.rank !== 3 || estimates.shape.some((d, i) => d !== references.shape[i])) {
    throw new Error(`pitLoss: estimates and references must both be [batch, sources, time], got [${estimates.shape}] and [${references.shape}]`);
  }
  const [B, S] = estimates.shape;
  if (S > 8) throw new Error(`pitLoss: exhaustive search over ${S}! assignments is too many (sources <= 8)`);
  const perms = permutations(S);
  const pair = opts.pairLoss ?? pairwiseNegSiSnr;
  const { loss, perExample, best } = tf.tidy(() => {
    const pw = pair(tf.expandDims(estimates, 2), tf.expandDims(references, 1));                     // [B, S, S]
    if (pw.rank !== 3 || pw.shape[0] !== B || pw.shape[1] !== S || pw.shape[2] !== S) {
      throw new Error(`pitLoss: pairLoss must give [batch, S, S] = [${B}, ${S}, ${S}], got [${pw.shape}]`);
    }
    // One-hot assignment matrices [P, S, S]: the loss of permutation p is mean_i pw[b, i, p[i]].
    const onehot = tf.tensor3d(perms.flatMap((p) => p.flatMap((j) => Array.from({ length: S }, (_, k) => (k === j ? 1 / S : 0)))), [perms.length, S, S]);
    const perPerm = tf.sum(tf.mul(tf.expandDims(pw, 1), tf.expandDims(onehot, 0)), [2, 3]);       // [B, P]
    const perEx = tf.min(perPerm, 1) as tf.Tensor1D;
    return { loss: tf.mean(perEx) as tf.Scalar, perExample: perEx, best: tf.argMin(perPerm, 1) };
  });
  const idx = best.dataSync();
  best.dispose();
  return { loss, perExample, perm: Array.from(idx, (k) => [...perms[k]]) };
}
