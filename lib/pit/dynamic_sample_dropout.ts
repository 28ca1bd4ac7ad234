import * as tf from '@tensorflow/tfjs';
import { noGrad } from '../distill/teacher_student_step';
import { AssignmentMemory } from './assignment_memory';
import { assignmentLoss, pitFromPairwise, PitSolver } from './pit_loss';

/**
 * What dynamic sample dropout does with a flagged sample: 'drop' takes it out of the loss (the batch mean is over
 * the kept samples); 'reorder' keeps it but scores it under its remembered best assignment instead of the current
 * one.
 */
export type DsdMode = 'drop' | 'reorder';

/**
 * When a sample (seen before) is flagged: 'switch' when its current best assignment differs from the remembered
 * best; 'worse' when its current best metric is below the remembered best metric by more than the margin;
 * 'switch-and-worse' when both hold.
 */
export type DsdCondition = 'switch' | 'switch-and-worse' | 'worse';

/**
 * Options of {@link dynamicSampleDropout}. The paper publishes neither its conditions nor its thresholds
 * (PAPERS.md section 5); the defaults, and why:
 * - mode 'drop': the method's name and description ("exclude the samples that may negatively impact the learned
 *   label assignments"); 'reorder' is this library's variant that keeps the sample's gradient but pins it to the
 *   remembered assignment.
 * - when 'switch-and-worse': a switch that comes with a better metric is the model correcting an assignment and
 *   should be learnt from; a worse metric under the same assignment is ordinary training noise on a hard sample,
 *   and dropping it would starve the model of hard samples. A switch to a worse assignment is the case the paper
 *   targets. It also leaves the early epochs alone, where metrics rise and switches are improvements.
 * - margin 0 dB: any drop below the best counts once the assignment has switched (the switch already filters
 *   noise); raise it (e.g. 0.5 to 1 dB) to flag only clear regressions.
 */
export interface DynamicSampleDropoutOptions {
  /** Drop flagged samples or score them under the remembered assignment. Default 'drop'. */
  mode?: DsdMode;
  /** Which samples are flagged. Default 'switch-and-worse'. */
  when?: DsdCondition;
  /** How far (in metric units: dB of SI-SNR) below its remembered best a sample must fall to be 'worse'. Default 0. */
  margin?: number;
}

/** The current step's PIT outcome, as {@link dynamicSampleDropout} reads it. */
export interface DsdCurrent {
  /** int32 [batch, S]: the current best assignment (pitLoss's perm). */
  perm: tf.Tensor;
  /** [batch]: its metric, higher is better (SI-SNR in dB: minus pitLoss's perExample with the default pair loss). */
  metric: tf.Tensor;
  /** [batch, S, S]: the pairwise losses; with them the result includes the per-sample and batch loss. Default: absent. */
  pairwise?: tf.Tensor;
}

/** Result of {@link dynamicSampleDropout}. */
export interface DsdResult {
  /** bool [batch]: the flagged samples. */
  flagged: tf.Tensor1D;
  /** [batch] weights of the samples in the batch loss: 'drop': 0 for flagged, 1 else; 'reorder': all 1. */
  weights: tf.Tensor1D;
  /** int32 [batch, S]: the assignment each sample is scored under ('reorder': the remembered best for flagged samples). */
  perm: tf.Tensor2D;
  /** [batch]: each sample's mean pair loss under `perm` (only when `current.pairwise` is given). */
  perExample?: tf.Tensor1D;
  /** sum_b weights[b] * perExample[b] / max(sum_b weights[b], 1) (only when `current.pairwise` is given). */
  loss?: tf.Scalar;
}

/**
 * Dynamic sample dropout (Gao et al. 2023, arXiv 2311.12199, PAPERS.md section 5): compares each sample's current
 * best PIT assignment and metric with what `memory` remembers of it and flags the samples that may harm the learnt
 * label assignments ({@link DsdCondition}; a sample never seen before is never flagged):
 *
 *   switch_b = any_i perm[b, i] != bestPerm[id_b, i];   worse_b = metric[b] < bestMetric[id_b] - margin
 *
 * 'drop' gives the flagged samples weight 0, so the loss sum_b w_b l_b / max(sum_b w_b, 1) is the mean over the
 * kept samples (0 when all are dropped); 'reorder' scores them under the remembered best assignment,
 * l_b = mean_i pw[b, i, bestPerm[id_b, i]]. Reads the memory, does not update it (see {@link pitLossWithMemory},
 * which does both from one pairwise matrix). All on the device. Defaults: mode 'drop', when 'switch-and-worse',
 * margin 0 dB ({@link DynamicSampleDropoutOptions} says why).
 *
 * @param current perm int32 [batch, S], metric [batch], optional pairwise [batch, S, S]
 * @param ids int32 [batch] sample ids
 */
