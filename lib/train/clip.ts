import * as tf from '@tensorflow/tfjs';

/**
 * Global L2 norm of a set of gradients, sqrt(sum ||g||^2), as a scalar tensor (stays on the device).
 */
export function globalNorm(grads: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
}

/**
 * Scales gradients so that their global norm is at most maxNorm (torch.nn.utils.clip_grad_norm_:
 * coefficient min(1, maxNorm / (norm + 1e-6))). Returns new tensors (the caller disposes both sets) and
 * the norm before clipping.
 */
export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): { grads: tf.Tensor[]; norm: tf.Scalar } {
  return tf.tidy(() => {
    const norm = globalNorm(grads);
    const coef = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
    return { grads: grads.map((g) => tf.mul(g, coef)), norm };
  });
}
