import * as tf from '@tensorflow/tfjs';
import { Ctx, Module } from '../nn/module';
import { InferenceRunner } from '../nn/inference';

/** Options of {@link latency}. */
export interface LatencyOptions {
  /** Untimed runs first (kernel set-up, caches). Default 3. */
  warmup?: number;
  /** Timed runs. Default 20. */
  runs?: number;
  /**
   * For a module target: time its replayed inference plan (nn.InferenceRunner, what a deployment would run; the same
   * outputs as forward, without tfjs's per-op bookkeeping) rather than `forward`. Default true.
   */
  plan?: boolean;
}

/** Result of {@link latency}, in milliseconds. */
export interface LatencyResult {
  medianMs: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
  runs: number;
}

function summarise(times: number[]): LatencyResult {
  const s = [...times].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return {
    medianMs: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2,
    meanMs: s.reduce((a, b) => a + b, 0) / s.length,
    minMs: s[0], maxMs: s[s.length - 1], runs: s.length,
  };
}

/**
 * Wall-clock latency: the median of `runs` timed calls after `warmup` untimed ones. `target` is either a
 * function (its returned tensors are read back, so asynchronous backends finish, then disposed) or a
 * module with an input (one evaluation-mode pass per run, `ctx` to add e.g. a width; by default through an
 * nn.InferenceRunner, whose first call, a warm-up one, traces the pass: `plan: false` times `forward` itself).
 */
export async function latency(
  target: (() => tf.TensorContainer | Promise<tf.TensorContainer>) | { module: Module; input: tf.Tensor; ctx?: Ctx },
  opts: LatencyOptions = {},
): Promise<LatencyResult> {
  const warmup = opts.warmup ?? 3;
  const runs = opts.runs ?? 20;
  if (!(runs >= 1)) throw new Error(`latency: runs must be >= 1, got ${runs}`);
  const runner = typeof target !== 'function' && (opts.plan ?? true) ? new InferenceRunner(target.module, target.ctx) : undefined;
  const fn = typeof target === 'function'
    ? target
    : runner
      ? () => runner.run(target.input)
      : () => target.module.forward(target.input, { training: false, ...(target.ctx ?? {}) });
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const out = await fn();
    const tensors: tf.Tensor[] = [];
    const walk = (c: unknown) => {
      if (c instanceof tf.Tensor) tensors.push(c);
      else if (Array.isArray(c)) c.forEach(walk);
      else if (c && typeof c === 'object') Object.values(c).forEach(walk);
    };
    walk(out);
    await Promise.all(tensors.map((t) => t.data()));
    const dt = performance.now() - t0;
    // A module may return its input unchanged (identity, eval-mode dropout): that tensor is the caller's.
    const input = typeof target === 'function' ? undefined : target.input;
    tf.dispose(tensors.filter((t) => t !== input));
    return dt;
  };
  try {
    for (let i = 0; i < warmup; i++) await once();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await once());
    return summarise(times);
  } finally {
    runner?.dispose();
  }
}
