import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from '../nn/module';
import { Conv1d } from '../nn/conv';
import { ConvTranspose1d } from '../nn/conv_transpose';
import { PReLU } from '../nn/activations';
import { Linear } from '../nn/linear';
import { GlobalLayerNorm } from '../nn/norm';
import { LSTM } from '../nn/recurrent';
import { ModuleList } from '../nn/sequential';
import { checkLayerHeads, LayerHeads } from './conv_tasnet';
import { chunkFrames, overlapAdd } from './dprnn_chunks';
import { mapAsteroidKey } from './dprnn_state_dict';

export { chunkFrames, numChunks, overlapAdd } from './dprnn_chunks';

/** Nonlinearity turning mask scores into masks. */
export type DprnnMaskAct = 'sigmoid' | 'relu';

/** Arguments of {@link Dprnn} (asteroid's DPRNNTasNet arguments in camelCase; defaults: the 'small' preset). */
export interface DprnnArgs {
  /** Sources to separate. Default 2. */
  numSources?: number;
  /** Encoder filters N (asteroid n_filters). Default 64. */
  encoderDim?: number;
  /** Encoder kernel L (asteroid kernel_size); the stride is L / 2. Default 16. */
  kernelSize?: number;
  /** Channels after the bottleneck (asteroid bn_chan). Default 64. */
  bottleneck?: number;
  /** LSTM units per direction (asteroid hid_size). Default 64. */
  hidden?: number;
  /** Chunk size K, in encoder frames. Default 50. */
  chunkSize?: number;
  /** Hop between chunks; must divide chunkSize. Default chunkSize / 2 (rounded down, as asteroid). */
  hopSize?: number;
  /** DPRNN blocks (asteroid n_repeats). Default 3. */
  numBlocks?: number;
  /** Bidirectional inter-chunk LSTM (the intra-chunk LSTM is always bidirectional). Default true. */
  bidirectional?: boolean;
  /** Mask nonlinearity. Default 'sigmoid' (asteroid's DPRNNTasNet; its DPRNN masker alone defaults to relu). */
  maskAct?: DprnnMaskAct;
  /** Activation after the encoder: 'linear' (none, asteroid's DPRNNTasNet default) or 'relu'. Default 'linear'. */
  encoderActivation?: 'linear' | 'relu';
  /**
   * Mask heads of the intermediate separations of {@link Dprnn.forwardLayers}: 'shared' (the model's own
   * head) or 'separate' (one head per block but the last, under `loHeads.<i>`). `forward` is the same
   * either way. Default 'shared' (no extra parameters).
   */
  layerHeads?: LayerHeads;
}

/** Named configurations of {@link Dprnn}. */
export type DprnnPreset = 'paper' | 'small';

/**
 * 'paper': Luo et al. 2020's DPRNN-TasNet with the 16-sample window (K = 100; "2.6M" parameters in their
 * table, and their code's feature_dim 64, hidden_dim 128): N = 64, L = 16, bottleneck 64, 128 LSTM units per
 * direction, chunks of 100, 6 blocks: 2,609,857 parameters with 2 sources. Their best window, 2 samples with
 * chunks of 250 (also asteroid's WHAM and LibriMix recipes, there with bottleneck 128), reads 8 times the frames
 * and costs about as much more per step: `{...DPRNN_PRESETS.paper, kernelSize: 2, chunkSize: 250, hopSize: 125}`.
 * asteroid's DPRNNTasNet defaults are `{...DPRNN_PRESETS.paper, bottleneck: 128}` (3,652,865 parameters).
 * 'small' (the defaults): for a CPU, minutes of training at 8 kHz: N = 64, L = 16, bottleneck 64, 64 LSTM
 * units, chunks of 50, 3 blocks: 476,737 parameters with 2 sources.
 */
