import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from '../nn/module';
import { BatchNorm, batchNormEvalAffine, batchNormForward } from '../nn/norm';
import { ModuleList } from '../nn/sequential';
import { DEFAULT_WIDTHS, normalizeWidths, sameWidth, slimChannels, widthOf } from './channels';
import { assignFrom, buildQuietly, Slimmable } from './extract';

/**
 * Receives the batch statistics of switchable batch-norm layers during {@link recalibrateBatchNorm}:
 * `mean` and biased `variance` [C] of a batch of `count` positions per channel (kept tensors the sink owns).
 */
export interface BatchNormStatsSink {
  add(layer: SwitchableBatchNorm, setIndex: number, mean: tf.Tensor1D, variance: tf.Tensor1D, count: number): void;
}

/**
 * A context with a batch-statistics sink: switchable batch norm then normalises with the batch's own
 * statistics (as in training) and hands them to the sink instead of updating running statistics, whatever
 * `training` says. Used by {@link recalibrateBatchNorm}, which runs with `training: false` so that dropout
 * is off.
 */
export interface CalibrationCtx extends Ctx {
  bnStats?: BatchNormStatsSink;
}

/** Arguments of {@link SwitchableBatchNorm}. */
export interface SwitchableBatchNormArgs {
  /** Channels at full width (last axis). */
  numFeatures: number;
  /** Widths with their own statistics and affine parameters. Default [0.25, 0.5, 0.75, 1]. */
  widths?: number[];
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /** Running-statistics update rate (as nn.BatchNorm). Default 0.1. */
  momentum?: number;
  /** Learn gamma and beta per width. Default true. */
  affine?: boolean;
}

/**
 * Switchable batch normalisation (Yu et al., "Slimmable Neural Networks", ICLR 2019, sec. 3.2; Akhtar et
 * al., arXiv 2304.12183): one nn.BatchNorm per width of the width list, the one of width w_i sized
 * slimChannels(numFeatures, w_i), holding that width's running statistics AND affine parameters (children
 * `bn.0`, `bn.1`, ... in ascending width order). x [..., slimChannels(numFeatures, w)] at w = ctx.width
 * (default 1):
 * - w in the list: training normalises with batch statistics and updates that width's running
 *   statistics with `momentum` (exactly nn.BatchNorm); evaluation uses that width's running statistics.
 * - w not in the list (universally slimmable training with widths drawn from [min, max]): the set of the
 *   nearest listed width ABOVE w is used, sliced to its first slimChannels(numFeatures, w) channels.
 *   Training normalises with batch statistics and trains that set's sliced affine parameters but never
 *   touches any running statistics (they belong to another width); evaluation uses the borrowed set's
 *   sliced running statistics, an approximation: extract the subnet (its batch norms then own one set for
 *   that width) and run `recalibrateBatchNorm` on it. A width above the largest listed one is an error.
 * With a {@link CalibrationCtx} sink, batch statistics normalise and go to the sink (recalibration).
 */
export class SwitchableBatchNorm extends Module implements Slimmable {
  readonly numFeatures: number;
  readonly widths: number[];
  readonly eps: number;
  readonly momentum: number;
  readonly affine: boolean;
  readonly bn: ModuleList;

  constructor(args: SwitchableBatchNormArgs) {
    super();
    this.numFeatures = args.numFeatures;
    this.widths = normalizeWidths(args.widths ?? [...DEFAULT_WIDTHS], 'SwitchableBatchNorm');
    this.eps = args.eps ?? 1e-5;
    this.momentum = args.momentum ?? 0.1;
    this.affine = args.affine ?? true;
    this.bn = this.addModule('bn', new ModuleList(this.widths.map((w) => new BatchNorm({
      numFeatures: slimChannels(this.numFeatures, w), eps: this.eps, momentum: this.momentum, affine: this.affine }))));
  }

