/**
 * P.862 realignment of bad intervals (section 10.2.9): where at least 5 consecutive frames (after
 * smearing by 2 frames) have a symmetric disturbance above 30, the delay may have been estimated wrongly.
 * The degraded signal is re-cut with the utterance delays, each bad interval is cross-correlated once
 * more (envelopes |x|, searched over +-4 frames) against the reference, and where that correlation is at
 * least 0.5 the interval's disturbances are recomputed with the new delay; a frame keeps the smaller of
 * its two disturbances.
 */
import { f32, nextPow2, realFftOf, sumSquares } from './dsp';
import { BarkAnalyzer, DisturbanceScratch, frameDisturbance, matchFrameGain } from './perceptual';
import { PaddedSignal, searchPad, tailPad } from './signal';
import { PesqRateTables } from './tables';
import { Utterance } from './time_align';

/** A frame with a symmetric disturbance above this is bad. */
export const BAD_FRAME_THRESHOLD = 30;
/** Bad flags are smeared over this many frames either side (a frame stays bad if bad on both sides). */
const SMEAR_RANGE = 2;
/** An interval needs at least this many smeared bad frames. */
const MIN_BAD_FRAMES = 5;
/** At most this many intervals are realigned (the reference's array size). */
const MAX_BAD_INTERVALS = 1000;
/** Lag search range in frames. */
const SEARCH_FRAMES = 4;

/** The state of the perceptual model that the realignment reads and updates. */
export interface ModelState {
  rate: PesqRateTables;
  ref: PaddedSignal;
  deg: PaddedSignal;
  utterances: Utterance[];
  stopFrame: number;
  /** Pitch power densities per frame, the reference's already compensated for the frequency response. */
  refPpd: Float32Array;
  degPpd: Float32Array;
  /** Symmetric and asymmetric frame disturbances, lowered in place where realignment helps. */
  symmetric: Float32Array;
  asymmetric: Float32Array;
}

/** Index of the utterance whose extent (from its start on) holds sample i of the padded reference. */
export function utteranceAt(us: Utterance[], i: number, downsample: number): number {
  let u = us.length - 1;
  while (u >= 0 && us[u].start * downsample > i) u--;
  return Math.max(u, 0);
}

/**
 * The degraded signal re-cut with each utterance's delay (the reference's "tweaked" degraded signal):
 * sample i takes the delay of {@link utteranceAt}(i), found in one pass by adding utterances in order of
 * their starts.
 */
function delayCompensated(s: ModelState): Float32Array {
  const pad = searchPad(s.rate);
  const d = s.rate.downsample;
  const us = s.utterances;
  const length = s.ref.nsamples + tailPad(s.rate);
  const out = new Float32Array(length);
  const byStart = us.map((_, k) => k).sort((p, q) => us[p].start - us[q].start);
  let next = 0;
  let current = 0;
  for (let i = pad; i < length - pad; i++) {
    while (next < byStart.length && us[byStart[next]].start * d <= i) current = Math.max(current, byStart[next++]);
    out[i] = s.deg.data[Math.min(Math.max(i + us[current].delay, pad), length - pad - 1)];
  }
  return out;
}

/** Intervals [start, stop) of frames bad after smearing, at least MIN_BAD_FRAMES long. */
function badIntervals(symmetric: Float32Array, stopFrame: number): Array<[number, number]> {
  const bad = new Uint8Array(stopFrame + 1);
  for (let f = 1; f <= stopFrame; f++) bad[f] = symmetric[f] > BAD_FRAME_THRESHOLD ? 1 : 0;
  const smeared = new Uint8Array(stopFrame + 1);
  for (let f = SMEAR_RANGE; f < stopFrame - SMEAR_RANGE; f++) {
    let left = 0;
    let right = 0;
    for (let i = -SMEAR_RANGE; i <= 0; i++) left = Math.max(left, bad[f + i]);
    for (let i = 0; i <= SMEAR_RANGE; i++) right = Math.max(right, bad[f + i]);
    smeared[f] = Math.min(left, right);
  }
  const intervals: Array<[number, number]> = [];
  let f = 0;
  while (f <= stopFrame) {
    while (f <= stopFrame && !smeared[f]) f++;
    if (f > stopFrame) break;
    const start = f;
    while (f <= stopFrame && smeared[f]) f++;
    if (f <= stopFrame && f - start >= MIN_BAD_FRAMES && intervals.length < MAX_BAD_INTERVALS) intervals.push([start, f]);
  }
  return intervals;
}