export const DPRNN_PRESETS: Readonly<Record<DprnnPreset, DprnnArgs>> = Object.freeze({
  paper: { numSources: 2, encoderDim: 64, kernelSize: 16, bottleneck: 64, hidden: 128, chunkSize: 100, hopSize: 50, numBlocks: 6,
    bidirectional: true, maskAct: 'sigmoid' },
  small: { numSources: 2, encoderDim: 64, kernelSize: 16, bottleneck: 64, hidden: 64, chunkSize: 50, hopSize: 25, numBlocks: 3,
    bidirectional: true, maskAct: 'sigmoid' },
});

/**
 * One dual-path block on chunks [batch, nChunks, chunkSize, B]: an intra-chunk BiLSTM along each chunk, a
 * linear map back to B, gLN, a residual; then an inter-chunk LSTM (bi- or unidirectional) across the chunks
 * at each position, linear, gLN, residual (asteroid's DPRNNBlock). gLN normalises over chunks, positions
 * and channels per example.
 */
export class DprnnBlock extends Module {
  readonly intraRnn: LSTM;
  readonly intraLinear: Linear;
  readonly intraNorm: GlobalLayerNorm;
  readonly interRnn: LSTM;
  readonly interLinear: Linear;
  readonly interNorm: GlobalLayerNorm;

  constructor(readonly cfg: { channels: number; hidden: number; bidirectional: boolean }) {
    super();
    const { channels: B, hidden: H, bidirectional } = cfg;
    this.intraRnn = this.addModule('intraRnn', new LSTM({ inputSize: B, hiddenSize: H, bidirectional: true }));
    this.intraLinear = this.addModule('intraLinear', new Linear({ inFeatures: 2 * H, outFeatures: B }));
    this.intraNorm = this.addModule('intraNorm', new GlobalLayerNorm({ numChannels: B }));
    this.interRnn = this.addModule('interRnn', new LSTM({ inputSize: B, hiddenSize: H, bidirectional }));
    this.interLinear = this.addModule('interLinear', new Linear({ inFeatures: (bidirectional ? 2 : 1) * H, outFeatures: B }));
    this.interNorm = this.addModule('interNorm', new GlobalLayerNorm({ numChannels: B }));
  }

  /** [batch, nChunks, chunkSize, B] -> the same shape. */
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    if (x.rank !== 4 || x.shape[3] !== this.cfg.channels) {
      const where = this.path ? ` '${this.path}'` : '';
      throw new Error(`DprnnBlock${where}: expected [batch, nChunks, chunkSize, ${this.cfg.channels}], got [${x.shape}]`);
    }
    const [Bt, n, K, C] = x.shape;
    return tf.tidy(() => {
      let h = this.intraLinear.forward(this.intraRnn.forward(tf.reshape(x, [Bt * n, K, C]), ctx), ctx);   // [Bt*n, K, C]
      const intra = tf.add(x, tf.reshape(this.intraNorm.forward(tf.reshape(h, [Bt, n * K, C]), ctx), [Bt, n, K, C]));
      const across = tf.transpose(intra, [0, 2, 1, 3]);                                                      // [Bt, K, n, C]
      h = this.interLinear.forward(this.interRnn.forward(tf.reshape(across, [Bt * K, n, C]), ctx), ctx);     // [Bt*K, n, C]
      const inter = tf.reshape(this.interNorm.forward(tf.reshape(h, [Bt, K * n, C]), ctx), [Bt, K, n, C]);
      return tf.add(intra, tf.transpose(inter, [0, 2, 1, 3]));
    });
  }

  getConfig(): Record<string, unknown> {
    return { ...this.cfg };
  }
}
registerModule('DprnnBlock', DprnnBlock);

/**
 * The mask estimator of {@link Dprnn} (asteroid's DPRNN after its blocks): PReLU and a 1x1 conv to S * B
 * channels on the chunks ({@link DprnnMaskHead.forward}); after overlap-add, per source, a tanh-gated
 * 1x1 conv pair, a bias-free 1x1 conv to N and the mask nonlinearity ({@link DprnnMaskHead.masks}).
 */
