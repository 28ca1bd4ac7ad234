/**
 * The P.862 perceptual model, frame by frame (section 10.2.6 - 10.2.8): Hann-windowed frames of 32 ms
 * -> power spectrum -> pitch power densities in Bark bands -> loudness densities (Zwicker's law) ->
 * disturbance densities, which are aggregated over frequency into a symmetric and an asymmetric
 * frame disturbance. Arrays hold one frame per `bands` values (float32, as in the reference).
 */
import { f32, hannWindow, RealFft, realFftOf } from './dsp';
import { PesqRateTables } from './tables';

/** Zwicker's loudness exponent (modified below 4 Bark). */
const ZWICKER_POWER = 0.23;

/** Power spectrum -> Bark pitch power densities of frames of `frameLength` samples. */
export class BarkAnalyzer {
  private readonly fft: RealFft;
  private readonly window: Float32Array;
  private readonly spectrum: Float64Array;
  private readonly spectrum2: Float64Array;
  private readonly power: Float32Array;

  constructor(private readonly rate: PesqRateTables) {
    this.fft = realFftOf(rate.frameLength);
    this.window = hannWindow(rate.frameLength);
    this.spectrum = new Float64Array(2 * rate.frameLength);
    this.spectrum2 = new Float64Array(2 * rate.frameLength);
    this.power = new Float32Array(rate.frameLength / 2);
  }

  /**
   * Pitch power densities of the frames ref[refStart ..] and deg[degStart ..] (frameLength samples each;
   * deg null: zero densities) into refOut and degOut at `offset`: bin powers |X[k]|^2 (k = 1 ..
   * frameLength/2 - 1; DC dropped) summed per band, times the band's power density correction and Sp.
   */
  framePair(ref: Float32Array, refStart: number, deg: Float32Array | null, degStart: number, refOut: Float32Array,
    degOut: Float32Array, offset: number): void {
    const nf = this.rate.frameLength;
    const { window } = this;
    this.fft.forwardPair(this.spectrum, this.spectrum2, (a, b) => {
      for (let t = 0; t < nf; t++) a[t] = f32(ref[refStart + t] * window[t]);
      if (deg) for (let t = 0; t < nf; t++) b[t] = f32(deg[degStart + t] * window[t]);
    });
    this.densities(this.spectrum, refOut, offset);
    if (deg) this.densities(this.spectrum2, degOut, offset);
    else degOut.fill(0, offset, offset + this.rate.bands);
  }

  /** The degraded half of {@link framePair} alone. */
  frame(data: Float32Array, start: number, out: Float32Array, offset: number): void {
    const nf = this.rate.frameLength;
    const { window } = this;
    this.fft.forward(this.spectrum, (x) => { for (let t = 0; t < nf; t++) x[t] = f32(data[start + t] * window[t]); });
    this.densities(this.spectrum, out, offset);
  }

  private densities(s: Float64Array, out: Float32Array, offset: number): void {
    const { rate, power } = this;
    const nf = rate.frameLength;
    for (let k = 0; k < nf / 2; k++) power[k] = f32(f32(s[2 * k] * s[2 * k]) + f32(s[2 * k + 1] * s[2 * k + 1]));
    power[0] = 0;
    for (let b = 0, k = 0; b < rate.bands; b++) {
      let sum = 0;
      for (let j = 0; j < rate.binsPerBand[b]; j++) sum += power[k++];
      out[offset + b] = sum * rate.powDensCorrection[b] * f32(rate.sp);
    }
  }
}

/** Sum of the densities of bands 1 .. bands-1 above factor times their hearing threshold. */
export function totalAudible(ppd: Float32Array, offset: number, rate: PesqRateTables, factor: number): number {
  let total = 0;
  for (let b = 1; b < rate.bands; b++) {
    const h = ppd[offset + b];
    if (h > f32(factor * rate.absThresholdPower[b])) total += h;
  }
  return f32(total);
}

/** Per-band constants of the loudness law. */
interface LoudnessLaw {
  threshold: Float32Array; // absolute threshold power
  exponent: Float64Array; // 0.23 * min(6 / (z + 2), 2)^0.15 below 4 Bark, 0.23 above
  base: Float64Array; // (threshold / 0.5)^exponent
}

const laws = new WeakMap<PesqRateTables, LoudnessLaw>();

function loudnessLaw(rate: PesqRateTables): LoudnessLaw {
  let law = laws.get(rate);
  if (!law) {
    const threshold = Float32Array.from(rate.absThresholdPower);
    const exponent = new Float64Array(rate.bands);
    const base = new Float64Array(rate.bands);
    for (let b = 0; b < rate.bands; b++) {
      const z = rate.centreBark[b];
      let h = z < 4 ? f32(6 / f32(f32(z) + 2)) : 1;
      if (h > 2) h = 2;
      exponent[b] = ZWICKER_POWER * f32(Math.pow(h, f32(0.15)));
      base[b] = Math.pow(threshold[b] / 0.5, exponent[b]);
    }
    law = { threshold, exponent, base };
    laws.set(rate, law);
  }
  return law;
}

