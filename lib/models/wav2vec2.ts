import * as tf from '@tensorflow/tfjs';
import { Adapter, AdapterOptions } from '../distill/adapter';
import { Ctx, Module, registerModule } from '../nn/module';
import { Conv1d } from '../nn/conv';
import { Linear } from '../nn/linear';
import { LayerNorm } from '../nn/norm';
import { scaledDotProductAttention } from '../nn/attention';
import { HardConcrete } from '../prune/hard_concrete';
import { activate } from '../nn/activations';
import { dropout } from '../nn/dropout';
import { ModuleList } from '../nn/sequential';
import { fanInUniform } from '../nn/init';
import { mapWav2Vec2Key } from './wav2vec2_state_dict';

/** The call context inside the encoder: the keys to ignore in attention ([batch, frames], 1 = padding). */
interface EncoderCtx extends Ctx {
  keyPaddingMask?: tf.Tensor;
}

/** Normalisation in the convolutional feature extractor (torchaudio's `extractor_mode`). */
export type Wav2Vec2ExtractorMode = 'group_norm' | 'layer_norm';

/**
 * Arguments of {@link Wav2Vec2Model}: torchaudio's `wav2vec2_model` arguments in camelCase (defaults: HuBERT
 * Base / wav2vec 2.0 Base), plus the per-layer sizes of a pruned model as DPHuBERT's `prune()` emits them.
 */
export interface Wav2Vec2ModelArgs {
  /** 'group_norm' (one per-channel GroupNorm after the first convolution; Base) or 'layer_norm' (a LayerNorm after every one; Large). */
  extractorMode?: Wav2Vec2ExtractorMode;
  /** [channels, kernel, stride] per convolution. Default [[512, 10, 5], [512, 3, 2] x 4, [512, 2, 2] x 2] (20 ms frames at 16 kHz). */
  extractorConvLayerConfig?: [number, number, number][] | null;
  /** Biases on the extractor's convolutions. Default false. */
  extractorConvBias?: boolean;
  /** Transformer width D. Default 768. */
  encoderEmbedDim?: number;
  /** Dropout after the feature projection. Default 0.1. */
  encoderProjectionDropout?: number;
  /** Kernel of the convolutional positional embedding. Default 128. */
  encoderPosConvKernel?: number;
  /** Groups of the convolutional positional embedding. Default 16. */
  encoderPosConvGroups?: number;
  /** Transformer layers. Default 12. */
  encoderNumLayers?: number;
  /** Attention heads, one number or one per layer (a pruned model). Default 12. */
  encoderNumHeads?: number | number[];
  /** Width of one head. Default encoderEmbedDim / encoderNumHeads (64 for Base and Large); required with per-layer heads. */
  encoderHeadDim?: number;
  /** Dropout on the attention probabilities. Default 0.1. */
  encoderAttentionDropout?: number;
  /** Feed-forward units, one number or one per layer. Default 3072. */
  encoderFfIntermFeatures?: number | number[];
  /** Dropout after the feed-forward activation. Default 0. */
  encoderFfIntermDropout?: number;
  /** Dropout after attention, after the feed-forward block and on the transformer input. Default 0.1. */
  encoderDropout?: number;
  /** Pre-norm layers with a final layer norm (Large) instead of post-norm (Base). Default false. */
  encoderLayerNormFirst?: boolean;
  /** Probability of skipping a whole layer in training (`encode` only; hidden states use every layer). Default 0.05. */
  encoderLayerDrop?: number;
  /** Per layer, whether it has attention (DPHuBERT prunes whole blocks). Default all true. */
  encoderUseAttention?: boolean[];
  /** Per layer, whether it has a feed-forward block. Default all true. */
  encoderUseFeedForward?: boolean[];
  /** Layer-normalise each waveform over time first (wav2vec 2.0 Large / WavLM checkpoints expect it). Default false. */
  normalizeWaveform?: boolean;
  /**
   * A fixed per-channel scale on the extractor's output (DPHuBERT's `dummy_weight`, a buffer): where a pruned
   * model keeps the soft gate values of its last convolution, which the projection's layer norm could not absorb.
   * Default false (materialised models with pruned conv channels have it).
   */
  extractorDummyWeight?: boolean;
  /** HardConcrete gates for structured pruning (DPHuBERT); see {@link Wav2Vec2PruneArgs}. Default: none. */
  prune?: Wav2Vec2PruneArgs;
  /**
   * An adapter (distill.Adapter) in every encoder layer, in parallel with its feed-forward block, as OS-KDFT's
   * students: post-norm layers h = LN(h + attn); h + FFN(h) + adapter(h); final LN; pre-norm layers
   * h + FFN(LN(h)) + adapter(h). `Ctx.adapters` selects the items they act on. Default null (none).
   */
  adapters?: AdapterOptions | null;
}

