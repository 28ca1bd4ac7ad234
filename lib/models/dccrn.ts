import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from '../nn/module';
import { BatchNorm } from '../nn/norm';
import { PReLU } from '../nn/activations';
import { LSTM } from '../nn/recurrent';
import { Linear } from '../nn/linear';
import { ModuleList } from '../nn/sequential';
import { ComplexConv2d, ComplexConvTranspose2d, ComplexLSTM, complexCat } from './dccrn_complex';
import { convIstft, convStft, convStftBins, convStftFrames, ConvStftOptions } from './dccrn_stft';
import { mapReferenceKey } from './dccrn_state_dict';

export { ComplexConv2d, ComplexConvTranspose2d, ComplexLSTM, complexCat } from './dccrn_complex';
export type { ComplexConv2dArgs, ComplexConvTranspose2dArgs, ComplexLSTMArgs } from './dccrn_complex';
export { convIstft, convStft, convIstftLength, convStftFrames } from './dccrn_stft';
export type { ConvStftOptions } from './dccrn_stft';

/**
 * How DCCRN applies its complex mask M to the noisy spectrum Y (Hu et al. 2020, section 2.3):
 * 'E': |S| = tanh(|M|) |Y|, phase(S) = phase(Y) + phase(M); 'C': S = M Y (complex product);
 * 'R': real and imaginary parts masked separately, S = Re M Re Y + i Im M Im Y.
 */
export type DccrnMaskingMode = 'E' | 'C' | 'R';

/** Arguments of {@link Dccrn}: the reference code's, in camelCase, with its defaults. */
export interface DccrnArgs {
  /**
   * Output channels of the encoder blocks, real + imaginary (even); the decoder mirrors them. Default
   * [16, 32, 64, 128, 256, 256].
   */
  kernelNum?: number[];
  /**
   * Recurrent units: with `useClstm` real + imaginary (even; each real LSTM has rnnUnits / 2), else the
   * units of the real LSTM. Default 128.
   */
  rnnUnits?: number;
  /** Complex LSTM layers. The real LSTM (useClstm false) has 2 layers whatever this says, as the reference. Default 2. */
  rnnLayers?: number;
  /** Complex LSTM (DCCRN-CL) instead of a real LSTM with a linear projection. Default false. */
  useClstm?: boolean;
  /** Masking mode. Default 'E'. */
  maskingMode?: DccrnMaskingMode;
  /**
   * Frequency size of every (de)convolution kernel (time size 2). The reference pads frequency by 2
   * whatever the kernel, so only 5 keeps the encoder and decoder sizes matched. Default 5.
   */
  kernelSize?: number;
  /** STFT window length. Default 400 (25 ms at 16 kHz). */
  winLen?: number;
  /** STFT hop. Default 100. */
  winInc?: number;
  /** FFT size: fftLen / 2 bins (DC dropped) enter the encoder; must be divisible by 2^(blocks + 1). Default 512. */
  fftLen?: number;
}

/** Named configurations: the DCCRN paper's (as the reference's __main__ builds them) and a Distil-DCCRN student. */
export type DccrnPreset = 'DCCRN-E' | 'DCCRN-R' | 'DCCRN-C' | 'DCCRN-CL' | 'student';

/**
 * DCCRN-E/R/C: default channels, a real LSTM of 256 units (3,742,349 parameters); DCCRN-CL: kernelNum
 * [32, 64, 128, 256, 256, 256], a complex LSTM of 256 units (3,671,053; "3.7M" in the paper); 'student':
 * DCCRN-CL with half the channels and rnnUnits 192, 1,126,413 parameters (30.7% of DCCRN-CL), the size
 * of Distil-DCCRN's student (about 1.1M, about 30%; its exact shape is not public).
 */
export const DCCRN_PRESETS: Record<DccrnPreset, DccrnArgs> = {
  'DCCRN-E': { rnnUnits: 256, maskingMode: 'E' },
  'DCCRN-R': { rnnUnits: 256, maskingMode: 'R' },
  'DCCRN-C': { rnnUnits: 256, maskingMode: 'C' },
  'DCCRN-CL': { kernelNum: [32, 64, 128, 256, 256, 256], rnnUnits: 256, useClstm: true, maskingMode: 'E' },
  student: { kernelNum: [16, 32, 64, 128, 128, 128], rnnUnits: 192, useClstm: true, maskingMode: 'E' },
};

