/**
 * The STFT of DCCRN's reference code (huyanxin/DeepComplexCRN, conv_stft.py: ConvSTFT / ConviSTFT with
 * feature_type 'complex'), frames-first. It differs from audio.stft: the window (periodic Hann, no square
 * root) covers the first winLen samples of each fftLen-point frame instead of being centred in it; the
 * signal is zero-padded by winLen - winInc on both sides instead of reflect-padded; and the inverse is
 * the pseudo-inverse of the (unwindowed) forward basis times the window, divided by the overlap-added
 * squared window plus 1e-8, with winLen - winInc samples cut from both ends.
 */
import * as tf from '@tensorflow/tfjs';
import { frame, numFrames, overlapAdd } from '../audio/frame';
import { hannWindow, unitCircle } from '../audio/window';

/** Geometry of {@link convStft} / {@link convIstft}. */
export interface ConvStftOptions {
  /** Window length (samples), <= fftLen. */
  winLen: number;
  /** Hop between frames (samples). */
  winInc: number;
  /** FFT size; bins fftLen/2 + 1. */
  fftLen: number;
}

function check(o: ConvStftOptions, where: string): void {
  const { winLen, winInc, fftLen } = o;
  for (const [k, v] of Object.entries({ winLen, winInc, fftLen })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${where}: ${k} must be a positive integer, got ${v}`);
  }
  if (winLen > fftLen) throw new Error(`${where}: winLen ${winLen} exceeds fftLen ${fftLen}`);
}

/** Bins of the one-sided spectrum. */
export function convStftBins(fftLen: number): number {
  return Math.floor(fftLen / 2) + 1;
}

/** Frames of a signal of `length` samples: 1 + floor((length + 2 (winLen - winInc) - winLen) / winInc). */
export function convStftFrames(length: number, o: ConvStftOptions): number {
  return numFrames(length + 2 * (o.winLen - o.winInc), o.winLen, o.winInc);
}

/** Length of the reference's inverse for `frames` frames: (frames - 1) winInc + winLen - 2 (winLen - winInc). */
export function convIstftLength(frames: number, o: ConvStftOptions): number {
  return (frames - 1) * o.winInc + o.winLen - 2 * (o.winLen - o.winInc);
}

const cache = new Map<string, { forward: Float32Array; inverse: Float32Array }>();

/**
 * The unwindowed real DFT basis K [2F, winLen] of the reference (rfft(eye(fftLen))[:winLen], real parts
 * then imaginary parts: K[k][n] = cos(2 pi k n / N), K[F + k][n] = -sin(2 pi k n / N)), in float64.
 */
function dftRows(o: ConvStftOptions): Float64Array {
  const F = convStftBins(o.fftLen), W = o.winLen;
  const k = new Float64Array(2 * F * W);
  for (let b = 0; b < F; b++) {
    for (let n = 0; n < W; n++) {
      const [c, s] = unitCircle(b * n, o.fftLen);
      k[b * W + n] = c;
      k[(F + b) * W + n] = -s;
    }
  }
  return k;
}

/**
 * pinv(K)^T [2F, W] for K [2F, W] of full column rank (W <= N makes it so): (K (K^T K)^-1), through a
 * Cholesky factorisation of K^T K, in float64 (numpy's pinv gives the same up to rounding).
 */
function pinvTranspose(K: Float64Array, rows: number, W: number): Float64Array {
  const A = new Float64Array(W * W);
  for (let r = 0; r < rows; r++) {
    const off = r * W;
    for (let i = 0; i < W; i++) {
      const ki = K[off + i];
      if (ki === 0) continue;
      for (let j = 0; j <= i; j++) A[i * W + j] += ki * K[off + j];
    }
  }
  // In-place Cholesky, lower triangle: A = L L^T.
  for (let j = 0; j < W; j++) {
    let d = A[j * W + j];
    for (let p = 0; p < j; p++) d -= A[j * W + p] * A[j * W + p];
    if (!(d > 0)) throw new Error('convIstft: the STFT basis is rank-deficient');
    const l = Math.sqrt(d);
    A[j * W + j] = l;
    for (let i = j + 1; i < W; i++) {
      let s = A[i * W + j];
      for (let p = 0; p < j; p++) s -= A[i * W + p] * A[j * W + p];
      A[i * W + j] = s / l;
    }
  }
  // Row r of the result solves (K^T K) y = K[r] (A symmetric): forward then backward substitution.
  const out = new Float64Array(rows * W);
  const y = new Float64Array(W);
  for (let r = 0; r < rows; r++) {
    const off = r * W;
    for (let i = 0; i < W; i++) {
      let s = K[off + i];
      for (let p = 0; p < i; p++) s -= A[i * W + p] * y[p];
      y[i] = s / A[i * W + i];
    }
    for (let i = W - 1; i >= 0; i--) {
      let s = y[i];
      for (let p = i + 1; p < W; p++) s -= A[p * W + i] * out[off + p];
      out[off + i] = s / A[i * W + i];
    }
  }
  return out;
}

/**
 * Forward basis [W, 2F] (window times K^T: frames @ forward = [Re X, Im X]) and inverse basis [2F, W]
 * (pinv(K)^T times the window: spectrum @ inverse = the windowed frame), float32, cached per geometry.
 */
function bases(o: ConvStftOptions): { forward: Float32Array; inverse: Float32Array } {
  const key = `${o.winLen}:${o.fftLen}`;
  let b = cache.get(key);
  if (!b) {
    const F = convStftBins(o.fftLen), W = o.winLen;
    const w = hannWindow(W);
    const K = dftRows(o);
    const P = pinvTranspose(K, 2 * F, W);
    const forward = new Float32Array(W * 2 * F);
    const inverse = new Float32Array(2 * F * W);
    for (let r = 0; r < 2 * F; r++) {
      for (let n = 0; n < W; n++) {
        forward[n * 2 * F + r] = K[r * W + n] * w[n];
        inverse[r * W + n] = P[r * W + n] * w[n];
      }
    }
    if (cache.size > 16) cache.clear();
    b = { forward, inverse };
    cache.set(key, b);
  }
  return b;
}

/**
 * The reference's ConvSTFT ('complex'): x zero-padded by winLen - winInc on both sides, frames of winLen
 * samples every winInc, X[b, t, k] = sum_n w[n] x_pad[b, t winInc + n] exp(-2 pi i k n / fftLen) for
 * k <= fftLen/2, w the periodic Hann window of winLen (scipy get_window('hann', winLen), no square root).
 * @param x [batch, time].
 * @returns [batch, frames, 2F]: real parts of the F = fftLen/2 + 1 bins, then their imaginary parts (the
 *   reference's [batch, 2F, frames] transposed); frames as {@link convStftFrames}.
 */
export function convStft(x: tf.Tensor, o: ConvStftOptions): tf.Tensor3D {
  check(o, 'convStft');
  if (x.rank !== 2) throw new Error(`convStft: expected x [batch, time], got [${x.shape}]`);
  const [B, L] = x.shape;
  const T = convStftFrames(L, o);
  if (T < 1) throw new Error(`convStft: a signal of ${L} samples gives no frame of ${o.winLen} (shape [${x.shape}])`);
  const F2 = 2 * convStftBins(o.fftLen);
  return tf.tidy(() => {
    const p = o.winLen - o.winInc;
    const frames = frame(tf.pad(x, [[0, 0], [p, p]]), o.winLen, o.winInc);                  // [B, T, W]
    const spec = tf.matMul(tf.reshape(frames, [B * T, o.winLen]), tf.tensor2d(bases(o).forward, [o.winLen, F2]));
    return tf.reshape(spec, [B, T, F2]) as tf.Tensor3D;
  });
}

/**
 * The reference's ConviSTFT ('complex'): windowed frames spec @ pinv(K)^T w, overlap-added every winInc,
 * divided by the overlap-added squared window plus 1e-8, then winLen - winInc samples dropped at the start.
 * The reference also drops winLen - winInc samples at the end, which gives {@link convIstftLength}
 * samples, the default; a longer `length` keeps samples from that tail (the overlap-add goes on to
 * frames * winInc samples after the start), zero-padded at the end beyond it.
 * @param spec [batch, frames, 2F] as {@link convStft} returns.
 * @returns [batch, length].
 */
export function convIstft(spec: tf.Tensor, o: ConvStftOptions, length?: number): tf.Tensor2D {
  check(o, 'convIstft');
  const F2 = 2 * convStftBins(o.fftLen);
  if (spec.rank !== 3 || spec.shape[2] !== F2) {
    throw new Error(`convIstft: expected spec [batch, frames, ${F2}] for fftLen ${o.fftLen}, got [${spec.shape}]`);
  }
  const [B, T] = spec.shape;
  const out = length ?? convIstftLength(T, o);
  if (!Number.isInteger(out) || out < 0) throw new Error(`convIstft: length must be a non-negative integer, got ${length}`);
  const start = o.winLen - o.winInc;
  const total = (T - 1) * o.winInc + o.winLen;
  const keep = Math.max(0, Math.min(out, total - start));
  // The overlap-added squared window over the kept samples, plus the reference's 1e-8.
  const w = hannWindow(o.winLen);
  const coff = new Float64Array(total);
  for (let t = 0; t < T; t++) for (let n = 0; n < o.winLen; n++) coff[t * o.winInc + n] += w[n] * w[n];
  const denom = Float32Array.from(coff.subarray(start, start + keep), (v) => v + 1e-8);
  return tf.tidy(() => {
    const frames = tf.matMul(tf.reshape(spec, [B * T, F2]), tf.tensor2d(bases(o).inverse, [F2, o.winLen]));
    const y = overlapAdd(tf.reshape(frames, [B, T, o.winLen]), o.winInc);                   // [B, total]
    const kept = tf.div(tf.slice(y, [0, start], [B, keep]), tf.tensor1d(denom));
    return (keep < out ? tf.pad(kept, [[0, 0], [0, out - keep]]) : kept) as tf.Tensor2D;
  });
}