export function dynamicSampleDropout(current: DsdCurrent, memory: AssignmentMemory, ids: tf.Tensor,
  opts: DynamicSampleDropoutOptions = {}): DsdResult {
  const { perm, metric, pairwise } = current;
  const S = memory.numSources;
  const B = ids.shape[0];
  if (ids.rank !== 1 || ids.dtype !== 'int32' || perm.rank !== 2 || perm.dtype !== 'int32' || perm.shape[0] !== B || perm.shape[1] !== S ||
    metric.rank !== 1 || metric.shape[0] !== B || (pairwise && (pairwise.rank !== 3 || pairwise.shape[0] !== B || pairwise.shape[1] !== S || pairwise.shape[2] !== S))) {
    throw new Error(`dynamicSampleDropout: expected ids int32 [B], perm int32 [B, ${S}], metric [B] and pairwise [B, ${S}, ${S}]; got ids ${ids.dtype} ` +
      `[${ids.shape}], perm ${perm.dtype} [${perm.shape}], metric [${metric.shape}]${pairwise ? ` and pairwise [${pairwise.shape}]` : ''}`);
  }
  const mode = opts.mode ?? 'drop';
  const when = opts.when ?? 'switch-and-worse';
  const margin = opts.margin ?? 0;
  return tf.tidy(() => {
    const m = memory.remembered(ids);
    // The flags are constants for the loss: computed off the gradient tape (comparisons have no gradient).
    const flagged = noGrad(() => {
      const switched = tf.any(tf.notEqual(perm, m.bestPerm), 1);
      const worse = tf.less(metric, tf.sub(m.bestMetric, margin));
      return tf.logicalAnd(m.seen, when === 'switch' ? switched : when === 'worse' ? worse : tf.logicalAnd(switched, worse)) as tf.Tensor1D;
    });
    const weights = (mode === 'drop' ? tf.cast(tf.logicalNot(flagged), 'float32') : tf.ones([B])) as tf.Tensor1D;
    const used = (mode === 'reorder' ? tf.where(tf.expandDims(flagged, 1), m.bestPerm, perm) : tf.clone(perm)) as tf.Tensor2D;
    if (!pairwise) return { flagged, weights, perm: used };
    const perExample = assignmentLoss(pairwise, used);
    const loss = tf.div(tf.sum(tf.mul(weights, perExample)), tf.maximum(tf.sum(weights), 1)) as tf.Scalar;
    return { flagged, weights, perm: used, perExample, loss };
  });
}

/** Options of {@link pitLossWithMemory}. */
export interface PitLossWithMemoryOptions {
  /** Dynamic sample dropout, or null for plain PIT that only keeps the memory and its statistics. Default null. */
  dropout?: DynamicSampleDropoutOptions | null;
  /** The step's epoch (StepInfo.epoch), so that the memory's epoch counters restart with each epoch. Default: none. */
  epoch?: number;
  /** The assignment search. Default 'auto' (see PitSolver: on the device for up to 3 sources). */
  solver?: PitSolver;
}

/** Result of {@link pitLossWithMemory}. */
export interface PitLossWithMemoryResult {
  /** The loss to train on (scalar): PIT's, or dynamic sample dropout's when enabled. */
  loss: tf.Scalar;
  /** int32 [batch, S]: the current best assignment. */
  perm: tf.Tensor2D;
  /** [batch]: the best assignment's mean pair loss per sample (minus the metric). */
  perExample: tf.Tensor1D;
  /** bool [batch]: the samples dynamic sample dropout flagged (none without it). */
  flagged: tf.Tensor1D;
  /**
   * Scalars to log (train.fit's StepOutput.terms): `pit`, the plain PIT loss of the batch; `flagged`, the share of
   * the batch flagged; `switched`, the share of the batch whose best assignment differs from its last one.
   */
  terms: { pit: tf.Scalar; flagged: tf.Scalar; switched: tf.Scalar };
}

/**
 * One training step's PIT with an assignment memory, from a single pairwise loss matrix: the best assignment
 * ({@link pitFromPairwise}), optionally {@link dynamicSampleDropout} against the memory, then the memory update
 * with the current assignment and metric = -perExample (mean SI-SNR in dB with the default pair loss) and the
 * flags. Nothing is read back from the device with up to 3 sources, so it belongs inside train.fit's step:
 *
 *   const pw = pit.pairwiseLosses(model.forward(b.mix, ctx), b.sources);
 *   const r = pit.pitLossWithMemory(pw, b.ids, memory, { dropout: {}, epoch: info.epoch });
 *   return { loss: r.loss, terms: r.terms };
 *
 * The memory is updated even when the gradient step that follows fails; put it in fit's `modules` so that
 * checkpoints hold it.
 *
 * @param pairwise [batch, S, S] pair losses (pairwiseLosses)
 * @param ids int32 [batch] sample ids, distinct
 */
export function pitLossWithMemory(pairwise: tf.Tensor, ids: tf.Tensor, memory: AssignmentMemory,
  opts: PitLossWithMemoryOptions = {}): PitLossWithMemoryResult {
  if (pairwise.rank !== 3 || pairwise.shape[1] !== memory.numSources || pairwise.shape[2] !== memory.numSources ||
    ids.rank !== 1 || ids.dtype !== 'int32' || ids.shape[0] !== pairwise.shape[0]) {
    throw new Error(`pitLossWithMemory: expected pairwise [B, ${memory.numSources}, ${memory.numSources}] and int32 ids [B], got ` +
      `[${pairwise.shape}] and ${ids.dtype} [${ids.shape}]`);
  }
  return tf.tidy(() => {
    const pit = pitFromPairwise(pairwise, { solver: opts.solver });
    const metric = tf.neg(pit.perExample);
    const dsd = opts.dropout ? dynamicSampleDropout({ perm: pit.perm, metric, pairwise }, memory, ids, opts.dropout) : undefined;
    const flagged = dsd ? dsd.flagged : tf.zeros([ids.shape[0]], 'bool') as tf.Tensor1D;
    const m = memory.remembered(ids);
    const switched = tf.logicalAnd(m.seen, tf.any(tf.notEqual(pit.perm, m.lastPerm), 1));
    memory.update(ids, pit.perm, metric, { flagged, epoch: opts.epoch });
    const share = (t: tf.Tensor) => tf.mean(tf.cast(t, 'float32')) as tf.Scalar;
    return { loss: dsd ? dsd.loss! : pit.loss, perm: pit.perm, perExample: pit.perExample, flagged,
      terms: { pit: pit.loss, flagged: share(flagged), switched: share(switched) } };
  });
}
