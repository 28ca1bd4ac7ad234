import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from './module';
import { fanInUniform } from './init';

/** Arguments of {@link Linear}. */
export interface LinearArgs {
  /** Input features (last axis of the input). */
  inFeatures: number;
  /** Output features. */
  outFeatures: number;
  /** Learn an additive bias. Default true. */
  bias?: boolean;
}

/**
 * y = x W + b over the last axis: [..., inFeatures] -> [..., outFeatures]. W is stored [in, out] (the
 * transpose of torch.nn.Linear's weight); initialisation as PyTorch's, U(-1/sqrt(in), 1/sqrt(in)).
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(args: LinearArgs) {
    super();
    this.inFeatures = args.inFeatures;
    this.outFeatures = args.outFeatures;
    this.weight = this.addParameter('weight', fanInUniform(args.inFeatures * args.outFeatures, args.inFeatures),
      [args.inFeatures, args.outFeatures]);
    if (args.bias ?? true) {
      this.bias = this.addParameter('bias', fanInUniform(args.outFeatures, args.inFeatures), [args.outFeatures]);
    }
  }

  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures) {
      throw new Error(`Linear${this.path ? ` '${this.path}'` : ''}: expected last axis ${this.inFeatures}, got input shape [${x.shape}]`);
    }
    return linear(x, this.weight, this.bias);
  }

  override macs(inShape: number[], _outShape?: number[], _ctx?: Ctx): number {
    return (inShape.reduce((a, b) => a * b, 1) / this.inFeatures) * this.inFeatures * this.outFeatures;
  }

  getConfig(): Record<string, unknown> {
    return { inFeatures: this.inFeatures, outFeatures: this.outFeatures, bias: this.bias !== undefined };
  }
}
registerModule('Linear', Linear);

/** x [..., in] @ w [in, out] (+ b [out]) as one fused matmul over the flattened leading axes. */
export function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    const x2 = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, x.shape[x.rank - 1]]) as tf.Tensor2D;
    const y = tf.fused.matMul({ a: x2, b: w as tf.Tensor2D, bias: b });
    return x.rank === 2 ? y : tf.reshape(y, [...lead, w.shape[1] as number]);
  });
}
