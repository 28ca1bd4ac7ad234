import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from './module';
import { fanInUniform } from './init';

/** Padding of a convolution: TF-style 'same' / 'valid', or symmetric zero padding per spatial axis. */
export type ConvPadding = 'same' | 'valid' | number | [number, number];

type Explicit = [[number, number], [number, number], [number, number], [number, number]];

/** tfjs padding argument for NHWC data from a ConvPadding ([ph, pw] symmetric amounts). */
function tfPad(p: ConvPadding, is1d: boolean): 'same' | 'valid' | Explicit {
  if (p === 'same' || p === 'valid') return p;
  // 1-D layers pad only time (the last of [ph, pw], as ConvTranspose1d reads it).
  const [ph, pw] = typeof p === 'number' ? (is1d ? [0, p] : [p, p]) : (is1d ? [0, p[1]] : p);
  if (ph === 0 && pw === 0) return 'valid';
  return [[0, 0], [ph, ph], [pw, pw], [0, 0]];
}

/** Arguments shared by {@link Conv1d} and {@link Conv2d}. */
export interface ConvArgs {
  /** Input channels (last axis). */
  inChannels: number;
  /** Output channels. */
  outChannels: number;
  /** Kernel size (Conv2d: number or [kh, kw]). */
  kernelSize: number | [number, number];
  /** Stride (Conv2d: number or [sh, sw]). Default 1. */
  stride?: number | [number, number];
  /** Dilation (Conv2d: number or [dh, dw]). Cannot exceed 1 together with the stride. Default 1. */
  dilation?: number | [number, number];
  /** 'same' | 'valid' | symmetric zero padding (Conv2d: number or [ph, pw]). Default 0 (= 'valid'). */
  padding?: ConvPadding;
  /**
   * Channel groups: 1 (dense), inChannels (depthwise, outChannels a multiple of inChannels) or any divisor
   * of both channel counts. Default 1.
   */
  groups?: number;
  /** Learn an additive bias. Default true. */
  bias?: boolean;
}

function pair(v: number | [number, number] | undefined, d: number): [number, number] {
  if (v === undefined) return [d, d];
  return typeof v === 'number' ? [v, v] : v;
}

/**
 * Shared implementation of channels-last convolutions, the base of {@link Conv1d} and {@link Conv2d} (and,
 * through them, of the slimmable ones). Weights are stored in tfjs layouts: dense/grouped
 * [KH, KW, Cin/groups, Cout] (Conv1d [K, Cin/groups, Cout]), depthwise [KH, KW, Cin, M] (Conv1d [K, Cin, M])
 * with output channel c * M + m, the same order as PyTorch's grouped convolution.
 */
