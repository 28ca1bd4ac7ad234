import * as tf from '@tensorflow/tfjs';

/** A 1-D sequence of numbers as the count-based metrics accept it: a tensor or any array-like. */
export type NumbersLike = tf.Tensor | ArrayLike<number>;

/**
 * Reads a 1-D tensor or array-like into float64 (internal to metrics). Tensors are read synchronously
 * (these metrics run at evaluation time, never inside a training step, and return plain values so that
 * callers may use them with or without `await`); arrays are copied, never aliased.
 */
export function readVector(x: NumbersLike, what: string, fn: string): Float64Array {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 1) throw new Error(`${fn}: ${what} must be 1-D; got a tensor of shape [${x.shape.join(', ')}]`);
    return Float64Array.from(x.dataSync() as ArrayLike<number>);
  }
  if (x == null || typeof (x as ArrayLike<number>).length !== 'number') {
    throw new Error(`${fn}: ${what} must be a 1-D tensor or an array of numbers`);
  }
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (typeof v !== 'number' && typeof v !== 'boolean') {
      throw new Error(`${fn}: ${what}[${i}] is ${Array.isArray(v) ? 'an array' : typeof v}, expected a number ` +
        `(pass a 2-D input as a tensor)`);
    }
    out[i] = Number(v);
  }
  return out;
}

/** A batch of signals: a [batch, time] tensor, or an array of 1-D signals (tensors or array-likes). */
export type SignalBatch = tf.Tensor | ReadonlyArray<NumbersLike>;

/**
 * Reads a batch of signals into float64 rows (internal to metrics): the rows of a [batch, time] tensor,
 * or each signal of an array read as {@link readVector} does.
 */
export function readSignals(x: SignalBatch, what: string, fn: string): Float64Array[] {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new Error(`${fn}: ${what} must be a [batch, time] tensor; got shape [${x.shape.join(', ')}]`);
    const [b, t] = x.shape as [number, number];
    const data = Float64Array.from(x.dataSync() as ArrayLike<number>);
    return Array.from({ length: b }, (_, i) => data.subarray(i * t, (i + 1) * t));
  }
  if (!Array.isArray(x)) {
    throw new Error(`${fn}: ${what} must be a [batch, time] tensor or an array of signals; got ${Object.prototype.toString.call(x)}`);
  }
  return x.map((s, i) => readVector(s, `${what}[${i}]`, fn));
}

/** The mean of each named metric over the rows, skipping values that are missing or not finite (metrics absent everywhere are left out). */
export function finiteMeans<R extends Record<string, unknown>>(rows: readonly R[], metrics: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics) {
    const v = rows.map((r) => r[m]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    if (v.length) out[m] = v.reduce((a, b) => a + b, 0) / v.length;
  }
  return out;
}
