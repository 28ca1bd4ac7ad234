import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from './module';
import { filled } from './init';
import { batchNorm2d, groupNorm } from './fused';


/**
 * Batch normalisation in training mode over every axis but the last (channels-last):
 * y = (x - mean) / sqrt(var + eps) * gamma + beta, with the biased batch variance, and the analytic
 * gradient (see fused.batchNorm2d). Returns y and the batch mean and biased variance ([C], kept: the
 * caller disposes them) for the running statistics.
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number):
  { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const c = x.shape[x.rank - 1];
  const r = batchNorm2d(tf.reshape(x, [-1, c]) as tf.Tensor2D, gamma as tf.Tensor1D, beta as tf.Tensor1D, eps);
  return { y: tf.reshape(r.y, x.shape), mean: r.mean, variance: r.variance };
}

/**
 * Layer normalisation over the last axis: y = (x - mean) / sqrt(var + eps) * gamma + beta (biased
 * variance), with the analytic gradient (see fused.groupNorm). gamma and beta may be undefined (no
 * affine transform).
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor | undefined, beta: tf.Tensor | undefined, eps: number): tf.Tensor {
  const d = x.shape[x.rank - 1];
  return tf.tidy(() => {
    const y = groupNorm(tf.reshape(x, [-1, 1, d]) as tf.Tensor3D, (gamma ?? tf.ones([d])) as tf.Tensor1D,
      (beta ?? tf.zeros([d])) as tf.Tensor1D, eps);
    return tf.reshape(y, x.shape);
  });
}

/** Arguments of {@link BatchNorm}. */
export interface BatchNormArgs {
  /** Channels (last axis). */
  numFeatures: number;
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /** Running-statistics update rate: running = (1 - momentum) * running + momentum * batch. Default 0.1. */
  momentum?: number;
  /** Learn gamma and beta. Default true. */
  affine?: boolean;
  /** Keep running statistics for evaluation; if false, batch statistics are used in eval too. Default true. */
  trackRunningStats?: boolean;
}

/**
 * Batch normalisation over every axis but the last (torch.nn.BatchNorm1d/2d on channels-last data).
 * Training uses batch statistics (biased variance) and updates the running mean and the running
 * unbiased variance with `momentum`, exactly as PyTorch; evaluation uses the running statistics.
 */
export class BatchNorm extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;
  readonly weight?: tf.Variable;
  readonly bias?: tf.Variable;
  readonly runningMean?: tf.Variable;
  readonly runningVar?: tf.Variable;

  constructor(args: BatchNormArgs) {
    super();
    this.numFeatures = args.numFeatures;
    this.eps = args.eps ?? 1e-5;
    this.momentum = args.momentum ?? 0.1;
    if (args.affine ?? true) {
      this.weight = this.addParameter('weight', filled(this.numFeatures, 1), [this.numFeatures]);
      this.bias = this.addParameter('bias', filled(this.numFeatures, 0), [this.numFeatures]);
    }
    if (args.trackRunningStats ?? true) {
      this.runningMean = this.addBuffer('runningMean', filled(this.numFeatures, 0), [this.numFeatures]);
      this.runningVar = this.addBuffer('runningVar', filled(this.numFeatures, 1), [this.numFeatures]);
    }
  }

  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    if (x.rank < 2 || x.shape[x.rank - 1] !== this.numFeatures) {
      throw new Error(`BatchNorm${this.path ? ` '${this.path}'` : ''}: expected last axis ${this.numFeatures}, got [${x.shape}]`);
    }
    if (ctx.training || !this.runningMean) {
      return batchNormForward(x, true, this.weight, this.bias, this.runningMean, this.runningVar, this.eps, this.momentum);
    }
    // Inference: the running statistics and the affine parameters as one scale and shift, computed once per change.
    // (In a tidy: with the cache off or under a gradient tape they are computed afresh, and disposed here.)
    return tf.tidy(() => {
      const [scale, shift] = this.evalCache.get('affine', [this.weight, this.bias, this.runningMean, this.runningVar],
        () => batchNormEvalAffine(this.weight, this.bias, this.runningMean!, this.runningVar!, this.eps));
      return tf.add(tf.mul(x, scale), shift);
    });
  }

  getConfig(): Record<string, unknown> {
    return { numFeatures: this.numFeatures, eps: this.eps, momentum: this.momentum, affine: this.weight !== undefined,
      trackRunningStats: this.runningMean !== undefined };
  }
}
registerModule('BatchNorm', BatchNorm);

/**
 * The batch-norm computation shared with switchable batch norm: batch statistics (and a running-statistics
 * update when running buffers are given) in training, running statistics otherwise.
 */
