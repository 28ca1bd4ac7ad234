import * as tf from '@tensorflow/tfjs';
import type { PresetName } from '../experiments/presets';
import { Ctx, Module, parameterRng, registerModule } from '../nn/module';
import { ActivationName } from '../nn/activations';
import { ModuleList } from '../nn/sequential';
import { DEFAULT_WIDTHS, normalizeWidths, widthOf } from '../slim/channels';
import { assignFrom, buildQuietly, extractChildrenInto, Slimmable } from '../slim/extract';
import { SlimLinear } from '../slim/slim_linear';
import { SlimLayerNorm } from '../slim/slim_layer_norm';
import { SlimTransformerEncoderLayer } from '../slim/slim_attention';

/** How {@link SlimKwt} pools the token sequence into one vector: a learned class token, or the token mean. */
export type KwtPooling = 'cls' | 'mean';

/** Arguments of {@link SlimKwt}: everything that fixes its shapes. */
export interface SlimKwtArgs {
  /** Input frames (time axis of the log-mel input). Default 98. */
  frames?: number;
  /** Mel bands. Default 40. */
  mels?: number;
  /** Output classes. Default 12. */
  numClasses?: number;
  /** Frames per patch: the input is cut into frames / patchFrames time patches of patchFrames x mels. Default 1 (KWT). */
  patchFrames?: number;
  /** Model width at full width. Default 64. */
  dModel?: number;
  /** Attention heads at full width. Default 4. */
  numHeads?: number;
  /** Width of one head, fixed at every width. Default dModel / numHeads. */
  headDim?: number;
  /** Feed-forward units at full width. Default 128. */
  dimFeedforward?: number;
  /** Encoder layers. Default 2. */
  numLayers?: number;
  /** Dropout in the encoder layers, in training. Default 0. */
  dropout?: number;
  /** Encoder activation. Default 'gelu' (KWT). */
  activation?: ActivationName;
  /** Class token or mean pooling. Default 'cls'. */
  pooling?: KwtPooling;
  /** The widths the supernet is trained and reported at (no parameter depends on them). Default [0.25, 0.5, 0.75, 1]. */
  widths?: number[];
}

/**
 * Slimmable KWT-style keyword transformer (Berg et al., "Keyword Transformer: A Self-Attention Model
 * for Keyword Spotting", Interspeech 2021; slimmable as in Akhtar et al., arXiv 2304.12183):
 *
 *   log-mel [batch, frames, mels] -> patches [batch, P, patchFrames * mels]   (P = frames / patchFrames)
 *   -> patch embedding (linear -> dModel) -> [class token;] + positional embedding
 *   -> numLayers pre-norm encoder layers (gelu) -> layer norm -> class token or mean -> linear -> logits
 *
 * What is slimmed at width w = ctx.width (default 1): the model width (first slimChannels(dModel, w)
 * features of the patch embedding, class token, positional embedding, every layer and the head's input),
 * the heads (first slimChannels(numHeads, w), each of fixed headDim) and the feed-forward units (first
 * slimChannels(dimFeedforward, w)); depth, patches and classes stay. Layer norms normalise over the
 * active features. Children: `patchEmbed`, `layers`, `norm`, `head`; own parameters `clsToken` [dModel]
 * (with 'cls' pooling) and `posEmbed` [tokens, dModel], initialised N(0, 0.02).
 */
export class SlimKwt extends Module implements Slimmable {
  readonly args: Required<SlimKwtArgs>;
  readonly patchEmbed: SlimLinear;
  readonly layers: ModuleList;
  readonly norm: SlimLayerNorm;
  readonly head: SlimLinear;
  readonly clsToken?: tf.Variable;
  readonly posEmbed: tf.Variable;

  constructor(args: SlimKwtArgs = {}) {
    super();
    const dModel = args.dModel ?? 64, numHeads = args.numHeads ?? 4;
    const a: Required<SlimKwtArgs> = {
      frames: args.frames ?? 98, mels: args.mels ?? 40, numClasses: args.numClasses ?? 12,
      patchFrames: args.patchFrames ?? 1, dModel, numHeads, headDim: args.headDim ?? dModel / numHeads,
      dimFeedforward: args.dimFeedforward ?? 128, numLayers: args.numLayers ?? 2, dropout: args.dropout ?? 0,
      activation: args.activation ?? 'gelu', pooling: args.pooling ?? 'cls',
      widths: normalizeWidths(args.widths ?? [...DEFAULT_WIDTHS], 'SlimKwt'),
    };
    if (a.frames % a.patchFrames) throw new Error(`SlimKwt: patchFrames ${a.patchFrames} must divide frames ${a.frames}`);
    if (a.pooling !== 'cls' && a.pooling !== 'mean') throw new Error(`SlimKwt: pooling must be 'cls' or 'mean', got '${a.pooling as string}'`);
    this.args = a;
    const tokens = a.frames / a.patchFrames + (a.pooling === 'cls' ? 1 : 0);
    this.patchEmbed = this.addModule('patchEmbed', new SlimLinear({ inFeatures: a.patchFrames * a.mels, outFeatures: a.dModel,
      slimIn: false }));
    this.layers = this.addModule('layers', new ModuleList(Array.from({ length: a.numLayers }, () => new SlimTransformerEncoderLayer({
      dModel: a.dModel, nHead: a.numHeads, headDim: a.headDim, dimFeedforward: a.dimFeedforward, dropout: a.dropout,
      activation: a.activation, normFirst: true }))));
    this.norm = this.addModule('norm', new SlimLayerNorm({ normalizedShape: a.dModel }));
    this.head = this.addModule('head', new SlimLinear({ inFeatures: a.dModel, outFeatures: a.numClasses, slimOut: false }));
    const normal = (n: number) => Float32Array.from({ length: n }, () => parameterRng().normal(0, 0.02));
    if (a.pooling === 'cls') this.clsToken = this.addParameter('clsToken', normal(a.dModel), [a.dModel]);
    this.posEmbed = this.addParameter('posEmbed', normal(tokens * a.dModel), [tokens, a.dModel]);
  }

