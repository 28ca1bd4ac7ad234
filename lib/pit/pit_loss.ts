import * as tf from '@tensorflow/tfjs';
import { siSnr } from '../metrics/si_snr';
import { noGrad } from '../distill/teacher_student_step';
import { linearSumAssignment } from './hungarian';

/**
 * A pairwise loss for PIT: estimates [batch, S, 1, time] and references [batch, 1, S, time] broadcast to a loss
 * matrix [batch, S, S] (row i: estimate i, column j: reference j; asteroid's pw_mtx layout). Lower is better.
 */
export type PairLoss = (estimate: tf.Tensor, reference: tf.Tensor) => tf.Tensor;

/**
 * Negative SI-SNR (dB) of every estimate against every reference, the default pair loss: asteroid's
 * `pairwise_neg_sisdr` (zero-mean, eps 1e-8), computed with {@link siSnr} (torchmetrics' eps placement, which
 * differs from asteroid's by O(eps) and only matters for near-silent or near-perfect signals).
 */
export const pairwiseNegSiSnr: PairLoss = (estimate, reference) => tf.tidy(() => {
  // [B, S, 1, T] and [B, 1, S, T] tiled to [B, S, S, T].
  const es = estimate.shape as number[], rs = reference.shape as number[];
  return tf.neg(siSnr(tf.tile(estimate, [1, 1, rs[2] / es[2], 1]), tf.tile(reference, [1, es[1] / rs[1], 1, 1])));
});

/** Options of {@link pairwiseLosses}. */
export interface PairwiseLossesOptions {
  /** Pairwise loss. Default {@link pairwiseNegSiSnr}. */
  pairLoss?: PairLoss;
}

function checkSources(fn: string, estimates: tf.Tensor, references: tf.Tensor): void {
  if (estimates.rank !== 3 || references.rank !== 3 || estimates.shape.some((d, i) => d !== references.shape[i])) {
    throw new Error(`${fn}: estimates and references must both be [batch, sources, time], got [${estimates.shape}] and [${references.shape}]`);
  }
}

/**
 * The pairwise loss matrix of PIT, pw[b, i, j] = pairLoss(estimates[b, i], references[b, j]) (estimate-first, as
 * the code of asteroid's pw_mtx losses; its docstring says target-first).
 *
 * @param estimates [batch, sources, time]
 * @param references [batch, sources, time]
 * @returns [batch, sources, sources], differentiable
 */
export function pairwiseLosses(estimates: tf.Tensor, references: tf.Tensor, opts: PairwiseLossesOptions = {}): tf.Tensor3D {
  checkSources('pairwiseLosses', estimates, references);
  const [B, S] = estimates.shape as number[];
  const pair = opts.pairLoss ?? pairwiseNegSiSnr;
  return tf.tidy(() => {
    const pw = pair(tf.expandDims(estimates, 2), tf.expandDims(references, 1));
    if (pw.rank !== 3 || pw.shape[0] !== B || pw.shape[1] !== S || pw.shape[2] !== S) {
      throw new Error(`pairwiseLosses: pairLoss must give [batch, S, S] = [${B}, ${S}, ${S}], got [${pw.shape}]`);
    }
    return pw as tf.Tensor3D;
  });
}

/**
 * How the best assignment is found:
 * - 'exhaustive': every one of the S! assignments, on the device (a matrix product with a constant table of
 *   one-hot assignments, then argmin): no value is read back, so it can run inside a training step without
 *   synchronising. Cost O(S! * S^2) per example; allowed up to S = 8.
 * - 'hungarian': the Hungarian algorithm ({@link linearSumAssignment}) per example, O(S^3), on the host: the
 *   [batch, S, S] loss matrix is read back with dataSync, which synchronises (stalls an asynchronous backend's
 *   pipeline). For evaluation, or for training with many sources.
 * - 'auto': 'exhaustive' for S <= 3 and 'hungarian' beyond, asteroid's rule.
 */
export type PitSolver = 'auto' | 'exhaustive' | 'hungarian';

