import * as tf from '@tensorflow/tfjs';

/** Options of {@link sdr}. */
export interface SdrOptions {
  /** Added to both energies, so silence against silence gives 0 dB, not NaN. Default 1e-8. */
  eps?: number;
}

function shapeOf(t: tf.Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/**
 * Plain signal-to-distortion ratio in dB, per signal along the last (time) axis:
 *
 *   sdr = 10 * log10((||ref||^2 + eps) / (||ref - est||^2 + eps))
 *
 * No centring, no rescaling, no projection: a gain error counts as distortion (compare {@link siSnr}).
 * This is the "SNR" of enhancement papers, not the BSS-eval SDR of Vincent et al. (2006), which allows a
 * 512-tap distortion filter; the two differ for filtered estimates. Differentiable in both inputs.
 *
 * @param estimate [..., time]
 * @param reference [..., time], the same shape
 * @returns [...] in dB
 */
export function sdr(estimate: tf.Tensor, reference: tf.Tensor, options: SdrOptions = {}): tf.Tensor {
  const { eps = 1e-8 } = options;
  if (estimate.rank < 1 || !tf.util.arraysEqual(estimate.shape, reference.shape) || estimate.size === 0) {
    throw new Error(`sdr: estimate and reference must be non-empty signals of one shape [..., time]; ` +
      `got estimate ${shapeOf(estimate)} and reference ${shapeOf(reference)}`);
  }
  if (!(eps >= 0)) throw new Error(`sdr: eps must be >= 0; got ${eps}`);
  return tf.tidy(() => {
    const ref = tf.cast(reference, 'float32');
    const err = tf.sub(ref, tf.cast(estimate, 'float32'));
    const ratio = tf.div(tf.add(tf.sum(tf.square(ref), -1), eps), tf.add(tf.sum(tf.square(err), -1), eps));
    return tf.mul(tf.log(ratio), 10 / Math.LN10);
  });
}
