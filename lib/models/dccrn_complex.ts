/**
 * DCCRN's complex layers (Hu et al. 2020; the reference code's complexnn.py), channels-last: a complex
 * feature map is one tensor whose last axis holds the real channels, then the imaginary ones. A complex
 * layer holds a real-part and an imaginary-part weight (the reference's real_conv / imag_conv, real_lstm /
 * imag_lstm) and computes (Wr + i Wi) * (xr + i xi) = (Wr*xr - Wi*xi) + i (Wr*xi + Wi*xr).
 *
 * The convolutions run as one real convolution with the block weight [[Wr, Wi], [-Wi, Wr]] (rows: real,
 * imaginary inputs; columns: real, imaginary outputs) and bias [br - bi, br + bi], which equals the
 * reference's four convolutions (each of whose outputs carries its conv's bias) with a quarter of the calls.
 */
import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, parameterRng, registerModule } from '../nn/module';
import { LSTM } from '../nn/recurrent';
import { Linear } from '../nn/linear';

/** `n` draws from N(0, std^2) from the parameter generator (the reference's nn.init.normal_(std=0.05)). */
function normal(n: number, std: number): Float32Array {
  const rng = parameterRng();
  return Float32Array.from({ length: n }, () => rng.normal(0, std));
}

function checkEven(where: string, what: Record<string, number>): void {
  for (const [k, v] of Object.entries(what)) {
    if (!Number.isInteger(v) || v < 2 || v % 2) throw new Error(`${where}: ${k} counts real + imaginary parts and must be even and >= 2, got ${v}`);
  }
}

function pair(v: [number, number] | number | undefined, d: number, where: string, what: string): [number, number] {
  const p: [number, number] = v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v;
  if (p.length !== 2 || p.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`${where}: ${what} must be two non-negative integers, got ${JSON.stringify(v)}`);
  return p;
}

/**
 * Complex concatenation (the reference's complex_cat) of channels-last complex maps along the last axis:
 * the real halves of all inputs, then their imaginary halves. Each input is viewed as [..., 2, C/2], so
 * this is one concat on the last axis.
 */
export function complexCat(xs: tf.Tensor[]): tf.Tensor {
  return tf.tidy(() => {
    const lead = xs[0].shape.slice(0, -1);
    let total = 0;
    const views = xs.map((x) => {
      const c = x.shape[x.rank - 1];
      if (c % 2 || x.rank !== lead.length + 1 || x.shape.slice(0, -1).some((d, i) => d !== lead[i])) {
        throw new Error(`complexCat: expected even channel counts and equal leading axes, got ${xs.map((t) => `[${t.shape}]`).join(', ')}`);
      }
      total += c;
      return tf.reshape(x, [...lead, 2, c / 2]);
    });
    return tf.reshape(tf.concat(views, -1), [...lead, total]);
  });
}

/** The real block weight of a complex weight: along inAxis real then imaginary inputs, along outAxis outputs. */
function blockWeight(wr: tf.Tensor, wi: tf.Tensor, inAxis: number, outAxis: number): tf.Tensor4D {
  return tf.concat([tf.concat([wr, wi], outAxis), tf.concat([tf.neg(wi), wr], outAxis)], inAxis) as tf.Tensor4D;
}

/** Arguments of {@link ComplexConv2d}. */
export interface ComplexConv2dArgs {
  /** Input channels, real + imaginary (even). */
  inChannels: number;
  /** Output channels, real + imaginary (even). */
  outChannels: number;
  /** Kernel [time, frequency]. */
  kernelSize: [number, number];
  /** Stride [time, frequency]. Default [1, 1]. */
  stride?: [number, number];
  /**
   * Zero padding [time, frequency]: frequency on both sides; time on the left (past) only when `causal`,
   * else on both sides. Default [0, 0].
   */
  padding?: [number, number];
  /** Pad time on the left only, so that no output frame sees a later input frame. Default true. */
  causal?: boolean;
}

