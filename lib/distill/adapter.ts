// OS-KDFT's adapters (Heo et al., arXiv 2305.17394; code Jungwoo4021/OS-KDFT): small bottleneck branches added in
// parallel with a student layer's feed-forward block, switched on or off per part of the batch through the call
// context, so that one forward pass carries a distillation half without them and a fine-tuning half with them.
import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from '../nn/module';
import { LayerNorm } from '../nn/norm';
import { Linear } from '../nn/linear';

/** Options of {@link Adapter} (and of Wav2Vec2ModelArgs.adapters). */
export interface AdapterOptions {
  /** Bottleneck width. Default 64. */
  hidden?: number;
  /** A layer norm on the adapter's input (the wav2vec2 scripts: 'in'). Default true. */
  layerNorm?: boolean;
  /** Non-linearity after the down-projection. Default 'relu'. */
  activation?: 'relu' | 'elu';
  /** Factor on the up-projection's output (the wav2vec2 scripts: 0.1). Default 0.1. */
  scale?: number;
  /**
   * Gaussian noise added after the non-linearity in training (the HuBERT scripts): its standard deviation drawn per
   * call uniformly in [noise[0], noise[1]] times the mean absolute activation ([0.1, 0.5] there). Default null (none).
   */
  noise?: [number, number] | null;
  /**
   * Add the adapter's input to its output (the wav2vec2 scripts' Adapter returns up + x, so that layer adds its
   * residual twice on the adapted half). Default false (the HuBERT scripts: the branch alone).
   */
  addResidual?: boolean;
}

/** Arguments of {@link Adapter}. */
export interface AdapterArgs extends AdapterOptions {
  /** Width of the features it reads and writes. */
  features: number;
}

/** Which items of a batch the adapters act on (Ctx.adapters): all, none, or those from index `from` on. */
export type AdapterSelection = NonNullable<Ctx['adapters']>;

/**
 * A bottleneck adapter: optional layer norm, Linear down to `hidden`, ReLU or ELU, optional Gaussian noise in
 * training, Linear up (weights and bias initialised to zero, so that a new adapter changes nothing), times `scale`
 * (plus its input with `addResidual`). `forward` is the branch on every item; {@link Adapter.branch} follows
 * `ctx.adapters`.
 */
export class Adapter extends Module {
  readonly args: Required<AdapterArgs>;
  readonly layerNorm?: LayerNorm;
  readonly down: Linear;
  readonly up: Linear;

  constructor(args: AdapterArgs) {
    super();
    this.args = { hidden: 64, layerNorm: true, activation: 'relu', scale: 0.1, noise: null, addResidual: false, ...args };
    const { features, hidden, noise } = this.args;
    if (!(Number.isInteger(features) && features >= 1)) throw new Error(`Adapter: features must be a positive integer, got ${features}`);
    if (!(Number.isInteger(hidden) && hidden >= 1)) throw new Error(`Adapter: hidden must be a positive integer, got ${hidden}`);
    if (!['relu', 'elu'].includes(this.args.activation)) throw new Error(`Adapter: activation must be 'relu' or 'elu', got '${this.args.activation}'`);
    if (noise && !(noise.length === 2 && noise[0] >= 0 && noise[1] >= noise[0])) throw new Error(`Adapter: noise must be [lo, hi] with 0 <= lo <= hi, got [${noise}]`);
    if (this.args.layerNorm) this.layerNorm = this.addModule('layerNorm', new LayerNorm({ normalizedShape: features }));
    this.down = this.addModule('down', new Linear({ inFeatures: features, outFeatures: hidden }));
    this.down.bias?.assign(tf.zeros([hidden]));
    this.up = this.addModule('up', new Linear({ inFeatures: hidden, outFeatures: features }));
    this.up.weight.assign(tf.zeros(this.up.weight.shape));
    this.up.bias?.assign(tf.zeros([features]));
  }

  /** The adapter's output on every item of x [..., features]. */
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => {
      const { activation, noise, scale, addResidual } = this.args;
      let h = this.down.forward(this.layerNorm ? this.layerNorm.forward(x, ctx) : x, ctx);
      h = activation === 'elu' ? tf.elu(h) : tf.relu(h);
      if (noise && ctx.training) {
        const u = ctx.rng ? ctx.rng.uniform() : Math.random();
        const seed = ctx.rng ? ctx.rng.int(2 ** 31 - 1) : undefined;
        const std = tf.mul(tf.mean(tf.abs(h)), noise[0] + (noise[1] - noise[0]) * u);
        h = tf.add(h, tf.mul(tf.randomNormal(h.shape, 0, 1, 'float32', seed), std));
      }
      const y = tf.mul(this.up.forward(h, ctx), scale);
      return addResidual ? tf.add(y, x) : y;
    });
  }

  /**
   * The adapter's contribution to x [batch, ...] as `ctx.adapters` selects: the output on every item ('on', the
   * default), null ('off'), or zeros on items [0, from) and the output on items [from, batch) ({from}).
   */
  branch(x: tf.Tensor, ctx: Ctx): tf.Tensor | null {
    const sel = ctx.adapters ?? 'on';
    if (sel === 'off') return null;
    if (sel === 'on') return this.forward(x, ctx);
    const B = x.shape[0];
    if (!(Number.isInteger(sel.from) && sel.from >= 0 && sel.from <= B)) {
      throw new Error(`Adapter: ctx.adapters.from must be an integer in [0, ${B}] (the batch), got ${sel.from}`);
    }
    if (sel.from === 0) return this.forward(x, ctx);
    if (sel.from === B) return null;
    return tf.tidy(() => {
      const rest = tf.slice(x, sel.from, B - sel.from);
      return tf.concat([tf.zerosLike(tf.slice(x, 0, sel.from)), this.forward(rest, ctx)], 0);
    });
  }

  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('Adapter', Adapter);
