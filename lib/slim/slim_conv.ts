import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from '../nn/module';
import { Conv1d, Conv2d, ConvArgs } from '../nn/conv';
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

interface SlimConvState {
  inChannels: number;
  outChannels: number;
  slimIn: boolean;
  slimOut: boolean;
  path: string;
  isDepthwise(): boolean;
}

function checkGroups(name: string, c: { groups: number; inChannels: number; outChannels: number }, slimIn: boolean): void {
  const depthwise = c.groups > 1 && c.groups === c.inChannels;
  if (c.groups !== 1 && !depthwise) {
    throw new Error(`${name}: only dense (groups 1) and depthwise (groups = inChannels) convolutions are slimmable, ` +
      `got groups ${c.groups} with inChannels ${c.inChannels}`);
  }
  if (depthwise && !slimIn) throw new Error(`${name}: a depthwise convolution slims its input and output together; slimIn must be true`);
}

/** Active [in, out] channels at `width`: depthwise keeps the channel multiplier M (out = in * M). */
function activeChannels(m: SlimConvState, width: number): [number, number] {
  const a = m.slimIn ? slimChannels(m.inChannels, width) : m.inChannels;
  if (m.isDepthwise()) return [a, a * (m.outChannels / m.inChannels)];
  return [a, m.slimOut ? slimChannels(m.outChannels, width) : m.outChannels];
}

/**
 * The active slice of a weight whose last two axes are [Cin, Cout] (dense) or [Cin, M] (depthwise): the
 * first `a` input channels and the first `b` output channels (depthwise: every multiplier of the first `a`
 * channels, which are output channels c * M + m for c < a, the first a * M).
 */
function sliceWeight(m: SlimConvState, weight: tf.Tensor, a: number, b: number): tf.Tensor {
  const r = weight.rank;
  const size = weight.shape.slice();
  size[r - 2] = a;
  if (!m.isDepthwise()) size[r - 1] = b;
  // At full size the weight itself: a slice (and its gradient, a pad) would copy it for nothing.
  if (size.every((d, i) => d === weight.shape[i])) return weight;
  return tf.slice(weight, new Array(r).fill(0), size);
}

/** Multiply-accumulates at the active sizes: output elements times taps times input channels per group. */
function slimConvMacs(m: SlimConvState & { kernel: [number, number] }, inShape: number[], outShape: number[]): number {
  const cin = m.isDepthwise() ? 1 : inShape[inShape.length - 1];
  return outShape.reduce((p, d) => p * d, 1) * m.kernel[0] * m.kernel[1] * cin;
}

type SlimConvLayer = SlimConvState & Module & { weight: tf.Variable; bias?: tf.Variable; active(width: number): [number, number];
  getConfig(): Record<string, unknown> };

/** A new layer (built by `make`) of the active sizes at `width`, with copies of the active weights. */
function extractSlimConv<T extends SlimConvLayer>(m: SlimConvLayer, width: number, make: (args: SlimConvArgs) => T): T {
  const [a, b] = m.active(width);
  const out = buildQuietly(() => make({ ...m.getConfig(), inChannels: a, outChannels: b, groups: m.isDepthwise() ? a : 1 } as SlimConvArgs));
  assignFrom(out.weight, () => sliceWeight(m, m.weight, a, b));
  if (m.bias) assignFrom(out.bias!, () => tf.slice(m.bias!, [0], [b]));
  return out;
}

function describe(name: string, m: SlimConvState): string {
  return `${name}${m.path ? ` '${m.path}'` : ''}`;
}

/**
 * Slimmable 1-D convolution, channels last (Yu et al., ICLR 2019): one weight at full size,
 * [K, Cin, Cout] dense or [K, Cin, M] depthwise; at width w = ctx.width (default 1) the first
 * a = slimChannels(Cin, w) input and b = slimChannels(Cout, w) output channels are used (depthwise: a
 * channels, b = a * M). [batch, time, a] -> [batch, time', b]. At width 1 it is nn.Conv1d (its base
 * class). Grouped convolutions other than depthwise are not slimmable.
 */
export class SlimConv1d extends Conv1d implements Slimmable {
  readonly slimIn: boolean;
  readonly slimOut: boolean;

  constructor(args: SlimConvArgs) {
    super(args);
    this.slimIn = args.slimIn ?? true;
    this.slimOut = args.slimOut ?? true;
    checkGroups('SlimConv1d', this, this.slimIn);
  }

  /** Active [input, output] channels at `width`. */
  active(width: number): [number, number] {
    return activeChannels(this, width);
  }

  override forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    const w = widthOf(ctx, describe('SlimConv1d', this));
    const [a, b] = this.active(w);
    if (x.rank !== 3 || x.shape[2] !== a) {
      throw new Error(`${describe('SlimConv1d', this)}: at width ${w} expected [batch, time, ${a}], got [${x.shape}]`);
    }
    return tf.tidy(() => {
      const wt = tf.expandDims(sliceWeight(this, this.weight, a, b), 0) as tf.Tensor4D;
      const y = tf.squeeze(this.conv4d(tf.expandDims(x, 1) as tf.Tensor4D, wt), [1]);
      return this.bias ? tf.add(y, b === this.outChannels ? this.bias : tf.slice(this.bias, [0], [b])) : y;
    });
  }

  override macs(inShape: number[], outShape: number[]): number {
    return slimConvMacs(this, inShape, outShape);
  }

  /** The layer at `width` as a SlimConv1d of the active sizes with copies of the active weights. */
  extract(width: number): SlimConv1d {
    return extractSlimConv(this, width, (args) => new SlimConv1d(args));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), slimIn: this.slimIn, slimOut: this.slimOut };
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
export class SlimConv2d extends Conv2d implements Slimmable {
  readonly slimIn: boolean;
  readonly slimOut: boolean;

  constructor(args: SlimConvArgs) {
    super(args);
    this.slimIn = args.slimIn ?? true;
    this.slimOut = args.slimOut ?? true;
    checkGroups('SlimConv2d', this, this.slimIn);
  }

  /** Active [input, output] channels at `width`. */
  active(width: number): [number, number] {
    return activeChannels(this, width);
  }

  override forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    const w = widthOf(ctx, describe('SlimConv2d', this));
    const [a, b] = this.active(w);
    if (x.rank !== 4 || x.shape[3] !== a) {
      throw new Error(`${describe('SlimConv2d', this)}: at width ${w} expected [batch, height, width, ${a}], got [${x.shape}]`);
    }
    return tf.tidy(() => {
      const y = this.conv4d(x as tf.Tensor4D, sliceWeight(this, this.weight, a, b) as tf.Tensor4D);
      return this.bias ? tf.add(y, b === this.outChannels ? this.bias : tf.slice(this.bias, [0], [b])) : y;
    });
  }

  override macs(inShape: number[], outShape: number[]): number {
    return slimConvMacs(this, inShape, outShape);
  }

  /** The layer at `width` as a SlimConv2d of the active sizes with copies of the active weights. */
  extract(width: number): SlimConv2d {
    return extractSlimConv(this, width, (args) => new SlimConv2d(args));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), slimIn: this.slimIn, slimOut: this.slimOut };
  }
}
registerModule('SlimConv2d', SlimConv2d);
