import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from './module';
import { filled } from './init';
import { gelu, prelu } from './fused';

/** Parameter-free activation names. */
export type ActivationName = 'relu' | 'gelu' | 'elu' | 'tanh' | 'sigmoid' | 'silu' | 'leakyRelu' | 'identity';

/**
 * Applies a named activation: relu, gelu (exact, 0.5 x (1 + erf(x / sqrt 2)), torch's default), elu
 * (alpha 1), tanh, sigmoid, silu (x sigmoid(x)), leakyRelu (slope 0.01, torch's default), identity.
 */
export function activate(x: tf.Tensor, name: ActivationName): tf.Tensor {
  switch (name) {
    case 'relu': return tf.relu(x);
    case 'gelu': return gelu(x);
    case 'elu': return tf.elu(x);
    case 'tanh': return tf.tanh(x);
    case 'sigmoid': return tf.sigmoid(x);
    case 'silu': return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
    case 'leakyRelu': return tf.leakyRelu(x, 0.01);
    case 'identity': return x;
    default: throw new Error(`unknown activation '${name as string}'`);
  }
}

/** Arguments of {@link Activation}. */
export interface ActivationArgs {
  /** Which activation. */
  fn: ActivationName;
}

/** A parameter-free activation as a module (see {@link activate}). */
export class Activation extends Module {
  readonly fn: ActivationName;

  constructor(args: ActivationArgs | ActivationName) {
    super();
    this.fn = typeof args === 'string' ? args : args.fn;
    tf.tidy(() => { activate(tf.scalar(0), this.fn); });
  }

  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    return this.fn === 'identity' ? x : activate(x, this.fn);
  }

  getConfig(): Record<string, unknown> {
    return { fn: this.fn };
  }
}
registerModule('Activation', Activation);

/** Arguments of {@link PReLU}. */
export interface PReLUArgs {
  /** 1 (one shared slope) or the channel count (last axis). Default 1. */
  numParameters?: number;
  /** Initial slope. Default 0.25. */
  init?: number;
}

/** PReLU: max(0, x) + a * min(0, x) with a learned slope per channel (last axis) or shared (torch.nn.PReLU). */
export class PReLU extends Module {
  readonly numParameters: number;
  readonly weight: tf.Variable;

  constructor(args: PReLUArgs = {}) {
    super();
    this.numParameters = args.numParameters ?? 1;
    this.weight = this.addParameter('weight', filled(this.numParameters, args.init ?? 0.25), [this.numParameters]);
  }

  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    if (this.numParameters !== 1 && x.shape[x.rank - 1] !== this.numParameters) {
      throw new Error(`PReLU${this.path ? ` '${this.path}'` : ''}: ${this.numParameters} slopes for last axis ${x.shape[x.rank - 1]} (shape [${x.shape}])`);
    }
    return prelu(x, this.weight as tf.Tensor1D);
  }

  getConfig(): Record<string, unknown> {
    return { numParameters: this.numParameters };
  }
}
registerModule('PReLU', PReLU);
