import * as tf from '@tensorflow/tfjs';
import { NumbersLike, readVector } from './inputs';

/** Predictions or labels as the classification metrics accept them. */
export type ClassesLike = NumbersLike;

/**
 * Reads class indices (internal to metrics): a [batch, classes] tensor (logits, probabilities or one-hot)
 * becomes its argmax along the last axis (the first maximum on ties, as numpy's argmax); a 1-D tensor or
 * array must hold non-negative integers.
 */
export function readClasses(x: ClassesLike, what: string, fn: string): Int32Array {
  if (x instanceof tf.Tensor && x.rank === 2) {
    if (x.shape[1] === 0) throw new Error(`${fn}: ${what} has no classes: shape [${x.shape.join(', ')}]`);
    const idx = tf.argMax(x, -1);
    try {
      return Int32Array.from(idx.dataSync() as ArrayLike<number>);
    } finally {
      idx.dispose();
    }
  }
  if (x instanceof tf.Tensor && x.rank !== 1) {
    throw new Error(`${fn}: ${what} must be class indices [batch] or scores [batch, classes]; got shape [${x.shape.join(', ')}]`);
  }
  const v = readVector(x, what, fn);
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isInteger(v[i]) || v[i] < 0) throw new Error(`${fn}: ${what}[${i}] is ${v[i]}, not a class index (an integer >= 0)`);
    out[i] = v[i];
  }
  return out;
}

/**
 * Classification accuracy in [0, 1]: the share of examples whose predicted class equals the label,
 * as `sklearn.metrics.accuracy_score(labels, predictions)`.
 *
 * @param predictions class indices [batch] (tensor or array), or scores [batch, classes] (logits or
 *   probabilities, tensor) whose argmax is the prediction (first maximum on ties)
 * @param labels class indices [batch], or one-hot [batch, classes] (tensor)
 * @throws when the batch sizes differ or are 0, or an index is not a non-negative integer
 */
export function accuracy(predictions: ClassesLike, labels: ClassesLike): number {
  const p = readClasses(predictions, 'predictions', 'accuracy');
  const y = readClasses(labels, 'labels', 'accuracy');
  if (p.length !== y.length || p.length === 0) {
    throw new Error(`accuracy: needs one prediction per label and at least one example; got ${p.length} predictions and ${y.length} labels`);
  }
  let hits = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === y[i]) hits++;
  return hits / p.length;
}

/**
 * Top-k accuracy in [0, 1]: the share of examples whose true class is among the k highest scores, as
 * `sklearn.metrics.top_k_accuracy_score(labels, scores, k=k)` on scores without ties. An example counts as
 * a hit when fewer than k classes score strictly higher than its true class, so a tie at the k-th place
 * counts in the true class's favour (sklearn instead breaks ties by class order). k = 1 is
 * {@link accuracy} up to that tie rule.
 *
 * @param scores logits or probabilities [batch, classes]
 * @param labels class indices [batch], each < classes, or one-hot [batch, classes] (tensor)
 * @param k how many top classes count; an integer >= 1 (k >= classes gives 1)
 */
export function topKAccuracy(scores: tf.Tensor, labels: ClassesLike, k: number): number {
  if (!(scores instanceof tf.Tensor) || scores.rank !== 2 || scores.shape[0] === 0 || scores.shape[1] === 0) {
    const got = scores instanceof tf.Tensor ? `shape [${scores.shape.join(', ')}]` : typeof scores;
    throw new Error(`topKAccuracy: scores must be a non-empty tensor [batch, classes]; got ${got}`);
  }
  if (!Number.isInteger(k) || k < 1) throw new Error(`topKAccuracy: k must be an integer >= 1; got ${k}`);
  const [batch, classes] = scores.shape;
  const y = readClasses(labels, 'labels', 'topKAccuracy');
  if (y.length !== batch) throw new Error(`topKAccuracy: ${batch} rows of scores but ${y.length} labels`);
  const s = scores.dataSync();
  let hits = 0;
  for (let n = 0; n < batch; n++) {
    if (y[n] >= classes) throw new Error(`topKAccuracy: labels[${n}] is ${y[n]}, but scores have ${classes} classes`);
    const row = n * classes;
    const own = s[row + y[n]];
    let higher = 0;
    for (let c = 0; c < classes; c++) if (s[row + c] > own) higher++;
    if (higher < k) hits++;
  }
  return hits / batch;
}