  /** The batch norm of width-list entry `i`. */
  set(i: number): BatchNorm {
    return this.bn.items[i] as BatchNorm;
  }

  /**
   * Which set serves width `width`: its index, and whether it is the width's own (listed) set or borrowed
   * from the nearest listed width above.
   */
  setFor(width: number): { index: number; own: boolean } {
    const own = this.widths.findIndex((w) => sameWidth(w, width));
    if (own >= 0) return { index: own, own: true };
    const above = this.widths.findIndex((w) => w > width);
    if (above < 0) {
      throw new Error(`SwitchableBatchNorm${this.path ? ` '${this.path}'` : ''}: width ${width} is above the largest ` +
        `switchable width ${this.widths[this.widths.length - 1]} (widths [${this.widths}])`);
    }
    return { index: above, own: false };
  }

  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    const name = `SwitchableBatchNorm${this.path ? ` '${this.path}'` : ''}`;
    const w = widthOf(ctx, name);
    const c = slimChannels(this.numFeatures, w);
    if (x.rank < 2 || x.shape[x.rank - 1] !== c) {
      throw new Error(`${name}: at width ${w} expected last axis ${c} (of ${this.numFeatures}), got [${x.shape}]`);
    }
    const { index, own } = this.setFor(w);
    const bn = this.set(index);
    const sink = (ctx as CalibrationCtx).bnStats;
    return tf.tidy(() => {
      const cut = (v: tf.Variable | undefined) => (v && v.shape[0] !== c ? tf.slice(v, [0], [c]) : v);
      if (sink) {
        const gamma = cut(bn.weight), beta = cut(bn.bias);
        const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
        const { mean, variance } = tf.moments(x, axes);
        sink.add(this, index, tf.keep(mean) as tf.Tensor1D, tf.keep(variance) as tf.Tensor1D, x.size / c);
        return batchNormForward(x, true, gamma, beta, undefined, undefined, this.eps, this.momentum);
      }
      if (ctx.training) {
        const gamma = cut(bn.weight), beta = cut(bn.bias);
        // Only a width's own set learns running statistics; a borrowed set is normalised with batch statistics.
        return batchNormForward(x, true, gamma, beta, own ? bn.runningMean : undefined, own ? bn.runningVar : undefined,
          this.eps, this.momentum);
      }
      // Inference: the (sliced) running statistics and affine parameters as one scale and shift, computed once per change.
      const [scale, shift] = this.evalCache.get(`${index}:${c}`, [bn.weight, bn.bias, bn.runningMean, bn.runningVar],
        () => batchNormEvalAffine(cut(bn.weight), cut(bn.bias), cut(bn.runningMean)!, cut(bn.runningVar)!, this.eps));
      return tf.add(tf.mul(x, scale), shift);
    });
  }

  /**
   * The layer at `width` as a SwitchableBatchNorm of slimChannels(numFeatures, width) channels with one
   * width, 1, holding copies of the serving set's (sliced) affine parameters and running statistics.
   */
  extract(width: number): SwitchableBatchNorm {
    const c = slimChannels(this.numFeatures, width);
    const src = this.set(this.setFor(width).index);
    const m = buildQuietly(() => new SwitchableBatchNorm({ numFeatures: c, widths: [1], eps: this.eps,
      momentum: this.momentum, affine: this.affine }));
    const dst = m.set(0);
    const pairs: [tf.Variable | undefined, tf.Variable | undefined][] = [[dst.weight, src.weight], [dst.bias, src.bias],
      [dst.runningMean, src.runningMean], [dst.runningVar, src.runningVar]];
    for (const [d, s] of pairs) if (d && s) assignFrom(d, () => tf.slice(s, [0], [c]));
    return m;
  }

  getConfig(): Record<string, unknown> {
    return { numFeatures: this.numFeatures, widths: this.widths, eps: this.eps, momentum: this.momentum, affine: this.affine };
  }
}
registerModule('SwitchableBatchNorm', SwitchableBatchNorm);
