import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { checkWidth } from './channels';
import { BatchNormStatsSink, CalibrationCtx, SwitchableBatchNorm } from './switchable_batch_norm';

/**
 * How {@link recalibrateBatchNorm} combines the batches:
 * - 'batchAverage': the running mean is the average of the batch means and the running variance the
 *   average of the unbiased batch variances, exactly PyTorch's cumulative moving average
 *   (`momentum=None` after `reset_running_stats()`), which the reference code uses for BN calibration
 *   (Yu & Huang, ICCV 2019, sec. 3.2, `cumulative_bn_stats`);
 * - 'pooled': the mean and unbiased variance of all positions of all batches together (Chan et al.'s
 *   parallel merge), the exact statistics of the calibration set; equal to 'batchAverage' for one batch.
 */
export type RecalibrationStatistic = 'batchAverage' | 'pooled';

/** Options of {@link recalibrateBatchNorm}. */
export interface RecalibrateOptions<B> {
  /** The width whose statistics are re-estimated; it must have its own set in every switchable batch norm. Default 1. */
  width?: number;
  /** See {@link RecalibrationStatistic}. Default 'batchAverage'. */
  statistic?: RecalibrationStatistic;
  /** The model input of a batch. Default: the batch itself when it is a tensor, else `batch.x`. */
  inputs?: (batch: B) => tf.Tensor;
  /** Use at most this many batches. Default: all. */
  maxBatches?: number;
}

/** What {@link recalibrateBatchNorm} did. */
export interface RecalibrateResult {
  /** Switchable batch-norm layers whose statistics were replaced. */
  layers: number;
  /** Batches used. */
  batches: number;
}

interface Acc { count: number; k: number; mean: tf.Tensor1D; second: tf.Tensor1D }

class Collector implements BatchNormStatsSink {
  readonly acc = new Map<SwitchableBatchNorm, Acc>();

  constructor(private readonly statistic: RecalibrationStatistic) {}

  add(layer: SwitchableBatchNorm, _set: number, mean: tf.Tensor1D, variance: tf.Tensor1D, count: number): void {
    const prev = this.acc.get(layer);
    let next: Acc;
    if (this.statistic === 'batchAverage') {
      // Sums of batch means and unbiased batch variances; divided by the batch count at the end.
      const unbiased = tf.tidy(() => tf.mul(variance, count / Math.max(count - 1, 1))) as tf.Tensor1D;
      next = prev
        ? { count: prev.count + count, k: prev.k + 1, mean: tf.add(prev.mean, mean), second: tf.add(prev.second, unbiased) }
        : { count, k: 1, mean: mean.clone(), second: unbiased.clone() };
      unbiased.dispose();
    } else if (!prev) {
      next = { count, k: 1, mean: mean.clone(), second: tf.mul(variance, count) };  // second: sum of squared deviations
    } else {
      const n = prev.count + count;
      next = tf.tidy(() => {
        const delta = tf.sub(mean, prev.mean);
        return { count: n, k: prev.k + 1, mean: tf.add(prev.mean, tf.mul(delta, count / n)) as tf.Tensor1D,
          second: tf.addN([prev.second, tf.mul(variance, count), tf.mul(tf.square(delta), (prev.count * count) / n)]) as tf.Tensor1D };
      });
    }
    // Called inside the model's tidy scopes: the accumulators must outlive them.
    tf.keep(next.mean);
    tf.keep(next.second);
    if (prev) tf.dispose([prev.mean, prev.second]);
    tf.dispose([mean, variance]);
    this.acc.set(layer, next);
  }

  /** Final running mean and (unbiased) running variance of a layer. */
  result(a: Acc): { mean: tf.Tensor; variance: tf.Tensor } {
    if (this.statistic === 'batchAverage') return { mean: tf.div(a.mean, a.k), variance: tf.div(a.second, a.k) };
    return { mean: a.mean.clone(), variance: tf.div(a.second, Math.max(a.count - 1, 1)) };
  }

