/**
 * Signal-processing helpers of the PESQ model: real FFTs (fft.js), the FFT-domain filter that applies
 * a tabulated frequency response, second-order IIR sections, and powers. Signals are stored in
 * single precision, as in the P.862 reference implementation; where that implementation also computes
 * in single precision and the result feeds a threshold decision (IIR filters, the VAD), the arithmetic
 * is rounded to float32 step by step with Math.fround, so that both make the same decisions.
 */
import FFT from 'fft.js';
import { Biquads, ResponseCurve } from './tables';

/** Rounds to the nearest float32 (the reference implementation's `float`). */
export const f32 = Math.fround;

/** Smallest power of two >= n (n >= 1). */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * Real-signal DFTs of one power-of-two length n >= 4 on top of fft.js, with the sign and scaling
 * conventions of the reference implementation: forward X[k] = sum_t x[t] e^(-2 pi i k t / n), inverse
 * x[t] = (1/n) sum_k X[k] e^(2 pi i k t / n). Spectra are interleaved (re, im) arrays of which bins
 * 0 .. n/2 are used (n + 2 values).
 */
export class RealFft {
  readonly n: number;
  private readonly fft: FFT;
  private readonly half: FFT;
  private readonly input: Float64Array;
  private readonly pair: Float64Array;
  private readonly pairSpectrum: Float64Array;
  private readonly packed: Float64Array;
  private readonly output: Float64Array;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;

