import * as tf from '@tensorflow/tfjs';

/**
 * How {@link klDivergence} reduces the per-row divergences:
 * - 'batchmean': sum over every row, divided by the batch size (`shape[0]`), as PyTorch's
 *   `kl_div(..., reduction='batchmean')`; a scalar. This is the mathematically correct mean KL per example.
 * - 'sum': sum over every row; a scalar.
 * - 'none': one value per row (the KL of that row's two distributions); the logits' shape without the
 *   class axis. (PyTorch's 'none' keeps the class axis too; summing it over classes gives this.)
 */
export type KlReduction = 'batchmean' | 'sum' | 'none';

/** Options of {@link klDivergence}. */
export interface KlDivergenceOptions {
  /**
   * Softening temperature T > 0: both logits are divided by T before the softmax, and the result is
   * multiplied by T^2 so that gradient magnitudes stay comparable across temperatures (Hinton et al.).
   * Default 1.
   */
  temperature?: number;
  /** How rows are combined, see {@link KlReduction}. Default 'batchmean'. */
  reduction?: KlReduction;
}

function shapeOf(t: tf.Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/**
 * Knowledge-distillation loss of Hinton, Vinyals and Dean, "Distilling the Knowledge in a Neural
 * Network" (2015): the KL divergence from the student's softened distribution to the teacher's,
 *
 *   p = softmax(teacher / T),  q = softmax(student / T)  (over the last axis)
 *   loss = T^2 * (1 / batch) * sum_rows sum_c p_c (log p_c - log q_c)        (reduction 'batchmean')
 *
 * equal to PyTorch `F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction='batchmean') * T * T`.
 * Both log-probabilities come from a max-shifted log-softmax, so logits of any finite magnitude are safe
 * (no softmax overflow, no log of an underflowed 0). The result is differentiable with respect to both
 * arguments; to keep the teacher fixed, take gradients with respect to the student only (tf.grad does not
 * differentiate inputs it is not asked for).
 *
 * @param student student logits [batch, classes] (or [batch, ..., classes]; 'batchmean' still divides by batch)
 * @param teacher teacher logits, the same shape as `student`
 * @returns a scalar for 'batchmean' and 'sum'; [batch, ...] (the shape without the class axis) for 'none'
 */
export function klDivergence(student: tf.Tensor, teacher: tf.Tensor, options: KlDivergenceOptions = {}): tf.Tensor {
  const { temperature = 1, reduction = 'batchmean' } = options;
  if (student.rank < 2 || !tf.util.arraysEqual(student.shape, teacher.shape)) {
    throw new Error(`klDivergence: student and teacher must be logits of one shape [batch, classes] (or ` +
      `[batch, ..., classes]); got student ${shapeOf(student)} and teacher ${shapeOf(teacher)}`);
  }
  if (student.size === 0) {
    throw new Error(`klDivergence: empty logits ${shapeOf(student)}`);
  }
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new Error(`klDivergence: temperature must be a finite number > 0; got ${temperature}`);
  }
  if (reduction !== 'batchmean' && reduction !== 'sum' && reduction !== 'none') {
    throw new Error(`klDivergence: reduction must be 'batchmean', 'sum' or 'none'; got '${reduction}'`);
  }
  return tf.tidy(() => {
    const logQ = tf.logSoftmax(tf.div(tf.cast(student, 'float32'), temperature)); // [batch, ..., classes]
    const logP = tf.logSoftmax(tf.div(tf.cast(teacher, 'float32'), temperature));
    const perRow = tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), -1); // [batch, ...]
    const scaled = tf.mul(perRow, temperature * temperature);
    switch (reduction) {
      case 'none': return scaled;
      case 'sum': return tf.sum(scaled);
      case 'batchmean': return tf.div(tf.sum(scaled), student.shape[0]);
    }
  });
}
