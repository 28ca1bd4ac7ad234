/**
 * STOI (Taal et al. 2011) and ESTOI (Jensen & Taal 2016), computed as pystoi 0.4.1 computes them, in
 * float64 on plain arrays (no tensors: the work is a few thousand small FFTs and dot products).
 */
import FFT from 'fft.js';
import { readSignals, readVector, NumbersLike, SignalBatch } from './inputs';
import { octaveResampleFilter, resampleOctPair, OctaveResampleFilter } from './stoi_resample';
import { thirdOctaveBands } from './stoi_bands';

/**
 * What {@link stoi} does when fewer than 30 frames remain after silent-frame removal (too short or
 * mostly silent input): 'warn' returns 1e-5 after a warning, as pystoi does (a RuntimeWarning there, a
 * `process.emitWarning(..., 'RuntimeWarning')` here, which Node prints on every call where Python's
 * default filter shows it once per process; `console.warn` outside Node); 'silent' returns 1e-5
 * without one; 'throw' throws an error instead.
 */
export type StoiShortInput = 'warn' | 'silent' | 'throw';

/** Options of {@link stoi} and {@link stoiBatch}. */
export interface StoiOptions {
  /** Compute ESTOI (Jensen & Taal 2016) instead of STOI. Default false. */
  extended?: boolean;
  /** Behaviour on input with fewer than 30 frames left after silence removal. Default 'warn'. */
  onShort?: StoiShortInput;
}

/** The value pystoi returns for input with fewer than 30 frames left after silence removal. */
export const STOI_SHORT_INPUT_VALUE = 1e-5;

const FS = 10000; // internal sample rate
const N_FRAME = 256; // window support
const HOP = 128;
const NFFT = 512;
const NUM_BANDS = 15;
const MIN_FREQ = 150; // centre of the first one-third-octave band, Hz
const N = 30; // frames per segment (384 ms)
const BETA = -15; // lower signal-to-distortion bound, dB
const DYN_RANGE = 40; // dB below the loudest reference frame that counts as silence
const EPS = Number.EPSILON; // numpy's finfo(float).eps, as pystoi
const CLIP = 1 + 10 ** (-BETA / 20);

// MATLAB's hanning(256) = numpy hanning(258)[1:-1]: 0.5 - 0.5 cos(2 pi n / 257), n = 1 .. 256.
const WINDOW = Float64Array.from({ length: N_FRAME }, (_, k) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (k + 1)) / (N_FRAME + 1)));
const BANDS = thirdOctaveBands(FS, NFFT, NUM_BANDS, MIN_FREQ);
const FFT_512 = new FFT(NFFT);
const filters = new Map<number, OctaveResampleFilter>();

function filterFor(sampleRate: number): OctaveResampleFilter {
  let f = filters.get(sampleRate);
  if (!f) {
    f = octaveResampleFilter(FS, sampleRate);
    if (filters.size >= 8) filters.delete(filters.keys().next().value as number);
    filters.set(sampleRate, f);
  }
  return f;
}

/** pystoi's frame starts: range(0, len - 256, 128), which leaves out the last full frame. */
function frameCount(length: number): number {
  return length > N_FRAME ? Math.ceil((length - N_FRAME) / HOP) : 0;
}

/**
 * pystoi's remove_silent_frames: Hann-windowed frames of 256 every 128 samples; frames whose reference
 * energy 20 log10(||w x_frame|| + eps) is not within 40 dB of the loudest are dropped from both signals,
 * and the kept windowed frames are overlap-added at hop 128 (so formerly distant frames become
 * neighbours). Returns the two overlap-added signals, (kept - 1) * 128 + 256 samples long.
 */
function removeSilentFrames(x: Float64Array, y: Float64Array): [Float64Array, Float64Array] {
  const nFrames = frameCount(x.length);
  const energies = new Float64Array(nFrames);
  let maxE = -Infinity;
  for (let j = 0; j < nFrames; j++) {
    let s = 0;
    for (let t = 0, i = j * HOP; t < N_FRAME; t++, i++) {
      const v = WINDOW[t] * x[i];
      s += v * v;
    }
    energies[j] = 20 * Math.log10(Math.sqrt(s) + EPS);
    if (energies[j] > maxE) maxE = energies[j];
  }
  const kept: number[] = [];
  for (let j = 0; j < nFrames; j++) if (maxE - DYN_RANGE - energies[j] < 0) kept.push(j);
  const length = kept.length ? (kept.length - 1) * HOP + N_FRAME : 0;
  const xs = new Float64Array(length);
  const ys = new Float64Array(length);
  kept.forEach((j, k) => {
    for (let t = 0, i = j * HOP, o = k * HOP; t < N_FRAME; t++, i++, o++) {
      xs[o] += WINDOW[t] * x[i];
      ys[o] += WINDOW[t] * y[i];
    }
  });
  return [xs, ys];
}

