import * as tf from '@tensorflow/tfjs';
import { Ctx, Module } from '../nn/module';

/** Options of {@link countParams}. */
export interface CountParamsOptions {
  /** Count buffers (batch-norm running statistics) too. Default false, as PyTorch's sum(p.numel() for p in parameters()). */
  includeBuffers?: boolean;
}

/**
 * Number of scalar parameters of a module (and its descendants): sum of the sizes of its trainable
 * variables, the usual model-size figure.
 */
export function countParams(module: Module, opts: CountParamsOptions = {}): number {
  let n = module.parameters().reduce((s, v) => s + v.size, 0);
  if (opts.includeBuffers) n += module.namedBuffers().reduce((s, [, v]) => s + v.size, 0);
  return n;
}

/**
 * Multiply-accumulates of one forward pass on an input of the given shape (or on the given tensor), in
 * evaluation mode unless `ctx` says otherwise (pass `{training: false, width}` for a slimmable width).
 * Each layer counts its own: Linear in*out per position, convolutions out_elements * K * Cin/groups,
 * transposed convolutions in_elements * K * Cin * Cout, recurrent layers batch*time*G*H*(in + H), attention
 * 2 * batch * heads * T^2 * headDim; element-wise work (norms, activations) is not counted.
 */
export function countMacs(module: Module, input: number[] | tf.Tensor, ctx: Ctx = { training: false }): number {
  const macs = { total: 0 };
  tf.tidy(() => {
    const x = input instanceof tf.Tensor ? input : tf.zeros(input);
    module.forward(x, { ...ctx, macs });
  });
  return macs.total;
}
