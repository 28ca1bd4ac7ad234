/**
 * P.862 level alignment (section 10.2.1): both signals are scaled so that their mean power in the
 * telephone pass band (350 Hz - 3.25 kHz, measured through an FFT filter of that band) is 10^7,
 * which puts the perceptual model's fixed hearing thresholds at a known listening level.
 */
import { applyResponse, f32, sumSquares } from './dsp';
import { PaddedSignal, searchPad, tailPad } from './signal';
import { LEVEL_ALIGN_CURVE, PesqRateTables, TARGET_AVG_POWER } from './tables';

/**
 * Scales each signal in place to mean power TARGET_AVG_POWER over 350 Hz - 3.25 kHz. The power is the
 * mean square of the band-filtered signal over its samples plus the trailing padding (the filtered
 * tail included), as in the reference implementation.
 */
export function alignLevel(signals: PaddedSignal[], rate: PesqRateTables): void {
  const pad = searchPad(rate);
  for (const signal of signals) {
    const length = signal.nsamples - 2 * pad + tailPad(rate);
    const band = signal.data.slice();
    applyResponse([band], pad, length, LEVEL_ALIGN_CURVE, rate.sampleRate);
    const power = f32(sumSquares(band, pad, pad + length, length));
    const scale = f32(Math.sqrt(TARGET_AVG_POWER / power));
    const { data } = signal;
    for (let i = 0; i < signal.nsamples; i++) data[i] *= scale;
  }
}
