/**
 * The resampler STOI runs its inputs through, as pystoi 0.4.1 (`pystoi/utils.py`: `resample_oct`, a port
 * of Octave's `resample`): a Kaiser-windowed sinc low-pass designed for the rate ratio, normalised to unit
 * DC gain, applied by `scipy.signal.resample_poly(x, p, q, window=h)` (upsample by p, filter, downsample
 * by q, output centred on the filter). Computed directly as a polyphase sum in float64.
 *
 * This is deliberately not {@link resampleArray} from lib/audio (torchaudio's filter): STOI values
 * depend on the exact filter, and pystoi's is this one.
 */
import { besselI0, gcd } from '../util/special';

/** The anti-aliasing filter {@link octaveResampleFilter} designs, with the reduced rate ratio. */
export interface OctaveResampleFilter {
  /** Upsampling factor p / gcd(p, q). */
  up: number;
  /** Downsampling factor q / gcd(p, q). */
  down: number;
  /** Taps h[0 .. 2L], summing to 1 (`resample_oct`'s `window`, before resample_poly multiplies it by `up`). */
  taps: Float64Array;
}

/** Largest filter designed (2L + 1 taps); coprime rates such as 10000 <- 44101 Hz need 3.2e6. */
const MAX_TAPS = 2 ** 23;

/**
 * pystoi's `_resample_window_oct(p, q)` normalised as `resample_oct` uses it. With p, q divided by
 * their gcd, fc = 1 / (2 max(p, q)), roll-off width fc / 10, rejection 60 dB:
 *
 *   L = ceil((60 - 8) / (28.714 * fc / 10)),  t = -L .. L
 *   h[t] = kaiser(2L + 1, beta)[t] * 2 p fc sinc(2 fc t),  beta = 0.1102 * (60 - 8.7)
 *   taps = h / sum(h)
 *
 * (sinc(u) = sin(pi u) / (pi u); kaiser as numpy: I0(beta sqrt(1 - (2n / (M - 1) - 1)^2)) / I0(beta)).
 *
 * @param p target rate (Hz or any integer unit)
 * @param q source rate, the same unit
 */
export function octaveResampleFilter(p: number, q: number): OctaveResampleFilter {
  for (const [name, v] of [['p', p], ['q', q]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`octaveResampleFilter: ${name} must be a positive integer; got ${v}`);
  }
  const g = gcd(p, q);
  const up = p / g;
  const down = q / g;
  const rejectionDb = 60; // -20 * log10_rejection with log10_rejection = -3
  const stopbandCutoff = 1 / (2 * Math.max(up, down));
  const rollOffWidth = stopbandCutoff / 10;
  const L = Math.ceil((rejectionDb - 8) / (28.714 * rollOffWidth));
  const M = 2 * L + 1;
  if (M > MAX_TAPS) {
    throw new Error(`octaveResampleFilter: ${q} -> ${p} reduces to ${down} -> ${up} and needs a ${M}-tap filter ` +
      `(at most ${MAX_TAPS}); use a sample rate with a larger common divisor with ${p}`);
  }
  // rejection_dB > 50 selects this beta in pystoi (Kaiser's formula).
  const beta = 0.1102 * (rejectionDb - 8.7);
  const i0Beta = besselI0(beta);
  const alpha = (M - 1) / 2;
  const taps = new Float64Array(M);
  let sum = 0;
  for (let n = 0; n < M; n++) {
    const r = (n - alpha) / alpha;
    const kaiser = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0Beta;
    const u = Math.PI * 2 * stopbandCutoff * (n - L);
    const sinc = u === 0 ? 1 : Math.sin(u) / u;
    taps[n] = kaiser * 2 * up * stopbandCutoff * sinc;
    sum += taps[n];
  }
  for (let n = 0; n < M; n++) taps[n] /= sum;
  return { up, down, taps };
}

/** Length of {@link resampleOct}'s output: ceil(n * up / down) with up/down the reduced ratio p/q. */
export function resampleOctLength(n: number, p: number, q: number): number {
  const g = gcd(p, q);
  return Math.ceil((n * (p / g)) / (q / g));
}

/**
 * Resamples `x` by p/q as pystoi's `resample_oct(x, p, q)` = `scipy.signal.resample_poly(x, p, q,
 * window=taps)`, in float64. With the filter h = up * taps of length K = 2L + 1, half = L,
 * pre = down - half mod down and skip = (half + pre) / down (resample_poly's centring):
 *
 *   out[k] = sum_n x[n] h[(k + skip) * down - pre - n * up],  0 <= k < ceil(len(x) * up / down)
 *
 * over the n that index inside h (zero padding beyond both ends of x). Equal rates return a copy.
 *
 * @param x the signal at rate q
 * @param p target rate
 * @param q source rate
 * @param filter a filter from {@link octaveResampleFilter}(p, q), to reuse it across calls
 */
export function resampleOct(x: ArrayLike<number>, p: number, q: number,
  filter: OctaveResampleFilter = octaveResampleFilter(p, q)): Float64Array {
  return polyphase(x, null, filter)[0];
}

/**
 * {@link resampleOct} of two signals of one length in one pass (each filter tap is loaded once for
 * both, about 1.4 times faster than two calls; STOI always resamples a pair).
 */
export function resampleOctPair(x: ArrayLike<number>, y: ArrayLike<number>, p: number, q: number,
  filter: OctaveResampleFilter = octaveResampleFilter(p, q)): [Float64Array, Float64Array] {
  if (x.length !== y.length) throw new Error(`resampleOctPair: x and y must have one length; got ${x.length} and ${y.length}`);
  const [ox, oy] = polyphase(x, y, filter);
  return [ox, oy as Float64Array];
}

function polyphase(x: ArrayLike<number>, y: ArrayLike<number> | null,
  filter: OctaveResampleFilter): [Float64Array, Float64Array | null] {
  const { up, down, taps } = filter;
  if (up === 1 && down === 1) return [Float64Array.from(x), y && Float64Array.from(y)];
  const nIn = x.length;
  const nOut = Math.ceil((nIn * up) / down);
  const K = taps.length;
  const half = (K - 1) / 2;
  const pre = down - (half % down);
  const skip = (half + pre) / down; // an integer: half + pre is a multiple of down
  // Polyphase split, reversed: phase f holds ..., h[f + up], h[f], so that each output is one dot
  // product running forward over both the phase and x.
  const phases: Float64Array[] = [];
  for (let f = 0; f < up; f++) {
    const len = Math.ceil((K - f) / up);
    const ph = new Float64Array(len);
    for (let m = 0; m < len; m++) ph[len - 1 - m] = taps[f + m * up] * up;
    phases.push(ph);
  }
  const ox = new Float64Array(nOut);
  const oy = y ? new Float64Array(nOut) : null;
  for (let k = 0; k < nOut; k++) {
    const t = (k + skip) * down - pre; // h index paired with x[0]; x[n] pairs with h[t - n * up]
    const f = t % up;
    const ph = phases[f];
    const base = (t - f) / up - (ph.length - 1); // x index paired with ph[0]
    const i0 = Math.max(0, -base);
    const i1 = Math.min(ph.length, nIn - base);
    if (y && oy) {
      let ax = 0;
      let ay = 0;
      for (let i = i0; i < i1; i++) {
        const h = ph[i];
        ax += h * x[base + i];
        ay += h * y[base + i];
      }
      ox[k] = ax;
      oy[k] = ay;
    } else {
      let ax = 0;
      for (let i = i0; i < i1; i++) ax += ph[i] * x[base + i];
      ox[k] = ax;
    }
  }
  return [ox, oy];
}
