/**
 * P.862 time alignment (section 10.2.3 - 10.2.5), on the alignment-filtered signals:
 * 1. crude delay of the whole signal from the cross-correlation of the two VAD envelopes (log powers in
 *    4 ms windows);
 * 2. utterances: runs of reference speech of at least 200 ms, each with a search window 75 windows wider
 *    on either side;
 * 3. per utterance, a crude delay from the envelopes within the search window, refined to the sample by a
 *    histogram of the peaks of Hann-windowed frame cross-correlations (frames of alignNfft samples, hop
 *    alignNfft / 4), smoothed with a triangle; the histogram's normalised peak is the delay confidence;
 * 4. utterance boundaries: halfway between neighbouring utterances, kept inside the degraded signal.
 * Delays are in samples of the degraded signal relative to the reference (deg index = ref index + delay).
 */
import { f32, hannWindow, nextPow2, RealFft, realFftOf } from './dsp';
import { PaddedSignal } from './signal';
import { MIN_UTTERANCE_WINDOWS, PesqRateTables, SEARCH_BUFFER } from './tables';

/** One utterance as the alignment finds it. Positions are in VAD windows of the padded reference. */
export interface Utterance {
  /** Search window for its delay. */
  searchStart: number;
  searchEnd: number;
  /** Crude (envelope) delay, a multiple of `downsample` samples. */
  delayEst: number;
  /** Fine delay in samples. */
  delay: number;
  /** Confidence of the fine delay: the smoothed delay histogram's peak over its total. */
  delayConf: number;
  /** Extent the delay applies to. */
  start: number;
  end: number;
}

/** The signals and envelopes the alignment stages share. */
export interface AlignmentInput {
  rate: PesqRateTables;
  ref: PaddedSignal;
  deg: PaddedSignal;
  refVad: Float32Array;
  refLogVad: Float32Array;
  degLogVad: Float32Array;
}

/** C's integer division (truncation toward zero), which the boundary arithmetic relies on. */
export function idiv(a: number, b: number): number {
  return Math.trunc(a / b);
}

/**
 * Lag (in windows) maximising sum_k x[xs + k] y[ys + k + lag] over lags -(nx - 1) .. ny - 1 (y taken as
 * zero outside ys .. ys + ny); only positive maxima count (none: lag 0), the first maximum wins.
 */
export function envelopeLag(x: Float32Array, xs: number, nx: number, y: Float32Array, ys: number, ny: number): number {
  if (nx <= 1 || ny <= 1) return 0;
  const fft = realFftOf(Math.max(4, nextPow2(nx + ny - 1)));
  const n = fft.n;
  const a = new Float64Array(n + 2);
  const b = new Float64Array(n + 2);
  fft.forwardPair(a, b, (u, v) => {
    for (let k = 0; k < nx; k++) u[nx - 1 - k] = x[xs + k];
    for (let k = 0; k < ny; k++) v[k] = y[ys + k];
  });
  for (let k = 0; k <= n; k += 2) {
    const re = a[k] * b[k] - a[k + 1] * b[k + 1];
    a[k + 1] = a[k] * b[k + 1] + a[k + 1] * b[k];
    a[k] = re;
  }
  const c = fft.inverse(a); // c[i]: correlation at lag i - (nx - 1)
  let best = 0;
  let arg = nx - 1;
  for (let i = 0; i < nx + ny - 1; i++) if (c[i] > best) { best = c[i]; arg = i; }
  return arg - (nx - 1);
}

/**
 * Crude delay in samples of the reference windows [searchStart, searchEnd) around a prior estimate
 * `delayEst` (samples, a multiple of downsample): the envelope lag within that stretch plus delayEst.
 */
export function crudeSegmentDelay(a: AlignmentInput, searchStart: number, searchEnd: number, delayEst: number): number {
  const d = a.rate.downsample;
  const degWindows = a.degLogVad.length;
  let startr = searchStart;
  let startd = startr + idiv(delayEst, d);
  if (startd < 0) {
    startr = -idiv(delayEst, d);
    startd = 0;
  }
  const nr = searchEnd - startr;
  let nd = nr;
  if (startd + nd > degWindows) nd = degWindows - startd;
  return envelopeLag(a.refLogVad, startr, nr, a.degLogVad, startd, nd) * d + delayEst;
}

/** Frame spectra kept by {@link FrameCorrelator} before it starts over. */
const CACHED_SPECTRA = 256;

/**
 * Cross-correlation magnitudes of Hann-windowed frames: |IDFT(conj(R) D)|[lag] for the reference frame
 * at `startr` and the degraded frame at `startd`, lag taken modulo alignNfft. Frame spectra are cached
 * by position (the breakpoint searches revisit the same frames) until {@link clear}.
 */