  dispose(): void {
    for (const a of this.acc.values()) tf.dispose([a.mean, a.second]);
    this.acc.clear();
  }
}

function defaultInputs<B>(b: B): tf.Tensor {
  if (b instanceof tf.Tensor) return b;
  const x = (b as unknown as { x?: tf.Tensor }).x;
  if (!(x instanceof tf.Tensor)) throw new Error('recalibrateBatchNorm: a batch is neither a tensor nor {x}; give options.inputs');
  return x;
}

/**
 * Batch-norm recalibration (Yu & Huang, "Universally Slimmable Networks and Improved Training
 * Techniques", ICCV 2019, sec. 3.2; PAPERS.md section 1): re-estimates the running statistics of every
 * {@link SwitchableBatchNorm} at `width` from calibration batches and replaces them, for widths not
 * trained with their own statistics (a width trained with shared or borrowed statistics, or an extracted
 * off-list subnet). Each batch runs the model at `width` with dropout off; each switchable batch norm
 * normalises with the batch's own statistics, as in the reference's train-mode calibration pass, and
 * collects them; afterwards the width's set holds their combination (see {@link RecalibrationStatistic}).
 * Affine parameters and all other widths' statistics are left alone; plain nn.BatchNorm layers run on
 * their running statistics and are not recalibrated. No gradients, no other state changes.
 *
 * A width that is not in a layer's width list has no set of its own: extract the subnet first
 * (`extractSubnet(model, width)`, whose batch norms own one set) and recalibrate that at width 1.
 *
 * @param batches calibration batches (training data without augmentation); not disposed
 */
export async function recalibrateBatchNorm<B>(model: Module, batches: Iterable<B> | AsyncIterable<B>,
  options: RecalibrateOptions<B> = {}): Promise<RecalibrateResult> {
  const width = options.width ?? 1;
  checkWidth(width, 'recalibrateBatchNorm');
  const statistic = options.statistic ?? 'batchAverage';
  if (statistic !== 'batchAverage' && statistic !== 'pooled') {
    throw new Error(`recalibrateBatchNorm: statistic must be 'batchAverage' or 'pooled', got '${statistic as string}'`);
  }
  const layers = model.namedModules().map(([, m]) => m).filter((m): m is SwitchableBatchNorm => m instanceof SwitchableBatchNorm);
  if (!layers.length) throw new Error('recalibrateBatchNorm: the model has no SwitchableBatchNorm layer');
  for (const l of layers) {
    if (!l.setFor(width).own) {
      throw new Error(`recalibrateBatchNorm: width ${width} has no statistics of its own in '${l.path || 'root'}' (widths ` +
        `[${l.widths}]); extract the subnet (slim.extractSubnet(model, ${width})) and recalibrate it at width 1`);
    }
  }
  const inputs = options.inputs ?? defaultInputs;
  const collector = new Collector(statistic);
  const ctx: CalibrationCtx = { training: false, width, bnStats: collector };
  let used = 0;
  try {
    const run = (b: B) => tf.tidy(() => {
      model.forward(inputs(b), ctx);
    });
    if (Symbol.asyncIterator in batches) {
      for await (const b of batches as AsyncIterable<B>) {
        if (options.maxBatches !== undefined && used >= options.maxBatches) break;
        run(b);
        used += 1;
      }
    } else {
      for (const b of batches as Iterable<B>) {
        if (options.maxBatches !== undefined && used >= options.maxBatches) break;
        run(b);
        used += 1;
      }
    }
    if (!used) throw new Error('recalibrateBatchNorm: no calibration batch');
    for (const [layer, a] of collector.acc) {
      const set = layer.set(layer.setFor(width).index);
      tf.tidy(() => {
        const { mean, variance } = collector.result(a);
        set.runningMean!.assign(mean);
        set.runningVar!.assign(variance);
      });
    }
    return { layers: collector.acc.size, batches: used };
  } finally {
    collector.dispose();
  }
}