/**
 * One-third-octave band envelopes, band-major [15, frames]: sqrt of the band's summed |X_k|^2 over
 * the 512-point FFT of each Hann-windowed 256-sample frame (frames as {@link frameCount}).
 */
function bandEnvelopes(x: Float64Array, nFrames: number): Float64Array {
  const out = new Float64Array(NUM_BANDS * nFrames);
  const frame = new Float64Array(NFFT); // the second half stays zero: the FFT's zero padding
  const spec = new Float64Array(2 * NFFT);
  const power = new Float64Array(NFFT / 2 + 1);
  for (let j = 0; j < nFrames; j++) {
    for (let t = 0, i = j * HOP; t < N_FRAME; t++, i++) frame[t] = WINDOW[t] * x[i];
    FFT_512.realTransform(spec, frame);
    for (let k = 0; k <= NFFT / 2; k++) power[k] = spec[2 * k] * spec[2 * k] + spec[2 * k + 1] * spec[2 * k + 1];
    for (let b = 0; b < NUM_BANDS; b++) {
      let s = 0;
      for (let k = BANDS.lo[b]; k < BANDS.hi[b]; k++) s += power[k];
      out[b * nFrames + j] = Math.sqrt(s);
    }
  }
  return out;
}

/** STOI's mean over segments and bands of the correlation of x with the normalised, clipped y. */
function stoiFromEnvelopes(X: Float64Array, Y: Float64Array, nFrames: number): number {
  const yp = new Float64Array(N);
  let total = 0;
  for (let m = N; m <= nFrames; m++) {
    for (let b = 0; b < NUM_BANDS; b++) {
      const off = b * nFrames + m - N;
      let sxx = 0;
      let syy = 0;
      for (let n = 0; n < N; n++) {
        sxx += X[off + n] * X[off + n];
        syy += Y[off + n] * Y[off + n];
      }
      const alpha = Math.sqrt(sxx) / (Math.sqrt(syy) + EPS);
      let meanX = 0;
      let meanY = 0;
      for (let n = 0; n < N; n++) {
        const xv = X[off + n];
        const v = Math.min(alpha * Y[off + n], xv * CLIP);
        yp[n] = v;
        meanX += xv;
        meanY += v;
      }
      meanX /= N;
      meanY /= N;
      let dot = 0;
      let nx = 0;
      let ny = 0;
      for (let n = 0; n < N; n++) {
        const xc = X[off + n] - meanX;
        const yc = yp[n] - meanY;
        dot += xc * yc;
        nx += xc * xc;
        ny += yc * yc;
      }
      total += dot / ((Math.sqrt(nx) + EPS) * (Math.sqrt(ny) + EPS));
    }
  }
  return total / ((nFrames - N + 1) * NUM_BANDS);
}

/**
 * Row- then column-normalises a 15 x 30 segment in place ([band][frame], row-major): each band's
 * row to zero mean and unit norm, then each frame's column likewise. A zero-norm row or column (an
 * exactly constant envelope) is left at zero; pystoi adds eps-scaled random noise first, which there
 * makes such a row random unit-norm noise.
 */
function rowColNormalise(s: Float64Array): void {
  for (let b = 0; b < NUM_BANDS; b++) {
    const o = b * N;
    let mean = 0;
    for (let n = 0; n < N; n++) mean += s[o + n];
    mean /= N;
    let ss = 0;
    for (let n = 0; n < N; n++) {
      s[o + n] -= mean;
      ss += s[o + n] * s[o + n];
    }
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let n = 0; n < N; n++) s[o + n] *= inv;
  }
  for (let n = 0; n < N; n++) {
    let mean = 0;
    for (let b = 0; b < NUM_BANDS; b++) mean += s[b * N + n];
    mean /= NUM_BANDS;
    let ss = 0;
    for (let b = 0; b < NUM_BANDS; b++) {
      s[b * N + n] -= mean;
      ss += s[b * N + n] * s[b * N + n];
    }
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let b = 0; b < NUM_BANDS; b++) s[b * N + n] *= inv;
  }
}