/**
 * Which units of a Wav2Vec2Model carry HardConcrete gates (DPHuBERT's prune_conv_channels,
 * encoder_prune_attention_heads, encoder_prune_attention_layer, encoder_prune_feed_forward_intermediate,
 * encoder_prune_feed_forward_layer), initialised as its reference code does: log_alpha ~ N(log(1 - m) - log m,
 * 0.01) with m = 0.01, and m = 0.5 for the FFN units. Each gate multiplies its unit's output: conv channels
 * after the GELU, heads before the output projection, FFN units after the activation, a whole attention or FFN
 * block after its output projection. Training samples the gates (ctx.sampleGates ?? ctx.training);
 * evaluation uses their deterministic masks.
 */
export interface Wav2Vec2PruneArgs {
  /**
   * Gates on the extractor's conv channels: true on every conv layer but the last (whose channels feed the
   * projection's layer norm, so that materialising stays exact); 'all' on every layer, as the reference code.
   */
  convChannels?: boolean | 'all';
  attentionHeads?: boolean;
  attentionLayers?: boolean;
  ffnUnits?: boolean;
  ffnLayers?: boolean;
}

const BASE_CONV: [number, number, number][] = [[512, 10, 5], ...Array(4).fill([512, 3, 2]), ...Array(2).fill([512, 2, 2])];

/** The presets of torchaudio's factory functions (dropouts as there). */
export const WAV2VEC2_PRESETS = {
  /** torchaudio.models.hubert_base(): 94,370,944 parameters. */
  hubertBase: { extractorMode: 'group_norm', encoderEmbedDim: 768, encoderNumLayers: 12, encoderNumHeads: 12,
    encoderFfIntermFeatures: 3072, encoderLayerNormFirst: false } as Wav2Vec2ModelArgs,
  /** torchaudio.models.hubert_large(): 315,434,112 parameters. */
  hubertLarge: { extractorMode: 'layer_norm', encoderEmbedDim: 1024, encoderNumLayers: 24, encoderNumHeads: 16,
    encoderFfIntermFeatures: 4096, encoderLayerNormFirst: true } as Wav2Vec2ModelArgs,
  /** torchaudio.models.wav2vec2_base(): the same architecture as HuBERT Base. */
  wav2vec2Base: { extractorMode: 'group_norm', encoderEmbedDim: 768, encoderNumLayers: 12, encoderNumHeads: 12,
    encoderFfIntermFeatures: 3072, encoderLayerNormFirst: false } as Wav2Vec2ModelArgs,
  /** torchaudio.models.wav2vec2_large(): 315,427,968 parameters. */
  wav2vec2Large: { extractorMode: 'group_norm', encoderEmbedDim: 1024, encoderNumLayers: 24, encoderNumHeads: 16,
    encoderFfIntermFeatures: 4096, encoderLayerNormFirst: false } as Wav2Vec2ModelArgs,
};

/** `args` with every default filled in and per-layer lists expanded (the one place the defaults live). */
export function wav2vec2Defaults(args: Wav2Vec2ModelArgs = {}): Required<Wav2Vec2ModelArgs> & {
  encoderNumHeads: number[]; encoderFfIntermFeatures: number[]; extractorConvLayerConfig: [number, number, number][];
  prune: Required<Wav2Vec2PruneArgs> } {
  const L = args.encoderNumLayers ?? 12;
  const D = args.encoderEmbedDim ?? 768;
  const perLayer = <T>(v: T | T[] | undefined, d: T, what: string): T[] => {
    if (Array.isArray(v)) {
      if (v.length !== L) throw new Error(`Wav2Vec2Model: ${what} has ${v.length} entries for ${L} layers`);
      return [...v];
    }
    return Array(L).fill(v ?? d);
  };
  const heads = perLayer(args.encoderNumHeads, 12, 'encoderNumHeads');
  let headDim = args.encoderHeadDim;
  if (headDim === undefined) {
    if (Array.isArray(args.encoderNumHeads)) throw new Error('Wav2Vec2Model: per-layer encoderNumHeads need encoderHeadDim');
    headDim = D / heads[0];
    if (!Number.isInteger(headDim)) throw new Error(`Wav2Vec2Model: encoderEmbedDim ${D} is not divisible by encoderNumHeads ${heads[0]}`);
  }
  const mode = args.extractorMode ?? 'group_norm';
  if (mode !== 'group_norm' && mode !== 'layer_norm') throw new Error(`Wav2Vec2Model: extractorMode must be 'group_norm' or 'layer_norm', got '${mode}'`);
  return {
    extractorMode: mode, extractorConvLayerConfig: (args.extractorConvLayerConfig ?? BASE_CONV).map((c) => [...c] as [number, number, number]),
    extractorConvBias: args.extractorConvBias ?? false, encoderEmbedDim: D,
    encoderProjectionDropout: args.encoderProjectionDropout ?? 0.1, encoderPosConvKernel: args.encoderPosConvKernel ?? 128,
    encoderPosConvGroups: args.encoderPosConvGroups ?? 16, encoderNumLayers: L, encoderNumHeads: heads, encoderHeadDim: headDim,
    encoderAttentionDropout: args.encoderAttentionDropout ?? 0.1,
    encoderFfIntermFeatures: perLayer(args.encoderFfIntermFeatures, 3072, 'encoderFfIntermFeatures'),
    encoderFfIntermDropout: args.encoderFfIntermDropout ?? 0, encoderDropout: args.encoderDropout ?? 0.1,
    encoderLayerNormFirst: args.encoderLayerNormFirst ?? false, encoderLayerDrop: args.encoderLayerDrop ?? 0.05,
    encoderUseAttention: perLayer(args.encoderUseAttention, true, 'encoderUseAttention'),
    encoderUseFeedForward: perLayer(args.encoderUseFeedForward, true, 'encoderUseFeedForward'),
    normalizeWaveform: args.normalizeWaveform ?? false, extractorDummyWeight: args.extractorDummyWeight ?? false,
    prune: { convChannels: false, attentionHeads: false, attentionLayers: false, ffnUnits: false, ffnLayers: false, ...args.prune },
    adapters: args.adapters ?? null,
  };
}

