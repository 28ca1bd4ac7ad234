import * as tf from '@tensorflow/tfjs';

/**
 * How {@link crossEntropy} reduces the per-example losses:
 * 'mean' averages over every example (every leading position), 'sum' adds them, 'none' returns them,
 * shaped as the logits without the class axis. As PyTorch's `reduction` without class weights.
 */
export type CrossEntropyReduction = 'mean' | 'sum' | 'none';

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /**
   * Label smoothing epsilon in [0, 1] (Szegedy et al., "Rethinking the Inception Architecture", 2016):
   * the target becomes (1 - epsilon) * target + epsilon / classes. Default 0.
   */
  labelSmoothing?: number;
  /** See {@link CrossEntropyReduction}. Default 'mean'. */
  reduction?: CrossEntropyReduction;
}

function shapeOf(t: tf.Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/**
 * Softmax cross-entropy between logits and labels, equal to PyTorch `F.cross_entropy(logits, target,
 * label_smoothing=eps, reduction=...)` with the class axis last:
 *
 *   q = (1 - eps) * y + eps / C,   loss_n = -sum_c q_c * log_softmax(logits_n)_c
 *
 * where y is the one-hot encoding of an index label, or the given class-probability row (one-hot or soft
 * targets, e.g. a teacher's probabilities). It is a classification training loss rather than a
 * distillation loss, so it lives in `metrics` beside the other objective functions (SI-SNR, SDR); for
 * Hinton-style distillation see `distill.klDivergence`, which equals soft-target cross-entropy minus the
 * teacher's entropy (a constant for the student). The log-softmax is max-shifted, so any finite logits
 * are safe. Differentiable with respect to the logits.
 *
 * Index labels must lie in [0, C): an index outside has no one-hot row and is not checked here (the
 * check would need a device read inside a training step).
 *
 * @param logits [batch, classes] (or [batch, ..., classes])
 * @param labels class indices [batch] (or [batch, ...]; int32, or float holding integers), or class
 *   probabilities with the logits' shape (one-hot or soft; rows should sum to 1)
 * @returns a scalar for 'mean' and 'sum', the logits' shape without the class axis for 'none'
 */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor, options: CrossEntropyOptions = {}): tf.Tensor {
  const { labelSmoothing = 0, reduction = 'mean' } = options;
  const leading = logits.shape.slice(0, -1);
  const asIndices = labels.rank === logits.rank - 1 && tf.util.arraysEqual(labels.shape, leading);
  const asProbabilities = tf.util.arraysEqual(labels.shape, logits.shape);
  if (logits.rank < 2 || !(asIndices || asProbabilities)) {
    throw new Error(`crossEntropy: logits must be [batch, classes] (or [batch, ..., classes]) and labels ` +
      `either class indices shaped [batch, ...] or probabilities shaped like the logits; got logits ` +
      `${shapeOf(logits)} and labels ${shapeOf(labels)}`);
  }
  if (logits.size === 0) throw new Error(`crossEntropy: empty logits ${shapeOf(logits)}`);
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
    throw new Error(`crossEntropy: labelSmoothing must lie in [0, 1]; got ${labelSmoothing}`);
  }
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new Error(`crossEntropy: reduction must be 'mean', 'sum' or 'none'; got '${reduction}'`);
  }
  const classes = logits.shape[logits.rank - 1];
  return tf.tidy(() => {
    const logProb = tf.logSoftmax(tf.cast(logits, 'float32')); // [batch, ..., classes]
    let target = asIndices
      ? tf.oneHot(tf.cast(labels, 'int32'), classes).toFloat() // [batch, ..., classes]
      : tf.cast(labels, 'float32');
    if (labelSmoothing > 0) target = tf.add(tf.mul(target, 1 - labelSmoothing), labelSmoothing / classes);
    const perExample = tf.neg(tf.sum(tf.mul(target, logProb), -1)); // [batch, ...]
    switch (reduction) {
      case 'none': return perExample;
      case 'sum': return tf.sum(perExample);
      case 'mean': return tf.mean(perExample);
    }
  });
}