/** Options of {@link pitFromPairwise}. */
export interface PitFromPairwiseOptions {
  /** The assignment search. Default 'auto' (exhaustive up to 3 sources, Hungarian beyond). */
  solver?: PitSolver;
}

/** Options of {@link pitLoss}. */
export interface PitLossOptions extends PairwiseLossesOptions, PitFromPairwiseOptions {}

/** Result of {@link pitLoss} and {@link pitFromPairwise}. */
export interface PitResult {
  /** Batch mean of the best assignment's mean pair loss (scalar, differentiable). */
  loss: tf.Scalar;
  /** int32 [batch, sources]: perm[b][i] is the reference index assigned to estimate i in example b. */
  perm: tf.Tensor2D;
  /** The best assignment's mean pair loss per example [batch] (differentiable). */
  perExample: tf.Tensor1D;
}

const tables = new Map<number, { perms: Int32Array; select: Float32Array }>();
/**
 * The S! permutations of 0..S-1 in lexicographic order (itertools.permutations' order), flat [S! * S], and their
 * selection matrix; cached per S as host arrays (not tensors, which belong to a backend).
 */
function permutationTable(S: number): { perms: Int32Array; select: Float32Array } {
  let t = tables.get(S);
  if (!t) {
    const out: number[][] = [];
    const rec = (prefix: number[], rest: number[]) => {
      if (!rest.length) out.push(prefix);
      rest.forEach((v, k) => rec([...prefix, v], [...rest.slice(0, k), ...rest.slice(k + 1)]));
    };
    rec([], [...Array(S).keys()]);
    const P = out.length;
    // select [S * S, P]: column p has a 1 at row i * S + p[i], so (pw flattened) x select sums pw[i, p[i]].
    const select = new Float32Array(S * S * P);
    out.forEach((p, k) => p.forEach((j, i) => { select[(i * S + j) * P + k] = 1; }));
    t = { perms: Int32Array.from(out.flat()), select };
    tables.set(S, t);
  }
  return t;
}

/**
 * The assignments as one-hot masks, bool [batch, S, S] with mask[b, i, j] = (perm[b, i] == j) (tf.oneHot wants a
 * depth of at least 2).
 */
export function assignmentMask(perm: tf.Tensor): tf.Tensor3D {
  const [B, S] = perm.shape as number[];
  return tf.tidy(() => (S === 1 ? tf.ones([B, 1, 1], 'bool') : tf.cast(tf.oneHot(perm, S), 'bool')) as tf.Tensor3D);
}

/**
 * The mean pair loss of given assignments, mean_i pw[b, i, perm[b, i]], taken with a mask (not a product) so that
 * a NaN elsewhere in the matrix does not leak in; the gradient reaches only the chosen pairs.
 *
 * @param pairwise [batch, S, S] pair losses (row: estimate, column: reference)
 * @param perm int32 [batch, S], perm[b][i] the reference of estimate i
 * @returns [batch]
 */
export function assignmentLoss(pairwise: tf.Tensor, perm: tf.Tensor): tf.Tensor1D {
  if (pairwise.rank !== 3 || pairwise.shape[1] !== pairwise.shape[2] || perm.rank !== 2 ||
    perm.shape[0] !== pairwise.shape[0] || perm.shape[1] !== pairwise.shape[1] || perm.dtype !== 'int32') {
    throw new Error(`assignmentLoss: expected pairwise [batch, S, S] and an int32 perm [batch, S], got [${pairwise.shape}] and ` +
      `${perm.dtype} [${perm.shape}]`);
  }
  return tf.tidy(() => {
    const chosen = assignmentMask(perm);                                                          // [B, S, S]
    return tf.div(tf.sum(tf.where(chosen, pairwise, tf.zerosLike(pairwise)), [1, 2]), pairwise.shape[1] as number) as tf.Tensor1D;
  });
}

