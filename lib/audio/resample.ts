/**
 * Band-limited resampling by windowed-sinc interpolation, equal to torchaudio.functional.resample.
 *
 * With g = gcd(orig, new), o = orig / g and m = new / g, output sample j * m + i (i < m) is
 * sum_n x[j * o + n - W] * h_i[n], n < 2W + o: a polyphase FIR whose m phases are the rows of
 * {@link resampleKernel}.
 */
import * as tf from '@tensorflow/tfjs';
import { frame } from './frame';
import { besselI0, gcd } from '../util/special';

/**
 * Window of the sinc kernel: 'sinc_interp_hann' (cos^2, torchaudio's default; called
 * 'sinc_interpolation' before torchaudio 2.0) or 'sinc_interp_kaiser' ('kaiser_window').
 */
export type ResamplingMethod = 'sinc_interp_hann' | 'sinc_interp_kaiser';

/** Options of {@link resample}, {@link resampleArray} and {@link resampleKernel} (torchaudio's defaults). */
export interface ResampleOptions {
  /** Zero crossings of the sinc on each side; sharper filter but longer kernel when larger. Default: 6. */
  lowpassFilterWidth?: number;
  /** Cutoff as a fraction of the lower Nyquist frequency, below 1 to reduce aliasing. Default: 0.99. */
  rolloff?: number;
  /** Kernel window. Default: 'sinc_interp_hann'. */
  method?: ResamplingMethod;
  /** Kaiser window beta (only for 'sinc_interp_kaiser'). Default: 14.769656459379492. */
  beta?: number;
}

/** The polyphase kernel {@link resampleKernel} returns. */
export interface ResampleKernel {
  /** Original rate divided by gcd(origFreq, newFreq): input samples per kernel period. */
  orig: number;
  /** New rate divided by the same gcd: output samples (phases) per kernel period. */
  new: number;
  /** Taps on each side beyond one input period: W = ceil(lowpassFilterWidth * orig / (min(orig, new) * rolloff)). */
  width: number;
  /** Row-major [new, 2 * width + orig]: row i is the filter of output phase i. */
  taps: Float64Array;
}

/** Largest kernel built (m x (2W + o) taps, 128 MB in float64); coprime rates such as 44100 -> 16001 exceed it. */
const MAX_TAPS = 2 ** 24;

function checkRates(origFreq: number, newFreq: number, where: string): void {
  for (const [name, v] of [['origFreq', origFreq], ['newFreq', newFreq]] as const) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new Error(`${where}: ${name} must be a positive integer (use an equivalent integer ratio, e.g. 8 and 1 for 44100 -> 5512.5), got ${v}`);
    }
  }
}

/**
 * The windowed-sinc kernel of torchaudio's `_get_sinc_resample_kernel`, in float64. With base =
 * min(o, m) * rolloff and, for phase i and tap n, t = clamp((-i / m + (n - W) / o) * base, -L, L)
 * (L = lowpassFilterWidth):
 * h_i[n] = sinc(pi t) * window(t) * base / o, window = cos^2(pi t / (2L)) (Hann) or
 * I0(beta sqrt(1 - (t/L)^2)) / I0(beta) (Kaiser).
 */
export function resampleKernel(origFreq: number, newFreq: number, opts: ResampleOptions = {}): ResampleKernel {
  checkRates(origFreq, newFreq, 'resampleKernel');
  const L = opts.lowpassFilterWidth ?? 6;
  const rolloff = opts.rolloff ?? 0.99;
  const method = opts.method ?? 'sinc_interp_hann';
  const beta = opts.beta ?? 14.769656459379492;
  if (!(L > 0)) throw new Error(`resampleKernel: lowpassFilterWidth must be positive, got ${L}`);
  if (!(rolloff > 0 && rolloff <= 1)) throw new Error(`resampleKernel: rolloff must be in (0, 1], got ${rolloff}`);
  if (method !== 'sinc_interp_hann' && method !== 'sinc_interp_kaiser') {
    throw new Error(`resampleKernel: method must be 'sinc_interp_hann' or 'sinc_interp_kaiser', got '${method}'`);
  }
  const g = gcd(origFreq, newFreq);
  const o = origFreq / g;
  const m = newFreq / g;
  const base = Math.min(o, m) * rolloff;
  const width = Math.ceil((L * o) / base);
  const K = 2 * width + o;
  if (m * K > MAX_TAPS) {
    throw new Error(`resampleKernel: ${origFreq} -> ${newFreq} Hz reduces to ${o} -> ${m} and needs a ${m} x ${K} kernel; ` +
      'pick rates with a larger common divisor (e.g. round the target rate) or resample in two steps');
  }
  const taps = new Float64Array(m * K);
  const i0Beta = besselI0(beta);
  for (let i = 0; i < m; i++) {
    for (let n = 0; n < K; n++) {
      const t = Math.min(L, Math.max(-L, (-i / m + (n - width) / o) * base));
      const w = method === 'sinc_interp_hann'
        ? Math.cos((t * Math.PI) / L / 2) ** 2
        : besselI0(beta * Math.sqrt(Math.max(0, 1 - (t / L) ** 2))) / i0Beta;
      const pt = t * Math.PI;
      taps[i * K + n] = (pt === 0 ? 1 : Math.sin(pt) / pt) * w * (base / o);
    }
  }
  return { orig: o, new: m, width, taps };
}