/** ESTOI's mean over segments of sum(Xn * Yn) / 30 for the row/column-normalised segments. */
function estoiFromEnvelopes(X: Float64Array, Y: Float64Array, nFrames: number): number {
  const xs = new Float64Array(NUM_BANDS * N);
  const ys = new Float64Array(NUM_BANDS * N);
  let total = 0;
  for (let m = N; m <= nFrames; m++) {
    for (let b = 0; b < NUM_BANDS; b++) {
      const off = b * nFrames + m - N;
      for (let n = 0; n < N; n++) {
        xs[b * N + n] = X[off + n];
        ys[b * N + n] = Y[off + n];
      }
    }
    rowColNormalise(xs);
    rowColNormalise(ys);
    let s = 0;
    for (let i = 0; i < NUM_BANDS * N; i++) s += xs[i] * ys[i];
    total += s / N;
  }
  return total / (nFrames - N + 1);
}

function checkSampleRate(sampleRate: number, fn: string): void {
  if (typeof sampleRate !== 'number' || !Number.isFinite(sampleRate) || sampleRate <= 0) {
    throw new Error(`${fn}: sampleRate must be a positive, finite number of Hz; got ${String(sampleRate)}`);
  }
  if (!Number.isInteger(sampleRate)) {
    throw new Error(`${fn}: sampleRate must be an integer number of Hz (the resampler works on integer rate ratios, as pystoi's); got ${sampleRate}`);
  }
}

function checkOptions(options: StoiOptions, fn: string): Required<StoiOptions> {
  const { extended = false, onShort = 'warn' } = options ?? {};
  if (typeof extended !== 'boolean') throw new Error(`${fn}: options.extended must be a boolean; got ${String(extended)}`);
  if (onShort !== 'warn' && onShort !== 'silent' && onShort !== 'throw') {
    throw new Error(`${fn}: options.onShort must be 'warn', 'silent' or 'throw'; got ${String(onShort)}`);
  }
  return { extended, onShort };
}

function checkSignal(x: ArrayLike<number>, what: string, fn: string): void {
  if (x.length === 0) throw new Error(`${fn}: ${what} is empty (0 samples)`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new Error(`${fn}: ${what}[${i}] is ${x[i]}; STOI needs finite samples`);
  }
}

function shortInput(frames: number, onShort: StoiShortInput, fn: string, what: string): number {
  const problem = `${fn}: ${what}only ${frames} STFT frame(s) left after removing silent frames, fewer than the ` +
    `${N} a segment needs (too short, or silent?)`;
  if (onShort === 'throw') throw new Error(problem);
  if (onShort === 'warn') {
    const message = `${problem}; returning ${STOI_SHORT_INPUT_VALUE} as pystoi does`;
    if (typeof process !== 'undefined' && typeof process.emitWarning === 'function') process.emitWarning(message, 'RuntimeWarning');
    else console.warn(message);
  }
  return STOI_SHORT_INPUT_VALUE;
}

/** STOI/ESTOI of checked float64 signals at sampleRate; `what` prefixes the short-input message. */
function stoiOfChecked(estimate: Float64Array, reference: Float64Array, sampleRate: number,
  opts: Required<StoiOptions>, fn: string, what: string): number {
  let x = reference;
  let y = estimate;
  if (sampleRate !== FS) {
    [x, y] = resampleOctPair(x, y, FS, sampleRate, filterFor(sampleRate));
  }
  [x, y] = removeSilentFrames(x, y);
  const nFrames = frameCount(x.length);
  if (nFrames < N) return shortInput(nFrames, opts.onShort, fn, what);
  const X = bandEnvelopes(x, nFrames);
  const Y = bandEnvelopes(y, nFrames);
  return opts.extended ? estoiFromEnvelopes(X, Y, nFrames) : stoiFromEnvelopes(X, Y, nFrames);
}

