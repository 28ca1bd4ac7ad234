import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, recordTap, registerModule } from '../nn/module';
import { xavierUniform } from '../nn/init';
import {
  encoderLayerDefaults, encoderLayerForward, MultiHeadAttentionArgs, multiHeadAttentionDefaults, scaledDotProductAttention,
  TransformerEncoderLayerArgs,
} from '../nn/attention';
import { slimChannels, widthOf } from './channels';
import { buildQuietly, extractChildrenInto, Slimmable } from './extract';
import { SlimLinear } from './slim_linear';
import { SlimLayerNorm } from './slim_layer_norm';

/** Arguments of {@link SlimMultiHeadAttention}: those of nn.MultiHeadAttention (full sizes) plus what is slimmed. */
export interface SlimMultiHeadAttentionArgs extends MultiHeadAttentionArgs {
  /** Attention heads at full width (>= 1). */
  numHeads: number;
  /** Width d of one head, fixed at every width. Default embedDim / numHeads. */
  headDim?: number;
  /** Slim the model width E with the width (false: only heads are slimmed). Default true. */
  slimEmbed?: boolean;
}

/**
 * Slimmable multi-head self-attention (as nn.MultiHeadAttention, batch first). What is slimmed at width
 * w = ctx.width (default 1):
 * - heads: the first Ha = slimChannels(numHeads, w) heads, each of the FIXED width headDim d (so the
 *   scale 1/sqrt(d) and each head's meaning are the same at every width; the query/key/value projections
 *   keep their first Ha*d output features, the output projection its first Ha*d input features);
 * - the model width: the first Ea = slimChannels(embedDim, w) features in and out (unless slimEmbed is
 *   false).
 * x [batch, T, Ea] -> [batch, T, Ea]: concat_h softmax(Q_h K_h^T / sqrt(d)) V_h, projected. Projections
 * qProj, kProj, vProj [E, H*d] and outProj [H*d, E] are SlimLinear children, initialised as PyTorch's
 * packed in-projection (xavier uniform, zero biases). At width 1 it computes nn.MultiHeadAttention.
 * With `ctx.taps`, the head-averaged probabilities [batch, T, T] are recorded under '<path>.attention'.
 */
export class SlimMultiHeadAttention extends Module implements Slimmable {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly dropoutP: number;
  readonly slimEmbed: boolean;
  readonly qProj: SlimLinear;
  readonly kProj: SlimLinear;
  readonly vProj: SlimLinear;
  readonly outProj: SlimLinear;

  constructor(args: SlimMultiHeadAttentionArgs) {
    super();
    if (!(args.numHeads >= 1)) throw new Error(`SlimMultiHeadAttention: numHeads must be >= 1, got ${args.numHeads}`);
    const a = multiHeadAttentionDefaults(args);
    this.embedDim = a.embedDim;
    this.numHeads = a.numHeads;
    this.headDim = a.headDim;
    if (!Number.isInteger(this.headDim)) {
      throw new Error(`SlimMultiHeadAttention: embedDim ${args.embedDim} is not divisible by numHeads ${args.numHeads}; give headDim`);
    }
    this.dropoutP = a.dropout;
    this.slimEmbed = args.slimEmbed ?? true;
    const bias = a.bias;
    const E = this.embedDim, inner = this.numHeads * this.headDim, d = this.headDim, s = this.slimEmbed;
    const proj = () => new SlimLinear({ inFeatures: E, outFeatures: inner, bias, slimIn: s, outGroup: d });
    this.qProj = this.addModule('qProj', proj());
    this.kProj = this.addModule('kProj', proj());
    this.vProj = this.addModule('vProj', proj());
    this.outProj = this.addModule('outProj', new SlimLinear({ inFeatures: inner, outFeatures: E, bias, slimOut: s, inGroup: d }));
    tf.tidy(() => {
      for (const p of [this.qProj, this.kProj, this.vProj]) {
        p.weight.assign(tf.tensor(xavierUniform(E * inner, E, 3 * inner), [E, inner]));
        p.bias?.assign(tf.zerosLike(p.bias));
      }
      this.outProj.bias?.assign(tf.zerosLike(this.outProj.bias));
    });
  }

  /** Active heads at `width`. */
  activeHeads(width: number): number {
    return slimChannels(this.numHeads, width);
  }

