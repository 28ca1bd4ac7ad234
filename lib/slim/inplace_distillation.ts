import * as tf from '@tensorflow/tfjs';
import { Ctx, Module } from '../nn/module';
import { stopGradient } from '../nn/ops';
import { crossEntropy } from '../metrics/cross_entropy';
import { klDivergence } from '../distill/kl_divergence';
import type { StepFn, StepOutput } from '../train/fit';
import { Rng } from '../util/rng';
import { DEFAULT_WIDTHS, normalizeWidths } from './channels';
import { sandwichWidths, WidthSampling } from './sandwich';

/** Options of {@link slimmableLoss}. */
export interface SlimmableLossOptions {
  /** Class labels of the batch: indices [batch] or probabilities [batch, classes] (as metrics.crossEntropy). */
  labels: tf.Tensor;
  /** The width list the sandwich rule draws from. Default [0.25, 0.5, 0.75, 1]. */
  widths?: readonly number[];
  /** Widths per step (sandwich rule: max, min, n-2 random). Default 4. */
  n?: number;
  /** Where the random widths come from (see WidthSampling). Default 'list'. */
  sample?: WidthSampling;
  /**
   * The widths of this step, overriding the sandwich rule (e.g. every listed width, as the reference's
   * non-universal slimmable training). The largest is the teacher. Default: drawn by the sandwich rule.
   */
  stepWidths?: readonly number[];
  /** Random source of the sandwich rule. Default: `ctx.rng.fork('sandwich')` (seeded per step by fit). */
  rng?: Rng;
  /** In-place distillation: the smaller widths learn from the largest's soft predictions. Default true. */
  distill?: boolean;
  /** Softening temperature of the distillation term (see distill.klDivergence). Default 1 (the reference). */
  temperature?: number;
  /** Label smoothing of the largest width's cross-entropy. Default 0. */
  labelSmoothing?: number;
}

/**
 * The loss of one training step of a slimmable supernet with the sandwich rule and in-place distillation
 * (Yu & Huang, ICCV 2019; Akhtar et al., arXiv 2304.12183). With widths w_max > ... from
 * {@link sandwichWidths} (or `stepWidths`), logits z_w = model(x) at width w:
 *
 *   loss = CE(z_max, labels) + sum_{w != w_max} T^2 KL(softmax(sg(z_max)/T) || softmax(z_w/T))
 *
 * where sg is nn.stopGradient: the largest width learns from the labels only and no distillation
 * gradient reaches it through its predictions (its shared weights still receive the smaller widths'
 * gradients through their own forward passes). All widths run in one gradient tape, so the gradient of this
 * sum equals the reference code's per-width `loss.backward()` accumulation, and fit takes one optimizer
 * step per batch. The reference uses soft cross-entropy -sum p_t log p_s at T = 1, which differs from the
 * KL only by the teacher's entropy, a constant with respect to the student: same gradients. With
 * `distill: false`, every width is trained on the labels (kd is then their summed cross-entropy).
 * Runs every width in `ctx`'s mode: in training, each listed width normalises with batch statistics and
 * updates its own switchable batch-norm statistics; a random off-list width (sample 'uniform') borrows the
 * affine parameters of the next listed width above and updates no running statistics (see
 * SwitchableBatchNorm), so evaluate such widths after `recalibrateBatchNorm` on their extracted subnet.
 *
 * @param model a slimmable classifier: [batch, ...] -> logits [batch, classes] at `ctx.width`
 * @param inputs the batch's inputs
 * @returns the loss and its terms `ce` (largest width, labels) and `kd` (the other widths' sum)
 */
export function slimmableLoss(model: Module, inputs: tf.Tensor, ctx: Ctx, options: SlimmableLossOptions): StepOutput {
  const { labels, distill = true, temperature = 1, labelSmoothing = 0 } = options;
  const rng = options.rng ?? ctx.rng?.fork('sandwich');
  if (!options.stepWidths && !rng && (options.n ?? 4) > 2) {
    throw new Error('slimmableLoss: the sandwich rule needs a random source: give options.rng or ctx.rng (fit gives one)');
  }
  const widths = options.stepWidths
    ? [...options.stepWidths].sort((a, b) => b - a)
    : sandwichWidths({ widths: normalizeWidths(options.widths ?? [...DEFAULT_WIDTHS], 'slimmableLoss'), n: options.n,
      sample: options.sample, rng: rng ?? new Rng(0) });
  if (!widths.length) throw new Error('slimmableLoss: stepWidths is empty');
  return tf.tidy(() => {
    const [teacherWidth, ...others] = widths;
    const teacher = model.forward(inputs, { ...ctx, width: teacherWidth });
    if (teacher.rank !== 2) throw new Error(`slimmableLoss: the model must output logits [batch, classes], got [${teacher.shape}]`);
    const ce = crossEntropy(teacher, labels, { labelSmoothing }) as tf.Scalar;
    const soft = stopGradient(teacher);
    const parts = others.map((w) => {
      const student = model.forward(inputs, { ...ctx, width: w });
      return distill ? klDivergence(student, soft, { temperature }) : crossEntropy(student, labels, { labelSmoothing });
    });
    const kd = (parts.length ? tf.addN(parts) : tf.scalar(0)) as tf.Scalar;
    return { loss: tf.add(ce, kd) as tf.Scalar, terms: { ce, kd } };
  });
}

/** Options of {@link slimmableStep}: those of {@link slimmableLoss} without the per-batch labels. */
export interface SlimmableStepOptions<B> extends Omit<SlimmableLossOptions, 'labels' | 'rng'> {
  /** The inputs of a batch. Default `batch.x`. */
  inputs?: (batch: B) => tf.Tensor;
  /** The labels of a batch. Default `batch.y`. */
  labels?: (batch: B) => tf.Tensor;
}

/**
 * A train.fit step function that trains a slimmable supernet with {@link slimmableLoss} (sandwich rule,
 * in-place distillation), its widths seeded by fit's per-step `ctx.rng`. Batches are `{x, y}` unless
 * `inputs`/`labels` say otherwise.
 */
export function slimmableStep<B = { x: tf.Tensor; y: tf.Tensor }>(model: Module, options: SlimmableStepOptions<B> = {}): StepFn<B> {
  const { inputs = (b: B) => (b as unknown as { x: tf.Tensor }).x, labels = (b: B) => (b as unknown as { y: tf.Tensor }).y,
    ...rest } = options;
  return (batch, ctx) => slimmableLoss(model, inputs(batch), ctx, { ...rest, labels: labels(batch) });
}