export class DprnnMaskHead extends Module {
  readonly act: PReLU;
  readonly conv: Linear;
  readonly outProj: Linear;
  readonly gateProj: Linear;
  readonly maskProj: Linear;

  constructor(readonly cfg: { channels: number; numSources: number; encoderDim: number; maskAct: DprnnMaskAct }) {
    super();
    const { channels: B, numSources: S, encoderDim: N } = cfg;
    this.act = this.addModule('act', new PReLU());
    this.conv = this.addModule('conv', new Linear({ inFeatures: B, outFeatures: S * B }));
    this.outProj = this.addModule('outProj', new Linear({ inFeatures: B, outFeatures: B }));
    this.gateProj = this.addModule('gateProj', new Linear({ inFeatures: B, outFeatures: B }));
    this.maskProj = this.addModule('maskProj', new Linear({ inFeatures: B, outFeatures: N, bias: false }));
  }

  /** Chunks [batch, nChunks, chunkSize, B] -> per-source chunks [batch, nChunks, chunkSize, S * B] (source-major channels). */
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => this.conv.forward(this.act.forward(x, ctx), ctx));
  }

  /** Overlap-added per-source features [batch * S, frames, B] -> masks [batch * S, frames, N]. */
  masks(y: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => {
      const gated = tf.mul(tf.tanh(this.outProj.forward(y, ctx)), tf.sigmoid(this.gateProj.forward(y, ctx)));
      const score = this.maskProj.forward(gated, ctx);
      return this.cfg.maskAct === 'relu' ? tf.relu(score) : tf.sigmoid(score);
    });
  }

  getConfig(): Record<string, unknown> {
    return { ...this.cfg };
  }
}
registerModule('DprnnMaskHead', DprnnMaskHead);

/**
 * DPRNN-TasNet (Luo, Chen & Yoshioka 2020, arXiv 1910.06379), as asteroid's DPRNNTasNet with its free
 * filterbank: a 1-D conv encoder (N filters of L samples, stride L / 2, no bias, optional ReLU), gLN and a
 * 1x1 bottleneck to B channels, segmentation into overlapping chunks (see dprnn_chunks.ts), `numBlocks`
 * {@link DprnnBlock}s, the {@link DprnnMaskHead} (PReLU, 1x1 conv to one feature map per source,
 * overlap-add, gated 1x1 convs, masks), masking of the encoder output and a transposed-conv decoder (no
 * bias). mixture [batch, time] -> sources [batch, numSources, time]: time >= L; as asteroid, the encoder
 * reads floor((time - L) / (L/2)) + 1 frames and the decoded signal is zero-padded at the end to `time`.
 * Parameter counts and outputs equal asteroid's for the same arguments and weights
 * ({@link Dprnn.loadReferenceStateDict} loads its state_dict); initialisation is this library's
 * (PyTorch's uniform fan-in for every layer; asteroid draws its filterbanks Xavier-normal).
 *
 * Taps: each block's output [batch, nChunks, chunkSize, bottleneck] under its path (`block0`, `block1`, ...).
 * {@link Dprnn.forwardLayers} separates after every block (layer-wise optimisation).
 */
export class Dprnn extends Module {
  readonly args: Required<DprnnArgs>;
  readonly encoder: Conv1d;
  readonly inNorm: GlobalLayerNorm;
  readonly bottleneckProj: Linear;
  readonly blocks: DprnnBlock[];
  readonly head: DprnnMaskHead;
  readonly decoder: ConvTranspose1d;
  /** The mask heads of blocks 0 .. numBlocks-2 when `layerHeads` is 'separate' (absent otherwise). */
  readonly loHeads?: ModuleList;