  constructor(n: number) {
    this.n = n;
    this.fft = new FFT(n);
    this.half = new FFT(n / 2);
    this.input = new Float64Array(n);
    this.pair = new Float64Array(2 * n);
    this.pairSpectrum = new Float64Array(2 * n);
    this.packed = new Float64Array(n);
    this.output = new Float64Array(n);
    this.cos = new Float64Array(n / 2);
    this.sin = new Float64Array(n / 2);
    for (let k = 0; k < n / 2; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
  }

  /** Forward transform of the n values `fill` writes (into a zeroed buffer) into `spectrum` (2n values). */
  forward(spectrum: Float64Array, fill: (input: Float64Array) => void): Float64Array {
    this.input.fill(0);
    fill(this.input);
    this.fft.realTransform(spectrum, this.input);
    return spectrum;
  }

  /**
   * Forward transforms of two real signals with one complex transform: `fill(a, b)` writes the n values
   * of each (into zeroed buffers); z = a + i b has Z[k], and A[k] = (Z[k] + Z*[n-k]) / 2,
   * B[k] = (Z[k] - Z*[n-k]) / 2i. Bins 0 .. n/2 go to `specA` and `specB`.
   */
  forwardPair(specA: Float64Array, specB: Float64Array, fill: (a: Float64Array, b: Float64Array) => void): void {
    const n = this.n;
    const a = this.input;
    const b = this.packed; // free until inverse() runs
    a.fill(0);
    b.fill(0);
    fill(a, b);
    const z = this.pair;
    for (let t = 0; t < n; t++) {
      z[2 * t] = a[t];
      z[2 * t + 1] = b[t];
    }
    const zs = this.pairSpectrum;
    this.fft.transform(zs, z);
    for (let k = 0; k <= n / 2; k++) {
      const j = k === 0 ? 0 : n - k;
      const zr = zs[2 * k], zi = zs[2 * k + 1], cr = zs[2 * j], ci = -zs[2 * j + 1];
      specA[2 * k] = 0.5 * (zr + cr);
      specA[2 * k + 1] = 0.5 * (zi + ci);
      specB[2 * k] = 0.5 * (zi - ci);
      specB[2 * k + 1] = -0.5 * (zr - cr);
    }
  }

  /**
   * Inverse transform of the Hermitian spectrum given by bins 0 .. n/2 of `spectrum` (the imaginary
   * parts of bins 0 and n/2 are ignored). Returns x[0 .. n) in a buffer valid until the next inverse
   * call on this instance. Computed with one complex transform of n/2 points: z[m] = x[2m] + i x[2m+1]
   * has Z[k] = E[k] + i O[k], E[k] = (X[k] + X*[n/2 - k]) / 2, O[k] = (X[k] - X*[n/2 - k]) e^(2 pi i k/n) / 2.
   */
  inverse(spectrum: Float64Array): Float64Array {
    const m = this.n / 2;
    const z = this.packed;
    const { cos, sin } = this;
    for (let k = 0; k < m; k++) {
      const ar = spectrum[2 * k];
      const ai = k === 0 ? 0 : spectrum[2 * k + 1];
      const br = spectrum[2 * (m - k)];
      const bi = k === 0 ? 0 : -spectrum[2 * (m - k) + 1]; // conj(X[m - k])
      const er = 0.5 * (ar + br);
      const ei = 0.5 * (ai + bi);
      const dr = 0.5 * (ar - br);
      const di = 0.5 * (ai - bi);
      const or = dr * cos[k] - di * sin[k];
      const oi = dr * sin[k] + di * cos[k];
      z[2 * k] = er - oi;
      z[2 * k + 1] = ei + or;
    }
    this.half.inverseTransform(this.output, z);
    return this.output;
  }
}

const ffts = new Map<number, RealFft>();

/** A shared RealFft of length n (a few lengths stay cached). */
export function realFftOf(n: number): RealFft {
  let f = ffts.get(n);
  if (!f) {
    f = new RealFft(n);
    if (ffts.size >= 16) ffts.delete(ffts.keys().next().value as number);
    ffts.set(n, f);
  }
  return f;
}

/**
 * A tabulated response in dB at `freq`: linear interpolation between the points that enclose it,
 * extrapolation along the first or last segment outside them.
 */
export function responseDb(freq: number, curve: ResponseCurve): number {
  const last = curve.length - 1;
  let i = 1;
  if (freq >= curve[last][0]) i = last;
  else while (i < last && curve[i][0] < freq) i++;
  const [fLo, dbLo] = curve[i - 1];
  const [fHi, dbHi] = curve[i];
  return f32(((freq - fLo) * dbHi + (fHi - freq) * dbLo) / (fHi - fLo));
}

const gainCache = new WeakMap<ResponseCurve, Map<number, Float32Array>>();

/**
 * Linear gains of a tabulated response at the bins k fs / n, k = 0 .. n/2, relative to its value at
 * 1 kHz (float32 steps as in the reference). Cached per curve, sample rate and n.
 */
function responseGains(curve: ResponseCurve, n: number, sampleRate: number): Float32Array {
  let byKey = gainCache.get(curve);
  if (!byKey) gainCache.set(curve, (byKey = new Map()));
  const key = n * 100000 + sampleRate;
  let gains = byKey.get(key);
  if (!gains) {
    gains = new Float32Array(n / 2 + 1);
    const gain1k = responseDb(1000, curve);
    const resolution = f32(sampleRate / n);
    for (let k = 0; k <= n / 2; k++) {
      const db = f32(responseDb(f32(k * resolution), curve) - gain1k);
      gains[k] = Math.pow(10, f32(db / 20));
    }
    if (byKey.size >= 4) byKey.delete(byKey.keys().next().value as number);
    byKey.set(key, gains);
  }
  return gains;
}

/**
 * Filters data[start .. start + length) of each signal in place by a zero-phase FFT filter of the
 * tabulated response, normalised to 0 dB at 1 kHz: one FFT over the whole stretch, zero-padded to a
 * power of two (so the filter's tails wrap only into the padding).
 */
export function applyResponse(signals: Float32Array[], start: number, length: number, curve: ResponseCurve,
  sampleRate: number): void {
  const n = nextPow2(length);
  const fft = realFftOf(n);
  const gains = responseGains(curve, n, sampleRate);
  const spec = new Float64Array(2 * n);
  for (const data of signals) {
    fft.forward(spec, (x) => {
      for (let i = 0; i < length; i++) x[i] = data[start + i];
    });
    for (let k = 0; k <= n / 2; k++) {
      spec[2 * k] *= gains[k];
      spec[2 * k + 1] *= gains[k];
    }
    const y = fft.inverse(spec);
    for (let i = 0; i < length; i++) data[start + i] = y[i];
  }
}

/**
 * Runs a[start .. start + length) and b[start .. start + length) in place through a cascade of
 * second-order sections (direct form II, zero initial state), in float32 arithmetic. Two signals go
 * through together because each recursion is a chain of dependent float32 roundings: interleaving two
 * independent chains nearly doubles the throughput.
 */
export function biquadCascade(a: Float32Array, b: Float32Array, start: number, length: number, sections: Biquads): void {
  const end = start + length;
  for (const section of sections) {
    const [b0, b1, b2, a1, a2] = section.map(f32);
    let za1 = 0, za2 = 0, zb1 = 0, zb2 = 0;
    for (let i = start; i < end; i++) {
      const za0 = f32(f32(a[i] - f32(a1 * za1)) - f32(a2 * za2));
      const zb0 = f32(f32(b[i] - f32(a1 * zb1)) - f32(a2 * zb2));
      a[i] = f32(f32(f32(b0 * za0) + f32(b1 * za1)) + f32(b2 * za2));
      b[i] = f32(f32(f32(b0 * zb0) + f32(b1 * zb1)) + f32(b2 * zb2));
      za2 = za1;
      za1 = za0;
      zb2 = zb1;
      zb1 = zb0;
    }
  }
}

/** sum_{i = start}^{stop - 1} x[i]^2 / divisor (squares in float32, the sum in float64). */
export function sumSquares(x: Float32Array, start: number, stop: number, divisor: number): number {
  let power = 0;
  for (let i = start; i < stop; i++) power += f32(x[i] * x[i]);
  return power / divisor;
}

/** Periodic Hann window 0.5 (1 - cos(2 pi t / n)), t = 0 .. n-1, in float32. */
export function hannWindow(n: number): Float32Array {
  const w = new Float32Array(n);
  for (let t = 0; t < n; t++) w[t] = 0.5 * (1 - Math.cos((2 * Math.PI * t) / n));
  return w;
}
