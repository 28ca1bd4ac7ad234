import * as tf from '@tensorflow/tfjs';
import { absolute, l2Norm } from './norms';

/**
 * The cosine term of {@link hiddenStateLoss}, with c the cosine similarity of a student and a teacher vector:
 * - 'raw': -c (DPHuBERT's default);
 * - 'log_sig': -log sigmoid(c) (DistilHuBERT's, eq. 1 of Chang et al. 2022).
 */
export type CosineLossType = 'raw' | 'log_sig';

/** Options of {@link hiddenStateLoss}. */
export interface HiddenStateLossOptions {
  /** Weight of the L1 term. Default 1. */
  l1?: number;
  /** Form of the cosine term, see {@link CosineLossType}. Default 'raw'. */
  cos?: CosineLossType;
  /** Weight of the cosine term. Default 1. */
  cosWeight?: number;
  /** Weight of the squared-error (MSE) term. Default 0 (DPHuBERT's default). */
  l2?: number;
}

/** The unweighted terms of {@link hiddenStateLoss}, each a scalar (to log them separately). */
export interface HiddenStateTerms {
  /** mean |s - t| over every element. */
  l1: tf.Scalar;
  /** mean (s - t)^2 over every element. */
  l2: tf.Scalar;
  /** mean over vectors of -cos or -log sigmoid(cos). */
  cos: tf.Scalar;
}

const shapeOf = (t: tf.Tensor): string => `[${t.shape.join(', ')}]`;

function checkPair(name: string, student: tf.Tensor, teacher: tf.Tensor, minRank: number, what: string): void {
  if (student.rank < minRank || !tf.util.arraysEqual(student.shape, teacher.shape)) {
    throw new Error(`${name}: student and teacher must be ${what} of one shape; got student ${shapeOf(student)} and ` +
      `teacher ${shapeOf(teacher)}`);
  }
  if (student.size === 0) throw new Error(`${name}: empty features ${shapeOf(student)}`);
}

/**
 * Mean squared error over every element, mean((s - t)^2), as PyTorch `nn.MSELoss()` (reduction 'mean'); the
 * last-hidden-state loss of OS-KDFT and DPHuBERT's optional L2 term.
 *
 * @param student any shape [batch, ...]
 * @param teacher the student's shape
 * @returns a scalar
 */
export function mse(student: tf.Tensor, teacher: tf.Tensor): tf.Scalar {
  checkPair('mse', student, teacher, 1, 'tensors');
  return tf.tidy(() => tf.mean(tf.squaredDifference(tf.cast(student, 'float32'), tf.cast(teacher, 'float32'))) as tf.Scalar);
}

/**
 * Cosine similarity over the last axis, s . t / (max(||s||, eps) max(||t||, eps)): PyTorch's
 * `F.cosine_similarity(s, t, dim=-1, eps)` (each norm clamped, as documented for torch >= 1.12).
 */
function cosineSimilarity(s: tf.Tensor, t: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => tf.div(tf.sum(tf.mul(s, t), -1),
    tf.mul(tf.maximum(l2Norm(s, -1), eps), tf.maximum(l2Norm(t, -1), eps))));
}

/**
 * mean(-c) or mean(-log sigmoid(c)), the latter as mean(softplus(-c)): stable for any c, and tf.logSigmoid's
 * gradient reads its input after the caller's tidy may have disposed it (tfjs 4.22 closes over x).
 */
function cosineTerm(c: tf.Tensor, type: CosineLossType): tf.Scalar {
  return tf.tidy(() => (type === 'raw' ? tf.neg(tf.mean(c)) : tf.mean(tf.softplus(tf.neg(c)))) as tf.Scalar);
}

/**
 * The terms of {@link hiddenStateLoss}, unweighted, for logging each (DPHuBERT logs loss_l1, loss_cos and
 * loss_mse). All three are computed.
 *
 * @param student [batch, ..., features]
 * @param teacher the student's shape
 */
export function hiddenStateTerms(student: tf.Tensor, teacher: tf.Tensor,
  options: Pick<HiddenStateLossOptions, 'cos'> = {}): HiddenStateTerms {
  const { cos = 'raw' } = options;
  checkPair('hiddenStateTerms', student, teacher, 2, 'features [batch, ..., features]');
  if (cos !== 'raw' && cos !== 'log_sig') throw new Error(`hiddenStateTerms: cos must be 'raw' or 'log_sig'; got '${cos}'`);
  return tf.tidy(() => {
    const s = tf.cast(student, 'float32'), t = tf.cast(teacher, 'float32');
    const diff = tf.sub(s, t);
    const c = cosineSimilarity(s, t, 1e-8); // [batch, ...]
    return {
      l1: tf.mean(absolute(diff)) as tf.Scalar,
      l2: tf.mean(tf.square(diff)) as tf.Scalar,
      cos: cosineTerm(c, cos),
    };
  });
}

/**
 * Hidden-state distillation loss of DistilHuBERT (Chang et al., ICASSP 2022) and DPHuBERT (Peng et al.,
 * Interspeech 2023): an L1 term plus a cosine term (plus an optional MSE term),
 *
 *   L1  = mean_{all elements} |s - t|
 *   MSE = mean_{all elements} (s - t)^2
 *   c   = cos(s[..., :], t[..., :]) over the feature axis, eps 1e-8 (one value per vector)
 *   COS = mean_{vectors} -c                 ('raw')
 *       = mean_{vectors} -log sigmoid(c)    ('log_sig')
 *   loss = l1 * L1 + l2 * MSE + cosWeight * COS
 *
 * equal to DPHuBERT's `DistillLoss(l2_weight, l1_weight, cos_weight, cos_type)` (nn.L1Loss, nn.MSELoss,
 * nn.CosineSimilarity(dim=-1), means over batch, layer and time). DPHuBERT stacks the distilled layers as
 * [batch, layer, time, features]: passing such stacks gives its loss exactly (the mean over layers of the
 * per-layer losses); DistilHuBERT sums the per-layer losses instead (sum this loss over layer pairs).
 * Terms of weight 0 are not computed.
 *
 * @param student [batch, ..., features] (e.g. [batch, time, features] or [batch, layer, time, features])
 * @param teacher the student's shape
 * @returns a scalar
 */
export function hiddenStateLoss(student: tf.Tensor, teacher: tf.Tensor, options: HiddenStateLossOptions = {}): tf.Scalar {
  const { l1 = 1, cos = 'raw', cosWeight = 1, l2 = 0 } = options;
  checkPair('hiddenStateLoss', student, teacher, 2, 'features [batch, ..., features]');
  if (cos !== 'raw' && cos !== 'log_sig') throw new Error(`hiddenStateLoss: cos must be 'raw' or 'log_sig'; got '${cos}'`);
  for (const [k, v] of [['l1', l1], ['cosWeight', cosWeight], ['l2', l2]] as const) {
    if (!Number.isFinite(v)) throw new Error(`hiddenStateLoss: ${k} must be a finite number; got ${v}`);
  }
  return tf.tidy(() => {
    const s = tf.cast(student, 'float32'), t = tf.cast(teacher, 'float32');
    const parts: tf.Tensor[] = [];
    if (l1 !== 0) parts.push(tf.mul(tf.mean(absolute(tf.sub(s, t))), l1));
    if (l2 !== 0) parts.push(tf.mul(tf.mean(tf.squaredDifference(s, t)), l2));
    if (cosWeight !== 0) parts.push(tf.mul(cosineTerm(cosineSimilarity(s, t, 1e-8), cos), cosWeight));
    return (parts.length ? tf.addN(parts) : tf.scalar(0)) as tf.Scalar;
  });
}