  constructor(args: DprnnArgs = {}) {
    super();
    const chunkSize = args.chunkSize ?? 50;
    const a = this.args = {
      numSources: args.numSources ?? 2, encoderDim: args.encoderDim ?? 64, kernelSize: args.kernelSize ?? 16,
      bottleneck: args.bottleneck ?? 64, hidden: args.hidden ?? 64, chunkSize, hopSize: args.hopSize ?? Math.floor(chunkSize / 2),
      numBlocks: args.numBlocks ?? 3, bidirectional: args.bidirectional ?? true, maskAct: args.maskAct ?? 'sigmoid',
      encoderActivation: args.encoderActivation ?? 'linear', layerHeads: checkLayerHeads(args.layerHeads ?? 'shared', 'Dprnn'),
    };
    const positive = (k: keyof DprnnArgs, min = 1) => {
      const v = a[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
        throw new Error(`Dprnn: ${k} must be an integer >= ${min}, got ${String(v)}`);
      }
    };
    positive('kernelSize', 2);
    positive('chunkSize', 2);
    (['numSources', 'encoderDim', 'bottleneck', 'hidden', 'numBlocks', 'hopSize'] as const).forEach((k) => positive(k));
    if (a.kernelSize % 2 !== 0) throw new Error(`Dprnn: kernelSize must be even (stride kernelSize / 2), got ${a.kernelSize}`);
    if (a.chunkSize % a.hopSize !== 0) {
      throw new Error(`Dprnn: hopSize must divide chunkSize, got chunkSize ${a.chunkSize}, hopSize ${a.hopSize}`);
    }
    if (a.maskAct !== 'sigmoid' && a.maskAct !== 'relu') throw new Error(`Dprnn: maskAct must be 'sigmoid' or 'relu', got '${String(a.maskAct)}'`);
    if (a.encoderActivation !== 'linear' && a.encoderActivation !== 'relu') {
      throw new Error(`Dprnn: encoderActivation must be 'linear' or 'relu', got '${String(a.encoderActivation)}'`);
    }
    const stride = a.kernelSize / 2;
    this.encoder = this.addModule('encoder', new Conv1d({ inChannels: 1, outChannels: a.encoderDim, kernelSize: a.kernelSize, stride,
      bias: false }));
    this.inNorm = this.addModule('inNorm', new GlobalLayerNorm({ numChannels: a.encoderDim }));
    this.bottleneckProj = this.addModule('bottleneckProj', new Linear({ inFeatures: a.encoderDim, outFeatures: a.bottleneck }));
    this.blocks = Array.from({ length: a.numBlocks }, (_, i) => this.addModule(`block${i}`,
      new DprnnBlock({ channels: a.bottleneck, hidden: a.hidden, bidirectional: a.bidirectional })));
    const headCfg = { channels: a.bottleneck, numSources: a.numSources, encoderDim: a.encoderDim, maskAct: a.maskAct };
    this.head = this.addModule('head', new DprnnMaskHead(headCfg));
    this.decoder = this.addModule('decoder', new ConvTranspose1d({ inChannels: a.encoderDim, outChannels: 1, kernelSize: a.kernelSize,
      stride, bias: false }));
    if (a.layerHeads === 'separate' && a.numBlocks > 1) {
      this.loHeads = this.addModule('loHeads', new ModuleList(Array.from({ length: a.numBlocks - 1 }, () => new DprnnMaskHead(headCfg))));
    }
  }

