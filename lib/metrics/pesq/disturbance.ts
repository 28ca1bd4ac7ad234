/**
 * P.862 perceptual model over the whole signal and disturbance aggregation (sections 10.2.6 - 10.2.11),
 * on the level-aligned, input-filtered signals and the utterance delays:
 * frames of 32 ms at 50% overlap from the first to the last non-silent reference samples; Bark pitch
 * power densities of the reference and of the delay-compensated degraded signal; the reference scaled
 * per band by the ratio of the two signals' average audible densities over speech frames (linear
 * frequency response compensation, limited to +-20 dB); per frame the degraded gain matched, loudness,
 * disturbances (see perceptual.ts); frames lost to a delay decrease zeroed; bad intervals realigned;
 * disturbances divided by (reference power / 10^7)^0.04 and capped at 45; then aggregated over time:
 * L6 within 20-frame "syllables" overlapping by half, then L2 over syllables (weighted towards the end
 * for signals over 1000 frames):
 *   raw score = 4.5 - 0.1 d_sym - 0.0309 d_asym.
 */
import { f32 } from './dsp';
import { realignBadIntervals, utteranceAt } from './bad_intervals';
import { BarkAnalyzer, DisturbanceScratch, frameDisturbance, matchFrameGain, totalAudible } from './perceptual';
import { PaddedSignal, searchPad, tailPad } from './signal';
import { PesqRateTables, SEARCH_BUFFER } from './tables';
import { idiv, Utterance } from './time_align';

/** Five consecutive samples with |x| summing below this are silence when trimming the ends. */
const SILENCE_OF_5_SAMPLES = 500;
/** Frames per syllable of the time aggregation (the syllables overlap by half). */
const FRAMES_PER_SYLLABLE = 20;

/** The d (symmetric) and a (asymmetric) indicators and the raw P.862 score. */
export interface PesqIndicators {
  symmetric: number;
  asymmetric: number;
  raw: number;
}

/** Samples to skip at one end of the reference before five consecutive samples reach SILENCE_OF_5_SAMPLES. */
function silentSamples(data: Float32Array, first: number, direction: 1 | -1, limit: number): number {
  let skip = 0;
  for (;;) {
    let sum = 0;
    for (let i = 0; i < 5; i++) sum = f32(sum + Math.abs(data[first + direction * (skip + i)]));
    if (sum >= SILENCE_OF_5_SAMPLES) return skip;
    skip++;
    if (skip >= limit) return skip;
  }
}

/** L_q over syllables of L_p over their frames, syllables weighted by `weight[syllable start - start]`. */
function lpqWeight(start: number, stop: number, p: number, q: number, disturbance: Float32Array,
  weight: Float32Array): number {
  let total = 0;
  let totalWeight = 0;
  for (let s = start; s <= stop; s += FRAMES_PER_SYLLABLE / 2) {
    let syllable = 0;
    for (let f = s; f < s + FRAMES_PER_SYLLABLE && f <= stop; f++) syllable += Math.pow(disturbance[f], p);
    syllable = Math.pow(syllable / FRAMES_PER_SYLLABLE, 1 / p);
    total += Math.pow(weight[s - start] * syllable, q);
    totalWeight += Math.pow(weight[s - start], q);
  }
  return f32(Math.pow(total / totalWeight, f32(1 / q)));
}

/**
 * The P.862 indicators of a degraded signal against its reference (both level-aligned and input-filtered,
 * of one length), given the utterances' delays and extents (at least one utterance).
 */