/**
 * Lag in -range .. range-1 maximising the normalised correlation of the envelopes |x| and |y| (equal
 * lengths), sum_t |x[t]| |y[t + lag]| / sqrt(sum x^2 sum y^2); 0 when either is (nearly) silent or the
 * best correlation is below 0.5.
 */
function envelopeDelay(x: Float32Array, y: Float32Array, range: number): number {
  const n = x.length;
  const size = nextPow2(2 * n);
  const px = (sumSquares(x, 0, n, n) * n) / size;
  const py = (sumSquares(y, 0, n, n) * n) / size;
  if (px <= 1e-6 || py <= 1e-6) return 0;
  const norm = Math.sqrt(px * py);
  // Only lags within +-range are searched, so a transform of n + range points avoids wrap-around.
  const fft = realFftOf(nextPow2(n + range));
  const m = fft.n;
  const a = new Float64Array(m + 2);
  const b = new Float64Array(m + 2);
  fft.forwardPair(a, b, (u, v) => {
    for (let t = 0; t < n; t++) {
      u[t] = Math.abs(x[t]);
      v[t] = Math.abs(y[t]);
    }
  });
  for (let k = 0; k <= m; k += 2) {
    const re = a[k] * b[k] + a[k + 1] * b[k + 1];
    a[k + 1] = a[k] * b[k + 1] - a[k + 1] * b[k];
    a[k] = re;
  }
  const c = fft.inverse(a); // sum_t |x[t]| |y[t + lag]| at lag mod m
  let best = 0;
  let bestLag = 0;
  for (let lag = -range; lag < range; lag++) {
    const h = f32(Math.abs(c[lag < 0 ? lag + m : lag] / size)) / norm;
    if (h > best) {
      best = f32(h);
      bestLag = lag;
    }
  }
  return best < 0.5 ? 0 : bestLag;
}

/** Realigns the bad intervals, if any, updating the disturbances in `s` (see the module comment). */
export function realignBadIntervals(s: ModelState): void {
  const { rate, stopFrame } = s;
  const intervals = badIntervals(s.symmetric, stopFrame);
  if (intervals.length === 0) return;
  const pad = searchPad(rate);
  const nf = rate.frameLength;
  const hop = nf / 2;
  const total = s.ref.nsamples + tailPad(rate);
  const tweaked = delayCompensated(s);
  const range = SEARCH_FRAMES * nf;
  const realigned = tweaked.slice();
  for (const [startFrame, stopF] of intervals) {
    const start = startFrame * hop + pad;
    const stop = stopF * hop + nf + pad;
    const length = stop - start;
    const x = new Float32Array(2 * range + length);
    x.set(s.ref.data.subarray(start, stop), range);
    const y = new Float32Array(2 * range + length);
    for (let i = 0; i < y.length; i++) y[i] = tweaked[Math.min(Math.max(start - range + i, pad), total - pad - 1)];
    const delay = envelopeDelay(x, y, range);
    for (let i = start; i < stop; i++) realigned[i] = tweaked[Math.min(Math.max(i + delay, 0), s.ref.nsamples - 1)];
  }

  const analyzer = new BarkAnalyzer(rate);
  const scratch = new DisturbanceScratch(rate.bands);
  for (const [startFrame, stopF] of intervals) {
    for (let f = startFrame; f < stopF; f++) analyzer.frame(realigned, pad + f * hop, s.degPpd, f * rate.bands);
    let previous = 1;
    for (let f = startFrame; f < stopF; f++) {
      const offset = f * rate.bands;
      previous = matchFrameGain(s.refPpd, s.degPpd, offset, rate, f > 0 ? previous : null);
      const d = frameDisturbance(s.refPpd, s.degPpd, offset, rate, scratch);
      s.symmetric[f] = Math.min(s.symmetric[f], d.symmetric);
      s.asymmetric[f] = Math.min(s.asymmetric[f], d.asymmetric);
    }
  }
}
