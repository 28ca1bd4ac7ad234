/**
 * P.862 utterance splitting (section 10.2.5): a delay can change inside an utterance (a packet-loss
 * concealment, a jitter buffer adapting during speech). Each utterance with at least 200 windows of
 * speech is tried at up to 40 breakpoints; for each, both parts get their own crude and fine delays
 * (the first part from its start forwards, the second from its end backwards). The utterance is split
 * at the breakpoint whose two parts are most confidently aligned, when both parts are more confident
 * than the whole and their delays differ by at least one VAD window; the first part is then tried
 * again. Positions are VAD windows, delays samples, as in {@link Utterance}.
 */
import { f32 } from './dsp';
import { AlignmentInput, crudeSegmentDelay, FrameCorrelator, histogramPeak, idiv, Utterance } from './time_align';
import { MAX_UTTERANCES, SEARCH_BUFFER } from './tables';

/** Speech shorter than this (windows, 800 ms) is never split. */
const MIN_SPLIT_SPEECH = 200;
/** At most this many breakpoints per utterance. */
const MAX_BREAKPOINTS = 40;

/** Delay histogram of one part, built frame by frame (votes spread over a triangle as they come). */
class PartHistogram {
  readonly votes: Float32Array;
  total = 0;
  private readonly spread: Float32Array; // a vote's share at distance 0 .. kernel-1

  constructor(private readonly corr: FrameCorrelator) {
    this.votes = new Float32Array(corr.nfft);
    this.spread = new Float32Array(corr.nfft / 64);
  }

  /** Adds the frame pair at (startr, startd). */
  add(startr: number, startd: number): void {
    const { corr, votes, spread } = this;
    const nfft = corr.nfft;
    const kernel = spread.length;
    const threshold = corr.correlate(startr, startd);
    const vote = f32(f32(Math.pow(threshold, 0.125)) / kernel);
    for (let k = 0; k < kernel; k++) spread[k] = f32(vote * (kernel - k));
    for (let t = 0; t < nfft; t++) {
      if (!(corr.magnitude[t] > threshold)) continue;
      this.total = f32(this.total + spread[0]);
      for (let k = 1 - kernel; k < kernel; k++) {
        const i = (t + k) & (nfft - 1);
        votes[i] = f32(votes[i] + spread[k < 0 ? -k : k]);
      }
    }
  }

  /** The delay (prior estimate + peak lag) and its confidence. */
  result(delayEst: number): { delay: number; conf: number } {
    const peak = histogramPeak(this.votes);
    return { delay: delayEst + peak.lag, conf: this.total > 0 ? f32(peak.value / this.total) : 0 };
  }
}

interface Breakpoint {
  at: number; // window
  est1: number; delay1: number; conf1: number;
  est2: number; delay2: number; conf2: number;
}

/**
 * The best breakpoint of one utterance (window extents start..end, speech from speechStart to
 * speechEnd), or undefined when no breakpoint beats the utterance's own confidence.
 */
