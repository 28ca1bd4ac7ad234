import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from './module';
import { fanInUniform } from './init';

/** Arguments of {@link ConvTranspose1d} and {@link ConvTranspose2d} (PyTorch's semantics). */
export interface ConvTransposeArgs {
  /** Input channels (last axis). */
  inChannels: number;
  /** Output channels. */
  outChannels: number;
  /** Kernel size (2-D: number or [kh, kw]). */
  kernelSize: number | [number, number];
  /** Stride (2-D: number or [sh, sw]). Default 1. */
  stride?: number | [number, number];
  /** Implicit padding removed from both ends of the full output, as torch's `padding`. Default 0. */
  padding?: number | [number, number];
  /** Extra size added to one end of the output, as torch's `output_padding`. Default 0. */
  outputPadding?: number | [number, number];
  /** Learn an additive bias. Default true. */
  bias?: boolean;
}

function pair(v: number | [number, number] | undefined, d: number): [number, number] {
  if (v === undefined) return [d, d];
  return typeof v === 'number' ? [v, v] : v;
}

/**
 * Transposed convolution, channels last, with torch.nn.ConvTranspose semantics:
 * out = (in - 1) * stride - 2 * padding + kernel + outputPadding per spatial axis. Weight stored
 * [KH, KW, Cout, Cin] (tfjs conv2dTranspose layout; 1-D [K, Cout, Cin]).
 */
abstract class ConvTransposeNd extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: [number, number];
  readonly strides: [number, number];
  readonly pads: [number, number];
  readonly outputPads: [number, number];
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  protected readonly is1d: boolean;

  constructor(args: ConvTransposeArgs, is1d: boolean) {
    super();
    this.is1d = is1d;
    this.inChannels = args.inChannels;
    this.outChannels = args.outChannels;
    const last = (v: number | [number, number] | undefined, d: number) => (v === undefined ? d : typeof v === 'number' ? v : v[1]);
    this.kernel = is1d ? [1, last(args.kernelSize, 1)] : pair(args.kernelSize, 1);
    this.strides = is1d ? [1, last(args.stride, 1)] : pair(args.stride, 1);
    this.pads = is1d ? [0, last(args.padding, 0)] : pair(args.padding, 0);
    this.outputPads = is1d ? [0, last(args.outputPadding, 0)] : pair(args.outputPadding, 0);
    for (let i = 0; i < 2; i++) {
      if (this.outputPads[i] >= this.strides[i] && this.outputPads[i] > 0) {
        throw new Error(`ConvTranspose: outputPadding [${this.outputPads}] must be smaller than stride [${this.strides}]`);
      }
    }
    const [kh, kw] = this.kernel;
    const fanIn = this.outChannels * kh * kw;
    const shape = [kh, kw, this.outChannels, this.inChannels];
    this.weight = this.addParameter('weight', fanInUniform(shape.reduce((a, b) => a * b, 1), fanIn),
      is1d ? shape.slice(1) : shape);
    if (args.bias ?? true) this.bias = this.addParameter('bias', fanInUniform(this.outChannels, fanIn), [this.outChannels]);
  }

  /**
   * NHWC transposed convolution with torch's cropping and output padding. The full output cropped by p at
   * the start and p - outputPadding at the end is the adjoint of a convolution with explicit padding
   * (p, p - outputPadding), which tfjs computes directly; only when outputPadding exceeds padding (positions
   * no input reaches) is the full output padded instead.
   */
  protected convT(x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
    const [B, H, W] = x.shape;
    const [kh, kw] = this.kernel;
    const [sh, sw] = this.strides;
    const [ph, pw] = this.pads;
    const [oh, ow] = this.outputPads;
    const outH = (H - 1) * sh - 2 * ph + kh + oh;
    const outW = (W - 1) * sw - 2 * pw + kw + ow;
    if (oh <= ph && ow <= pw) {
      return tf.conv2dTranspose(x, w, [B, outH, outW, this.outChannels], this.strides,
        [[0, 0], [ph, ph - oh], [pw, pw - ow], [0, 0]] as unknown as 'valid');
    }
    const fullH = (H - 1) * sh + kh, fullW = (W - 1) * sw + kw;
    let y = tf.conv2dTranspose(x, w, [B, fullH, fullW, this.outChannels], this.strides, 'valid');
    const takeH = Math.min(outH, fullH - ph), takeW = Math.min(outW, fullW - pw);
    y = tf.slice(y, [0, ph, pw, 0], [B, takeH, takeW, this.outChannels]);
    // torch's output_padding beyond the crop adds positions that no input reaches (bias only).
    return tf.pad(y, [[0, 0], [0, outH - takeH], [0, outW - takeW], [0, 0]]);
  }

  override macs(inShape: number[], _outShape?: number[], _ctx?: Ctx): number {
    const inElems = inShape.slice(0, -1).reduce((a, b) => a * b, 1);
    return inElems * this.inChannels * this.outChannels * this.kernel[0] * this.kernel[1];
  }

  getConfig(): Record<string, unknown> {
    const pick = (v: [number, number]) => (this.is1d ? v[1] : v);
    return { inChannels: this.inChannels, outChannels: this.outChannels, kernelSize: pick(this.kernel),
      stride: pick(this.strides), padding: pick(this.pads), outputPadding: pick(this.outputPads),
      bias: this.bias !== undefined };
  }
}

/** Transposed 1-D convolution: [batch, time, inChannels] -> [batch, time', outChannels]. */
export class ConvTranspose1d extends ConvTransposeNd {
  constructor(args: ConvTransposeArgs) {
    super(args, true);
  }

  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.inChannels) {
      throw new Error(`ConvTranspose1d${this.path ? ` '${this.path}'` : ''}: expected [batch, time, ${this.inChannels}], got [${x.shape}]`);
    }
    return tf.tidy(() => {
      const y = tf.squeeze(this.convT(tf.expandDims(x, 1) as tf.Tensor4D, tf.expandDims(this.weight, 0) as tf.Tensor4D), [1]);
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }
}
registerModule('ConvTranspose1d', ConvTranspose1d);

/** Transposed 2-D convolution: [batch, h, w, inChannels] -> [batch, h', w', outChannels]. */
export class ConvTranspose2d extends ConvTransposeNd {
  constructor(args: ConvTransposeArgs) {
    super(args, false);
  }

  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    if (x.rank !== 4 || x.shape[3] !== this.inChannels) {
      throw new Error(`ConvTranspose2d${this.path ? ` '${this.path}'` : ''}: expected [batch, h, w, ${this.inChannels}], got [${x.shape}]`);
    }
    return tf.tidy(() => {
      const y = this.convT(x as tf.Tensor4D, this.weight as tf.Tensor4D);
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }
}
registerModule('ConvTranspose2d', ConvTranspose2d);