/**
 * Complex 2-D convolution over [batch, time, frequency, channels] (the reference's ComplexConv2d with
 * complex_axis 1, on its [batch, channels, frequency, time] transposed): real = Wr*xr - Wi*xi,
 * imag = Wr*xi + Wi*xr, each part's conv carrying its own bias. Weights realWeight / imagWeight
 * [kt, kf, inChannels/2, outChannels/2], biases realBias / imagBias [outChannels/2]; initialised
 * N(0, 0.05) and 0 as the reference.
 * [batch, time, freq, inChannels] -> [batch, time', freq', outChannels].
 */
export class ComplexConv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: [number, number];
  readonly strides: [number, number];
  readonly pads: [number, number];
  readonly causal: boolean;
  readonly realWeight: tf.Variable;
  readonly imagWeight: tf.Variable;
  readonly realBias: tf.Variable;
  readonly imagBias: tf.Variable;

  constructor(args: ComplexConv2dArgs) {
    super();
    checkEven('ComplexConv2d', { inChannels: args.inChannels, outChannels: args.outChannels });
    this.inChannels = args.inChannels;
    this.outChannels = args.outChannels;
    this.kernel = pair(args.kernelSize, 1, 'ComplexConv2d', 'kernelSize');
    this.strides = pair(args.stride, 1, 'ComplexConv2d', 'stride');
    this.pads = pair(args.padding, 0, 'ComplexConv2d', 'padding');
    this.causal = args.causal ?? true;
    const shape = [...this.kernel, this.inChannels / 2, this.outChannels / 2];
    const n = shape.reduce((a, b) => a * b, 1);
    this.realWeight = this.addParameter('realWeight', normal(n, 0.05), shape);
    this.imagWeight = this.addParameter('imagWeight', normal(n, 0.05), shape);
    this.realBias = this.addParameter('realBias', new Float32Array(this.outChannels / 2), [this.outChannels / 2]);
    this.imagBias = this.addParameter('imagBias', new Float32Array(this.outChannels / 2), [this.outChannels / 2]);
  }

  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    if (x.rank !== 4 || x.shape[3] !== this.inChannels) {
      throw new Error(`ComplexConv2d${this.path ? ` '${this.path}'` : ''}: expected [batch, time, freq, ${this.inChannels}], got [${x.shape}]`);
    }
    return tf.tidy(() => {
      const w = blockWeight(this.realWeight, this.imagWeight, 2, 3);
      const b = tf.concat([tf.sub(this.realBias, this.imagBias), tf.add(this.realBias, this.imagBias)]);
      const [pt, pf] = this.pads;
      const pad = pt === 0 && pf === 0 ? 'valid' : [[0, 0], [pt, this.causal ? 0 : pt], [pf, pf], [0, 0]];
      return tf.add(tf.conv2d(x as tf.Tensor4D, w, this.strides, pad as 'valid'), b);
    });
  }

  override macs(_in: number[], outShape: number[]): number {
    return outShape.reduce((a, b) => a * b, 1) * this.kernel[0] * this.kernel[1] * this.inChannels;
  }

  getConfig(): Record<string, unknown> {
    return { inChannels: this.inChannels, outChannels: this.outChannels, kernelSize: this.kernel, stride: this.strides,
      padding: this.pads, causal: this.causal };
  }
}
registerModule('ComplexConv2d', ComplexConv2d);

/** Arguments of {@link ComplexConvTranspose2d}. */
export interface ComplexConvTranspose2dArgs {
  /** Input channels, real + imaginary (even). */
  inChannels: number;
  /** Output channels, real + imaginary (even). */
  outChannels: number;
  /** Kernel [time, frequency]. */
  kernelSize: [number, number];
  /** Stride [time, frequency]. Default [1, 1]. */
  stride?: [number, number];
  /** Implicit padding [time, frequency] cut from both ends of the full output, as torch's `padding`. Default [0, 0]. */
  padding?: [number, number];
  /** Size added at the end of each axis, as torch's `output_padding` (smaller than the stride). Default [0, 0]. */
  outputPadding?: [number, number];
}

