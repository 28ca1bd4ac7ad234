import * as tf from '@tensorflow/tfjs';
import { accuracy } from '../metrics/accuracy';
import type { Ctx, Module } from '../nn/module';

/**
 * Class predictions of `model` over batches of inputs, in order: the argmax of its logits [batch, classes]
 * per item, computed batch by batch in evaluation mode (or `ctx`). Each input is disposed after use when
 * `dispose` is true (inputs made on the fly); nothing else is kept.
 */
export async function predictClasses(model: Module, inputs: Iterable<tf.Tensor>,
  options: { ctx?: Ctx; dispose?: boolean } = {}): Promise<Int32Array> {
  const { ctx = { training: false }, dispose = false } = options;
  const parts: Int32Array[] = [];
  for (const x of inputs) {
    const am = tf.tidy(() => tf.argMax(model.forward(x, ctx), -1));
    parts.push((await am.data()) as Int32Array);
    am.dispose();
    if (dispose) x.dispose();
  }
  const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** 1 where the prediction equals the label, else 0: the per-item evidence of an accuracy claim. */
export function correctness(predictions: ArrayLike<number>, labels: ArrayLike<number>): number[] {
  if (predictions.length !== labels.length) throw new Error(`correctness: ${predictions.length} predictions for ${labels.length} labels`);
  return Array.from(predictions, (p, i) => (p === labels[i] ? 1 : 0));
}

/**
 * Accuracy (metrics.accuracy) over the items where `mask` is true (all items without one); null when the
 * mask selects nothing (e.g. no recorded voice in a split).
 */
export function accuracyWhere(predictions: ArrayLike<number>, labels: ArrayLike<number>, mask?: ArrayLike<boolean>): number | null {
  const idx = Array.from({ length: labels.length }, (_, i) => i).filter((i) => !mask || mask[i]);
  if (!idx.length) return null;
  return accuracy(idx.map((i) => predictions[i]), idx.map((i) => labels[i]));
}

/**
 * The two baselines every classification number is read against: `chance` (a uniform guess among
 * `classes`), and `majority` (always answering the most frequent class of the training labels, scored on
 * the test labels).
 */
export function classificationBaselines(trainLabels: ArrayLike<number>, testLabels: ArrayLike<number>, classes: number):
{ chance: number; majority: number; majorityClass: number } {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < trainLabels.length; i++) counts[trainLabels[i]] += 1;
  const majorityClass = counts.indexOf(Math.max(...counts));
  let hit = 0;
  for (let i = 0; i < testLabels.length; i++) if (testLabels[i] === majorityClass) hit += 1;
  return { chance: 1 / classes, majority: hit / testLabels.length, majorityClass };
}

/**
 * A train.fit `validate` callback: accuracy of `model` on `inputs` (batches, in order) against `labels`
 * at each of `widths` (a slimmable model; `[undefined]` for a plain one), recorded under `name(width)`.
 */
export function validationAccuracy(model: Module, inputs: tf.Tensor[], labels: ArrayLike<number>,
  widths: (number | undefined)[], name: (width: number | undefined) => string): () => Promise<Record<string, number>> {
  return async () => {
    const out: Record<string, number> = {};
    for (const width of widths) {
      const pred = await predictClasses(model, inputs, { ctx: { training: false, width } });
      out[name(width)] = accuracy(pred, labels);
    }
    return out;
  };
}
