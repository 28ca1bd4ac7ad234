import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, recordTap, registerModule } from './module';
import { Linear } from './linear';
import { LayerNorm } from './norm';
import { dropout } from './dropout';
import { activate, ActivationName } from './activations';
import { xavierUniform } from './init';
import { FUSED, hasKernel } from '../backend/fused_names';

/**
 * The attention core shared by the plain and the slimmable layers: projected queries [B, T, H*d] and keys
 * and values [B, S, H*d] split into H heads of d, softmax(Q K^T / sqrt(d) + masks) (dropout in training)
 * times V, heads merged back to [B, T, H*d]; with `needWeights`, also the head-averaged probabilities
 * [B, T, S].
 *
 * With no gradient tape recording, no masks, no dropout and no weights asked for (inference), the wasm backend runs
 * it as one kernel that reads the heads in place (no transposes; equal to the composed ops within float rounding).
 */
export function scaledDotProductAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, H: number, d: number, dropoutP: number,
  ctx: Ctx, opts: AttendOptions = {}, needWeights = false): { merged: tf.Tensor; weights?: tf.Tensor } {
  const B = q.shape[0] as number, T = q.shape[1] as number, S = k.shape[1] as number;
  if (!needWeights && !opts.attnMask && !opts.keyPaddingMask && (dropoutP === 0 || !ctx.training) && H > 0 &&
      q.dtype === 'float32' && tf.engine().state.gradientDepth === 0 && hasKernel(FUSED.attention)) {
    const attrs = { heads: H, scale: 1 / Math.sqrt(d) } as unknown as tf.NamedAttrMap;
    return { merged: tf.engine().runKernel(FUSED.attention, { q, k, v }, attrs) as tf.Tensor };
  }
  return tf.tidy(() => {
    const split = (t: tf.Tensor, L: number) => tf.reshape(tf.transpose(tf.reshape(t, [B, L, H, d]), [0, 2, 1, 3]), [B * H, L, d]);
    // Scaling the queries (as torch does) costs d / S of scaling the scores.
    const qh = split(tf.mul(q, 1 / Math.sqrt(d)), T), kh = split(k, S), vh = split(v, S);   // [B*H, L, d]
    let scores = tf.matMul(qh, kh, false, true);                                    // [B*H, T, S]
    if (opts.attnMask) scores = tf.add(scores, opts.attnMask);
    if (opts.keyPaddingMask) {
      const m = tf.reshape(tf.tile(tf.expandDims(tf.cast(opts.keyPaddingMask, 'float32'), 1), [1, H, 1]), [B * H, 1, S]);
      scores = tf.add(scores, tf.mul(m, -1e9));
    }
    const probs = tf.softmax(scores);
    const heads = tf.matMul(dropout(probs, dropoutP, ctx), vh);                     // [B*H, T, d]
    const merged = tf.reshape(tf.transpose(tf.reshape(heads, [B, H, T, d]), [0, 2, 1, 3]), [B, T, H * d]);
    return { merged, weights: needWeights ? tf.mean(tf.reshape(probs, [B, H, T, S]), 1) : undefined };
  });
}

/** Arguments of {@link MultiHeadAttention}. */
export interface MultiHeadAttentionArgs {
  /** Model width E (last axis of queries, keys, values and output). */
  embedDim: number;
  /** Attention heads (0 is allowed: a fully pruned block outputs only the output bias). */
  numHeads: number;
  /** Width of one head. Default embedDim / numHeads. */
  headDim?: number;
  /** Dropout on the attention probabilities, in training. Default 0. */
  dropout?: number;
  /** Biases on the projections. Default true. */
  bias?: boolean;
}

/**
 * `args` with the defaults of {@link MultiHeadAttentionArgs} filled in: the one place they are written
 * (the slimmable attention of lib/slim uses them too).
 */
export function multiHeadAttentionDefaults(args: MultiHeadAttentionArgs): Required<MultiHeadAttentionArgs> {
  return { embedDim: args.embedDim, numHeads: args.numHeads, headDim: args.headDim ?? args.embedDim / Math.max(args.numHeads, 1),
    dropout: args.dropout ?? 0, bias: args.bias ?? true };
}

/** Options of {@link MultiHeadAttention.attend}. */
export interface AttendOptions {
  /** [batch, S] with 1 where a key is padding (masked out). Default: none. */
  keyPaddingMask?: tf.Tensor;
  /** [T, S] additive mask (e.g. -Infinity above the diagonal for causal attention). Default: none. */
  attnMask?: tf.Tensor;
}