/** Arguments of {@link DccrnEncoderBlock} and {@link DccrnDecoderBlock}. */
export interface DccrnBlockArgs {
  /** Input channels, real + imaginary. */
  inChannels: number;
  /** Output channels, real + imaginary. */
  outChannels: number;
  /** Frequency size of the kernel. Default 5. */
  kernelSize?: number;
  /** Decoder only: the last block, without batch norm and PReLU. Default false. */
  last?: boolean;
}

/**
 * One DCCRN encoder block: ComplexConv2d (kernel [2, kernelSize] over [time, frequency], stride [1, 2],
 * frequency padding 2, one frame of causal padding in time), BatchNorm over all channels, PReLU (one slope).
 * [batch, T, F, inChannels] -> [batch, T, floor((F + 4 - kernelSize) / 2) + 1, outChannels].
 */
export class DccrnEncoderBlock extends Module {
  readonly args: Required<Omit<DccrnBlockArgs, 'last'>>;
  readonly conv: ComplexConv2d;
  readonly bn: BatchNorm;
  readonly act: PReLU;

  constructor(args: DccrnBlockArgs) {
    super();
    this.args = { inChannels: args.inChannels, outChannels: args.outChannels, kernelSize: args.kernelSize ?? 5 };
    this.conv = this.addModule('conv', new ComplexConv2d({ inChannels: args.inChannels, outChannels: args.outChannels,
      kernelSize: [2, this.args.kernelSize], stride: [1, 2], padding: [1, 2], causal: true }));
    this.bn = this.addModule('bn', new BatchNorm({ numFeatures: args.outChannels }));
    this.act = this.addModule('act', new PReLU());
  }

  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => this.act.forward(this.bn.forward(this.conv.forward(x, ctx), ctx), ctx));
  }

  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('DccrnEncoderBlock', DccrnEncoderBlock);

/**
 * One DCCRN decoder block: ComplexConvTranspose2d (kernel [2, kernelSize], stride [1, 2], padding [0, 2],
 * output padding [0, 1]), then BatchNorm and PReLU unless `last`, then the first time frame dropped (the
 * transposed conv adds one; batch norm sees it, as in the reference): output frame t = W0 x[t + 1] + W1 x[t],
 * one frame of look-ahead.
 * [batch, T, F, inChannels] -> [batch, T, 2 F + kernelSize - 5, outChannels].
 */
export class DccrnDecoderBlock extends Module {
  readonly args: Required<DccrnBlockArgs>;
  readonly conv: ComplexConvTranspose2d;
  readonly bn?: BatchNorm;
  readonly act?: PReLU;

  constructor(args: DccrnBlockArgs) {
    super();
    this.args = { inChannels: args.inChannels, outChannels: args.outChannels, kernelSize: args.kernelSize ?? 5, last: args.last ?? false };
    this.conv = this.addModule('conv', new ComplexConvTranspose2d({ inChannels: args.inChannels, outChannels: args.outChannels,
      kernelSize: [2, this.args.kernelSize], stride: [1, 2], padding: [0, 2], outputPadding: [0, 1] }));
    if (!this.args.last) {
      this.bn = this.addModule('bn', new BatchNorm({ numFeatures: args.outChannels }));
      this.act = this.addModule('act', new PReLU());
    }
  }

  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => {
      let h = this.conv.forward(x, ctx);
      if (this.bn && this.act) h = this.act.forward(this.bn.forward(h, ctx), ctx);
      // Sliced as [B, T, F * C]: wasm copies one contiguous run per (batch, frame) instead of per bin.
      const [B, T, F, C] = h.shape;
      return tf.reshape(tf.slice(tf.reshape(h, [B, T, F * C]), [0, 1, 0], [B, T - 1, F * C]), [B, T - 1, F, C]);
    });
  }

  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('DccrnDecoderBlock', DccrnDecoderBlock);