/**
 * Complex transposed 2-D convolution over [batch, time, frequency, channels] (the reference's
 * ComplexConvTranspose2d on [batch, channels, frequency, time] transposed), torch's output size per axis:
 * (in - 1) * stride - 2 * padding + kernel + outputPadding. Weights realWeight / imagWeight
 * [kt, kf, outChannels/2, inChannels/2] (tfjs's transposed-conv layout), biases realBias / imagBias
 * [outChannels/2]; initialised N(0, 0.05) and 0 as the reference.
 */
export class ComplexConvTranspose2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: [number, number];
  readonly strides: [number, number];
  readonly pads: [number, number];
  readonly outputPads: [number, number];
  readonly realWeight: tf.Variable;
  readonly imagWeight: tf.Variable;
  readonly realBias: tf.Variable;
  readonly imagBias: tf.Variable;

  constructor(args: ComplexConvTranspose2dArgs) {
    super();
    const where = 'ComplexConvTranspose2d';
    checkEven(where, { inChannels: args.inChannels, outChannels: args.outChannels });
    this.inChannels = args.inChannels;
    this.outChannels = args.outChannels;
    this.kernel = pair(args.kernelSize, 1, where, 'kernelSize');
    this.strides = pair(args.stride, 1, where, 'stride');
    this.pads = pair(args.padding, 0, where, 'padding');
    this.outputPads = pair(args.outputPadding, 0, where, 'outputPadding');
    if (this.outputPads.some((p, i) => p > 0 && p >= this.strides[i])) {
      throw new Error(`${where}: outputPadding [${this.outputPads}] must be smaller than stride [${this.strides}]`);
    }
    const shape = [...this.kernel, this.outChannels / 2, this.inChannels / 2];
    const n = shape.reduce((a, b) => a * b, 1);
    this.realWeight = this.addParameter('realWeight', normal(n, 0.05), shape);
    this.imagWeight = this.addParameter('imagWeight', normal(n, 0.05), shape);
    this.realBias = this.addParameter('realBias', new Float32Array(this.outChannels / 2), [this.outChannels / 2]);
    this.imagBias = this.addParameter('imagBias', new Float32Array(this.outChannels / 2), [this.outChannels / 2]);
  }

  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    if (x.rank !== 4 || x.shape[3] !== this.inChannels) {
      throw new Error(`ComplexConvTranspose2d${this.path ? ` '${this.path}'` : ''}: expected [batch, time, freq, ${this.inChannels}], got [${x.shape}]`);
    }
    return tf.tidy(() => {
      const w = blockWeight(this.realWeight, this.imagWeight, 3, 2);
      const b = tf.concat([tf.sub(this.realBias, this.imagBias), tf.add(this.realBias, this.imagBias)]);
      return tf.add(this.convT(x as tf.Tensor4D, w), b);
    });
  }

  /**
   * torch's cropping and output padding: the full output cut by p at the start and p - outputPadding at
   * the end is the adjoint of a convolution padded (p, p - outputPadding), which tfjs computes directly;
   * only an output padding beyond the padding (positions no input reaches) needs the full output padded.
   */
  private convT(x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
    const [B, H, W] = x.shape;
    const [kh, kw] = this.kernel, [sh, sw] = this.strides, [ph, pw] = this.pads, [oh, ow] = this.outputPads;
    const C = this.outChannels;
    const outH = (H - 1) * sh - 2 * ph + kh + oh, outW = (W - 1) * sw - 2 * pw + kw + ow;
    if (oh <= ph && ow <= pw) {
      return tf.conv2dTranspose(x, w, [B, outH, outW, C], this.strides, [[0, 0], [ph, ph - oh], [pw, pw - ow], [0, 0]] as unknown as 'valid');
    }
    const fullH = (H - 1) * sh + kh, fullW = (W - 1) * sw + kw;
    const full = tf.conv2dTranspose(x, w, [B, fullH, fullW, C], this.strides, 'valid');
    const takeH = Math.min(outH, fullH - ph), takeW = Math.min(outW, fullW - pw);
    return tf.pad(tf.slice(full, [0, ph, pw, 0], [B, takeH, takeW, C]), [[0, 0], [0, outH - takeH], [0, outW - takeW], [0, 0]]);
  }

  override macs(inShape: number[]): number {
    return inShape.slice(0, -1).reduce((a, b) => a * b, 1) * this.inChannels * this.outChannels * this.kernel[0] * this.kernel[1];
  }

  getConfig(): Record<string, unknown> {
    return { inChannels: this.inChannels, outChannels: this.outChannels, kernelSize: this.kernel, stride: this.strides,
      padding: this.pads, outputPadding: this.outputPads };
  }
}
registerModule('ComplexConvTranspose2d', ComplexConvTranspose2d);