export function batchNormForward(x: tf.Tensor, useBatchStats: boolean, gamma: tf.Tensor | undefined,
  beta: tf.Tensor | undefined, runningMean: tf.Variable | undefined, runningVar: tf.Variable | undefined,
  eps: number, momentum: number): tf.Tensor {
  const c = x.shape[x.rank - 1];
  return tf.tidy(() => {
    const g = gamma ?? tf.ones([c]);
    const b = beta ?? tf.zeros([c]);
    if (useBatchStats) {
      const { y, mean, variance } = batchNormTrain(x, g, b, eps);
      if (runningMean && runningVar) {
        const n = x.size / c;
        const unbiased = tf.mul(variance, n / Math.max(n - 1, 1));
        runningMean.assign(tf.add(tf.mul(runningMean, 1 - momentum), tf.mul(mean, momentum)));
        runningVar.assign(tf.add(tf.mul(runningVar, 1 - momentum), tf.mul(unbiased, momentum)));
      }
      mean.dispose();
      variance.dispose();
      return y;
    }
    const [scale, shift] = batchNormEvalAffine(g, b, runningMean!, runningVar!, eps);
    return tf.add(tf.mul(x, scale), shift);
  });
}

/**
 * Eval-mode batch norm as y = x * scale + shift: scale = gamma / sqrt(var + eps), shift = beta - mean * scale
 * (gamma 1 and beta 0 when absent).
 */
export function batchNormEvalAffine(gamma: tf.Tensor | undefined, beta: tf.Tensor | undefined, mean: tf.Tensor,
  variance: tf.Tensor, eps: number): [tf.Tensor, tf.Tensor] {
  const inv = tf.rsqrt(tf.add(variance, eps));
  const scale = gamma ? tf.mul(gamma, inv) : inv;
  const shift = beta ? tf.sub(beta, tf.mul(mean, scale)) : tf.neg(tf.mul(mean, scale));
  return [scale, shift];
}

/** Arguments of {@link LayerNorm}. */
export interface LayerNormArgs {
  /** Size of the last axis, which is normalised. */
  normalizedShape: number;
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /** Learn gamma and beta. Default true. */
  elementwiseAffine?: boolean;
}

/** Layer normalisation over the last axis (torch.nn.LayerNorm(normalizedShape)). */
export class LayerNorm extends Module {
  readonly normalizedShape: number;
  readonly eps: number;
  readonly weight?: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(args: LayerNormArgs) {
    super();
    this.normalizedShape = args.normalizedShape;
    this.eps = args.eps ?? 1e-5;
    if (args.elementwiseAffine ?? true) {
      this.weight = this.addParameter('weight', filled(this.normalizedShape, 1), [this.normalizedShape]);
      this.bias = this.addParameter('bias', filled(this.normalizedShape, 0), [this.normalizedShape]);
    }
  }

  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.normalizedShape) {
      throw new Error(`LayerNorm${this.path ? ` '${this.path}'` : ''}: expected last axis ${this.normalizedShape}, got [${x.shape}]`);
    }
    return tf.tidy(() => layerNorm(x, this.weight, this.bias, this.eps));
  }

  getConfig(): Record<string, unknown> {
    return { normalizedShape: this.normalizedShape, eps: this.eps, elementwiseAffine: this.weight !== undefined };
  }
}
registerModule('LayerNorm', LayerNorm);

/** Arguments of {@link GlobalLayerNorm}. */
export interface GlobalLayerNormArgs {
  /** Channels (last axis). */
  numChannels: number;
  /** Added to the variance. Default 1e-8 (Conv-TasNet's gLN). */
  eps?: number;
}

/**
 * Global layer normalisation over time and channels of [batch, time, channels] (Conv-TasNet's gLN,
 * torch.nn.GroupNorm(1, C) on [batch, C, time]): per example, y = (x - mean) / sqrt(var + eps) * gamma + beta
 * with mean and biased variance over all time steps and channels, gamma and beta per channel.
 */
export class GlobalLayerNorm extends Module {
  readonly numChannels: number;
  readonly eps: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(args: GlobalLayerNormArgs) {
    super();
    this.numChannels = args.numChannels;
    this.eps = args.eps ?? 1e-8;
    this.weight = this.addParameter('weight', filled(this.numChannels, 1), [this.numChannels]);
    this.bias = this.addParameter('bias', filled(this.numChannels, 0), [this.numChannels]);
  }

  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.numChannels) {
      throw new Error(`GlobalLayerNorm${this.path ? ` '${this.path}'` : ''}: expected [batch, time, ${this.numChannels}], got [${x.shape}]`);
    }
    return groupNorm(x as tf.Tensor3D, this.weight as tf.Tensor1D, this.bias as tf.Tensor1D, this.eps);
  }

  getConfig(): Record<string, unknown> {
    return { numChannels: this.numChannels, eps: this.eps };
  }
}
registerModule('GlobalLayerNorm', GlobalLayerNorm);