/** torch.nn.GroupNorm(C, C) on [batch, C, time]: each channel of each example normalised over time, then scaled and shifted. */
export class ChannelNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  constructor(readonly numChannels: number, readonly eps = 1e-5) {
    super();
    this.weight = this.addParameter('weight', new Float32Array(numChannels).fill(1), [numChannels]);
    this.bias = this.addParameter('bias', new Float32Array(numChannels), [numChannels]);
  }
  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, 1, true);
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps))), this.weight), this.bias);
    });
  }
  getConfig(): Record<string, unknown> {
    return { numChannels: this.numChannels, eps: this.eps };
  }
}

/** One block of the feature extractor: convolution, optional norm, GELU. [batch, time, Cin] -> [batch, time', Cout]. */
export class Wav2Vec2ConvBlock extends Module {
  readonly conv: Conv1d;
  readonly layerNorm?: Module;
  readonly hardConcrete?: HardConcrete;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, readonly stride: number,
    bias: boolean, norm: 'group' | 'layer' | null, gated = false) {
    super();
    this.conv = this.addModule('conv', new Conv1d({ inChannels, outChannels, kernelSize, stride, bias }));
    if (norm === 'group') this.layerNorm = this.addModule('layerNorm', new ChannelNorm(outChannels));
    if (norm === 'layer') this.layerNorm = this.addModule('layerNorm', new LayerNorm({ normalizedShape: outChannels }));
    if (gated) this.hardConcrete = this.addModule('hardConcrete', new HardConcrete({ n: outChannels, initMean: 0.01 }));
  }
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => {
      let y = this.conv.forward(x, ctx);
      if (this.layerNorm) y = this.layerNorm.forward(y, ctx);
      y = activate(y, 'gelu');
      return this.hardConcrete ? tf.mul(y, this.hardConcrete.mask(ctx)) : y;
    });
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