/** Arguments of {@link DccrnRnn}. */
export interface DccrnRnnArgs {
  /** Channels of the last encoder block (real + imaginary). */
  channels: number;
  /** Frequency bins of the last encoder block. */
  bins: number;
  /** See {@link DccrnArgs.rnnUnits}. */
  rnnUnits: number;
  /** Complex LSTM layers (useClstm only). Default 2. */
  rnnLayers?: number;
  /** Complex LSTM layers '0', '1', ... (the last with a projection) instead of a 2-layer real LSTM 'lstm' and a Linear 'transform'. */
  useClstm: boolean;
}

/**
 * DCCRN's recurrent block over the encoder output [batch, T, bins, channels], flattened per frame to
 * channels x bins features (channel-major, so real channels first, as the reference): complex LSTM layers
 * (rnnUnits real + imaginary, the last projected back to channels x bins), or a 2-layer LSTM of rnnUnits
 * and a Linear back to channels x bins. Output reshaped to [batch, T, bins, channels].
 */
export class DccrnRnn extends Module {
  readonly args: Required<DccrnRnnArgs>;
  readonly layers: ComplexLSTM[] = [];
  readonly lstm?: LSTM;
  readonly transform?: Linear;

  constructor(args: DccrnRnnArgs) {
    super();
    this.args = { ...args, rnnLayers: args.rnnLayers ?? 2 };
    const flat = args.channels * args.bins;
    if (args.useClstm) {
      for (let l = 0; l < this.args.rnnLayers; l++) {
        this.layers.push(this.addModule(String(l), new ComplexLSTM({ inputSize: l === 0 ? flat : args.rnnUnits, hiddenSize: args.rnnUnits,
          ...(l === this.args.rnnLayers - 1 ? { projectionSize: flat } : {}) })));
      }
    } else {
      this.lstm = this.addModule('lstm', new LSTM({ inputSize: flat, hiddenSize: args.rnnUnits, numLayers: 2 }));
      this.transform = this.addModule('transform', new Linear({ inFeatures: args.rnnUnits, outFeatures: flat }));
    }
  }

  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    const { channels: C, bins: F } = this.args;
    if (x.rank !== 4 || x.shape[2] !== F || x.shape[3] !== C) {
      throw new Error(`DccrnRnn${this.path ? ` '${this.path}'` : ''}: expected [batch, time, ${F}, ${C}], got [${x.shape}]`);
    }
    const [B, T] = x.shape;
    return tf.tidy(() => {
      let h = tf.reshape(tf.transpose(x, [0, 1, 3, 2]), [B, T, C * F]);
      if (this.lstm && this.transform) h = this.transform.forward(this.lstm.forward(h, ctx), ctx);
      for (const layer of this.layers) h = layer.forward(h, ctx);
      return tf.transpose(tf.reshape(h, [B, T, C, F]), [0, 1, 3, 2]);
    });
  }

  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('DccrnRnn', DccrnRnn);

const MODES: readonly DccrnMaskingMode[] = ['E', 'C', 'R'];

