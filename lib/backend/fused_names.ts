import * as tf from '@tensorflow/tfjs';

/**
 * Names of slimspeech's fused kernels. They are registered for the wasm backend only; lib/nn/fused.ts
 * and the optimizer use them when the current backend has them and compose ordinary ops otherwise.
 */
export const FUSED = {
  groupNorm: 'SlimspeechGroupNorm', groupNormGrad: 'SlimspeechGroupNormGrad', batchNorm: 'SlimspeechBatchNorm',
  batchNormGrad: 'SlimspeechBatchNormGrad', prelu: 'SlimspeechPReLU', preluGrad: 'SlimspeechPReLUGrad', adamStep: 'SlimspeechAdamStep',
  lstm: 'SlimspeechLstm', lstmGrad: 'SlimspeechLstmGrad', reluGrad: 'SlimspeechReluGrad',
  gelu: 'SlimspeechGelu', geluGrad: 'SlimspeechGeluGrad', softmaxGrad: 'SlimspeechSoftmaxGrad',
  attention: 'SlimspeechAttention',
} as const;

/** True when the current backend has kernel `name`. */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}
