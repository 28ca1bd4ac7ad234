/**
 * BSS-eval signal-to-distortion ratio (Vincent, Gribonval & Févotte 2006, "Performance measurement in blind
 * audio source separation"), as mir_eval.separation.bss_eval_sources (v3) computes it for an estimate and its
 * reference source: the estimate is split into the part explained by the reference through a time-invariant
 * FIR filter of `filterLength` taps (512, as mir_eval and asteroid) and the rest, and
 *
 *   SDR = 10 log10(||P est||^2 / ||est - P est||^2)
 *
 * with P the projection onto the delayed copies of the reference. The filter allows some spectral distortion,
 * so SDR >= the plain SNR of metrics.sdr and differs from SI-SNR for filtered estimates. Float64 on plain
 * arrays: the Gram matrix of the delayed reference is Toeplitz (its autocorrelation, by FFT as mir_eval), so the
 * filter comes from Levinson's recursion in O(taps^2) instead of a dense solve; ||P est||^2 = c^T h with c the
 * cross-correlation and h the filter, and ||est - P est||^2 = ||est||^2 - c^T h.
 */
import FFT from 'fft.js';
import { NumbersLike, readVector } from './inputs';

/** Options of {@link bssSdr}. */
export interface BssSdrOptions {
  /** Taps of the distortion filter. Default 512 (mir_eval's bss_eval_sources and asteroid's metrics). */
  filterLength?: number;
}

const ffts = new Map<number, FFT>();
function fftOf(n: number): FFT {
  let f = ffts.get(n);
  if (!f) ffts.set(n, (f = new FFT(n)));
  return f;
}

/** The complete spectrum of `a` zero-padded to n. */
function spectrum(a: Float64Array, n: number): Float64Array {
  const fft = fftOf(n);
  const padded = new Float64Array(n);
  padded.set(a);
  const spec = fft.createComplexArray() as unknown as Float64Array;
  fft.realTransform(spec, padded);
  fft.completeSpectrum(spec);
  return spec;
}

/**
 * Correlations r[k] = sum_t a[t] b[t - k] for k = 0..lags-1 from the spectra of a and b zero-padded to
 * n >= len + lags - 1: the inverse transform of A conj(B) (circular, linear with that padding).
 */
function correlations(aSpec: Float64Array, bSpec: Float64Array, n: number, lags: number): Float64Array {
  const fft = fftOf(n);
  const prod = fft.createComplexArray() as unknown as Float64Array;
  for (let i = 0; i < n; i++) {
    const ar = aSpec[2 * i], ai = aSpec[2 * i + 1], br = bSpec[2 * i], bi = bSpec[2 * i + 1];
    prod[2 * i] = ar * br + ai * bi;
    prod[2 * i + 1] = ai * br - ar * bi;
  }
  const out = fft.createComplexArray() as unknown as Float64Array;
  fft.inverseTransform(out, prod);
  const r = new Float64Array(lags);
  for (let k = 0; k < lags; k++) r[k] = out[2 * k];
  return r;
}

/**
 * Solves T x = b for the symmetric positive-definite Toeplitz matrix T of first column `r` (Levinson's
 * algorithm, Golub & Van Loan 4.7.3, on T / r[0]). Throws when T is not positive definite.
 */
export function solveToeplitz(r: Float64Array, b: Float64Array): Float64Array {
  const n = r.length;
  if (!(r[0] > 0)) throw new Error('solveToeplitz: the diagonal must be positive');
  const rho = new Float64Array(n);
  for (let i = 1; i < n; i++) rho[i] = r[i] / r[0];
  const x = new Float64Array(n);
  x[0] = b[0] / r[0];
  if (n === 1) return x;
  let y = new Float64Array(n);
  let z = new Float64Array(n);
  y[0] = -rho[1];
  let beta = 1;
  let alpha = -rho[1];
  for (let k = 1; k < n; k++) {
    beta *= 1 - alpha * alpha;
    if (!(beta > 0)) throw new Error('solveToeplitz: the matrix is not positive definite (numerically singular)');
    let s = 0;
    for (let i = 0; i < k; i++) s += rho[i + 1] * x[k - 1 - i];
    const mu = (b[k] / r[0] - s) / beta;
    for (let i = 0; i < k; i++) z[i] = x[i] + mu * y[k - 1 - i];
    for (let i = 0; i < k; i++) x[i] = z[i];
    x[k] = mu;
    if (k < n - 1) {
      let t = 0;
      for (let i = 0; i < k; i++) t += rho[i + 1] * y[k - 1 - i];
      alpha = (-rho[k + 1] - t) / beta;
      for (let i = 0; i < k; i++) z[i] = y[i] + alpha * y[k - 1 - i];
      [y, z] = [z, y];
      y[k] = alpha;
    }
  }
  return x;
}

/**
 * BSS-eval SDR in dB of `estimate` against `reference` (see the module comment): mir_eval's
 * bss_eval_sources SDR of that pair (v3, 512-tap filter), without its search over permutations; match the
 * sources first (pit.pitLoss, or the best SI-SNR assignment). Both signals must have the same length; a silent
 * reference throws (mir_eval refuses it too); a silent estimate gives -Infinity.
 *
 * @param estimate [time] (array or 1-D tensor)
 * @param reference [time]
 */
export function bssSdr(estimate: NumbersLike, reference: NumbersLike, options: BssSdrOptions = {}): number {
  const est = readVector(estimate, 'estimate', 'bssSdr');
  const ref = readVector(reference, 'reference', 'bssSdr');
  const L = options.filterLength ?? 512;
  if (!(Number.isInteger(L) && L >= 1)) throw new Error(`bssSdr: filterLength must be a positive integer, got ${L}`);
  if (est.length !== ref.length) throw new Error(`bssSdr: estimate and reference must have one length, got ${est.length} and ${ref.length}`);
  if (!ref.some((v) => v !== 0)) throw new Error('bssSdr: the reference is silent (all zeros); the SDR is undefined');
  if (!est.some((v) => v !== 0)) return -Infinity;
  const T = est.length;
  const n = 2 ** Math.ceil(Math.log2(T + L - 1));
  const refSpec = spectrum(ref, n);
  const auto = correlations(refSpec, refSpec, n, L);
  const cross = correlations(spectrum(est, n), refSpec, n, L);
  const h = solveToeplitz(auto, cross);
  let proj = 0;
  for (let k = 0; k < L; k++) proj += cross[k] * h[k];
  let energy = 0;
  for (let t = 0; t < T; t++) energy += est[t] * est[t];
  const residual = Math.max(energy - proj, 0);
  return 10 * Math.log10(proj / residual);
}