export function pesqIndicators(ref: PaddedSignal, deg: PaddedSignal, utterances: Utterance[],
  rate: PesqRateTables): PesqIndicators {
  const d = rate.downsample;
  const pad = searchPad(rate);
  const tail = tailPad(rate);
  const nsamples = ref.nsamples;
  const nf = rate.frameLength;
  const hop = nf / 2;
  const bands = rate.bands;

  const skipStart = silentSamples(ref.data, pad, 1, idiv(nsamples, 2));
  const skipEnd = silentSamples(ref.data, nsamples - pad + tail - 1, -1, idiv(nsamples, 2));
  const startFrame = idiv(skipStart, hop);
  const stopFrame = idiv(nsamples - 2 * pad + tail - skipEnd, hop) - 1;
  const frames = stopFrame + 1;

  const analyzer = new BarkAnalyzer(rate);
  const refPpd = new Float32Array(frames * bands);
  const degPpd = new Float32Array(frames * bands);
  const silent = new Uint8Array(frames);
  for (let f = 0; f < frames; f++) {
    const startRef = pad + f * hop;
    const startDeg = startRef + utterances[utteranceAt(utterances, startRef, d)].delay;
    const inside = startDeg > 0 && startDeg + nf < nsamples + tail;
    analyzer.framePair(ref.data, startRef, inside ? deg.data : null, startDeg, refPpd, degPpd, f * bands);
    silent[f] = totalAudible(refPpd, f * bands, rate, 100) < 1e7 ? 1 : 0;
  }

  // Frequency response compensation of the reference.
  const divisor = idiv(nsamples - 2 * pad + tail, hop) - 1;
  for (let b = 0; b < bands; b++) {
    let refSum = 0;
    let degSum = 0;
    for (let f = 0; f < frames; f++) {
      if (silent[f]) continue;
      const r = refPpd[f * bands + b];
      const g = degPpd[f * bands + b];
      if (r > 100 * rate.absThresholdPower[b]) refSum += r;
      if (g > 100 * rate.absThresholdPower[b]) degSum += g;
    }
    let x = f32(f32(f32(degSum / divisor) + 1000) / f32(f32(refSum / divisor) + 1000));
    if (x > 100) x = 100;
    if (x < f32(0.01)) x = f32(0.01);
    for (let f = 0; f < frames; f++) refPpd[f * bands + b] *= x;
  }

  const symmetric = new Float32Array(frames);
  const asymmetric = new Float32Array(frames);
  const refPower = new Float32Array(frames);
  const scratch = new DisturbanceScratch(bands);
  let previous = 1;
  for (let f = 0; f < frames; f++) {
    const offset = f * bands;
    refPower[f] = totalAudible(refPpd, offset, rate, 1);
    previous = matchFrameGain(refPpd, degPpd, offset, rate, f > 0 ? previous : null);
    const dist = frameDisturbance(refPpd, degPpd, offset, rate, scratch);
    symmetric[f] = dist.symmetric;
    asymmetric[f] = dist.asymmetric;
  }

  // Frames whose degraded samples were dropped by a delay decrease between utterances count as undisturbed.
  for (let u = 1; u < utterances.length; u++) {
    const cur = utterances[u];
    const prev = utterances[u - 1];
    let first = idiv((cur.start - SEARCH_BUFFER) * d + cur.delay, hop);
    const j = idiv((prev.end - SEARCH_BUFFER) * d + prev.delay, hop);
    first = Math.max(Math.min(first, j), 0);
    const jump = cur.delay - prev.delay;
    if (jump < -hop) {
      const last = idiv((cur.start - SEARCH_BUFFER) * d + Math.max(0, Math.abs(jump)), hop) + 1;
      for (let f = first; f <= last && f < stopFrame; f++) {
        symmetric[f] = 0;
        asymmetric[f] = 0;
      }
    }
  }

  realignBadIntervals({ rate, ref, deg, utterances, stopFrame, refPpd, degPpd, symmetric, asymmetric });

  const weight = new Float32Array(frames).fill(1);
  if (frames > 1000) {
    const n = idiv(nsamples - 2 * pad, hop) - 1;
    const factor = Math.min(f32(f32(n - 1000) / 5500), 0.5);
    for (let f = 0; f < frames; f++) weight[f] = 1 - factor + (factor * f32(f)) / f32(n);
  }
  for (let f = 0; f < frames; f++) {
    const h = f32(Math.pow((refPower[f] + 1e5) / 1e7, 0.04));
    symmetric[f] = Math.min(f32(symmetric[f] / h), 45);
    asymmetric[f] = Math.min(f32(asymmetric[f] / h), 45);
  }
  const dSym = lpqWeight(startFrame, stopFrame, 6, 2, symmetric, weight);
  const dAsym = lpqWeight(startFrame, stopFrame, 6, 2, asymmetric, weight);
  return { symmetric: dSym, asymmetric: dAsym, raw: f32(4.5 - 0.1 * dSym - 0.0309 * dAsym) };
}