function bestBreakpoint(a: AlignmentInput, corr: FrameCorrelator, u: Utterance, speechStart: number,
  speechEnd: number): Breakpoint | undefined {
  const d = a.rate.downsample;
  const nfft = corr.nfft;
  const degLength = a.deg.nsamples;
  const speech = speechEnd - speechStart;
  const delta = nfft / (4 * d);
  const step = Math.trunc((0.801 * speech + 40 * delta - 1) / (40 * delta)) * delta;
  const pad = Math.max(idiv(speech, 10), 75);
  const at = [speechStart + pad];
  for (let next = at[0] + step; next <= speechEnd - pad && at.length < MAX_BREAKPOINTS; next += step) at.push(next);
  const bps: Breakpoint[] = at.map((w) => ({
    at: w,
    est1: crudeSegmentDelay(a, u.start, w, u.delayEst), delay1: 0, conf1: -2,
    est2: crudeSegmentDelay(a, w, u.end, u.delayEst), delay2: 0, conf2: 0,
  }));

  // First parts, forwards from the utterance start; breakpoints sharing a crude delay share frames.
  for (let first = 0; first < bps.length; first++) {
    if (bps[first].conf1 > -2) continue;
    const est = bps[first].est1;
    const h = new PartHistogram(corr);
    let startr = u.start * d;
    let startd = startr + est;
    if (startd < 0) {
      startr = -est;
      startd = 0;
    }
    for (let b = first; b < bps.length; b++) {
      const bp = bps[b];
      if (bp.est1 !== est || bp.conf1 > -2) continue;
      for (; startd + nfft <= degLength && startr + nfft <= bp.at * d; startr += nfft / 4, startd += nfft / 4) {
        h.add(startr, startd);
      }
      const r = h.result(est);
      bp.delay1 = r.delay;
      bp.conf1 = r.conf;
    }
  }

  // Second parts, backwards from the utterance end, only where the first part beats the whole.
  for (const bp of bps) bp.conf2 = bp.conf1 > u.delayConf ? -2 : 0;
  for (let first = bps.length - 1; first >= 0; first--) {
    if (bps[first].conf2 > -2) continue;
    const est = bps[first].est2;
    const h = new PartHistogram(corr);
    let startr = u.end * d - nfft;
    let startd = startr + est;
    if (startd + nfft > degLength) {
      startd = degLength - nfft;
      startr = startd - est;
    }
    for (let b = first; b >= 0; b--) {
      const bp = bps[b];
      if (bp.est2 !== est || bp.conf2 > -2) continue;
      for (; startd >= 0 && startr >= bp.at * d; startr -= nfft / 4, startd -= nfft / 4) h.add(startr, startd);
      const r = h.result(est);
      bp.delay2 = r.delay;
      bp.conf2 = r.conf;
    }
  }

  let best: Breakpoint | undefined;
  for (const bp of bps) {
    if (Math.abs(bp.delay2 - bp.delay1) >= d && bp.conf1 > u.delayConf && bp.conf2 > u.delayConf &&
      bp.conf1 + bp.conf2 > (best ? best.conf1 + best.conf2 : 0)) {
      best = bp;
    }
  }
  return best;
}

/** Splits utterances in place (at most MAX_UTTERANCES - 1 in all), see the module comment. */
export function splitUtterances(a: AlignmentInput, corr: FrameCorrelator, us: Utterance[]): void {
  const d = a.rate.downsample;
  const vad = a.refVad;
  for (let i = 0; i < us.length && us.length < MAX_UTTERANCES;) {
    const u = us[i];
    let speechStart = u.start;
    while (speechStart < u.end && vad[speechStart] <= 0) speechStart++;
    let speechEnd = u.end;
    while (speechEnd > u.start && vad[speechEnd] <= 0) speechEnd--;
    speechEnd++;
    corr.clear();
    const bp = speechEnd - speechStart >= MIN_SPLIT_SPEECH ? bestBreakpoint(a, corr, u, speechStart, speechEnd) : undefined;
    if (!bp) {
      i++;
      continue;
    }
    const first: Utterance = { ...u, delayEst: bp.est1, delay: bp.delay1, delayConf: bp.conf1 };
    const second: Utterance = { ...u, delayEst: bp.est2, delay: bp.delay2, delayConf: bp.conf2 };
    const overlap = bp.delay2 < bp.delay1 ? 0 : idiv(bp.delay2 - bp.delay1, 2 * d);
    first.end = bp.at + overlap;
    second.start = bp.at - overlap;
    if ((first.start - SEARCH_BUFFER) * d + bp.delay1 < 0) first.start = SEARCH_BUFFER + idiv(d - 1 - bp.delay1, d);
    if (second.end * d + bp.delay2 > a.deg.nsamples - SEARCH_BUFFER * d) {
      second.end = idiv(a.deg.nsamples - bp.delay2, d) - SEARCH_BUFFER;
    }
    us.splice(i, 1, first, second);
  }
}
