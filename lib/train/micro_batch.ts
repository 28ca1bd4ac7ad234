import * as tf from '@tensorflow/tfjs';

/**
 * How {@link fit} cuts a batch into micro-batches: a number of items per micro-batch, or 'auto' (on the
 * wasm backend, whose heap stops at 4 GB, the largest micro-batch the heap is estimated to hold; elsewhere
 * the whole batch).
 */
export type MicroBatch = number | 'auto';

/**
 * The number of items in a batch: the leading dimension of its first tensor (searched depth-first through
 * objects and arrays), or undefined when it holds no tensor.
 */
export function batchSizeOf(batch: unknown): number | undefined {
  if (batch instanceof tf.Tensor) return batch.rank ? batch.shape[0] : undefined;
  if (Array.isArray(batch)) {
    for (const v of batch) {
      const n = batchSizeOf(v);
      if (n !== undefined) return n;
    }
    return undefined;
  }
  if (batch && typeof batch === 'object' && !ArrayBuffer.isView(batch)) {
    for (const v of Object.values(batch)) {
      const n = batchSizeOf(v);
      if (n !== undefined) return n;
    }
  }
  return undefined;
}

/**
 * Items [start, end) of a batch of `size` items: every tensor whose leading dimension is `size` is sliced
 * along it, and so is every plain or typed array of length `size` (ids, per-item numbers); anything else
 * (scalars, settings, tensors of another leading size) is passed through unchanged. Objects and arrays of
 * tensors are walked. The slices are new tensors the caller disposes.
 */
export function sliceBatch<B>(batch: B, size: number, start: number, end: number): B {
  const walk = (v: unknown, top: boolean): unknown => {
    if (v instanceof tf.Tensor) return v.rank && v.shape[0] === size ? tf.slice(v, [start], [end - start]) : v;
    if (ArrayBuffer.isView(v)) {
      const a = v as unknown as { length: number; slice(s: number, e: number): unknown };
      return a.length === size ? a.slice(start, end) : v;
    }
    if (Array.isArray(v)) {
      if (!top && v.length === size && !v.some((x) => x instanceof tf.Tensor)) return v.slice(start, end);
      return v.map((x) => walk(x, false));
    }
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, false)]));
    return v;
  };
  return walk(batch, true) as B;
}

/** The tensors {@link sliceBatch} created (those not shared with the original batch), to dispose. */
export function slicedTensors(slice: unknown, original: unknown): tf.Tensor[] {
  const keep = new Set<tf.Tensor>();
  const collect = (v: unknown, into: tf.Tensor[] | Set<tf.Tensor>) => {
    const add = (t: tf.Tensor) => (into instanceof Set ? into.add(t) : into.push(t));
    const walk = (x: unknown): void => {
      if (x instanceof tf.Tensor) add(x);
      else if (Array.isArray(x)) x.forEach(walk);
      else if (x && typeof x === 'object' && !ArrayBuffer.isView(x)) Object.values(x).forEach(walk);
    };
    walk(v);
  };
  collect(original, keep);
  const out: tf.Tensor[] = [];
  collect(slice, out);
  return out.filter((t) => !keep.has(t));
}

/**
 * Splits `size` items into micro-batches of at most `limit` items, as evenly as possible (ceil(size /
 * limit) chunks whose sizes differ by at most one): [start, end) pairs in order.
 */
export function microBatchRanges(size: number, limit: number): [number, number][] {
  const chunks = Math.max(1, Math.ceil(size / Math.max(1, Math.floor(limit))));
  const out: [number, number][] = [];
  for (let k = 0, start = 0; k < chunks; k++) {
    const end = Math.round(((k + 1) * size) / chunks);
    if (end > start) out.push([start, end]);
    start = end;
  }
  return out;
}

/** The wasm heap's hard limit: 32-bit WebAssembly memory (65536 pages of 64 KiB). */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3;

/** What {@link planMicroBatch} measured and chose. */
export interface MicroBatchPlan {
  /** Items per micro-batch (the whole batch when it fits). */
  microBatch: number;
  /** Tensor bytes at the peak of one step that do not grow with the batch, estimated. */
  fixedBytes: number;
  /** Tensor bytes at the peak of one step per item of the batch, estimated. */
  bytesPerItem: number;
  /** The budget the peak must stay under. */
  budgetBytes: number;
}

/**
 * Chooses a micro-batch size for a step whose peak memory grows linearly with the items it sees, from
 * two measurements of that peak, `peak(n1)` and `peak(n2)` bytes (n1 < n2): bytes per item = the slope,
 * fixed bytes = the intercept. The micro-batch is the largest size whose estimated peak stays within
 * `budgetBytes`, then evened out over the batch ({@link microBatchRanges}). The engine's peak counts
 * tensors that share memory more than once, so on wasm the estimate is high (about twice the heap
 * measured on the paper-size KWT); a smaller micro-batch than needed costs a little speed, never memory.
 *
 * @throws when even one item is estimated not to fit, naming the bytes one item needs
 */
export function planMicroBatch(batchSize: number, n1: number, peak1: number, n2: number, peak2: number,
  budgetBytes: number): MicroBatchPlan {
  const bytesPerItem = Math.max((peak2 - peak1) / (n2 - n1), 1);
  const fixedBytes = Math.max(peak1 - bytesPerItem * n1, 0);
  const fit = Math.floor((budgetBytes - fixedBytes) / bytesPerItem);
  if (fit < 1) {
    const gb = (b: number) => `${(b / 1024 ** 3).toFixed(2)} GB`;
    throw new Error(`one training item needs about ${gb(fixedBytes + bytesPerItem)} of tensors at the peak of a step ` +
      `(${gb(fixedBytes)} fixed + ${gb(bytesPerItem)} per item), more than the ${gb(budgetBytes)} this backend can hold ` +
      '(the wasm heap stops at 4 GB): lower what each item costs (shorter clips or fewer frames, a smaller model, fewer ' +
      'widths or branches per step), or use a backend with more memory (@tensorflow/tfjs-node or -gpu)');
  }
  const limit = Math.min(batchSize, fit);
  const ranges = microBatchRanges(batchSize, limit);
  return { microBatch: Math.max(...ranges.map(([s, e]) => e - s)), fixedBytes, bytesPerItem, budgetBytes };
}