/**
 * DCCRN, the deep complex convolution recurrent network for speech enhancement (Hu et al., Interspeech
 * 2020), exactly as its reference code huyanxin/DeepComplexCRN (dc_crn.py with use_cbn False, win_type
 * 'hann'): the same layers, parameter counts, initialisation and outputs (checked against it on the same
 * weights, test/models/dccrn.test.ts).
 *
 * noisy [batch, L] (16 kHz) -> enhanced [batch, L]:
 * 1. {@link convStft} (periodic Hann window winLen, hop winInc, fftLen points, zero padding winLen - winInc
 *    on both sides): T = floor((L + winLen - 2 winInc) / winInc) + 1 frames; the DC bin is dropped and real
 *    and imaginary parts are stacked as 2 channels: [batch, T, fftLen/2, 2].
 * 2. Encoder blocks (complex conv, causal in time, frequency halved; batch norm; PReLU).
 * 3. Recurrent block on the flattened bottleneck (complex or real LSTM, see {@link DccrnRnn}).
 * 4. Decoder blocks (complex transposed conv, frequency doubled; batch norm and PReLU except the last;
 *    first frame dropped, so output frame t sees input frames t and t + 1: one frame of look-ahead per
 *    block, the paper's 6 frames = 37.5 ms for 6 blocks), each fed the complex concatenation of the previous
 *    output and the mirrored encoder output (real halves, then imaginary halves).
 * 5. The 2-channel output is the complex mask on bins 1..fftLen/2 (zero on DC), applied by `maskingMode`
 *    (E: mask magnitude tanh-bounded, mask phase added; C: complex product; R: separately).
 * 6. {@link convIstft} and a clamp to [-1, 1].
 * The reference returns (spectrum, waveform) with a waveform of (T + 1) winInc - winLen samples (for the
 * defaults, L rounded down to a multiple of 100); here the waveform has exactly L samples: the reference's,
 * continued by the samples its inverse STFT computes but cuts off (zero-padded only if winLen < 2 winInc).
 * {@link Dccrn.enhance} also returns the enhanced spectrum.
 *
 * Taps (ctx.taps, channels-last, real channels then imaginary ones; n = kernelNum.length, F_0 = fftLen/2):
 * - `encoder.i` (i < n): block i's output [batch, T, F_0 / 2^(i+1), kernelNum[i]];
 * - `rnn`: the recurrent block's output, [batch, T, F_0 / 2^n, kernelNum[n-1]] (same shape as encoder.(n-1));
 * - `decoder.j` (j < n): block j's output after the frame drop, [batch, T, F_0 / 2^(n-1-j), kernelNum[n-2-j]],
 *   the last (`decoder.(n-1)`) the mask [batch, T, F_0, 2];
 * - and inside them: `encoder.i.conv|bn|act`, `decoder.j.conv|bn|act` (T + 1 frames, before the drop),
 *   `rnn.l` (complex LSTM layer l, [batch, T, features]; its `realLstm`/`imagLstm` run real and imaginary
 *   halves stacked on the batch axis, [2 batch, T, rnnUnits/2]), or `rnn.lstm` and `rnn.transform`.
 * For the defaults (fftLen 512, 6 blocks) F_0 / 2^(i+1) = 128, 64, 32, 16, 8, 4.
 *
 * Parameters: complex convs realWeight/imagWeight [2, kernelSize, in/2, out/2] (transposed convs
 * [2, kernelSize, out/2, in/2]) initialised N(0, 0.05), biases 0; batch norm and PReLU as torch's; LSTM
 * and Linear as torch's (uniform). {@link Dccrn.loadReferenceStateDict} loads the reference's state_dict.
 */
export class Dccrn extends Module {
  readonly args: Required<DccrnArgs>;
  readonly encoder: ModuleList;
  readonly rnn: DccrnRnn;
  readonly decoder: ModuleList;
  /** Frequency bins entering the encoder and leaving each encoder block: fftLen/2, then halved n times. */
  readonly bins: number[];