/**
 * Multi-head scaled dot-product attention (torch.nn.MultiheadAttention, batch_first=True):
 * softmax(Q K^T / sqrt(d)) V per head, heads concatenated and projected. Queries, keys and values have
 * their own projections qProj, kProj, vProj [E, heads*d] (PyTorch packs them in in_proj_weight), so that
 * heads can be pruned; outProj is [heads*d, E]. With `ctx.taps`, the head-averaged attention
 * probabilities [batch, T, S] are recorded under '<path>.attention'.
 */
export class MultiHeadAttention extends Module {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly dropoutP: number;
  readonly qProj: Linear;
  readonly kProj: Linear;
  readonly vProj: Linear;
  readonly outProj: Linear;

  constructor(args: MultiHeadAttentionArgs) {
    super();
    const a = multiHeadAttentionDefaults(args);
    this.embedDim = a.embedDim;
    this.numHeads = a.numHeads;
    this.headDim = a.headDim;
    if (!Number.isInteger(this.headDim)) {
      throw new Error(`MultiHeadAttention: embedDim ${args.embedDim} is not divisible by numHeads ${args.numHeads}; give headDim`);
    }
    this.dropoutP = a.dropout;
    const bias = a.bias;
    const inner = this.numHeads * this.headDim;
    this.qProj = this.addModule('qProj', new Linear({ inFeatures: this.embedDim, outFeatures: inner, bias }));
    this.kProj = this.addModule('kProj', new Linear({ inFeatures: this.embedDim, outFeatures: inner, bias }));
    this.vProj = this.addModule('vProj', new Linear({ inFeatures: this.embedDim, outFeatures: inner, bias }));
    this.outProj = this.addModule('outProj', new Linear({ inFeatures: inner, outFeatures: this.embedDim, bias }));
    // PyTorch: xavier_uniform_ on the packed [3E, E] in-projection, zero biases.
    tf.tidy(() => {
      for (const p of [this.qProj, this.kProj, this.vProj]) {
        p.weight.assign(tf.tensor(xavierUniform(this.embedDim * inner, this.embedDim, 3 * inner), [this.embedDim, inner]));
        p.bias?.assign(tf.zerosLike(p.bias));
      }
      if (this.outProj.bias) this.outProj.bias.assign(tf.zerosLike(this.outProj.bias));
    });
  }

  /** Self-attention: x [batch, T, E] -> [batch, T, E]. */
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    const tapped = !!this.path && !!ctx.taps && (!ctx.tapFilter || ctx.tapFilter(`${this.path}.attention`));
    const { output, weights } = this.run(x, x, x, ctx, {}, tapped);
    weights?.dispose();
    return output;
  }

  /**
   * Attention of queries q [batch, T, E] over keys k and values v [batch, S, E].
   * Returns the output [batch, T, E] and the head-averaged probabilities [batch, T, S].
   */
  attend(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, ctx: Ctx, opts: AttendOptions = {}): { output: tf.Tensor; weights: tf.Tensor } {
    const r = this.run(q, k, v, ctx, opts, true);
    return { output: r.output, weights: r.weights! };
  }

  /** attend(), computing the head-averaged probabilities only when they are wanted (a tap or attend()). */
  private run(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, ctx: Ctx, opts: AttendOptions, needWeights: boolean):
    { output: tf.Tensor; weights?: tf.Tensor } {
    for (const [n, t] of [['query', q], ['key', k], ['value', v]] as const) {
      if (t.rank !== 3 || t.shape[2] !== this.embedDim) {
        throw new Error(`MultiHeadAttention${this.path ? ` '${this.path}'` : ''}: ${n} must be [batch, time, ${this.embedDim}], got [${t.shape}]`);
      }
    }
    const B = q.shape[0] as number, T = q.shape[1] as number;
    const S = k.shape[1] as number;
    const H = this.numHeads, d = this.headDim;
    const out = tf.tidy(() => {
      if (H === 0) {
        const y = this.outProj.forward(tf.zeros([B, T, 0]), ctx);
        return { output: y, weights: needWeights ? tf.zeros([B, T, S]) : undefined };
      }
      const { merged, weights } = scaledDotProductAttention(this.qProj.forward(q, ctx), this.kProj.forward(k, ctx),
        this.vProj.forward(v, ctx), H, d, this.dropoutP, ctx, opts, needWeights);
      return { output: this.outProj.forward(merged, ctx), weights };
    });
    if (this.path && out.weights) recordTap(ctx, `${this.path}.attention`, out.weights);
    return out;
  }

  override macs(inShape: number[], _outShape?: number[], _ctx?: Ctx): number {
    const [B, T] = inShape;
    return 2 * B * this.numHeads * T * T * this.headDim;
  }

  getConfig(): Record<string, unknown> {
    return { embedDim: this.embedDim, numHeads: this.numHeads, headDim: this.headDim, dropout: this.dropoutP,
      bias: this.qProj.bias !== undefined };
  }
}
registerModule('MultiHeadAttention', MultiHeadAttention);

