import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from '../nn/module';
import { Linear } from '../nn/linear';
import { fanInUniform } from '../nn/init';

/**
 * How a projection's weights start:
 * - 'auto': 'identity' when input and output sizes are equal (DPHuBERT's prediction heads, so that
 *   distillation starts from "the student's feature is the prediction"), else 'uniform';
 * - 'identity': W = I (rectangular when the sizes differ: output j copies input j for j < min(in, out),
 *   the other outputs start at 0), bias 0;
 * - 'uniform': PyTorch's default for nn.Linear / nn.Conv2d, U(-1/sqrt(in), 1/sqrt(in)) for W and bias.
 */
export type ProjectionInit = 'auto' | 'identity' | 'uniform';

/** Arguments of {@link LinearProjection}. */
export interface LinearProjectionArgs {
  /** Student features (last axis of the input). */
  inFeatures: number;
  /** Teacher features (last axis of the output). */
  outFeatures: number;
  /** Learn an additive bias. Default true. */
  bias?: boolean;
  /** Initial weights, see {@link ProjectionInit}. Default 'auto'. */
  init?: ProjectionInit;
}

function checkSizes(name: string, inSize: number, outSize: number, init: ProjectionInit): void {
  if (!(Number.isInteger(inSize) && inSize >= 1 && Number.isInteger(outSize) && outSize >= 1)) {
    throw new Error(`${name}: sizes must be integers >= 1; got ${inSize} -> ${outSize}`);
  }
  if (init !== 'auto' && init !== 'identity' && init !== 'uniform') {
    throw new Error(`${name}: init must be 'auto', 'identity' or 'uniform'; got '${init}'`);
  }
}

function startsAsIdentity(inSize: number, outSize: number, init: ProjectionInit): boolean {
  return init === 'identity' || (init === 'auto' && inSize === outSize);
}

/**
 * A learned linear map from student to teacher features over the last axis, y = x W + b:
 * [..., inFeatures] -> [..., outFeatures] (a {@link Linear} with W stored [in, out]). DPHuBERT's layer-to-layer
 * prediction heads are such maps from the student's to the teacher's embedding size, initialised to the
 * identity (`init` 'auto' does that when the sizes match), so an identity-initialised projection changes
 * nothing at the start. Registered as 'LinearProjection' (saveModel / loadModel).
 */
export class LinearProjection extends Linear {
  readonly init: ProjectionInit;

  constructor(args: LinearProjectionArgs) {
    const init = args.init ?? 'auto';
    checkSizes('LinearProjection', args.inFeatures, args.outFeatures, init);
    super({ inFeatures: args.inFeatures, outFeatures: args.outFeatures, bias: args.bias ?? true });
    this.init = init;
    if (startsAsIdentity(args.inFeatures, args.outFeatures, init)) {
      tf.tidy(() => {
        this.weight.assign(tf.eye(args.inFeatures, args.outFeatures));
        this.bias?.assign(tf.zerosLike(this.bias));
      });
    }
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), init: this.init };
  }
}
registerModule('LinearProjection', LinearProjection);

/** Arguments of {@link ConvProjection}. */
export interface ConvProjectionArgs {
  /** Student channels (last axis of the input). */
  inChannels: number;
  /** Teacher channels (last axis of the output). */
  outChannels: number;
  /** Learn an additive bias. Default true. */
  bias?: boolean;
  /** Initial weights, see {@link ProjectionInit}. Default 'auto'. */
  init?: ProjectionInit;
}

/**
 * A 1x1 convolution from student to teacher channels on channels-last feature maps (the connector of
 * FitNets-style feature distillation), y[b, t, f, :] = x[b, t, f, :] W + b:
 * [batch, time, freq, inChannels] -> [batch, time, freq, outChannels] (also [batch, time, inChannels]).
 * The weight is stored as a Conv2d's, [1, 1, inChannels, outChannels]; PyTorch's `nn.Conv2d(in, out, 1)` on
 * the NCHW transpose computes the same. Initialised to the identity when the channel counts match
 * (`init` 'auto'). Registered as 'ConvProjection'.
 */
export class ConvProjection extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly init: ProjectionInit;
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(args: ConvProjectionArgs) {
    super();
    const init = args.init ?? 'auto';
    checkSizes('ConvProjection', args.inChannels, args.outChannels, init);
    this.inChannels = args.inChannels;
    this.outChannels = args.outChannels;
    this.init = init;
    const identity = startsAsIdentity(args.inChannels, args.outChannels, init);
    const shape = [1, 1, args.inChannels, args.outChannels];
    this.weight = identity
      ? tf.tidy(() => this.addParameter('weight', tf.reshape(tf.eye(args.inChannels, args.outChannels), shape)))
      : this.addParameter('weight', fanInUniform(args.inChannels * args.outChannels, args.inChannels), shape);
    if (args.bias ?? true) {
      this.bias = identity
        ? this.addParameter('bias', new Float32Array(args.outChannels), [args.outChannels])
        : this.addParameter('bias', fanInUniform(args.outChannels, args.inChannels), [args.outChannels]);
    }
  }

  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    if ((x.rank !== 3 && x.rank !== 4) || x.shape[x.rank - 1] !== this.inChannels) {
      throw new Error(`ConvProjection${this.path ? ` '${this.path}'` : ''}: expected [batch, time, freq, ${this.inChannels}] ` +
        `or [batch, time, ${this.inChannels}], got [${x.shape}]`);
    }
    return tf.tidy(() => {
      const x4 = (x.rank === 3 ? tf.expandDims(x, 2) : x) as tf.Tensor4D;
      const y = tf.conv2d(x4, this.weight as tf.Tensor4D, 1, 'valid');
      const yb = this.bias ? tf.add(y, this.bias) : y;
      return x.rank === 3 ? tf.squeeze(yb, [2]) : yb;
    });
  }

  override macs(_inShape: number[], outShape: number[]): number {
    return outShape.reduce((a, b) => a * b, 1) * this.inChannels;
  }

  getConfig(): Record<string, unknown> {
    return { inChannels: this.inChannels, outChannels: this.outChannels, bias: this.bias !== undefined, init: this.init };
  }
}
registerModule('ConvProjection', ConvProjection);