/**
 * Loudness densities (sone/Bark) of one frame: Sl (P0 / 0.5)^g ((0.5 + 0.5 P / P0)^g - 1) where the
 * density P exceeds the hearing threshold P0, else 0.
 */
export function loudness(ppd: Float32Array, offset: number, rate: PesqRateTables, out: Float32Array): void {
  const { threshold, exponent, base } = loudnessLaw(rate);
  const sl = f32(rate.sl);
  for (let b = 0; b < rate.bands; b++) {
    const p = ppd[offset + b];
    out[b] = p > threshold[b] ? f32(base[b] * (Math.pow(0.5 + (0.5 * p) / threshold[b], exponent[b]) - 1)) * sl : 0;
  }
}

/**
 * Width-weighted Lp norm over bands 1 .. bands-1: W (sum_b (|x_b| w_b)^p / W)^(1/p), W = sum_b w_b.
 */
export function pseudoLp(x: Float32Array, rate: PesqRateTables, p: number): number {
  let total = 0;
  let weight = 0;
  for (let b = 1; b < rate.bands; b++) {
    const w = f32(rate.widthBark[b]);
    total += Math.pow(f32(Math.abs(x[b]) * w), p);
    weight += w;
  }
  return f32(Math.pow(total / weight, 1 / p) * weight);
}

/** Scratch buffers of {@link frameDisturbance}. */
export class DisturbanceScratch {
  readonly refLoudness: Float32Array;
  readonly degLoudness: Float32Array;
  readonly disturbance: Float32Array;
  constructor(bands: number) {
    this.refLoudness = new Float32Array(bands);
    this.degLoudness = new Float32Array(bands);
    this.disturbance = new Float32Array(bands);
  }
}

const ASYM_EXPONENT = f32(1.2);

/**
 * The two disturbances of one frame whose degraded densities have already been gain-matched: the
 * loudness difference per band, shrunk towards 0 by a dead zone of a quarter of the smaller loudness,
 * aggregated by an L2 norm (symmetric); and the same densities weighted by the asymmetry factor
 * ((P_deg + 50) / (P_ref + 50))^1.2 (capped at 12, 0 below 3: only added components count),
 * aggregated by an L1 norm (asymmetric).
 */
export function frameDisturbance(refPpd: Float32Array, degPpd: Float32Array, offset: number, rate: PesqRateTables,
  s: DisturbanceScratch): { symmetric: number; asymmetric: number } {
  loudness(refPpd, offset, rate, s.refLoudness);
  loudness(degPpd, offset, rate, s.degLoudness);
  const dist = s.disturbance;
  for (let b = 0; b < rate.bands; b++) {
    const ld = s.degLoudness[b];
    const lr = s.refLoudness[b];
    const d = f32(ld - lr);
    const m = f32(Math.min(ld, lr) * 0.25);
    dist[b] = d > m ? d - m : d < -m ? d + m : 0;
  }
  const symmetric = pseudoLp(dist, rate, 2);
  for (let b = 0; b < rate.bands; b++) {
    const ratio = f32(f32(degPpd[offset + b] + 50) / f32(refPpd[offset + b] + 50));
    let h = f32(Math.pow(ratio, ASYM_EXPONENT));
    if (h > 12) h = 12;
    if (h < 3) h = 0;
    dist[b] *= h;
  }
  return { symmetric, asymmetric: pseudoLp(dist, rate, 1) };
}

/**
 * Matches the degraded frame's audible power to the reference's (in place): gain (ref + 5000) /
 * (deg + 5000), smoothed over time as 0.2 previous + 0.8 current, clipped to [3e-4, 5]. Returns the
 * unclipped smoothed gain, the next frame's `previous` (null for the first frame of a run).
 */
export function matchFrameGain(refPpd: Float32Array, degPpd: Float32Array, offset: number, rate: PesqRateTables,
  previous: number | null): number {
  const ref = totalAudible(refPpd, offset, rate, 1);
  const deg = totalAudible(degPpd, offset, rate, 1);
  let scale = f32(f32(ref + 5e3) / f32(deg + 5e3));
  if (previous !== null) scale = f32(f32(f32(0.2) * previous) + f32(f32(0.8) * scale));
  const smoothed = scale;
  if (scale > 5) scale = 5;
  if (scale < f32(3e-4)) scale = f32(3e-4);
  for (let b = 0; b < rate.bands; b++) degPpd[offset + b] *= scale;
  return smoothed;
}
