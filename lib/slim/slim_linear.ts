import * as tf from '@tensorflow/tfjs';
import { Ctx, registerModule } from '../nn/module';
import { Linear, linear, LinearArgs } from '../nn/linear';
import { slimChannels, widthOf } from './channels';
import { assignFrom, buildQuietly, Slimmable } from './extract';

/** Arguments of {@link SlimLinear}: those of nn.Linear (the full sizes) plus what is slimmed. */
export interface SlimLinearArgs extends LinearArgs {
  /** Slim the input side (false for a first layer fed by fixed features). Default true. */
  slimIn?: boolean;
  /** Slim the output side (false for a classifier head). Default true. */
  slimOut?: boolean;
  /**
   * Input features come in whole groups of this size (attention heads: headDim), and
   * `inGroup * slimChannels(inFeatures / inGroup, width)` of them are active. Default 1.
   */
  inGroup?: number;
  /** Output features come in whole groups of this size, as `inGroup`. Default 1. */
  outGroup?: number;
}

/**
 * Slimmable linear layer (Yu et al., "Slimmable Neural Networks", ICLR 2019; used for KWS by Akhtar et al.,
 * arXiv 2304.12183): one weight W [inFeatures, outFeatures] at full size; at width w = ctx.width (default 1)
 *
 *   y = x W[:a, :b] + bias[:b],   a = slimChannels(inFeatures, w), b = slimChannels(outFeatures, w)
 *
 * (a side that is not slimmed keeps its full size; grouped sides count whole groups).
 * x [..., a] -> y [..., b]. At width 1 it is nn.Linear (its base class) with the same weights and
 * initialisation.
 */
export class SlimLinear extends Linear implements Slimmable {
  readonly slimIn: boolean;
  readonly slimOut: boolean;
  readonly inGroup: number;
  readonly outGroup: number;

  constructor(args: SlimLinearArgs) {
    super(args);
    this.slimIn = args.slimIn ?? true;
    this.slimOut = args.slimOut ?? true;
    this.inGroup = args.inGroup ?? 1;
    this.outGroup = args.outGroup ?? 1;
    if (this.inFeatures % this.inGroup || this.outFeatures % this.outGroup) {
      throw new Error(`SlimLinear: inGroup ${this.inGroup} must divide inFeatures ${this.inFeatures} and outGroup ` +
        `${this.outGroup} outFeatures ${this.outFeatures}`);
    }
  }

  /** Active input features at `width`. */
  activeIn(width: number): number {
    return this.slimIn ? this.inGroup * slimChannels(this.inFeatures / this.inGroup, width) : this.inFeatures;
  }

  /** Active output features at `width`. */
  activeOut(width: number): number {
    return this.slimOut ? this.outGroup * slimChannels(this.outFeatures / this.outGroup, width) : this.outFeatures;
  }

  override forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    const w = widthOf(ctx, `SlimLinear${this.path ? ` '${this.path}'` : ''}`);
    const a = this.activeIn(w), b = this.activeOut(w);
    if (x.rank < 1 || x.shape[x.rank - 1] !== a) {
      throw new Error(`SlimLinear${this.path ? ` '${this.path}'` : ''}: at width ${w} expected last axis ${a} ` +
        `(of ${this.inFeatures}), got input shape [${x.shape}]`);
    }
    return tf.tidy(() => {
      const full = a === this.inFeatures && b === this.outFeatures;
      const wt = full ? this.weight : tf.slice(this.weight, [0, 0], [a, b]);
      const bs = this.bias && b !== this.outFeatures ? tf.slice(this.bias, [0], [b]) : this.bias;
      return linear(x, wt, bs);
    });
  }

  override macs(inShape: number[], outShape: number[]): number {
    return inShape.reduce((p, d) => p * d, 1) * outShape[outShape.length - 1];
  }

  /** The layer at width `width` as a SlimLinear of the active sizes, with copies of the active weights. */
  extract(width: number): SlimLinear {
    const a = this.activeIn(width), b = this.activeOut(width);
    const m = buildQuietly(() => new SlimLinear({ ...this.getConfig(), inFeatures: a, outFeatures: b } as SlimLinearArgs));
    assignFrom(m.weight, () => tf.slice(this.weight, [0, 0], [a, b]));
    if (this.bias) assignFrom(m.bias!, () => tf.slice(this.bias!, [0], [b]));
    return m;
  }

  override getConfig(): Record<string, unknown> {
    return { inFeatures: this.inFeatures, outFeatures: this.outFeatures, bias: this.bias !== undefined,
      slimIn: this.slimIn, slimOut: this.slimOut, inGroup: this.inGroup, outGroup: this.outGroup };
  }
}
registerModule('SlimLinear', SlimLinear);