export class FrameCorrelator {
  readonly nfft: number;
  readonly magnitude: Float32Array;
  private readonly fft: RealFft;
  private readonly window: Float32Array;
  private readonly scratch: Float64Array;
  private readonly scratch2: Float64Array;
  private readonly product: Float64Array;
  private readonly slab: Float64Array;
  private readonly refSlots = new Map<number, number>();
  private readonly degSlots = new Map<number, number>();
  private used = 0;

  constructor(private readonly ref: Float32Array, private readonly deg: Float32Array, nfft: number) {
    this.nfft = nfft;
    this.fft = realFftOf(nfft);
    this.window = hannWindow(nfft);
    this.scratch = new Float64Array(2 * nfft);
    this.scratch2 = new Float64Array(2 * nfft);
    this.product = new Float64Array(nfft + 2);
    this.magnitude = new Float32Array(nfft);
    this.slab = new Float64Array(CACHED_SPECTRA * (nfft + 2));
  }

  /** Forgets the cached frame spectra. */
  clear(): void {
    this.refSlots.clear();
    this.degSlots.clear();
    this.used = 0;
  }

  /** Windowed frame data[start .. start + nfft) into `v`. */
  private frame(v: Float64Array, data: Float32Array, start: number): void {
    const { nfft, window } = this;
    for (let t = 0; t < nfft; t++) v[t] = f32(data[start + t] * window[t]);
  }

  /** Offset in `slab` of a new slot holding bins 0 .. nfft/2 of `spectrum`. */
  private store(slots: Map<number, number>, start: number, spectrum: Float64Array): number {
    const offset = this.used++ * (this.nfft + 2);
    this.slab.set(spectrum.subarray(0, this.nfft + 2), offset);
    slots.set(start, offset);
    return offset;
  }

  /** Fills `magnitude` for one frame pair and returns the peak threshold 0.99 * max (float32). */
  correlate(startr: number, startd: number): number {
    if (this.used + 2 > CACHED_SPECTRA) this.clear();
    let r = this.refSlots.get(startr);
    let dg = this.degSlots.get(startd);
    if (r === undefined && dg === undefined) {
      this.fft.forwardPair(this.scratch, this.scratch2, (a, b) => {
        this.frame(a, this.ref, startr);
        this.frame(b, this.deg, startd);
      });
      r = this.store(this.refSlots, startr, this.scratch);
      dg = this.store(this.degSlots, startd, this.scratch2);
    } else if (r === undefined) {
      r = this.store(this.refSlots, startr, this.fft.forward(this.scratch, (v) => this.frame(v, this.ref, startr)));
    } else if (dg === undefined) {
      dg = this.store(this.degSlots, startd, this.fft.forward(this.scratch, (v) => this.frame(v, this.deg, startd)));
    }
    const rr = r as number;
    const dd = dg as number;
    const { slab: s, product: p } = this;
    for (let k = 0; k <= this.nfft; k += 2) {
      p[k] = s[rr + k] * s[dd + k] + s[rr + k + 1] * s[dd + k + 1];
      p[k + 1] = s[rr + k] * s[dd + k + 1] - s[rr + k + 1] * s[dd + k];
    }
    const c = this.fft.inverse(p);
    let max = 0;
    for (let t = 0; t < this.nfft; t++) {
      const v = (this.magnitude[t] = Math.abs(c[t]));
      if (v > max) max = v;
    }
    return f32(max * f32(0.99));
  }
}

/** Index of the first maximum of h (0 when all are <= 0), as a signed lag modulo h.length. */
export function histogramPeak(h: ArrayLike<number>): { lag: number; value: number } {
  let value = 0;
  let arg = 0;
  for (let i = 0; i < h.length; i++) if (h[i] > value) { value = h[i]; arg = i; }
  return { lag: arg >= h.length / 2 ? arg - h.length : arg, value };
}

/**
 * Fine delay of one utterance: frames of the reference from searchStart (and of the degraded signal
 * delayEst later) at hop nfft / 4 while both fit; each frame votes (0.99 max)^(1/8) for every lag whose
 * correlation magnitude exceeds 0.99 of its maximum; the votes are smoothed by a triangle of half-width
 * nfft / 64 (circularly) and normalised by their total. The delay is delayEst plus the peak lag.
 */
function fineDelay(a: AlignmentInput, corr: FrameCorrelator, u: Utterance): void {
  const d = a.rate.downsample;
  const nfft = corr.nfft;
  const votes = new Float32Array(nfft);
  let startr = u.searchStart * d;
  let startd = startr + u.delayEst;
  if (startd < 0) {
    startr = -u.delayEst;
    startd = 0;
  }
  while (startd + nfft <= a.deg.nsamples && startr + nfft <= u.searchEnd * d) {
    const threshold = corr.correlate(startr, startd);
    const vote = f32(Math.pow(threshold, 0.125));
    for (let t = 0; t < nfft; t++) if (corr.magnitude[t] > threshold) votes[t] = f32(votes[t] + vote);
    startr += nfft / 4;
    startd += nfft / 4;
  }
  let total = 0;
  for (let t = 0; t < nfft; t++) total = f32(total + votes[t]);
  const kernel = nfft / 64;
  const smoothed = new Float64Array(nfft);
  if (total > 0) {
    for (let t = 0; t < nfft; t++) {
      if (votes[t] === 0) continue;
      smoothed[t] += votes[t];
      for (let k = 1; k < kernel; k++) {
        const w = votes[t] * (1 - k / kernel);
        smoothed[(t + k) % nfft] += w;
        smoothed[(t - k + nfft) % nfft] += w;
      }
    }
    for (let t = 0; t < nfft; t++) smoothed[t] = f32(smoothed[t] / total);
  }
  const peak = histogramPeak(smoothed);
  u.delay = u.delayEst + peak.lag;
  u.delayConf = peak.value;
}

