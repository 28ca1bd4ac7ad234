/**
 * The input filters of P.862 / P.862.2:
 * - the listening-device model applied before the perceptual model: the modified IRS receive
 *   characteristic of a telephone handset (P.862, narrow-band), or a 100 Hz high-pass for headphone
 *   listening (P.862.2, wide-band);
 * - the band-pass filter (after removing DC) applied to copies of the signals that only serve the
 *   time alignment.
 */
import { applyResponse, biquadCascade, f32 } from './dsp';
import { PaddedSignal, searchPad, tailPad } from './signal';
import { IRS_RECEIVE_CURVE, PesqRateTables } from './tables';

/**
 * P.862 narrow-band: filters the samples and trailing padding of both signals (of one length) in place
 * by the IRS receive response.
 */
export function irsReceiveFilter(ref: PaddedSignal, deg: PaddedSignal, rate: PesqRateTables): void {
  const pad = searchPad(rate);
  applyResponse([ref.data, deg.data], pad, ref.nsamples - 2 * pad + tailPad(rate), IRS_RECEIVE_CURVE, rate.sampleRate);
}

/**
 * P.862.2 wide-band: fades the first and last 15 samples of both signals (of one length) in linearly
 * (k/16) and runs the samples through the 100 Hz high-pass section, in place.
 */
export function widebandHighpass(ref: PaddedSignal, deg: PaddedSignal, rate: PesqRateTables): void {
  const pad = searchPad(rate);
  const { nsamples } = ref;
  for (const { data } of [ref, deg]) {
    for (let k = 1; k < 16; k++) {
      data[pad + k - 1] *= k / 16;
      data[nsamples - pad - k] *= k / 16;
    }
  }
  biquadCascade(ref.data, deg.data, pad, nsamples - 2 * pad, rate.widebandHighpass);
}

/**
 * The alignment pre-filter of both signals (of one length), in place: subtracts the samples' mean (the
 * sum divided by the padded length nsamples, as the reference does), ramps the first and last
 * `downsample` samples with (k + 1/2) / downsample, then runs the whole buffer through the alignment
 * band-pass.
 */
export function alignmentFilter(ref: PaddedSignal, deg: PaddedSignal, rate: PesqRateTables): void {
  const pad = searchPad(rate);
  const { nsamples } = ref;
  const d = rate.downsample;
  for (const { data } of [ref, deg]) {
    let sum = 0;
    for (let i = pad; i < nsamples - pad; i++) sum = f32(sum + data[i]);
    const mean = f32(sum / nsamples);
    for (let i = pad; i < nsamples - pad; i++) data[i] -= mean;
    for (let k = 0; k < d; k++) {
      const ramp = f32((0.5 + k) / d);
      data[pad + k] *= ramp;
      data[nsamples - pad - 1 - k] *= ramp;
    }
  }
  biquadCascade(ref.data, deg.data, 0, nsamples + tailPad(rate), rate.alignInputFilter);
}