export abstract class ConvNd extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: [number, number];
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly padding: ConvPadding;
  readonly groups: number;
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  protected readonly is1d: boolean;

  constructor(args: ConvArgs, is1d: boolean) {
    super();
    this.is1d = is1d;
    this.inChannels = args.inChannels;
    this.outChannels = args.outChannels;
    const k = pair(args.kernelSize, 1);
    this.kernel = is1d ? [1, typeof args.kernelSize === 'number' ? args.kernelSize : k[1]] : k;
    const s = pair(args.stride, 1), d = pair(args.dilation, 1);
    this.strides = is1d ? [1, typeof args.stride === 'number' ? args.stride : s[1]] : s;
    this.dilations = is1d ? [1, typeof args.dilation === 'number' ? args.dilation : d[1]] : d;
    this.padding = args.padding ?? 0;
    this.groups = args.groups ?? 1;
    const name = is1d ? 'Conv1d' : 'Conv2d';
    if (this.inChannels % this.groups || this.outChannels % this.groups) {
      throw new Error(`${name}: groups ${this.groups} must divide inChannels ${this.inChannels} and outChannels ${this.outChannels}`);
    }
    if ((this.strides[0] > 1 || this.strides[1] > 1) && (this.dilations[0] > 1 || this.dilations[1] > 1)) {
      throw new Error(`${name}: stride [${this.strides}] and dilation [${this.dilations}] cannot both exceed 1 in TensorFlow.js`);
    }
    const [kh, kw] = this.kernel;
    const fanIn = (this.inChannels / this.groups) * kh * kw;
    const shape = this.isDepthwise()
      ? [kh, kw, this.inChannels, this.outChannels / this.inChannels]
      : [kh, kw, this.inChannels / this.groups, this.outChannels];
    const stored = is1d ? shape.slice(1) : shape;
    this.weight = this.addParameter('weight', fanInUniform(shape.reduce((a, b) => a * b, 1), fanIn), stored);
    if (args.bias ?? true) this.bias = this.addParameter('bias', fanInUniform(this.outChannels, fanIn), [this.outChannels]);
  }

  /** True when every input channel is its own group (tfjs depthwiseConv2d). */
  isDepthwise(): boolean {
    return this.groups > 1 && this.groups === this.inChannels;
  }

  /** Runs the convolution on NHWC x with a [KH, KW, ., .] filter. */
  protected conv4d(x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
    const pad = tfPad(this.padding, this.is1d);
    if (this.isDepthwise()) {
      return tf.depthwiseConv2d(x, w, this.strides, pad as 'same', 'NHWC', this.dilations);
    }
    if (this.groups === 1) return tf.conv2d(x, w, this.strides, pad, 'NHWC', this.dilations);
    const xs = tf.split(x, this.groups, 3);
    const ws = tf.split(w, this.groups, 3);
    return tf.concat(xs.map((xi, i) => tf.conv2d(xi as tf.Tensor4D, ws[i] as tf.Tensor4D, this.strides, pad, 'NHWC',
      this.dilations)), 3);
  }

  /**
   * The convolution of channels-last `x` ([batch, time, Cin] for Conv1d, [batch, h, w, Cin] for Conv2d) with
   * `weight` in this layer's stored layout, plus `bias` when given. Subclasses pass slices of their
   * parameters (slimmable layers).
   */
  protected convolve(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
    const y = this.is1d
      ? tf.squeeze(this.conv4d(tf.expandDims(x, 1) as tf.Tensor4D, tf.expandDims(weight, 0) as tf.Tensor4D), [1])
      : this.conv4d(x as tf.Tensor4D, weight as tf.Tensor4D);
    return bias ? tf.add(y, bias) : y;
  }

  override macs(_in: number[], outShape: number[]): number {
    const outElems = outShape.reduce((a, b) => a * b, 1);
    return outElems * this.kernel[0] * this.kernel[1] * (this.inChannels / this.groups);
  }

  getConfig(): Record<string, unknown> {
    const k = this.is1d ? this.kernel[1] : this.kernel;
    const s = this.is1d ? this.strides[1] : this.strides;
    const d = this.is1d ? this.dilations[1] : this.dilations;
    return { inChannels: this.inChannels, outChannels: this.outChannels, kernelSize: k, stride: s, dilation: d,
      padding: this.padding, groups: this.groups, bias: this.bias !== undefined };
  }
}

/**
 * 1-D convolution over time, channels last: [batch, time, inChannels] -> [batch, time', outChannels]
 * (torch.nn.Conv1d on [batch, channels, time], transposed). Weight [K, Cin/groups, Cout], depthwise
 * [K, Cin, M]. Dilated convolutions train on every backend (slimspeech registers their gradients).
 */
export class Conv1d extends ConvNd {
  constructor(args: ConvArgs) {
    super(args, true);
  }

  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.inChannels) {
      throw new Error(`Conv1d${this.path ? ` '${this.path}'` : ''}: expected [batch, time, ${this.inChannels}], got [${x.shape}]`);
    }
    return tf.tidy(() => this.convolve(x, this.weight, this.bias));
  }
}
registerModule('Conv1d', Conv1d);

/**
 * 2-D convolution, channels last: [batch, height, width, inChannels] -> [batch, h', w', outChannels]
 * (torch.nn.Conv2d on NCHW, transposed). Weight [KH, KW, Cin/groups, Cout], depthwise [KH, KW, Cin, M].
 */
export class Conv2d extends ConvNd {
  constructor(args: ConvArgs) {
    super(args, false);
  }

  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    if (x.rank !== 4 || x.shape[3] !== this.inChannels) {
      throw new Error(`Conv2d${this.path ? ` '${this.path}'` : ''}: expected [batch, height, width, ${this.inChannels}], got [${x.shape}]`);
    }
    return tf.tidy(() => this.convolve(x, this.weight, this.bias));
  }
}
registerModule('Conv2d', Conv2d);
