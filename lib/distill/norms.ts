import * as tf from '@tensorflow/tfjs';

/**
 * Euclidean norm over `axis`, ||x||_2 = sqrt(sum_axis x^2), whose gradient is x / ||x|| and 0 at a zero
 * vector (the subgradient PyTorch's `torch.norm` backward uses), not the NaN that `tf.norm` gives there
 * (sqrt has an infinite slope at 0). Feature losses meet exact zeros often: identical student and teacher
 * features, a dead ReLU layer. A custom gradient, because the masking this needs cannot be written with
 * differentiable ops in tfjs (the comparison in a tf.where condition has no gradient function).
 *
 * @param x any shape
 * @param axis the axis (or axes) reduced. Default -1.
 * @param keepDims keep the reduced axes with size 1. Default false.
 * @returns x's shape without `axis` (or with size 1 there when keepDims)
 */
export function l2Norm(x: tf.Tensor, axis: number | number[] = -1, keepDims = false): tf.Tensor {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const reduced = x.shape.filter((_, i) => !axes.includes(i));
  const norm = tf.customGrad(((xi: tf.Tensor, save: tf.GradSaveFunc) => {
    const n = tf.sqrt(tf.sum(tf.square(xi), axes, true));
    save([xi, n]);
    return {
      value: keepDims ? n : tf.reshape(n, reduced),
      // x / ||x||, where a zero norm means x = 0 there: dividing by 1 instead gives the 0 subgradient.
      gradFunc: (dy: tf.Tensor, [xs, ns]: tf.Tensor[]) =>
        tf.mul(tf.reshape(dy, kept), tf.div(xs, tf.where(tf.greater(ns, 0), ns, tf.onesLike(ns)))),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (norm as unknown as (t: tf.Tensor) => tf.Tensor)(x);
}

/**
 * x / max(||x||_2, eps) over `axis`, equal to PyTorch `F.normalize(x, p=2, dim=axis, eps=eps)`: unit
 * vectors along `axis`, a zero vector stays zero (with zero gradient through the norm, see {@link l2Norm}).
 *
 * @param x any shape
 * @param axis the axis normalised. Default -1.
 * @param eps lower bound of the divisor. Default 1e-12 (F.normalize's).
 * @returns x's shape
 */
export function l2Normalize(x: tf.Tensor, axis = -1, eps = 1e-12): tf.Tensor {
  return tf.tidy(() => tf.div(x, tf.maximum(l2Norm(x, axis, true), eps)));
}

/**
 * |x| elementwise, as x * sign(x), so that its gradient is sign(x), 0 at x = 0 like torch.abs (and the L1
 * losses of PyTorch), where tf.abs's gradient is -1: identical student and teacher features then get zero
 * gradient from an L1 term.
 *
 * @param x any shape
 * @returns x's shape
 */
export function absolute(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sign(x)));
}