/**
 * Short-time objective intelligibility of `estimate` against the clean `reference`: STOI (Taal,
 * Hendriks, Heusdens and Jensen, "An algorithm for intelligibility prediction of time-frequency weighted
 * noisy speech", IEEE TASLP 2011) or, with `extended`, ESTOI (Jensen and Taal, "An algorithm for
 * predicting the intelligibility of speech masked by modulated noise maskers", IEEE TASLP 2016), equal
 * to pystoi 0.4.1's `stoi(reference, estimate, sampleRate, extended)` (note pystoi's order: clean first).
 *
 * 1. Both signals are resampled to 10 kHz by pystoi's `resample_oct` (see lib/metrics/stoi_resample.ts).
 * 2. Silent frames are removed: Hann (MATLAB `hanning(256)`) frames every 128 samples whose reference
 *    energy is more than 40 dB below the loudest reference frame are dropped from both signals, and the
 *    rest overlap-added.
 * 3. 512-point FFTs of the Hann-windowed 256-sample frames (hop 128) are grouped into 15
 *    one-third-octave bands from 150 Hz: X_j(m) = sqrt(sum_{k in band j} |x_hat(k, m)|^2), likewise Y.
 * 4. Segments of N = 30 frames (384 ms) ending at m = 30 .. M. STOI: per band j and segment,
 *    y' = min(a y, (1 + 10^(-beta/20)) x), a = ||x|| / (||y|| + eps), beta = -15 dB, and
 *    d_j,m = corr(x, y') (centred, each divided by its norm + eps); STOI = mean over j and m.
 *    ESTOI: each 15 x 30 segment matrix is normalised per band row (zero mean, unit norm), then per
 *    frame column; d_m = sum(Xn * Yn) / 30; ESTOI = mean over m. (pystoi adds eps-scaled random noise
 *    before each normalisation; this leaves it out, which changes values by ~1e-15 except for an
 *    exactly constant band envelope, which pystoi turns into noise and this into zeros.)
 *
 * With fewer than 30 frames left after step 2 the result is 1e-5 ({@link StoiShortInput}); this
 * includes input of at most 256 samples at 10 kHz, where pystoi itself fails with an indexing error.
 * Values lie in about [-1, 1] (identical signals give 1); higher is more intelligible.
 *
 * @param estimate the processed signal: Float32Array, Float64Array, number[] or a 1-D tensor
 * @param reference the clean signal, the estimate's length
 * @param sampleRate of both signals, a positive integer in Hz (resampled to 10 kHz unless 10000)
 * @param options `extended` (ESTOI; default false), `onShort` (default 'warn')
 * @returns STOI or ESTOI, a number
 */
export function stoi(estimate: NumbersLike, reference: NumbersLike, sampleRate: number, options: StoiOptions = {}): number {
  const fn = 'stoi';
  const est = readVector(estimate, 'estimate', fn);
  const ref = readVector(reference, 'reference', fn);
  checkSampleRate(sampleRate, fn);
  const opts = checkOptions(options, fn);
  checkSignal(est, 'estimate', fn);
  checkSignal(ref, 'reference', fn);
  if (est.length !== ref.length) {
    throw new Error(`${fn}: estimate and reference must have the same length; got estimate ${est.length} and reference ${ref.length} samples`);
  }
  return stoiOfChecked(est, ref, sampleRate, opts, fn, '');
}

/** A batch of signals for {@link stoiBatch}: a [batch, time] tensor or an array of 1-D signals. */
export type StoiBatchInput = SignalBatch;

/**
 * {@link stoi} for each pair of a batch: `stoiBatch(E, R, sr, opts)[i] === stoi(E[i], R[i], sr, opts)`.
 *
 * @param estimates [batch, time] tensor, or an array of 1-D signals (each as {@link stoi} accepts)
 * @param references the same shape: the clean signals
 * @param sampleRate of all signals, Hz
 * @param options as {@link stoi}; a short-input warning or error names the batch index
 * @returns one STOI (or ESTOI) per pair
 */
export function stoiBatch(estimates: StoiBatchInput, references: StoiBatchInput, sampleRate: number, options: StoiOptions = {}): number[] {
  const fn = 'stoiBatch';
  const est = readSignals(estimates, 'estimates', fn);
  const ref = readSignals(references, 'references', fn);
  checkSampleRate(sampleRate, fn);
  const opts = checkOptions(options, fn);
  if (est.length !== ref.length) {
    throw new Error(`${fn}: estimates and references must hold the same number of signals; got ${est.length} and ${ref.length}`);
  }
  for (let i = 0; i < est.length; i++) {
    checkSignal(est[i], `estimates[${i}]`, fn);
    checkSignal(ref[i], `references[${i}]`, fn);
    if (est[i].length !== ref[i].length) {
      throw new Error(`${fn}: estimates[${i}] and references[${i}] must have the same length; got ${est[i].length} and ${ref[i].length} samples`);
    }
  }
  return est.map((e, i) => stoiOfChecked(e, ref[i], sampleRate, opts, fn, `item ${i}: `));
}
