import * as tf from '@tensorflow/tfjs';
import { Ctx, registerModule } from '../nn/module';
import { Conv1d, Conv2d, ConvArgs, ConvNd } from '../nn/conv';
import { slimChannels, widthOf } from './channels';
import { assignFrom, buildQuietly, Slimmable } from './extract';

/** Arguments of {@link SlimConv1d} and {@link SlimConv2d}: those of nn.Conv1d/Conv2d (full sizes) plus what is slimmed. */
export interface SlimConvArgs extends ConvArgs {
  /**
   * Slim the input channels (false for a first layer fed by fixed features, e.g. one log-mel channel).
   * A depthwise convolution slims both sides together. Default true.
   */
  slimIn?: boolean;
  /** Slim the output channels (false for a last layer with a fixed output). Default true. */
  slimOut?: boolean;
}

/**
 * The active slice of a weight whose last two axes are [Cin, Cout] (dense) or [Cin, M] (depthwise): the
 * first `a` input channels and the first `b` output channels (depthwise: every multiplier of the first `a`
 * channels, which are output channels c * M + m for c < a, the first a * M).
 */
function sliceWeight(weight: tf.Tensor, depthwise: boolean, a: number, b: number): tf.Tensor {
  const r = weight.rank;
  const size = weight.shape.slice();
  size[r - 2] = a;
  if (!depthwise) size[r - 1] = b;
  // At full size the weight itself: a slice (and its gradient, a pad) would copy it for nothing.
  if (size.every((d, i) => d === weight.shape[i])) return weight;
  return tf.slice(weight, new Array(r).fill(0), size);
}

// A mixin's base must be a type parameter whose constructor takes `...any[]` (TypeScript's rule).
type ConvClass = new (...args: any[]) => ConvNd;

/** What {@link slimConv} adds to a convolution. */
interface SlimConvMembers {
  readonly slimIn: boolean;
  readonly slimOut: boolean;
  /** Active [input, output] channels at `width`: depthwise keeps the channel multiplier M (out = in * M). */
  active(width: number): [number, number];
  /** The layer at `width` as a layer of the same class at the active sizes, with copies of the active weights. */
  extract(width: number): this;
}

/**
 * The one body of {@link SlimConv1d} and {@link SlimConv2d}: `Base` (nn.Conv1d or nn.Conv2d) with its
 * channels slimmed. `name` names the layer in errors, `axes` the input axes between batch and channels.
 * The return type is spelled out because a declaration file cannot describe the class expression itself
 * (its base has protected members).
 */
function slimConv<B extends ConvClass>(Base: B, name: string, axes: string): B & (new (...args: any[]) => SlimConvMembers) {
  return class extends Base implements Slimmable {
    readonly slimIn: boolean;
    readonly slimOut: boolean;

    constructor(...args: any[]) {
      super(...args);
      const { slimIn, slimOut } = args[0] as SlimConvArgs;
      this.slimIn = slimIn ?? true;
      this.slimOut = slimOut ?? true;
      if (this.groups !== 1 && !this.isDepthwise()) {
        throw new Error(`${name}: only dense (groups 1) and depthwise (groups = inChannels) convolutions are slimmable, ` +
          `got groups ${this.groups} with inChannels ${this.inChannels}`);
      }
      if (this.isDepthwise() && !this.slimIn) {
        throw new Error(`${name}: a depthwise convolution slims its input and output together; slimIn must be true`);
      }
    }

    active(width: number): [number, number] {
      const a = this.slimIn ? slimChannels(this.inChannels, width) : this.inChannels;
      if (this.isDepthwise()) return [a, a * (this.outChannels / this.inChannels)];
      return [a, this.slimOut ? slimChannels(this.outChannels, width) : this.outChannels];
    }

    override forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
      const who = `${name}${this.path ? ` '${this.path}'` : ''}`;
      const w = widthOf(ctx, who);
      const [a, b] = this.active(w);
      // The stored weight has the input's rank: [K, ., .] for [batch, time, C], [KH, KW, ., .] for NHWC.
      if (x.rank !== this.weight.rank || x.shape[x.rank - 1] !== a) {
        throw new Error(`${who}: at width ${w} expected [batch, ${axes}, ${a}], got [${x.shape}]`);
      }
      return tf.tidy(() => this.convolve(x, sliceWeight(this.weight, this.isDepthwise(), a, b),
        this.bias && b !== this.outChannels ? tf.slice(this.bias, [0], [b]) : this.bias));
    }

    /** Multiply-accumulates at the active sizes: output elements times taps times input channels per group. */
    override macs(inShape: number[], outShape: number[]): number {
      const cin = this.isDepthwise() ? 1 : inShape[inShape.length - 1];
      return outShape.reduce((p, d) => p * d, 1) * this.kernel[0] * this.kernel[1] * cin;
    }

    extract(width: number): this {
      const [a, b] = this.active(width);
      const make = this.constructor as new (args: SlimConvArgs) => this;
      const out = buildQuietly(() => new make({ ...this.getConfig(), inChannels: a, outChannels: b,
        groups: this.isDepthwise() ? a : 1 } as SlimConvArgs));
      assignFrom(out.weight, () => sliceWeight(this.weight, this.isDepthwise(), a, b));
      if (this.bias) assignFrom(out.bias!, () => tf.slice(this.bias!, [0], [b]));
      return out;
    }

    override getConfig(): Record<string, unknown> {
      return { ...super.getConfig(), slimIn: this.slimIn, slimOut: this.slimOut };
    }
  };
}

/**
 * Slimmable 1-D convolution, channels last (Yu et al., ICLR 2019): one weight at full size,
 * [K, Cin, Cout] dense or [K, Cin, M] depthwise; at width w = ctx.width (default 1) the first
 * a = slimChannels(Cin, w) input and b = slimChannels(Cout, w) output channels are used (depthwise: a
 * channels, b = a * M). [batch, time, a] -> [batch, time', b]. At width 1 it is nn.Conv1d (its base
 * class). Grouped convolutions other than depthwise are not slimmable.
 */
export class SlimConv1d extends slimConv(Conv1d, 'SlimConv1d', 'time') {
  constructor(args: SlimConvArgs) {
    super(args);
  }
}
registerModule('SlimConv1d', SlimConv1d);

/**
 * Slimmable 2-D convolution, channels last (Yu et al., ICLR 2019): one weight at full size,
 * [KH, KW, Cin, Cout] dense or [KH, KW, Cin, M] depthwise; at width w = ctx.width (default 1) the first
 * a = slimChannels(Cin, w) input and b = slimChannels(Cout, w) output channels are used (depthwise: a
 * channels, b = a * M). [batch, h, w, a] -> [batch, h', w', b]. At width 1 it is nn.Conv2d (its base
 * class). Grouped convolutions other than depthwise are not slimmable.
 */
export class SlimConv2d extends slimConv(Conv2d, 'SlimConv2d', 'height, width') {
  constructor(args: SlimConvArgs) {
    super(args);
  }
}
registerModule('SlimConv2d', SlimConv2d);