/**
 * PIT from a pairwise loss matrix (asteroid's `PITLossWrapper.find_best_perm` on pw_mtx losses): for each
 * example the assignment of references to estimates with the least mean pair loss,
 *
 *   perExample[b] = min over permutations p of (1/S) sum_i pw[b, i, p(i)],   loss = mean_b perExample[b],
 *
 * found by {@link PitSolver} ('auto' by default: exhaustive on the device for S <= 3, Hungarian on the host beyond,
 * which reads the matrix back). Exhaustive search breaks ties towards the first permutation in lexicographic order,
 * as asteroid's argmin; the Hungarian solver's choice among tied assignments is its own.
 * The gradient flows through the chosen pairs only.
 *
 * @param pairwise [batch, S, S] (row i: estimate i, column j: reference j)
 * @returns loss (scalar), perm (int32 [batch, S]), perExample ([batch])
 */
export function pitFromPairwise(pairwise: tf.Tensor, opts: PitFromPairwiseOptions = {}): PitResult {
  if (pairwise.rank !== 3 || pairwise.shape[1] !== pairwise.shape[2]) {
    throw new Error(`pitFromPairwise: pairwise losses must be [batch, S, S], got [${pairwise.shape}]`);
  }
  const [B, S] = pairwise.shape as number[];
  const solver = opts.solver ?? 'auto';
  const exhaustive = solver === 'exhaustive' || (solver === 'auto' && S <= 3);
  if (exhaustive && S > 8) throw new Error(`pitFromPairwise: exhaustive search over ${S}! assignments is too many (sources <= 8); use solver 'hungarian'`);
  return tf.tidy((): tf.TensorContainerObject => {
    let perm: tf.Tensor2D;
    if (exhaustive) {
      const { perms, select } = permutationTable(S);
      const P = perms.length / S;
      // Off the gradient tape: the assignment is a constant for the loss (argmin and gather have no useful gradient).
      perm = noGrad(() => {
        const perPerm = tf.matMul(tf.reshape(pairwise, [B, S * S]), tf.tensor2d(select, [S * S, P]));   // [B, P]
        return tf.gather(tf.tensor2d(perms, [P, S], 'int32'), tf.argMin(perPerm, 1)) as tf.Tensor2D;     // [B, S]
      });
    } else {
      const v = pairwise.dataSync();
      const out = new Int32Array(B * S);
      for (let b = 0; b < B; b++) {
        const cost = Array.from({ length: S }, (_, i) => v.subarray((b * S + i) * S, (b * S + i + 1) * S));
        out.set(linearSumAssignment(cost), b * S);
      }
      perm = tf.tensor2d(out, [B, S], 'int32');
    }
    const perExample = assignmentLoss(pairwise, perm);
    return { loss: tf.mean(perExample) as tf.Scalar, perm, perExample };
  }) as unknown as PitResult;
}

/**
 * Permutation-invariant training loss (Yu et al. 2017, "Permutation invariant training of deep models for
 * speaker-independent multi-talker speech separation"; asteroid's PITLossWrapper(loss, pit_from='pw_mtx')):
 * {@link pairwiseLosses} then {@link pitFromPairwise}. For each example, the mean over sources of
 * pairLoss(estimate_i, reference_perm(i)), minimised over all assignments; the batch mean of the minima, the best
 * assignment per example and the per-example losses. The gradient flows through the best assignment only. With
 * the default solver and up to 3 sources nothing is read back from the device (safe inside a training step);
 * with more sources the Hungarian solver reads the loss matrix back (see {@link PitSolver}).
 *
 * @param estimates [batch, sources, time]
 * @param references [batch, sources, time]
 * @returns loss (scalar), perm (int32 [batch, sources], perm[b][i] the reference of estimate i; `await
 *   perm.array()` for nested arrays), perExample ([batch])
 */
export function pitLoss(estimates: tf.Tensor, references: tf.Tensor, opts: PitLossOptions = {}): PitResult {
  checkSources('pitLoss', estimates, references);
  return tf.tidy(() => pitFromPairwise(pairwiseLosses(estimates, references, opts), opts) as unknown as tf.TensorContainerObject) as unknown as PitResult;
}
