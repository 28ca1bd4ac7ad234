import * as tf from '@tensorflow/tfjs';

/**
 * Tensors derived from a module's parameters and buffers alone (batch norm's eval-mode scale and shift), computed on the first eval call and reused until one of the tensors they were
 * derived from changes. A change is seen through the tensor's data: `Variable.assign` (every optimizer step, every
 * running-statistics update, `loadStateDict`) gives a variable new data, which invalidates what was derived from it.
 *
 * The cache only serves calls made with no gradient tape recording (inference, evaluation): under `tf.grad` or
 * `variableGrads` the derived tensors are computed afresh so that gradients reach the parameters. Each entry holds
 * kept tensors, disposed when the entry is recomputed, by `clear()` and by `Module.dispose()`.
 * `SLIMSPEECH_EVAL_CACHE=0` turns it off (for A/B measurements).
 */
export class EvalCache {
  private readonly entries = new Map<string, { deps: unknown[]; values: tf.Tensor[] }>();

  /**
   * The tensors `compute` derives from `deps` under `key`: cached ones while every dep holds the data it held when
   * they were computed, else `compute()` run now. When it caches, `compute` runs in its own tidy scope and the returned
   * tensors belong to the cache (do not dispose them); with the cache off or under a tape they are plain results of
   * `compute`, so call `get` inside the caller's tidy.
   */
  get(key: string, deps: (tf.Tensor | undefined)[], compute: () => tf.Tensor[]): tf.Tensor[] {
    if (!evalCacheEnabled() || tf.engine().state.gradientDepth > 0) return compute();
    const ids = deps.map((d) => d?.dataId);
    const e = this.entries.get(key);
    if (e && e.deps.length === ids.length && e.deps.every((id, i) => id === ids[i]) && e.values.every((v) => !v.isDisposed)) {
      return e.values;
    }
    if (e) tf.dispose(e.values);
    const values = tf.tidy(compute).map((v) => tf.keep(v));
    this.entries.set(key, { deps: ids, values });
    return values;
  }

  /** Number of cached entries. */
  get size(): number {
    return this.entries.size;
  }

  /** Disposes every cached tensor. */
  clear(): void {
    for (const e of this.entries.values()) tf.dispose(e.values);
    this.entries.clear();
  }
}

function evalCacheEnabled(): boolean {
  return typeof process === 'undefined' || process.env?.SLIMSPEECH_EVAL_CACHE !== '0';
}
