import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from './module';
import { Rng } from '../util/rng';

const fallback = new Rng(0x5eed);

/** Inverted dropout: in training, zeroes each element with probability p and scales the rest by 1/(1-p). */
export function dropout(x: tf.Tensor, p: number, ctx: Ctx): tf.Tensor {
  if (!ctx.training || p === 0) return x;
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  return tf.dropout(x, p, undefined, (ctx.rng ?? fallback).seed());
}

/** Arguments of {@link Dropout}. */
export interface DropoutArgs {
  /** Probability of zeroing an element. Default 0.5. */
  p?: number;
}

/** Dropout as a module (torch.nn.Dropout); the mask comes from `ctx.rng`, so a seeded run is repeatable. */
export class Dropout extends Module {
  readonly p: number;

  constructor(args: DropoutArgs = {}) {
    super();
    this.p = args.p ?? 0.5;
  }

  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return dropout(x, this.p, ctx);
  }

  getConfig(): Record<string, unknown> {
    return { p: this.p };
  }
}
registerModule('Dropout', Dropout);
