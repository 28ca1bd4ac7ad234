import * as tf from '@tensorflow/tfjs';
import type { Ctx } from '../nn/module';
import type { StepFn, StepInfo, StepOutput } from '../train/fit';
import { noGrad } from '../distill/teacher_student_step';
import { hiddenStateTerms, CosineLossType } from '../distill/hidden_state_loss';
import type { LinearProjection } from '../distill/projection';
import type { Wav2Vec2Model } from '../models/wav2vec2';
import type { LagrangianController } from './lagrangian';
import { expectedSparsity, ungatedParams } from './wav2vec2';

/** Options of {@link distillPruneStep}. */
export interface DistillPruneStepOptions {
  /** Hidden states distilled, as indices of `hiddenStates` (0: the feature projection's output). DPHuBERT: [0, 4, 8, 12]. */
  layers: number[];
  /**
   * The student's hidden states distilled to them, one per entry of `layers`. Default `layers` (a pruned copy of
   * the teacher); a shallower student (DistilHuBERT-like) maps its own layers, e.g. [0, 1, 2] to the teacher's [0, 4, 8].
   */
  studentLayers?: number[];
  /** One head per distilled layer, student width -> teacher width (identity-initialised LinearProjection, as DPHuBERT's). */
  heads: LinearProjection[];
  /** The sparsity constraint; absent in the final distillation (no regulariser). */
  controller?: LagrangianController;
  /** The parameter count sparsity is measured against. Default: the student's ungated count when the step is made. */
  referenceParams?: number;
  /** Cosine term, 'raw' (-cos) or 'log_sig' (-log sigmoid(cos)). Default 'raw'. */
  cos?: CosineLossType;
  /** Weights of the L1 and cosine terms. Default 1 and 1. */
  l1Weight?: number;
  cosWeight?: number;
}

/**
 * DPHuBERT's training step as a train.fit step over batches `{x: waveforms [batch, samples]}`:
 *
 *   teacher hidden states    = noGrad(teacher.hiddenStates(x, eval))[layers]            // [B, k, T, D_t]
 *   student hidden states    = heads_i(student.hiddenStates(x, ctx)[layers_i])           // gates sampled in training
 *   distill = l1Weight * mean|s - t| + cosWeight * cosTerm(cos(s, t))                      (over the stacked layers)
 *   reg     = l1 (s_exp - t(step)) + l2 (s_exp - t(step))^2                                (LagrangianController)
 *   loss    = distill + reg
 *
 * with s_exp = 1 - expectedParams(student) / referenceParams. Terms logged by fit: distill, l1, cos, and with a
 * controller reg, sparsity (expected), target and the multipliers lambda1, lambda2 (their values before the step).
 * Give fit the student, the heads and the controller as modules, and parameter groups: the model and heads
 * descending, the gates' log_alpha descending (DPHuBERT: lr 0.02, no weight decay), the controller's multipliers
 * ascending (a negative learning rate, -0.02).
 */
export function distillPruneStep(student: Wav2Vec2Model, teacher: Wav2Vec2Model, opts: DistillPruneStepOptions): StepFn<{ x: tf.Tensor }> {
  const { layers, heads, controller } = opts;
  const studentLayers = opts.studentLayers ?? layers;
  if (!layers.length || layers.length !== heads.length || studentLayers.length !== layers.length) {
    throw new Error(`distillPruneStep: ${layers.length} layers, ${studentLayers.length} student layers and ${heads.length} heads; ` +
      'give one student layer and one head per distilled layer');
  }
  const deepest = Math.max(...layers), deepestStudent = Math.max(...studentLayers);
  for (const [name, m, d] of [['student', student, deepestStudent], ['teacher', teacher, deepest]] as const) {
    if (d > m.args.encoderNumLayers) throw new Error(`distillPruneStep: layer ${d} does not exist in the ${name} (${m.args.encoderNumLayers} layers)`);
  }
  const reference = opts.referenceParams ?? ungatedParams(student);
  const l1w = opts.l1Weight ?? 1, cw = opts.cosWeight ?? 1;
  return (batch: { x: tf.Tensor }, ctx: Ctx, info: StepInfo): StepOutput => {
    const target = noGrad(() => {
      const hs = teacher.hiddenStates(batch.x, { training: false }, { numLayers: deepest });
      const picked = tf.stack(layers.map((l) => hs[l]), 1);
      tf.dispose(hs);
      return picked;
    });
    const hs = student.hiddenStates(batch.x, ctx, { numLayers: deepestStudent });
    const projected = tf.stack(studentLayers.map((l, i) => heads[i].forward(hs[l], ctx)), 1);
    const t = hiddenStateTerms(projected, target, { cos: opts.cos ?? 'raw' });
    const distill = tf.add(tf.mul(t.l1, l1w), tf.mul(t.cos, cw)) as tf.Scalar;
    const terms: Record<string, tf.Scalar> = { distill, l1: t.l1, cos: t.cos };
    let loss = distill;
    if (controller) {
      const sparsity = expectedSparsity(student, reference);
      const reg = controller.loss(sparsity, info.step);
      loss = tf.add(distill, reg) as tf.Scalar;
      Object.assign(terms, { reg, sparsity, target: tf.scalar(controller.target(info.step)),
        lambda1: tf.clone(controller.lambda1) as tf.Scalar, lambda2: tf.clone(controller.lambda2) as tf.Scalar });
    }
    tf.dispose([target, projected, t.l2, ...hs]);
    return { loss, terms };
  };
}