  constructor(args: DccrnArgs = {}) {
    super();
    const a = this.args = {
      kernelNum: [...(args.kernelNum ?? [16, 32, 64, 128, 256, 256])], rnnUnits: args.rnnUnits ?? 128,
      rnnLayers: args.rnnLayers ?? 2, useClstm: args.useClstm ?? false, maskingMode: args.maskingMode ?? 'E',
      kernelSize: args.kernelSize ?? 5, winLen: args.winLen ?? 400, winInc: args.winInc ?? 100, fftLen: args.fftLen ?? 512,
    };
    const posInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 1;
    if (!Array.isArray(a.kernelNum) || a.kernelNum.length === 0 || a.kernelNum.some((c) => !posInt(c) || c % 2)) {
      throw new Error(`Dccrn: kernelNum must be a non-empty list of even channel counts (real + imaginary), got ${JSON.stringify(args.kernelNum)}`);
    }
    for (const k of ['rnnUnits', 'rnnLayers', 'kernelSize', 'winLen', 'winInc', 'fftLen'] as const) {
      if (!posInt(a[k])) throw new Error(`Dccrn: ${k} must be a positive integer, got ${a[k]}`);
    }
    if (a.useClstm && a.rnnUnits % 2) throw new Error(`Dccrn: with useClstm, rnnUnits counts real + imaginary units and must be even, got ${a.rnnUnits}`);
    if (!MODES.includes(a.maskingMode)) throw new Error(`Dccrn: maskingMode must be one of ${MODES.join(', ')}, got '${a.maskingMode}'`);
    if (a.winLen > a.fftLen) throw new Error(`Dccrn: winLen ${a.winLen} exceeds fftLen ${a.fftLen}`);
    if (a.fftLen % 2) throw new Error(`Dccrn: fftLen must be even, got ${a.fftLen}`);
    const n = a.kernelNum.length;
    this.bins = [a.fftLen / 2];
    for (let i = 0; i < n; i++) this.bins.push(Math.floor((this.bins[i] + 4 - a.kernelSize) / 2) + 1);
    // The reference sizes its recurrent input as fftLen // 2^(n+1) bins; the encoder must leave exactly that.
    const hidden = Math.floor(a.fftLen / 2 ** (n + 1));
    if (this.bins[n] !== hidden || hidden < 1) {
      throw new Error(`Dccrn: fftLen ${a.fftLen} does not suit ${n} encoder blocks: they leave ${this.bins[n]} of its ${a.fftLen / 2} bins, ` +
        `the recurrent block expects fftLen / 2^${n + 1} = ${a.fftLen / 2 ** (n + 1)} (fftLen must be a multiple of ${2 ** (n + 1)})`);
    }
    for (let i = n; i > 0; i--) {
      const up = 2 * this.bins[i] + a.kernelSize - 5;
      if (up !== this.bins[i - 1]) {
        throw new Error(`Dccrn: kernelSize ${a.kernelSize} does not fit the reference's fixed frequency padding of 2 ` +
          `(decoder gives ${up} bins where the encoder had ${this.bins[i - 1]}): use 5`);
      }
    }
    const ch = [2, ...a.kernelNum];
    this.encoder = this.addModule('encoder', new ModuleList(a.kernelNum.map((c, i) =>
      new DccrnEncoderBlock({ inChannels: ch[i], outChannels: c, kernelSize: a.kernelSize }))));
    this.rnn = this.addModule('rnn', new DccrnRnn({ channels: ch[n], bins: this.bins[n], rnnUnits: a.rnnUnits,
      rnnLayers: a.rnnLayers, useClstm: a.useClstm }));
    this.decoder = this.addModule('decoder', new ModuleList(a.kernelNum.map((_, j) =>
      new DccrnDecoderBlock({ inChannels: 2 * ch[n - j], outChannels: ch[n - j - 1], kernelSize: a.kernelSize, last: j === n - 1 }))));
  }

  private get stftOptions(): ConvStftOptions {
    return { winLen: this.args.winLen, winInc: this.args.winInc, fftLen: this.args.fftLen };
  }

  /**
   * The enhanced spectrum and waveform: `spec` [batch, T, 2 (fftLen/2 + 1)] (real parts of the bins, then
   * imaginary parts, as {@link convStft}; the reference's out_spec transposed), `wav` [batch, L] as
   * {@link Dccrn.forward}.
   */
  enhance(noisy: tf.Tensor, ctx: Ctx): { spec: tf.Tensor3D; wav: tf.Tensor2D } {
    if (noisy.rank !== 2) throw new Error(`Dccrn: expected noisy audio [batch, time], got [${noisy.shape}]`);
    const [B, L] = noisy.shape;
    const half = this.args.fftLen / 2;
    const T = convStftFrames(L, this.stftOptions);
    if (L < 1 || T < 1) throw new Error(`Dccrn: ${L} samples (shape [${noisy.shape}]) make no STFT frame of ${this.args.winLen}`);
    return tf.tidy(() => {
      const F = convStftBins(this.args.fftLen);
      // [B, T, 2, F] -> bins 1..F-1: real and imaginary planes of the noisy spectrum, DC dropped.
      const planes = tf.slice(tf.reshape(convStft(noisy, this.stftOptions), [B, T, 2, F]), [0, 0, 0, 1], [B, T, 2, half]);
      let h: tf.Tensor = tf.transpose(planes, [0, 1, 3, 2]);                             // [B, T, half, 2]
      const skips: tf.Tensor[] = [];
      for (const block of this.encoder.items) {
        h = block.forward(h, ctx);
        skips.push(h);
      }
      h = this.rnn.forward(h, ctx);
      this.decoder.items.forEach((block, j) => {
        h = block.forward(complexCat([h, skips[skips.length - 1 - j]]), ctx);
      });
      const [mr, mi] = tf.unstack(tf.transpose(h, [0, 1, 3, 2]), 2);                   // [B, T, half] each
      const [re, im] = tf.unstack(planes, 2);
      const [outRe, outIm] = this.applyMask(re, im, mr, mi);
      // DC: the reference pads the mask with zeros there, which zeroes the output bin in every mode.
      const spec = tf.reshape(tf.pad(tf.stack([outRe, outIm], 2), [[0, 0], [0, 0], [0, 0], [1, 0]]), [B, T, 2 * F]) as tf.Tensor3D;
      const wav = tf.clipByValue(convIstft(spec, this.stftOptions, L), -1, 1) as tf.Tensor2D;
      return { spec, wav };
    });
  }

