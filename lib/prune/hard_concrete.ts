import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, parameterRng, registerModule } from '../nn/module';
import { Rng } from '../util/rng';

/** Noise for calls without ctx.rng: one generator for the process, so successive samples differ. */
const fallback = new Rng(0x9a7e);

/** Arguments of {@link HardConcrete}. */
export interface HardConcreteArgs {
  /** Number of gates (heads, FFN units, channels...). */
  n: number;
  /** m in the initialisation log_alpha ~ N(log(1 - m) - log(m), initStd): the initial drop rate. Default 0.01 (DPHuBERT uses 0.5 for FFN units). */
  initMean?: number;
  /** Standard deviation of the log_alpha initialisation. Default 0.01. */
  initStd?: number;
  /** Temperature beta. Default 2/3. */
  beta?: number;
  /** Stretch interval lower end l. Default -0.1. */
  limitL?: number;
  /** Stretch interval upper end r. Default 1.1. */
  limitR?: number;
  /** Keeps the uniform noise inside (eps, 1 - eps). Default 1e-6. */
  eps?: number;
}

/**
 * HardConcrete gates (Louizos et al. 2018, L0 regularisation), as DPHuBERT's reference code uses them
 * (Peng et al. 2023) for structured pruning. One learnable log_alpha per gate.
 * - Training sample: s = sigmoid((log(u / (1 - u)) + log_alpha) / beta) * (r - l) + l, u ~ U(eps, 1 - eps),
 *   clamped to [0, 1] (gradient flows to log_alpha).
 * - Expected L0 (number of non-zero gates): sum sigmoid(log_alpha - beta * log(-l / r)) — {@link l0Norm}.
 * - Evaluation: the soft mask sigmoid(log_alpha / beta * 0.8) with the round(n - L0) smallest entries set
 *   to 0 — deterministic.
 * `mask(ctx)` samples when `ctx.sampleGates ?? ctx.training`; `forward(x, ctx)` multiplies x's last axis
 * by the mask.
 */
export class HardConcrete extends Module {
  readonly args: Required<HardConcreteArgs>;
  readonly logAlpha: tf.Variable;

  constructor(args: HardConcreteArgs) {
    super();
    this.args = { n: args.n, initMean: args.initMean ?? 0.01, initStd: args.initStd ?? 0.01, beta: args.beta ?? 2 / 3,
      limitL: args.limitL ?? -0.1, limitR: args.limitR ?? 1.1, eps: args.eps ?? 1e-6 };
    const { n, initMean: m, initStd } = this.args;
    if (!(n >= 1 && Number.isInteger(n))) throw new Error(`HardConcrete: n must be a positive integer, got ${n}`);
    if (!(m > 0 && m < 1)) throw new Error(`HardConcrete: initMean must be in (0, 1), got ${m}`);
    const mean = Math.log(1 - m) - Math.log(m);
    const rng = parameterRng();
    this.logAlpha = this.addParameter('logAlpha', Float32Array.from({ length: n }, () => rng.normal(mean, initStd)), [n]);
  }

  /** Expected number of non-zero gates, sum sigmoid(log_alpha - beta log(-l / r)) (differentiable scalar). */
  l0Norm(): tf.Scalar {
    const { beta, limitL, limitR } = this.args;
    return tf.tidy(() => tf.sum(tf.sigmoid(tf.sub(this.logAlpha, beta * Math.log(-limitL / limitR)))) as tf.Scalar);
  }

  /** A training sample of the gates for given uniform noise u [n] (exposed for tests; `mask` draws u). */
  sampleWith(u: tf.Tensor1D): tf.Tensor1D {
    const { beta, limitL: l, limitR: r } = this.args;
    return tf.tidy(() => {
      const logit = tf.sub(tf.log(u), tf.log(tf.sub(1, u)));
      const s = tf.sigmoid(tf.div(tf.add(logit, this.logAlpha), beta));
      return tf.clipByValue(tf.add(tf.mul(s, r - l), l), 0, 1) as tf.Tensor1D;
    });
  }

  /** The deterministic evaluation mask (see the class comment). Reads the expected L0 back from the device. */
  deterministicMask(): tf.Tensor1D {
    const { n, beta } = this.args;
    const l0 = this.l0Norm();
    const zeros = Math.round(n - l0.dataSync()[0]);
    l0.dispose();
    return tf.tidy(() => {
      const soft = tf.sigmoid(tf.mul(this.logAlpha, 0.8 / beta)) as tf.Tensor1D;
      if (zeros <= 0) return soft;
      const { indices } = tf.topk(tf.neg(soft), Math.min(zeros, n));
      const drop = tf.scatterND(tf.reshape(indices, [-1, 1]), tf.ones([Math.min(zeros, n)]), [n]);
      return tf.mul(soft, tf.sub(1, drop)) as tf.Tensor1D;
    });
  }

  /** The gate values for this call: a sample in training (from ctx.rng), the deterministic mask otherwise. */
  mask(ctx: Ctx): tf.Tensor1D {
    if (ctx.sampleGates ?? ctx.training) {
      const rng = ctx.rng ?? fallback;
      const { n, eps } = this.args;
      const u = tf.tensor1d(Float32Array.from({ length: n }, () => eps + (1 - 2 * eps) * rng.next()));
      const s = this.sampleWith(u);
      u.dispose();
      return s;
    }
    return this.deterministicMask();
  }

  /** x [..., n] times the mask over its last axis. */
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.args.n) {
      throw new Error(`HardConcrete${this.path ? ` '${this.path}'` : ''}: last axis must be ${this.args.n}, got [${x.shape}]`);
    }
    return tf.tidy(() => tf.mul(x, this.mask(ctx)));
  }

  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('HardConcrete', HardConcrete);