  /** Active model width at `width`. */
  activeEmbed(width: number): number {
    return this.slimEmbed ? slimChannels(this.embedDim, width) : this.embedDim;
  }

  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    const name = `SlimMultiHeadAttention${this.path ? ` '${this.path}'` : ''}`;
    const w = widthOf(ctx, name);
    const E = this.activeEmbed(w), H = this.activeHeads(w), d = this.headDim;
    if (x.rank !== 3 || x.shape[2] !== E) {
      throw new Error(`${name}: at width ${w} expected [batch, time, ${E}], got [${x.shape}]`);
    }
    const tapped = !!this.path && !!ctx.taps && (!ctx.tapFilter || ctx.tapFilter(`${this.path}.attention`));
    const out = tf.tidy(() => {
      const { merged, weights } = scaledDotProductAttention(this.qProj.forward(x, ctx), this.kProj.forward(x, ctx),
        this.vProj.forward(x, ctx), H, d, this.dropoutP, ctx, {}, tapped);
      return { output: this.outProj.forward(merged, ctx), weights };
    });
    if (out.weights) {
      recordTap(ctx, `${this.path}.attention`, out.weights);
      out.weights.dispose();
    }
    return out.output;
  }

  override macs(inShape: number[], _outShape: number[], ctx: Ctx): number {
    const [B, T] = inShape;
    return 2 * B * this.activeHeads(ctx.width ?? 1) * T * T * this.headDim;
  }

  /** The layer at `width`: Ea model width, Ha heads of the same headDim, with copies of the active weights. */
  extract(width: number): SlimMultiHeadAttention {
    const m = buildQuietly(() => new SlimMultiHeadAttention({ ...this.getConfig(), embedDim: this.activeEmbed(width),
      numHeads: this.activeHeads(width) } as SlimMultiHeadAttentionArgs));
    extractChildrenInto(this, m, width);
    return m;
  }

  getConfig(): Record<string, unknown> {
    return { embedDim: this.embedDim, numHeads: this.numHeads, headDim: this.headDim, dropout: this.dropoutP,
      bias: this.qProj.bias !== undefined, slimEmbed: this.slimEmbed };
  }
}
registerModule('SlimMultiHeadAttention', SlimMultiHeadAttention);

/**
 * Arguments of {@link SlimTransformerEncoderLayer}: those of nn.TransformerEncoderLayer at full width (the
 * head width stays fixed at every width), plus what is slimmed.
 */
export interface SlimTransformerEncoderLayerArgs extends TransformerEncoderLayerArgs {
  /** Slim the model width with the width (false: heads and feed-forward units only). Default true. */
  slimEmbed?: boolean;
}

/**
 * Slimmable Transformer encoder layer (as nn.TransformerEncoderLayer, batch first). At width w = ctx.width
 * (default 1) it runs with the first slimChannels(nHead, w) heads of fixed headDim, the first
 * slimChannels(dimFeedforward, w) feed-forward units and the first slimChannels(dModel, w) model features
 * (unless slimEmbed is false), layer norms normalising over the active features with the active affine
 * slice ({@link SlimLayerNorm}). [batch, T, Ea] -> [batch, T, Ea]. At width 1 it computes
 * nn.TransformerEncoderLayer; its extracted subnet is a SlimTransformerEncoderLayer of the active sizes.
 */
export class SlimTransformerEncoderLayer extends Module implements Slimmable {
  readonly args: Required<SlimTransformerEncoderLayerArgs>;
  readonly selfAttn: SlimMultiHeadAttention;
  readonly linear1: SlimLinear;
  readonly linear2: SlimLinear;
  readonly norm1: SlimLayerNorm;
  readonly norm2: SlimLayerNorm;

  constructor(args: SlimTransformerEncoderLayerArgs) {
    super();
    this.args = { ...encoderLayerDefaults(args), slimEmbed: args.slimEmbed ?? true };
    const a = this.args, s = a.slimEmbed;
    this.selfAttn = this.addModule('selfAttn', new SlimMultiHeadAttention({ embedDim: a.dModel, numHeads: a.nHead,
      headDim: a.headDim, dropout: a.dropout, slimEmbed: s }));
    this.linear1 = this.addModule('linear1', new SlimLinear({ inFeatures: a.dModel, outFeatures: a.dimFeedforward, slimIn: s }));
    this.linear2 = this.addModule('linear2', new SlimLinear({ inFeatures: a.dimFeedforward, outFeatures: a.dModel, slimOut: s }));
    this.norm1 = this.addModule('norm1', new SlimLayerNorm({ normalizedShape: a.dModel, eps: a.layerNormEps, slim: s }));
    this.norm2 = this.addModule('norm2', new SlimLayerNorm({ normalizedShape: a.dModel, eps: a.layerNormEps, slim: s }));
  }

  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return encoderLayerForward(this, this.args, x, ctx);
  }

  /** The layer at `width` with the active model width, heads and feed-forward units as its full sizes. */
  extract(width: number): SlimTransformerEncoderLayer {
    const a = this.args;
    const m = buildQuietly(() => new SlimTransformerEncoderLayer({ ...a,
      dModel: this.selfAttn.activeEmbed(width), nHead: this.selfAttn.activeHeads(width),
      dimFeedforward: this.linear1.activeOut(width) }));
    extractChildrenInto(this, m, width);
    return m;
  }

  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('SlimTransformerEncoderLayer', SlimTransformerEncoderLayer);
