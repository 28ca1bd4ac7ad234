/** Complex spectra as pairs of real tensors, and the few operations on them that features need. */
import * as tf from '@tensorflow/tfjs';

/** A complex tensor as its real and imaginary parts, equal shapes (what `stft` returns). */
export interface ComplexTensor {
  real: tf.Tensor;
  imag: tf.Tensor;
}

function checkPair(z: ComplexTensor, where: string): void {
  if (!z || !(z.real instanceof tf.Tensor) || !(z.imag instanceof tf.Tensor)) {
    throw new Error(`${where}: expected {real, imag} tensors`);
  }
  if (z.real.shape.join(',') !== z.imag.shape.join(',')) {
    throw new Error(`${where}: real shape [${z.real.shape.join(', ')}] differs from imag shape [${z.imag.shape.join(', ')}]`);
  }
}

/** Power spectrum |z|^2 = re^2 + im^2 (torch `z.abs() ** 2`), same shape as the parts. */
export function powerSpectrum(z: ComplexTensor): tf.Tensor {
  checkPair(z, 'powerSpectrum');
  return tf.tidy(() => z.real.square().add(z.imag.square()));
}

/**
 * Magnitude |z| = sqrt(re^2 + im^2 + eps) (torch `z.abs()` for eps = 0). The gradient of sqrt is
 * infinite at an exact zero; pass eps > 0 (e.g. 1e-8) when gradients must stay finite there.
 * @param eps added under the root; default 0.
 */
export function magnitude(z: ComplexTensor, eps = 0): tf.Tensor {
  checkPair(z, 'magnitude');
  return tf.tidy(() => {
    const p = z.real.square().add(z.imag.square());
    return (eps ? p.add(eps) : p).sqrt();
  });
}

/** Phase angle atan2(im, re) in (-pi, pi] (torch `z.angle()`), same shape as the parts. */
export function phase(z: ComplexTensor): tf.Tensor {
  checkPair(z, 'phase');
  return tf.tidy(() => tf.atan2(z.imag, z.real));
}

/** Complex product (a.re b.re - a.im b.im) + i (a.re b.im + a.im b.re), with broadcasting. */
export function complexMul(a: ComplexTensor, b: ComplexTensor): ComplexTensor {
  checkPair(a, 'complexMul');
  checkPair(b, 'complexMul');
  return tf.tidy(() => ({
    real: a.real.mul(b.real).sub(a.imag.mul(b.imag)),
    imag: a.real.mul(b.imag).add(a.imag.mul(b.real)),
  }));
}

/** Builds z = magnitude * exp(i phase) (torch `torch.polar(mag, phase)`). */
export function polar(mag: tf.Tensor, angle: tf.Tensor): ComplexTensor {
  return tf.tidy(() => ({ real: mag.mul(tf.cos(angle)), imag: mag.mul(tf.sin(angle)) }));
}