/** Output length ceil(newFreq * time / origFreq) (rates reduced by their gcd first, as torchaudio). */
export function resampledLength(time: number, origFreq: number, newFreq: number): number {
  const g = gcd(origFreq, newFreq);
  return Math.ceil(((newFreq / g) * time) / (origFreq / g));
}

/**
 * Resamples the last axis from `origFreq` to `newFreq` Hz, equal to
 * `torchaudio.functional.resample(x, origFreq, newFreq, lowpass_filter_width, rolloff, method, beta)`.
 * The signal is zero-padded by W before and W + o after, cut into frames of 2W + o samples every o
 * samples, multiplied by the kernel's m phases and interleaved; the output has
 * ceil(m * time / o) samples. Differentiable (frames, matMul, reshape). Equal rates return a copy.
 * @param x [..., time].
 * @returns [..., ceil(newFreq * time / origFreq)].
 */
export function resample(x: tf.Tensor, origFreq: number, newFreq: number, opts: ResampleOptions = {}): tf.Tensor {
  if (!(x instanceof tf.Tensor) || x.rank < 1) throw new Error(`resample: expected a tensor [..., time], got ${x instanceof tf.Tensor ? `shape [${x.shape.join(', ')}]` : typeof x}`);
  const k = resampleKernel(origFreq, newFreq, opts);
  if (k.orig === k.new) return tf.clone(x);
  const time = x.shape[x.rank - 1];
  const lead = x.shape.slice(0, -1);
  const outLength = resampledLength(time, origFreq, newFreq);
  const K = 2 * k.width + k.orig;
  const tapsT = new Float32Array(K * k.new); // [K, new]
  for (let i = 0; i < k.new; i++) for (let n = 0; n < K; n++) tapsT[n * k.new + i] = k.taps[i * K + n];
  return tf.tidy(() => {
    const rows = lead.reduce((a, b) => a * b, 1);
    const padded = x.toFloat().reshape([rows, time]).pad([[0, 0], [k.width, k.width + k.orig]]);
    const frames = frame(padded, K, k.orig); // [rows, F, K]
    const F = frames.shape[1] as number;
    const y = tf.matMul(frames.reshape([rows * F, K]), tf.tensor2d(tapsT, [K, k.new])); // [rows*F, new]
    return y.reshape([rows, F * k.new]).slice([0, 0], [rows, outLength]).reshape([...lead, outLength]);
  });
}

/**
 * {@link resample} for one channel held in a Float32Array, without tensors (for dataset readers);
 * accumulates in float64. Same kernel and output length.
 */
export function resampleArray(x: Float32Array, origFreq: number, newFreq: number, opts: ResampleOptions = {}): Float32Array {
  if (!(x instanceof Float32Array)) throw new Error(`resampleArray: expected a Float32Array, got ${Object.prototype.toString.call(x)}`);
  const k = resampleKernel(origFreq, newFreq, opts);
  if (k.orig === k.new) return x.slice();
  const outLength = resampledLength(x.length, origFreq, newFreq);
  const K = 2 * k.width + k.orig;
  const out = new Float32Array(outLength);
  for (let j = 0; j * k.new < outLength; j++) {
    const start = j * k.orig - k.width; // input index of tap 0
    const n0 = Math.max(0, -start);
    const n1 = Math.min(K, x.length - start);
    for (let i = 0; i < k.new && j * k.new + i < outLength; i++) {
      const row = i * K;
      let acc = 0;
      for (let n = n0; n < n1; n++) acc += x[start + n] * k.taps[row + n];
      out[j * k.new + i] = acc;
    }
  }
  return out;
}