/**
 * Runs of reference speech that make utterances: at least MIN_UTTERANCE_WINDOWS windows, and overlapping
 * the part of the degraded signal the crude delay maps them into. Returns [start, end] window pairs, end
 * being the first non-speech window (or the last window).
 */
export function speechRuns(a: AlignmentInput, crudeDelay: number): Array<[number, number]> {
  const d = a.rate.downsample;
  const vad = a.refVad;
  const n = Math.floor(a.ref.nsamples / d);
  const degStart = MIN_UTTERANCE_WINDOWS - idiv(crudeDelay, d);
  const degEnd = idiv(a.deg.nsamples - crudeDelay, d) - MIN_UTTERANCE_WINDOWS;
  const runs: Array<[number, number]> = [];
  let inSpeech = false;
  let start = 0;
  for (let w = 0; w < n; w++) {
    if (vad[w] > 0 && !inSpeech) {
      inSpeech = true;
      start = w;
    }
    if ((vad[w] === 0 || w === n - 1) && inSpeech) {
      inSpeech = false;
      if (w - start >= MIN_UTTERANCE_WINDOWS && start < degEnd && w > degStart) runs.push([start, w]);
    }
  }
  return runs;
}

/**
 * Steps 1 - 3 above: the crude delay, then each utterance's search window, crude delay and fine delay.
 * Utterance extents (`start`, `end`) are left to {@link utteranceBounds}.
 */
export function locateUtterances(a: AlignmentInput): { crudeDelay: number; utterances: Utterance[] } {
  const d = a.rate.downsample;
  const crudeDelay = envelopeLag(a.refLogVad, 0, a.refLogVad.length, a.degLogVad, 0, a.degLogVad.length) * d;
  const last = a.refLogVad.length - 1;
  const corr = new FrameCorrelator(a.ref.data, a.deg.data, a.rate.alignNfft);
  const utterances = speechRuns(a, crudeDelay).map(([start, end]): Utterance => {
    const u: Utterance = {
      searchStart: Math.max(start - SEARCH_BUFFER, 0), searchEnd: Math.min(end + SEARCH_BUFFER, last),
      delayEst: 0, delay: 0, delayConf: 0, start, end,
    };
    u.delayEst = crudeSegmentDelay(a, u.searchStart, u.searchEnd, crudeDelay);
    corr.clear();
    fineDelay(a, corr, u);
    return u;
  });
  return { crudeDelay, utterances };
}

/**
 * Step 4: utterance extents. The first starts at SEARCH_BUFFER and the last ends SEARCH_BUFFER windows
 * before the end; neighbours meet halfway between their speech runs, then, where their delays make the
 * degraded stretches overlap, halfway in degraded time. Extents are kept inside the degraded signal.
 */
export function utteranceBounds(a: AlignmentInput, us: Utterance[]): void {
  if (us.length === 0) return;
  const d = a.rate.downsample;
  const vadLength = Math.floor(a.ref.nsamples / d);
  const degLength = a.deg.nsamples;
  us[0].start = SEARCH_BUFFER;
  us[us.length - 1].end = vadLength - SEARCH_BUFFER;
  for (let i = 1; i < us.length; i++) {
    const mid = idiv(us[i].start + us[i - 1].end, 2);
    us[i].start = mid;
    us[i - 1].end = mid;
  }
  if (us[0].start * d + us[0].delay < SEARCH_BUFFER * d) {
    us[0].start = SEARCH_BUFFER + idiv(d - 1 - us[0].delay, d);
  }
  const last = us[us.length - 1];
  if (last.end * d + last.delay > degLength - SEARCH_BUFFER * d) {
    last.end = idiv(degLength - last.delay, d) - SEARCH_BUFFER;
  }
  for (let i = 1; i < us.length; i++) {
    const thisStart = us[i].start * d + us[i].delay;
    const lastEnd = us[i - 1].end * d + us[i - 1].delay;
    if (thisStart < lastEnd) {
      const mid = idiv(thisStart + lastEnd, 2);
      us[i].start = idiv(d - 1 + mid - us[i].delay, d);
      us[i - 1].end = idiv(mid - us[i - 1].delay, d);
    }
  }
}
