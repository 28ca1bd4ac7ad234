import * as tf from '@tensorflow/tfjs';

const stop = tf.customGrad(((x: tf.Tensor) => ({
  value: x.clone(),
  gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor),
})) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * The value of `x` with no gradient flowing back through it (torch's `x.detach()`, TensorFlow's
 * stop_gradient), e.g. the teacher's soft predictions in in-place distillation. TensorFlow.js has no such
 * op; this is an identity whose gradient is zero.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stop(x) as T;
}
