import * as tf from '@tensorflow/tfjs';

/** Options of {@link siSnr} and {@link siSnrImprovement}. */
export interface SiSnrOptions {
  /** Added to the projection's numerator and denominator and to both energies, so silence gives 0 dB, not NaN. Default 1e-8. */
  eps?: number;
  /** Remove each signal's mean along time first (SI-SNR proper; false gives SI-SDR without centring). Default true. */
  zeroMean?: boolean;
}

function shapeOf(t: tf.Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/**
 * Scale-invariant signal-to-noise ratio in dB (Le Roux et al., "SDR - half-baked or well done?", 2019;
 * Luo and Mesgarani, Conv-TasNet, 2019), per signal along the last (time) axis, as torchmetrics
 * `scale_invariant_signal_noise_ratio`:
 *
 *   est, ref centred (zeroMean); alpha = (<est, ref> + eps) / (||ref||^2 + eps)
 *   target = alpha * ref;  noise = est - target
 *   siSnr = 10 * log10((||target||^2 + eps) / (||noise||^2 + eps))
 *
 * (torchmetrics uses eps = machine epsilon of the dtype; slimspeech fixes 1e-8, which differs from it only
 * for near-silent signals.) Invariant to the estimate's gain, including its sign. Differentiable with
 * respect to both inputs: the usual separation / enhancement training loss is `tf.neg(tf.mean(siSnr(...)))`.
 *
 * @param estimate [..., time]
 * @param reference [..., time], the same shape
 * @returns [...] in dB (a scalar for 1-D inputs)
 */
export function siSnr(estimate: tf.Tensor, reference: tf.Tensor, options: SiSnrOptions = {}): tf.Tensor {
  const { eps = 1e-8, zeroMean = true } = options;
  if (estimate.rank < 1 || !tf.util.arraysEqual(estimate.shape, reference.shape) || estimate.size === 0) {
    throw new Error(`siSnr: estimate and reference must be non-empty signals of one shape [..., time]; ` +
      `got estimate ${shapeOf(estimate)} and reference ${shapeOf(reference)}`);
  }
  if (!(eps >= 0)) throw new Error(`siSnr: eps must be >= 0; got ${eps}`);
  return tf.tidy(() => {
    let est = tf.cast(estimate, 'float32');
    let ref = tf.cast(reference, 'float32');
    if (zeroMean) {
      est = tf.sub(est, tf.mean(est, -1, true));
      ref = tf.sub(ref, tf.mean(ref, -1, true));
    }
    const alpha = tf.div(tf.add(tf.sum(tf.mul(est, ref), -1, true), eps),
      tf.add(tf.sum(tf.square(ref), -1, true), eps)); // [..., 1]
    const target = tf.mul(alpha, ref); // [..., time]
    const noise = tf.sub(est, target);
    const ratio = tf.div(tf.add(tf.sum(tf.square(target), -1), eps), tf.add(tf.sum(tf.square(noise), -1), eps));
    return tf.mul(tf.log(ratio), 10 / Math.LN10); // [...]
  });
}

/**
 * SI-SNR improvement in dB: how much the estimate gains over the unprocessed mixture,
 *
 *   siSnrImprovement = siSnr(estimate, reference) - siSnr(mixture, reference)
 *
 * the headline metric of speech separation papers (SI-SNRi / SI-SDRi). The mixture term does not depend
 * on the estimate, so its gradient equals siSnr's.
 *
 * @param estimate [..., time]
 * @param reference [..., time], the estimate's shape
 * @param mixture the input mixture, the reference's shape or broadcastable to it (e.g. [batch, 1, time]
 *   against sources [batch, sources, time])
 * @returns [...] in dB
 */
export function siSnrImprovement(estimate: tf.Tensor, reference: tf.Tensor, mixture: tf.Tensor,
  options: SiSnrOptions = {}): tf.Tensor {
  let broadcastable = mixture.rank <= reference.rank && mixture.rank >= 1;
  for (let i = 1; broadcastable && i <= mixture.rank; i++) {
    const m = mixture.shape[mixture.rank - i];
    broadcastable = m === reference.shape[reference.rank - i] || (m === 1 && i > 1);
  }
  if (!broadcastable) {
    throw new Error(`siSnrImprovement: mixture ${shapeOf(mixture)} must have the reference's shape or broadcast ` +
      `to it over the non-time axes; got reference ${shapeOf(reference)}`);
  }
  return tf.tidy(() => {
    const mix = tf.util.arraysEqual(mixture.shape, reference.shape) ? mixture : tf.broadcastTo(mixture, reference.shape);
    return tf.sub(siSnr(estimate, reference, options), siSnr(mix, reference, options));
  });
}