/** The convolutional feature extractor: waveforms [batch, samples] -> features [batch, frames, C]. */
export class Wav2Vec2FeatureExtractor extends Module {
  readonly convLayers: ModuleList;
  readonly dummyWeight?: tf.Variable;
  constructor(readonly config: [number, number, number][], mode: Wav2Vec2ExtractorMode, bias: boolean, gated: boolean | 'all' = false,
    dummyWeight = false) {
    super();
    let cin = 1;
    this.convLayers = this.addModule('convLayers', new ModuleList(config.map(([c, k, s], i) => {
      const norm = mode === 'layer_norm' ? 'layer' : i === 0 ? 'group' : null;
      const block = new Wav2Vec2ConvBlock(cin, c, k, s, bias, norm, gated === 'all' || (gated === true && i < config.length - 1));
      cin = c;
      return block;
    })));
    if (dummyWeight) this.dummyWeight = this.addBuffer('dummyWeight', new Float32Array(cin).fill(1), [cin]);
  }
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    if (x.rank !== 2) throw new Error(`Wav2Vec2Model: waveforms must be [batch, samples], got [${x.shape}]`);
    return tf.tidy(() => {
      let y: tf.Tensor = tf.expandDims(x, 2);
      for (const block of this.convLayers.items) y = block.forward(y, ctx);
      return this.dummyWeight ? tf.mul(y, this.dummyWeight) : y;
    });
  }
  /** Frames the extractor makes of `samples` samples (0 when too short). */
  outputFrames(samples: number): number {
    let n = samples;
    for (const [, k, s] of this.config) n = Math.max(0, Math.floor((n - k) / s) + 1);
    return n;
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

/** Layer norm over the extractor's channels, then the projection to the transformer width (and dropout). */
export class Wav2Vec2FeatureProjection extends Module {
  readonly layerNorm: LayerNorm;
  readonly projection: Linear;
  constructor(inFeatures: number, outFeatures: number, readonly dropoutP: number) {
    super();
    this.layerNorm = this.addModule('layerNorm', new LayerNorm({ normalizedShape: inFeatures }));
    this.projection = this.addModule('projection', new Linear({ inFeatures, outFeatures }));
  }
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => dropout(this.projection.forward(this.layerNorm.forward(x, ctx), ctx), this.dropoutP, ctx));
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

/**
 * A grouped 1-D convolution under weight normalisation along the kernel axis (torch.nn.utils.weight_norm(conv,
 * dim=2)): weight[k] = weightG[k] * weightV[k] / ||weightV[k]||, the norm over both channel axes. weightV is
 * [K, C/groups, C] (tfjs layout), weightG [K]. Padding K/2 on both sides.
 */
export class WeightNormConv1d extends Module {
  readonly weightG: tf.Variable;
  readonly weightV: tf.Variable;
  readonly bias: tf.Variable;
  constructor(readonly channels: number, readonly kernelSize: number, readonly groups: number) {
    super();
    if (channels % groups) throw new Error(`Wav2Vec2Model: encoderPosConvGroups ${groups} must divide encoderEmbedDim ${channels}`);
    const per = channels / groups;
    const fanIn = per * kernelSize;
    const v = tf.tensor(fanInUniform(kernelSize * per * channels, fanIn), [kernelSize, per, channels]);
    // torch's weight_norm starts with g = ||v||, so that the effective weight is the initial one.
    const g = tf.tidy(() => tf.sqrt(tf.sum(tf.square(v), [1, 2])));
    this.weightV = this.addParameter('weightV', v);
    this.weightG = this.addParameter('weightG', g);
    tf.dispose([v, g]);
    this.bias = this.addParameter('bias', fanInUniform(channels, fanIn), [channels]);
  }
  /** The effective kernel [K, C/groups, C]. */
  weight(): tf.Tensor3D {
    return tf.tidy(() => {
      const norm = tf.sqrt(tf.sum(tf.square(this.weightV), [1, 2], true));
      return tf.mul(this.weightV, tf.div(tf.reshape(this.weightG, [-1, 1, 1]), norm)) as tf.Tensor3D;
    });
  }
  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    return tf.tidy(() => {
      const p = Math.floor(this.kernelSize / 2);
      const xp = tf.pad(x, [[0, 0], [p, p], [0, 0]]) as tf.Tensor3D;
      const w = this.weight();
      if (this.groups === 1) return tf.add(tf.conv1d(xp, w, 1, 'valid'), this.bias);
      const xs = tf.split(xp, this.groups, 2) as tf.Tensor3D[];
      const ws = tf.split(w, this.groups, 2) as tf.Tensor3D[];
      return tf.add(tf.concat(xs.map((xi, i) => tf.conv1d(xi, ws[i], 1, 'valid')), 2), this.bias);
    });
  }
  override macs(_in: number[], outShape: number[]): number {
    return outShape.reduce((a, b) => a * b, 1) * this.kernelSize * (this.channels / this.groups);
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

/** The convolutional positional embedding: weight-normalised grouped convolution, the extra frame of an even kernel removed, GELU. */
export class Wav2Vec2PosConv extends Module {
  readonly conv: WeightNormConv1d;
  constructor(readonly embedDim: number, readonly kernelSize: number, groups: number) {
    super();
    this.conv = this.addModule('conv', new WeightNormConv1d(embedDim, kernelSize, groups));
  }
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => {
      let y = this.conv.forward(x, ctx);
      if (this.kernelSize % 2 === 0) y = tf.slice(y, [0, 0, 0], [-1, y.shape[1]! - 1, -1]);
      return activate(y, 'gelu');
    });
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

/** The feed-forward block: intermediate dense, GELU, dropout, output dense, dropout. */
export class Wav2Vec2FeedForward extends Module {
  readonly intermediateDense: Linear;
  readonly outputDense: Linear;
  readonly hardConcreteForIntermediate?: HardConcrete;
  readonly hardConcreteForLayer?: HardConcrete;
  constructor(readonly ioFeatures: number, readonly intermediateFeatures: number, readonly intermDropout: number, readonly outDropout: number,
    gates: { units?: boolean; layer?: boolean } = {}) {
    super();
    this.intermediateDense = this.addModule('intermediateDense', new Linear({ inFeatures: ioFeatures, outFeatures: intermediateFeatures }));
    this.outputDense = this.addModule('outputDense', new Linear({ inFeatures: intermediateFeatures, outFeatures: ioFeatures }));
    if (gates.units) {
      this.hardConcreteForIntermediate = this.addModule('hardConcreteForIntermediate', new HardConcrete({ n: intermediateFeatures, initMean: 0.5 }));
    }
    if (gates.layer) this.hardConcreteForLayer = this.addModule('hardConcreteForLayer', new HardConcrete({ n: 1, initMean: 0.01 }));
  }
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => {
      let h = dropout(activate(this.intermediateDense.forward(x, ctx), 'gelu'), this.intermDropout, ctx);
      if (this.hardConcreteForIntermediate) h = tf.mul(h, this.hardConcreteForIntermediate.mask(ctx));
      const y = dropout(this.outputDense.forward(h, ctx), this.outDropout, ctx);
      return this.hardConcreteForLayer ? tf.mul(y, this.hardConcreteForLayer.mask(ctx)) : y;
    });
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

/**
 * Self-attention as torchaudio's SelfAttention (and DPHuBERT's): separate q, k, v projections to
 * numHeads x headDim (0 heads leaves the output projection's bias), softmax(q k^T / sqrt(d)) v per head,
 * the output projection; with gates, a mask per head before the projection and one for the whole block
 * after it.
 */
export class Wav2Vec2Attention extends Module {
  readonly qProj: Linear;
  readonly kProj: Linear;
  readonly vProj: Linear;
  readonly outProj: Linear;
  readonly hardConcreteForHeads?: HardConcrete;
  readonly hardConcreteForLayer?: HardConcrete;
  constructor(readonly embedDim: number, readonly numHeads: number, readonly headDim: number, readonly dropoutP: number,
    gates: { heads?: boolean; layer?: boolean } = {}) {
    super();
    const inner = numHeads * headDim;
    this.kProj = this.addModule('kProj', new Linear({ inFeatures: embedDim, outFeatures: inner }));
    this.vProj = this.addModule('vProj', new Linear({ inFeatures: embedDim, outFeatures: inner }));
    this.qProj = this.addModule('qProj', new Linear({ inFeatures: embedDim, outFeatures: inner }));
    this.outProj = this.addModule('outProj', new Linear({ inFeatures: inner, outFeatures: embedDim }));
    if (gates.heads && numHeads > 0) this.hardConcreteForHeads = this.addModule('hardConcreteForHeads', new HardConcrete({ n: numHeads, initMean: 0.01 }));
    if (gates.layer) this.hardConcreteForLayer = this.addModule('hardConcreteForLayer', new HardConcrete({ n: 1, initMean: 0.01 }));
  }
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => {
      const [B, T] = x.shape as [number, number, number];
      const H = this.numHeads, d = this.headDim;
      let merged: tf.Tensor;
      if (H === 0) {
        // No head left: the block outputs its projection's bias.
        const y = tf.add(tf.zeros([B, T, this.embedDim]), this.outProj.bias ?? 0);
        return this.hardConcreteForLayer ? tf.mul(y, this.hardConcreteForLayer.mask(ctx)) : y;
      } else {
        const keyPaddingMask = (ctx as EncoderCtx).keyPaddingMask;
        merged = scaledDotProductAttention(this.qProj.forward(x, ctx), this.kProj.forward(x, ctx), this.vProj.forward(x, ctx), H, d,
          this.dropoutP, ctx, keyPaddingMask ? { keyPaddingMask } : {}).merged;
        if (this.hardConcreteForHeads) {
          const m = this.hardConcreteForHeads.mask(ctx);
          merged = tf.mul(merged, tf.reshape(tf.tile(tf.reshape(m, [H, 1]), [1, d]), [H * d]));
        }
      }
      const y = this.outProj.forward(merged, ctx);
      return this.hardConcreteForLayer ? tf.mul(y, this.hardConcreteForLayer.mask(ctx)) : y;
    });
  }
  override macs(inShape: number[]): number {
    const [B, T] = inShape;
    return 2 * B * this.numHeads * T * T * this.headDim;
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

/**
 * One transformer layer as torchaudio's (and DPHuBERT's, whose pruned layers may lack attention or the
 * feed-forward block): post-norm x = LN(x + drop(attn(x))); x = finalLN(x + ff(x)), or pre-norm
 * x = x + drop(attn(LN(x))); x = x + ff(finalLN(x)). A missing block is skipped; post-norm keeps both norms.
 */
export class Wav2Vec2EncoderLayer extends Module {
  readonly attention?: Wav2Vec2Attention;
  readonly layerNorm: LayerNorm;
  readonly feedForward?: Wav2Vec2FeedForward;
  readonly finalLayerNorm: LayerNorm;
  readonly adapter?: Adapter;
  constructor(readonly embedDim: number, heads: number, headDim: number, ffUnits: number, useAttention: boolean, useFeedForward: boolean,
    readonly dropoutP: number, attentionDropout: number, ffDropout: number, readonly layerNormFirst: boolean,
    prune: Partial<Wav2Vec2PruneArgs> = {}, adapter: AdapterOptions | null = null) {
    super();
    if (useAttention) {
      this.attention = this.addModule('attention', new Wav2Vec2Attention(embedDim, heads, headDim, attentionDropout,
        { heads: prune.attentionHeads, layer: prune.attentionLayers }));
    }
    this.layerNorm = this.addModule('layerNorm', new LayerNorm({ normalizedShape: embedDim }));
    if (useFeedForward) {
      this.feedForward = this.addModule('feedForward', new Wav2Vec2FeedForward(embedDim, ffUnits, ffDropout, dropoutP,
        { units: prune.ffnUnits, layer: prune.ffnLayers }));
    }
    this.finalLayerNorm = this.addModule('finalLayerNorm', new LayerNorm({ normalizedShape: embedDim }));
    if (adapter) this.adapter = this.addModule('adapter', new Adapter({ features: embedDim, ...adapter }));
  }
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => {
      let h = x;
      if (this.attention) {
        const a = this.attention.forward(this.layerNormFirst ? this.layerNorm.forward(h, ctx) : h, ctx);
        h = tf.add(h, dropout(a, this.dropoutP, ctx));
      }
      if (!this.layerNormFirst) h = this.layerNorm.forward(h, ctx);
      // The feed-forward block and, in parallel, the adapter read the same residual stream h.
      let out = h;
      if (this.feedForward) out = tf.add(out, this.feedForward.forward(this.layerNormFirst ? this.finalLayerNorm.forward(h, ctx) : h, ctx));
      const branch = this.adapter?.branch(h, ctx);
      if (branch) out = tf.add(out, branch);
      return this.layerNormFirst ? out : this.finalLayerNorm.forward(out, ctx);
    });
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

/** The transformer: positional convolution, layer norm (post-norm models: before the layers; pre-norm: after), layers. */
export class Wav2Vec2Transformer extends Module {
  readonly posConvEmbed: Wav2Vec2PosConv;
  readonly layerNorm: LayerNorm;
  readonly layers: ModuleList;
  constructor(readonly a: ReturnType<typeof wav2vec2Defaults>) {
    super();
    const D = a.encoderEmbedDim;
    this.posConvEmbed = this.addModule('posConvEmbed', new Wav2Vec2PosConv(D, a.encoderPosConvKernel, a.encoderPosConvGroups));
    this.layerNorm = this.addModule('layerNorm', new LayerNorm({ normalizedShape: D }));
    this.layers = this.addModule('layers', new ModuleList(a.encoderNumHeads.map((h, i) => new Wav2Vec2EncoderLayer(D, h, a.encoderHeadDim,
      a.encoderFfIntermFeatures[i], a.encoderUseAttention[i], a.encoderUseFeedForward[i] && a.encoderFfIntermFeatures[i] > 0,
      a.encoderDropout, a.encoderAttentionDropout, a.encoderFfIntermDropout, a.encoderLayerNormFirst, a.prune, a.adapters))));
  }
  /** x + posConv(x), layer-normed first for post-norm models, dropout. */
  preprocess(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => {
      let y = tf.add(x, this.posConvEmbed.forward(x, ctx));
      if (!this.a.encoderLayerNormFirst) y = this.layerNorm.forward(y, ctx);
      return dropout(y, this.a.encoderDropout, ctx);
    });
  }
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => {
      let y = this.preprocess(x, ctx);
      for (const layer of this.layers.items) {
        if (ctx.training && this.a.encoderLayerDrop > 0 && (ctx.rng ? ctx.rng.uniform() : Math.random()) <= this.a.encoderLayerDrop) continue;
        y = layer.forward(y, ctx);
      }
      return this.a.encoderLayerNormFirst ? this.layerNorm.forward(y, ctx) : y;
    });
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

/** The encoder: feature projection and transformer. */
export class Wav2Vec2Encoder extends Module {
  readonly featureProjection: Wav2Vec2FeatureProjection;
  readonly transformer: Wav2Vec2Transformer;
  constructor(a: ReturnType<typeof wav2vec2Defaults>) {
    super();
    const c = a.extractorConvLayerConfig;
    this.featureProjection = this.addModule('featureProjection', new Wav2Vec2FeatureProjection(c[c.length - 1][0], a.encoderEmbedDim,
      a.encoderProjectionDropout));
    this.transformer = this.addModule('transformer', new Wav2Vec2Transformer(a));
  }
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => this.transformer.forward(this.featureProjection.forward(x, ctx), ctx));
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

/** Options of {@link Wav2Vec2Model.hiddenStates}. */
export interface HiddenStatesOptions {
  /** Stop after this many transformer layers (torchaudio's num_layers). Default: all. */
  numLayers?: number;
  /**
   * Frames to mask [batch, frames] (bool or 0/1), replaced after the feature projection by `maskEmbedding`
   * [D] before the transformer (HuBERT's and wav2vec 2.0's pre-training). The projection's own output (index 0)
   * is returned unmasked. Default: none.
   */
  mask?: tf.Tensor;
  maskEmbedding?: tf.Tensor;
  /**
   * Valid samples of each waveform (torchaudio's `lengths`): frames past each one's valid length are zeroed
   * after the feature projection and ignored as attention keys. Default: every sample valid.
   */
  lengths?: number[];
}

/**
 * wav2vec 2.0 / HuBERT (Baevski et al. 2020, Hsu et al. 2021) as torchaudio's `wav2vec2_model` builds it:
 * convolutional feature extractor, feature projection, convolutional positional embedding and a transformer
 * encoder; with DPHuBERT's per-layer sizes for pruned models. Module paths mirror torchaudio's names in
 * camelCase (`encoder.transformer.layers.3.attention.qProj`), so that its taps and weights are found
 * where a torchaudio user expects them.
 *
 * - `hiddenStates(waveforms)`: the feature projection's output followed by every transformer layer's
 *   output, each [batch, frames, D] (DPHuBERT's `extract_features`: index 0 is the projection, index i the
 *   output of layer i; torchaudio's `extract_features` gives indices 1..L).
 * - `forward(waveforms)`: those hidden states stacked, [batch, L + 1, frames, D].
 * - `encode(waveforms)`: torchaudio's `Wav2Vec2Model.forward` output (with the final layer norm of
 *   pre-norm models; layer drop in training).
 * - {@link Wav2Vec2Model.fromStateDict}: torchaudio's and Hugging Face transformers' checkpoints, e.g. from
 *   {@link loadSafetensors}.
 * Inputs are whole waveforms of equal length (no padding masks).
 */
export class Wav2Vec2Model extends Module {
  readonly args: ReturnType<typeof wav2vec2Defaults>;
  readonly featureExtractor: Wav2Vec2FeatureExtractor;
  readonly encoder: Wav2Vec2Encoder;

  constructor(args: Wav2Vec2ModelArgs = {}) {
    super();
    this.args = wav2vec2Defaults(args);
    const a = this.args;
    this.featureExtractor = this.addModule('featureExtractor', new Wav2Vec2FeatureExtractor(a.extractorConvLayerConfig, a.extractorMode,
      a.extractorConvBias, a.prune.convChannels, a.extractorDummyWeight));
    this.encoder = this.addModule('encoder', new Wav2Vec2Encoder(a));
  }

  /** The model of a named preset (torchaudio's factory functions), with overrides. */
  static preset(name: keyof typeof WAV2VEC2_PRESETS, overrides: Wav2Vec2ModelArgs = {}): Wav2Vec2Model {
    const p = WAV2VEC2_PRESETS[name];
    if (!p) throw new Error(`Wav2Vec2Model.preset: unknown preset '${name}'; known: ${Object.keys(WAV2VEC2_PRESETS).join(', ')}`);
    return new Wav2Vec2Model({ ...p, ...overrides });
  }

  /** Frames made of `samples` samples (20 ms each at 16 kHz with the default extractor). */
  outputFrames(samples: number): number {
    return this.featureExtractor.outputFrames(samples);
  }

  private input(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 2) throw new Error(`Wav2Vec2Model: waveforms must be [batch, samples], got [${x.shape}]`);
    if (this.outputFrames(x.shape[1]!) < 1) {
      throw new Error(`Wav2Vec2Model: ${x.shape[1]} samples are too short for the feature extractor (no frame)`);
    }
    if (!this.args.normalizeWaveform) return x;
    const { mean, variance } = tf.moments(x, 1, true);
    return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5)));
  }

  /** The convolutional features [batch, frames, C] of waveforms [batch, samples]. */
  extractFeatures(waveforms: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => this.featureExtractor.forward(this.input(waveforms), ctx));
  }

  /** The projection's output and each transformer layer's output (see the class comment); the caller disposes them. */
  hiddenStates(waveforms: tf.Tensor, ctx: Ctx, opts: HiddenStatesOptions = {}): tf.Tensor[] {
    const L = this.args.encoderNumLayers;
    const n = opts.numLayers ?? L;
    if (!(Number.isInteger(n) && n >= 0 && n <= L)) throw new Error(`Wav2Vec2Model.hiddenStates: numLayers must be in [0, ${L}], got ${n}`);
    const out: tf.Tensor[] = [];
    tf.tidy(() => {
      const { projected, layerCtx } = this.project(waveforms, ctx, opts.lengths);
      out.push(tf.keep(projected));
      let input = projected;
      if (opts.mask) {
        if (!opts.maskEmbedding) throw new Error('Wav2Vec2Model.hiddenStates: a mask needs a maskEmbedding');
        const [B, T] = projected.shape;
        if (opts.mask.shape[0] !== B || opts.mask.shape[1] !== T) {
          throw new Error(`Wav2Vec2Model.hiddenStates: mask is [${opts.mask.shape}], the frames are [${B}, ${T}]`);
        }
        const m = tf.expandDims(tf.cast(opts.mask, 'float32'), 2);
        input = tf.add(tf.mul(projected, tf.sub(1, m)), tf.mul(m, opts.maskEmbedding));
      }
      let y = this.encoder.transformer.preprocess(input, ctx);
      for (const layer of this.encoder.transformer.layers.items.slice(0, n)) {
        y = layer.forward(y, layerCtx);
        out.push(tf.keep(y));
      }
    });
    return out;
  }

  /** The hidden states stacked: [batch, L + 1, frames, D]. */
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    const hidden = this.hiddenStates(x, ctx);
    const stacked = tf.stack(hidden, 1);
    tf.dispose(hidden);
    return stacked;
  }

  /**
   * The feature projection's output, with the frames past each waveform's valid length zeroed, and the context
   * whose key padding mask the attention layers read (torchaudio's Encoder._preprocess).
   */
  private project(waveforms: tf.Tensor, ctx: Ctx, lengths?: number[]): { projected: tf.Tensor; layerCtx: EncoderCtx } {
    let projected = this.encoder.featureProjection.forward(this.extractFeatures(waveforms, ctx), ctx);
    if (!lengths) return { projected, layerCtx: ctx };
    const [B, T] = projected.shape;
    if (lengths.length !== B) throw new Error(`Wav2Vec2Model: ${lengths.length} lengths for a batch of ${B}`);
    const valid = lengths.map((n) => this.outputFrames(n));
    const pad = tf.tensor2d(valid.flatMap((v) => Array.from({ length: T }, (_, t) => (t >= v ? 1 : 0))), [B, T]);
    projected = tf.mul(projected, tf.expandDims(tf.sub(1, pad), 2));
    return { projected, layerCtx: { ...ctx, keyPaddingMask: pad } };
  }

  /** Frames of each waveform's valid samples (torchaudio's output lengths). */
  outputLengths(lengths: number[]): number[] {
    return lengths.map((n) => this.outputFrames(n));
  }

  /** torchaudio's Wav2Vec2Model.forward: the encoder's output [batch, frames, D] (with `lengths`: padding masked). */
  encode(waveforms: tf.Tensor, ctx: Ctx, opts: { lengths?: number[] } = {}): tf.Tensor {
    return tf.tidy(() => {
      const { projected, layerCtx } = this.project(waveforms, ctx, opts.lengths);
      return this.encoder.transformer.forward(projected, layerCtx);
    });
  }

  /**
   * Loads a checkpoint's state dict: torchaudio's key names (`encoder.transformer.layers.0.attention.q_proj.weight`,
   * a `wav2vec2.` prefix as in its pre-training models allowed) or Hugging Face transformers' (HubertModel,
   * Wav2Vec2Model, with or without the `hubert.` / `wav2vec2.` prefix of a task model; weight norm as
   * weight_g/weight_v or parametrizations.weight.original0/1). Weights are transposed to this library's
   * layouts. Keys that are not part of the encoder (masked_spec_embed, mask embeddings, quantizer, heads)
   * are skipped; with `strict` (default), every parameter of this model must be given and an unknown
   * encoder key is an error naming it.
   */
  loadReferenceStateDict(dict: Map<string, tf.Tensor> | Record<string, tf.Tensor>, strict = true): void {
    const given = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const own = this.stateDict();
    const mapped = new Map<string, tf.Tensor>();
    try {
      const unknown: string[] = [];
      for (const [key, value] of given) {
        const m = mapWav2Vec2Key(key);
        if (m === 'skip') continue;
        if (!m || !own.has(m.name)) {
          unknown.push(key);
          continue;
        }
        mapped.set(m.name, m.convert(value));
      }
      const missing = [...own.keys()].filter((k) => !mapped.has(k));
      if (strict && (unknown.length || missing.length)) {
        throw new Error(`Wav2Vec2Model.loadReferenceStateDict: ${unknown.length ? `unexpected ${unknown.slice(0, 8).join(', ')}` +
          `${unknown.length > 8 ? ` and ${unknown.length - 8} more` : ''}` : ''}${unknown.length && missing.length ? '; ' : ''}` +
          `${missing.length ? `missing ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ` and ${missing.length - 8} more` : ''}` : ''}` +
          ' (do the arguments match the checkpoint?)');
      }
      this.loadStateDict(mapped, false);
    } finally {
      tf.dispose([...mapped.values()]);
    }
  }

  /** A model built with `args` and loaded from a torchaudio or Hugging Face state dict (see loadReferenceStateDict). */
  static fromStateDict(dict: Map<string, tf.Tensor> | Record<string, tf.Tensor>, args: Wav2Vec2ModelArgs = {},
    opts: { strict?: boolean } = {}): Wav2Vec2Model {
    const m = new Wav2Vec2Model(args);
    try {
      m.loadReferenceStateDict(dict, opts.strict ?? true);
    } catch (e) {
      m.dispose();
      throw e;
    }
    return m;
  }

  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('Wav2Vec2Model', Wav2Vec2Model);