/** The sub-modules of a Transformer encoder layer, plain or slimmable. */
export interface EncoderLayerParts {
  selfAttn: Module;
  linear1: Module;
  linear2: Module;
  norm1: Module;
  norm2: Module;
}

/**
 * The computation of torch.nn.TransformerEncoderLayer over its parts: post-norm
 * norm2(h + drop(ff(h))), h = norm1(x + drop(attn(x))), or pre-norm h = x + drop(attn(norm1(x))),
 * h + drop(ff(norm2(h))), with ff(x) = linear2(drop(act(linear1(x)))). Shared by the plain and the
 * slimmable layer (which read ctx.width in their parts).
 */
export function encoderLayerForward(parts: EncoderLayerParts, opts: { dropout: number; activation: ActivationName; normFirst: boolean },
  x: tf.Tensor, ctx: Ctx): tf.Tensor {
  const p = opts.dropout;
  const ff = (h: tf.Tensor) => parts.linear2.forward(dropout(activate(parts.linear1.forward(h, ctx), opts.activation), p, ctx), ctx);
  return tf.tidy(() => {
    if (opts.normFirst) {
      const h = tf.add(x, dropout(parts.selfAttn.forward(parts.norm1.forward(x, ctx), ctx), p, ctx));
      return tf.add(h, dropout(ff(parts.norm2.forward(h, ctx)), p, ctx));
    }
    const h = parts.norm1.forward(tf.add(x, dropout(parts.selfAttn.forward(x, ctx), p, ctx)), ctx);
    return parts.norm2.forward(tf.add(h, dropout(ff(h), p, ctx)), ctx);
  });
}

/** Arguments of {@link TransformerEncoderLayer}. */
export interface TransformerEncoderLayerArgs {
  /** Model width. */
  dModel: number;
  /** Attention heads. */
  nHead: number;
  /** Width of one head. Default dModel / nHead. */
  headDim?: number;
  /** Hidden units of the feed-forward block. Default 2048 (as PyTorch). */
  dimFeedforward?: number;
  /** Dropout after attention, inside and after the feed-forward block. Default 0.1. */
  dropout?: number;
  /** Feed-forward activation. Default 'relu'. */
  activation?: ActivationName;
  /** Layer-norm epsilon. Default 1e-5. */
  layerNormEps?: number;
  /** Pre-norm (x + f(norm(x))) instead of PyTorch's default post-norm (norm(x + f(x))). Default false. */
  normFirst?: boolean;
}

/**
 * `args` with the defaults of {@link TransformerEncoderLayerArgs} filled in: the one place they are
 * written (the slimmable layer of lib/slim uses them too).
 */
export function encoderLayerDefaults(args: TransformerEncoderLayerArgs): Required<TransformerEncoderLayerArgs> {
  return {
    dModel: args.dModel, nHead: args.nHead, headDim: args.headDim ?? args.dModel / Math.max(args.nHead, 1),
    dimFeedforward: args.dimFeedforward ?? 2048, dropout: args.dropout ?? 0.1, activation: args.activation ?? 'relu',
    layerNormEps: args.layerNormEps ?? 1e-5, normFirst: args.normFirst ?? false,
  };
}

/**
 * torch.nn.TransformerEncoderLayer (batch_first=True): self-attention and a two-layer feed-forward
 * block, each with a residual connection, dropout and layer norm (post-norm unless normFirst).
 * [batch, T, dModel] -> [batch, T, dModel].
 */
export class TransformerEncoderLayer extends Module {
  readonly args: Required<TransformerEncoderLayerArgs>;
  readonly selfAttn: MultiHeadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;

  constructor(args: TransformerEncoderLayerArgs) {
    super();
    this.args = encoderLayerDefaults(args);
    const a = this.args;
    this.selfAttn = this.addModule('selfAttn', new MultiHeadAttention({ embedDim: a.dModel, numHeads: a.nHead,
      headDim: a.headDim, dropout: a.dropout }));
    this.linear1 = this.addModule('linear1', new Linear({ inFeatures: a.dModel, outFeatures: a.dimFeedforward }));
    this.linear2 = this.addModule('linear2', new Linear({ inFeatures: a.dimFeedforward, outFeatures: a.dModel }));
    this.norm1 = this.addModule('norm1', new LayerNorm({ normalizedShape: a.dModel, eps: a.layerNormEps }));
    this.norm2 = this.addModule('norm2', new LayerNorm({ normalizedShape: a.dModel, eps: a.layerNormEps }));
  }

  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return encoderLayerForward(this, this.args, x, ctx);
  }

  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('TransformerEncoderLayer', TransformerEncoderLayer);