/** Arguments of {@link ComplexLSTM}. */
export interface ComplexLSTMArgs {
  /** Input features, real + imaginary (even). */
  inputSize: number;
  /** Hidden units, real + imaginary (even): each of the two real LSTMs has hiddenSize / 2. */
  hiddenSize: number;
  /** Add a linear projection of each part to projectionSize / 2 features (even). Default: none. */
  projectionSize?: number;
}

/**
 * The reference's NavieComplexLSTM (one layer, unidirectional): two real LSTMs Lr, Li of hiddenSize / 2
 * units over the real and imaginary halves of the input, combined as a complex product,
 * real = Lr(xr) - Li(xi), imag = Lr(xi) + Li(xr), then optionally projected, realProj(real) and
 * imagProj(imag). Each LSTM runs once on real and imaginary halves stacked along the batch.
 * [batch, time, inputSize] (real half, then imaginary) -> [batch, time, projectionSize ?? hiddenSize].
 */
export class ComplexLSTM extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly projectionSize?: number;
  readonly realLstm: LSTM;
  readonly imagLstm: LSTM;
  readonly realProj?: Linear;
  readonly imagProj?: Linear;

  constructor(args: ComplexLSTMArgs) {
    super();
    checkEven('ComplexLSTM', { inputSize: args.inputSize, hiddenSize: args.hiddenSize,
      ...(args.projectionSize !== undefined ? { projectionSize: args.projectionSize } : {}) });
    this.inputSize = args.inputSize;
    this.hiddenSize = args.hiddenSize;
    this.projectionSize = args.projectionSize;
    const lstm = () => new LSTM({ inputSize: this.inputSize / 2, hiddenSize: this.hiddenSize / 2 });
    this.realLstm = this.addModule('realLstm', lstm());
    this.imagLstm = this.addModule('imagLstm', lstm());
    if (this.projectionSize !== undefined) {
      const proj = () => new Linear({ inFeatures: this.hiddenSize / 2, outFeatures: this.projectionSize! / 2 });
      this.realProj = this.addModule('realProj', proj());
      this.imagProj = this.addModule('imagProj', proj());
    }
  }

  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.inputSize) {
      throw new Error(`ComplexLSTM${this.path ? ` '${this.path}'` : ''}: expected [batch, time, ${this.inputSize}], got [${x.shape}]`);
    }
    const [B, T] = x.shape;
    const H = this.hiddenSize / 2;
    return tf.tidy(() => {
      // [B, T, 2, in/2] -> [2B, T, in/2]: real halves of the batch, then imaginary halves.
      const stacked = tf.reshape(tf.transpose(tf.reshape(x, [B, T, 2, this.inputSize / 2]), [2, 0, 1, 3]), [2 * B, T, this.inputSize / 2]);
      const r = this.realLstm.forward(stacked, ctx);          // [Lr(xr); Lr(xi)]
      const i = this.imagLstm.forward(stacked, ctx);          // [Li(xr); Li(xi)]
      const part = (t: tf.Tensor, k: number) => tf.slice(t, [k * B, 0, 0], [B, T, H]);
      let real = tf.sub(part(r, 0), part(i, 1));
      let imag = tf.add(part(r, 1), part(i, 0));
      if (this.realProj && this.imagProj) {
        real = this.realProj.forward(real, ctx);
        imag = this.imagProj.forward(imag, ctx);
      }
      return tf.concat([real, imag], 2);
    });
  }

  getConfig(): Record<string, unknown> {
    return { inputSize: this.inputSize, hiddenSize: this.hiddenSize,
      ...(this.projectionSize !== undefined ? { projectionSize: this.projectionSize } : {}) };
  }
}
registerModule('ComplexLSTM', ComplexLSTM);
