import * as tf from '@tensorflow/tfjs';
import { Ctx, registerModule } from '../nn/module';
import { LayerNorm, layerNorm, LayerNormArgs } from '../nn/norm';
import { slimChannels, widthOf } from './channels';
import { assignFrom, buildQuietly, Slimmable } from './extract';

/** Arguments of {@link SlimLayerNorm}: those of nn.LayerNorm (full size) plus whether it slims. */
export interface SlimLayerNormArgs extends LayerNormArgs {
  /** Slim the normalised axis with the width (false where the features have a fixed size). Default true. */
  slim?: boolean;
}

/**
 * Slimmable layer normalisation: at width w = ctx.width (default 1) the input holds the first
 * c = slimChannels(normalizedShape, w) features, and
 *
 *   y = (x - mean(x)) / sqrt(var(x) + eps) * gamma[:c] + beta[:c]      (mean, biased var over those c)
 *
 * i.e. the subnet normalises over its own, active features with the active slice of one shared affine
 * transform (nothing per width, unlike switchable batch norm: layer norm has no running statistics).
 * [..., c] -> [..., c]. At width 1 it is nn.LayerNorm (its base class).
 */
export class SlimLayerNorm extends LayerNorm implements Slimmable {
  readonly slim: boolean;

  constructor(args: SlimLayerNormArgs) {
    super(args);
    this.slim = args.slim ?? true;
  }

  /** Active features at `width`. */
  active(width: number): number {
    return this.slim ? slimChannels(this.normalizedShape, width) : this.normalizedShape;
  }

  override forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    const name = `SlimLayerNorm${this.path ? ` '${this.path}'` : ''}`;
    const w = widthOf(ctx, name);
    const c = this.active(w);
    if (x.rank < 1 || x.shape[x.rank - 1] !== c) {
      throw new Error(`${name}: at width ${w} expected last axis ${c} (of ${this.normalizedShape}), got [${x.shape}]`);
    }
    return tf.tidy(() => {
      const cut = (v?: tf.Variable) => (v && c !== this.normalizedShape ? tf.slice(v, [0], [c]) : v);
      return layerNorm(x, cut(this.weight), cut(this.bias), this.eps);
    });
  }

  /** The layer at `width` as a SlimLayerNorm over the active features with copies of the active affine slice. */
  extract(width: number): SlimLayerNorm {
    const c = this.active(width);
    const m = buildQuietly(() => new SlimLayerNorm({ ...this.getConfig(), normalizedShape: c } as SlimLayerNormArgs));
    if (this.weight) assignFrom(m.weight!, () => tf.slice(this.weight!, [0], [c]));
    if (this.bias) assignFrom(m.bias!, () => tf.slice(this.bias!, [0], [c]));
    return m;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), slim: this.slim };
  }
}
registerModule('SlimLayerNorm', SlimLayerNorm);