  /** mixture [batch, time] -> estimated sources [batch, numSources, time]. */
  forward(mixture: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => this.separate(mixture, ctx, false)[0]);
  }

  /**
   * The separations of layer-wise optimisation: one [batch, numSources, time] per DPRNN block, in order, each
   * decoded from that block's output through `loHeads.<i>` when `layerHeads` is 'separate', else through the
   * model's own head (and always the shared decoder). The last is the final output, equal to `forward`'s;
   * inference uses `forward` alone.
   */
  forwardLayers(mixture: tf.Tensor, ctx: Ctx): tf.Tensor[] {
    return this.separate(mixture, ctx, true);
  }

  private separate(mixture: tf.Tensor, ctx: Ctx, layers: boolean): tf.Tensor[] {
    const a = this.args;
    if (mixture.rank !== 2) throw new Error(`Dprnn: expected a mixture [batch, time], got [${mixture.shape}]`);
    const [Bt, T] = mixture.shape;
    if (T < a.kernelSize) throw new Error(`Dprnn: the mixture has ${T} samples, fewer than kernelSize ${a.kernelSize}`);
    const S = a.numSources, N = a.encoderDim, C = a.bottleneck;
    return tf.tidy(() => {
      let w = this.encoder.forward(tf.expandDims(mixture, 2), ctx);                                   // [Bt, frames, N]
      if (a.encoderActivation === 'relu') w = tf.relu(w);
      const frames = w.shape[1] as number;
      const decode = (head: DprnnMaskHead, h: tf.Tensor) => {
        // Overlap-add is per channel, so all sources go through it at once.
        const folded = tf.reshape(overlapAdd(head.forward(h, ctx), frames, a.hopSize), [Bt, frames, S, C]);
        const perSource = tf.reshape(tf.transpose(folded, [0, 2, 1, 3]), [Bt * S, frames, C]);
        const m = tf.reshape(head.masks(perSource, ctx), [Bt, S, frames, N]);
        const masked = tf.reshape(tf.mul(tf.expandDims(w, 1), m), [Bt * S, frames, N]);
        const dec = this.decoder.forward(masked, ctx);                                               // [Bt*S, T', 1], T' <= T
        return tf.pad(tf.reshape(dec, [Bt, S, -1]), [[0, 0], [0, 0], [0, T - (dec.shape[1] as number)]]);
      };
      let h: tf.Tensor = chunkFrames(this.bottleneckProj.forward(this.inNorm.forward(w, ctx), ctx), a.chunkSize, a.hopSize);
      const outs: tf.Tensor[] = [];
      this.blocks.forEach((blk, i) => {
        h = blk.forward(h, ctx);                                                                     // [Bt, n, K, C], tap 'block<i>'
        if (layers && i < a.numBlocks - 1) outs.push(decode((this.loHeads?.items[i] as DprnnMaskHead | undefined) ?? this.head, h));
      });
      outs.push(decode(this.head, h));
      return outs;
    });
  }

  /**
   * Loads the state_dict of asteroid's DPRNNTasNet (free filterbank; its names and layouts: encoder /
   * decoder `filterbank._filters` [N, 1, L], 1x1 convs [out, in, 1(, 1)], LSTM and Linear [out, in]).
   * Every key must be known and every parameter of this model but the separate `loHeads` given, unless
   * `strict` is false.
   */
  loadReferenceStateDict(dict: Map<string, tf.Tensor> | Record<string, tf.Tensor>, strict = true): void {
    const given = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const mapped = new Map<string, tf.Tensor>();
    const own = this.stateDict();
    try {
      const unknown: string[] = [];
      for (const [key, value] of given) {
        const m = mapAsteroidKey(key.replace(/^module\./, ''));
        if (!m || !own.has(m.name)) {
          unknown.push(key);
          continue;
        }
        mapped.set(m.name, m.convert(value));
      }
      const missing = [...own.keys()].filter((k) => !k.startsWith('loHeads.') && !mapped.has(k));
      if (strict && (unknown.length || missing.length)) {
        throw new Error(`Dprnn.loadReferenceStateDict: ${unknown.length ? `unexpected ${unknown.join(', ')}` : ''}` +
          `${unknown.length && missing.length ? '; ' : ''}${missing.length ? `missing ${missing.join(', ')}` : ''}`);
      }
      this.loadStateDict(mapped, false);
    } finally {
      tf.dispose([...mapped.values()]);
    }
  }

  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('Dprnn', Dprnn);