  /** The masked spectrum's real and imaginary parts, written as the reference computes them. */
  private applyMask(re: tf.Tensor, im: tf.Tensor, mr: tf.Tensor, mi: tf.Tensor): [tf.Tensor, tf.Tensor] {
    switch (this.args.maskingMode) {
      case 'E': {
        const specMags = tf.sqrt(tf.add(tf.add(tf.square(re), tf.square(im)), 1e-8));
        const specPhase = tf.atan2(im, re);
        const maskMags = tf.sqrt(tf.add(tf.square(mr), tf.square(mi)));
        const denom = tf.add(maskMags, 1e-8);
        const maskPhase = tf.atan2(tf.div(mi, denom), tf.div(mr, denom));
        const estMags = tf.mul(tf.tanh(maskMags), specMags);
        const estPhase = tf.add(specPhase, maskPhase);
        return [tf.mul(estMags, tf.cos(estPhase)), tf.mul(estMags, tf.sin(estPhase))];
      }
      case 'C':
        return [tf.sub(tf.mul(re, mr), tf.mul(im, mi)), tf.add(tf.mul(re, mi), tf.mul(im, mr))];
      case 'R':
        return [tf.mul(re, mr), tf.mul(im, mi)];
    }
  }

  /** noisy [batch, L] -> enhanced [batch, L], in [-1, 1]. */
  forward(noisy: tf.Tensor, ctx: Ctx): tf.Tensor {
    const { spec, wav } = this.enhance(noisy, ctx);
    spec.dispose();
    return wav;
  }

  /** The STFT's and inverse STFT's matrix products (the layers count their own). */
  override macs(inShape: number[]): number {
    const T = convStftFrames(inShape[1], this.stftOptions);
    return 2 * inShape[0] * T * this.args.winLen * 2 * convStftBins(this.args.fftLen);
  }

  /**
   * Loads a state_dict of the reference code's DCCRN (same arguments) given as tensors in its names and
   * layouts (e.g. read from a safetensors export of a trained checkpoint): conv weights
   * [out, in, kf, kt] / transposed [in, out, kf, kt] become [kt, kf, in, out] / [kt, kf, out, in], LSTM
   * and Linear weights are transposed, batch-norm running statistics are loaded too. A leading 'module.'
   * (DataParallel) is ignored, and so are the fixed STFT buffers (stft.*, istft.*) and
   * num_batches_tracked. With `strict` every parameter and buffer must be given and no other key.
   * The given tensors stay the caller's.
   */
  loadReferenceStateDict(dict: Map<string, tf.Tensor> | Record<string, tf.Tensor>, strict = true): void {
    const given = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const mapped = new Map<string, tf.Tensor>();
    const unknown: string[] = [];
    try {
      for (const [key, value] of given) {
        const m = mapReferenceKey(key.replace(/^module\./, ''));
        if (m === null) continue;
        if (m === undefined) {
          unknown.push(key);
          continue;
        }
        mapped.set(m.name, m.transpose && value.rank > 1 ? tf.transpose(value, value.rank === 4 ? [3, 2, 1, 0] : [1, 0]) : value.clone());
      }
      if (strict && unknown.length) throw new Error(`Dccrn.loadReferenceStateDict: unexpected ${unknown.join(', ')}`);
      this.loadStateDict(mapped, strict);
    } finally {
      tf.dispose([...mapped.values()]);
    }
  }

  getConfig(): Record<string, unknown> {
    return { ...this.args, kernelNum: [...this.args.kernelNum] };
  }
}
registerModule('Dccrn', Dccrn);