  /** log-mel x [batch, frames, mels] -> logits [batch, numClasses] at ctx.width. */
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    const w = widthOf(ctx, 'SlimKwt');
    const { frames, mels, patchFrames } = this.args;
    if (x.rank !== 3 || x.shape[1] !== frames || x.shape[2] !== mels) {
      throw new Error(`SlimKwt: expected log-mel [batch, ${frames}, ${mels}], got [${x.shape}]`);
    }
    const B = x.shape[0];
    const E = this.patchEmbed.activeOut(w);
    return tf.tidy(() => {
      let h = this.patchEmbed.forward(tf.reshape(x, [B, frames / patchFrames, patchFrames * mels]), ctx); // [B, P, E]
      if (this.clsToken) {
        const cls = tf.tile(tf.reshape(tf.slice(this.clsToken, [0], [E]), [1, 1, E]), [B, 1, 1]);
        h = tf.concat([cls, h], 1);                                                                   // [B, P+1, E]
      }
      h = tf.add(h, tf.slice(this.posEmbed, [0, 0], [-1, E]));
      for (const layer of this.layers.items) h = layer.forward(h, ctx);
      h = this.norm.forward(h, ctx);
      const pooled = this.clsToken ? tf.squeeze(tf.slice(h, [0, 0, 0], [-1, 1, -1]), [1]) : tf.mean(h, 1); // [B, E]
      return this.head.forward(pooled, ctx);
    });
  }

  /** The subnet at `width`: a SlimKwt with the active model width, heads and feed-forward units. */
  extract(width: number): SlimKwt {
    const a = this.args;
    const E = this.patchEmbed.activeOut(width);
    const first = this.layers.items[0] as SlimTransformerEncoderLayer | undefined;
    const m = buildQuietly(() => new SlimKwt({ ...a, dModel: E, headDim: a.headDim, widths: [1],
      numHeads: first ? first.selfAttn.activeHeads(width) : a.numHeads,
      dimFeedforward: first ? first.linear1.activeOut(width) : a.dimFeedforward }));
    extractChildrenInto(this, m, width);
    if (this.clsToken) assignFrom(m.clsToken!, () => tf.slice(this.clsToken!, [0], [E]));
    assignFrom(m.posEmbed, () => tf.slice(this.posEmbed, [0, 0], [-1, E]));
    return m;
  }

  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('SlimKwt', SlimKwt);


/**
 * Sizes of the presets (12 classes, 98 x 40 log-mels, one-frame patches, class token):
 * - 'quick': a toy for tests (dModel 16, 2 heads, 1 layer);
 * - 'default': dModel 64, 4 heads of 16, feed-forward 128, 2 layers: about 80k parameters at full width;
 * - 'paper': dModel 64, 4 heads of 16, feed-forward 256, 4 layers (a KWT-1 cut to 4 layers and 4 heads):
 *   about 210k parameters at full width, under the 250k of Akhtar et al. (arXiv 2304.12183).
 */
export const KWT_PRESETS: Readonly<Record<PresetName, SlimKwtArgs>> = Object.freeze({
  quick: { dModel: 16, numHeads: 2, dimFeedforward: 32, numLayers: 1 },
  default: { dModel: 64, numHeads: 4, dimFeedforward: 128, numLayers: 2 },
  paper: { dModel: 64, numHeads: 4, dimFeedforward: 256, numLayers: 4 },
});

/** Builds a {@link SlimKwt} from a preset (default 'default') with any argument overridden. */
export function slimKwt(options: SlimKwtArgs & { preset?: PresetName } = {}): SlimKwt {
  const { preset = 'default', ...rest } = options;
  const base = KWT_PRESETS[preset];
  if (!base) throw new Error(`slimKwt: unknown preset '${preset}' (quick, default, paper)`);
  return new SlimKwt({ ...base, ...rest });
}
