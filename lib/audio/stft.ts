/**
 * Short-time Fourier transform and its inverse, equal to torch.stft / torch.istft with a periodic Hann
 * window, reflect padding and one-sided spectra, but frames-first: [batch?, frames, freq].
 *
 * Both are matrix products with a windowed DFT basis over frames cut by `frame` / summed by
 * `overlapAdd` (slices, pads, reshapes), so they are differentiable on every backend.
 */
import * as tf from '@tensorflow/tfjs';
import { ComplexTensor } from './complex';
import { frame, numFrames, overlapAdd } from './frame';
import { hannWindow, unitCircle } from './window';

/** Options of {@link stft}. */
export interface StftOptions {
  /** FFT size; frequency bins nFft/2 + 1 (floor). Required. */
  nFft: number;
  /** Samples between frame starts. Default: floor(nFft / 4), as torch.stft. */
  hopLength?: number;
  /** Window length, <= nFft; the window is zero-padded on both sides to nFft (centred). Default: nFft. */
  winLength?: number;
  /**
   * Pad floor(nFft/2) samples on both sides by reflection so that frame t is centred on sample
   * t * hopLength. Default: true.
   */
  center?: boolean;
  /** Window values (winLength of them). Default: periodic Hann, `torch.hann_window(winLength)`. */
  window?: ArrayLike<number>;
}

/** Options of {@link istft}: those of the forward transform plus the output length. */
export interface IstftOptions extends StftOptions {
  /**
   * Output length in samples: the signal is trimmed, or zero-padded at the end, to it. Default: the
   * full overlap-add length, less floor(nFft/2) at each end when `center`.
   */
  length?: number;
}

interface Resolved {
  nFft: number; hop: number; win: number; center: boolean;
  /** The window zero-padded to nFft. */
  window: Float64Array;
  /** Cache key of the bases when the window is the default Hann window; custom windows are not cached. */
  key?: string;
}

function resolve(opts: StftOptions, where: string): Resolved {
  if (!opts || typeof opts !== 'object') throw new Error(`${where}: options {nFft, ...} are required`);
  const { nFft } = opts;
  if (!Number.isInteger(nFft) || nFft < 1) throw new Error(`${where}: nFft must be a positive integer, got ${nFft}`);
  const win = opts.winLength ?? nFft;
  if (!Number.isInteger(win) || win < 1 || win > nFft) throw new Error(`${where}: winLength must be an integer in [1, nFft = ${nFft}], got ${win}`);
  const hop = opts.hopLength ?? Math.floor(nFft / 4);
  if (!Number.isInteger(hop) || hop < 1) throw new Error(`${where}: hopLength must be a positive integer, got ${hop}`);
  let window: Float64Array;
  let key: string | undefined;
  if (opts.window !== undefined) {
    if (opts.window.length !== win) throw new Error(`${where}: window has ${opts.window.length} values, winLength is ${win}`);
    window = Float64Array.from(opts.window);
  } else {
    window = hannWindow(win);
    key = `${nFft}:${win}`;
  }
  // torch pads a shorter window to nFft with (nFft - winLength) / 2 zeros (floor) in front.
  const padded = new Float64Array(nFft);
  padded.set(window, Math.floor((nFft - win) / 2));
  return { nFft, hop, win, center: opts.center ?? true, window: padded, key };
}

const basisCache = new Map<string, Float32Array>();

function cached(key: string | undefined, make: () => Float32Array): Float32Array {
  if (key === undefined) return make();
  let v = basisCache.get(key);
  if (!v) {
    if (basisCache.size > 32) basisCache.clear();
    v = make();
    basisCache.set(key, v);
  }
  return v;
}

/**
 * Forward basis [nFft, 2F]: columns k < F hold w[n] cos(2 pi k n / N), columns F + k hold
 * -w[n] sin(2 pi k n / N), so frames @ basis = [Re X, Im X].
 */
function forwardBasis(r: Resolved): Float32Array {
  const F = Math.floor(r.nFft / 2) + 1;
  return cached(r.key && `forward:${r.key}`, () => {
    const b = new Float32Array(r.nFft * 2 * F);
    for (let n = 0; n < r.nFft; n++) {
      const w = r.window[n];
      for (let k = 0; k < F; k++) {
        const [c, s] = unitCircle(k * n, r.nFft);
        b[n * 2 * F + k] = w * c;
        b[n * 2 * F + F + k] = -w * s;
      }
    }
    return b;
  });
}

/**
 * Inverse basis [2F, nFft] of the one-sided inverse DFT (torch.fft.irfft, n = nFft) followed by the
 * synthesis window: y[n] = w[n] / N * sum_k c_k (Re X_k cos(2 pi k n / N) - Im X_k sin(2 pi k n / N)),
 * c_0 = 1, c_{N/2} = 1 for even N, c_k = 2 otherwise. The imaginary parts of the DC and Nyquist bins
 * meet sin = 0 exactly, so they are ignored, as irfft ignores them.
 */
function inverseBasis(r: Resolved): Float32Array {
  const N = r.nFft;
  const F = Math.floor(N / 2) + 1;
  return cached(r.key && `inverse:${r.key}`, () => {
    const b = new Float32Array(2 * F * N);
    for (let k = 0; k < F; k++) {
      const ck = k === 0 || 2 * k === N ? 1 : 2;
      for (let n = 0; n < N; n++) {
        const [c, s] = unitCircle(k * n, N);
        const scale = (ck * r.window[n]) / N;
        b[k * N + n] = scale * c;
        b[(F + k) * N + n] = -scale * s;
      }
    }
    return b;
  });
}

/**
 * The forward basis with its columns interleaved (re_0, im_0, re_1, im_1, ...): the product then reshapes
 * to [..., F, 2] with no split or stack (which tfjs-wasm runs element by element on a size-2 axis).
 */
function forwardBasisInterleaved(r: Resolved): Float32Array {
  const F = Math.floor(r.nFft / 2) + 1;
  return cached(r.key && `forward-interleaved:${r.key}`, () => {
    const b = forwardBasis(r);
    const out = new Float32Array(b.length);
    for (let n = 0; n < r.nFft; n++) {
      for (let k = 0; k < F; k++) {
        out[n * 2 * F + 2 * k] = b[n * 2 * F + k];
        out[n * 2 * F + 2 * k + 1] = b[n * 2 * F + F + k];
      }
    }
    return out;
  });
}

/** The inverse basis with its rows interleaved to match {@link forwardBasisInterleaved}. */
function inverseBasisInterleaved(r: Resolved): Float32Array {
  const N = r.nFft;
  const F = Math.floor(N / 2) + 1;
  return cached(r.key && `inverse-interleaved:${r.key}`, () => {
    const b = inverseBasis(r);
    const out = new Float32Array(b.length);
    for (let k = 0; k < F; k++) {
      out.set(b.subarray(k * N, (k + 1) * N), 2 * k * N);
      out.set(b.subarray((F + k) * N, (F + k + 1) * N), (2 * k + 1) * N);
    }
    return out;
  });
}

/** Reflect padding of the last axis of [rows, time] by p (torch pad_mode='reflect'): slices, reverses, concat. */
function reflectPad(x: tf.Tensor2D, p: number): tf.Tensor2D {
  if (p === 0) return x;
  const [rows, time] = x.shape;
  const left = x.slice([0, 1], [rows, p]).reverse(1);
  const right = x.slice([0, time - 1 - p], [rows, p]).reverse(1);
  return tf.concat([left, x, right], 1);
}

/**
 * Short-time Fourier transform, frames-first.
 *
 * X[b, t, k] = sum_n w[n] x_pad[b, t * hop + n] exp(-2 pi i k n / nFft), k <= nFft/2, where w is the
 * periodic Hann window of winLength zero-padded (centred) to nFft and x_pad is x reflect-padded by
 * floor(nFft/2) on both sides when `center`. Equals
 * `torch.stft(x, nFft, hopLength, winLength, window=torch.hann_window(winLength), center=center,
 * pad_mode='reflect', return_complex=True).transpose(-1, -2)`.
 * Frames: 1 + floor((time + 2 floor(nFft/2) - nFft) / hop) with `center`, else 1 + floor((time - nFft) / hop).
 * @param x [time] or [batch, time].
 * @returns {real, imag}, each [frames, nFft/2 + 1] or [batch, frames, nFft/2 + 1].
 * @throws if the reflect padding is not shorter than the signal (as torch), or without `center` the
 *   signal is shorter than nFft.
 */
export function stft(x: tf.Tensor, opts: StftOptions): ComplexTensor {
  const r = resolve(opts, 'stft');
  const F = Math.floor(r.nFft / 2) + 1;
  return tf.tidy(() => {
    const { spec, rows, T } = spectrumRows(x, r, forwardBasis(r), 'stft');
    const outShape = x.rank === 2 ? [rows, T, F] : [T, F];
    return {
      real: spec.slice([0, 0], [rows * T, F]).reshape(outShape),
      imag: spec.slice([0, F], [rows * T, F]).reshape(outShape),
    };
  });
}

/**
 * {@link stft} with real and imaginary parts on a last axis of size 2: [batch?, frames, nFft/2 + 1, 2]
 * (channels-last, as complex-spectrum networks such as DCCRN take it). Same values as stft; computed in
 * one matmul with an interleaved basis, so it costs no split or stack.
 */
export function stftPacked(x: tf.Tensor, opts: StftOptions): tf.Tensor {
  const r = resolve(opts, 'stftPacked');
  const F = Math.floor(r.nFft / 2) + 1;
  return tf.tidy(() => {
    const { spec, rows, T } = spectrumRows(x, r, forwardBasisInterleaved(r), 'stftPacked');
    return spec.reshape(x.rank === 2 ? [rows, T, F, 2] : [T, F, 2]);
  });
}

/** Frames x [batch?, time] and multiplies them by a [nFft, 2F] basis: [rows * frames, 2F]. */
function spectrumRows(x: tf.Tensor, r: Resolved, basis: Float32Array, where: string): { spec: tf.Tensor2D; rows: number; T: number } {
  if (!(x instanceof tf.Tensor) || (x.rank !== 1 && x.rank !== 2)) {
    throw new Error(`${where}: expected x of shape [time] or [batch, time], got ${x instanceof tf.Tensor ? `[${x.shape.join(', ')}]` : typeof x}`);
  }
  const time = x.shape[x.rank - 1];
  const pad = r.center ? Math.floor(r.nFft / 2) : 0;
  if (r.center && pad >= time) {
    throw new Error(`${where}: reflect padding of ${pad} samples (nFft ${r.nFft}) needs a signal longer than ${pad} samples, got shape [${x.shape.join(', ')}]`);
  }
  if (!r.center && time < r.nFft) {
    throw new Error(`${where}: signal of shape [${x.shape.join(', ')}] is shorter than nFft ${r.nFft}`);
  }
  const F = Math.floor(r.nFft / 2) + 1;
  return tf.tidy(() => {
    const rows = x.rank === 2 ? x.shape[0] : 1;
    const padded = reflectPad(x.toFloat().reshape([rows, time]) as tf.Tensor2D, pad);
    const frames = frame(padded, r.nFft, r.hop); // [rows, T, nFft]
    const T = frames.shape[1] as number;
    const spec = tf.matMul(frames.reshape([rows * T, r.nFft]), tf.tensor2d(basis, [r.nFft, 2 * F])) as tf.Tensor2D; // [rows*T, 2F]
    return { spec, rows, T };
  });
}

/**
 * Inverse STFT by weighted overlap-add, equal to `torch.istft(X.transpose(-1, -2), nFft, hopLength,
 * winLength, window=torch.hann_window(winLength), center, length=length)`:
 * y = OLA_t(w * irfft(X[t])) / OLA_t(w^2), then floor(nFft/2) samples dropped at the start when
 * `center`, cut (or zero-padded at the end) to `length`.
 * @param spec {real, imag}, each [frames, nFft/2 + 1] or [batch, frames, nFft/2 + 1].
 * @returns [length] or [batch, length].
 * @throws if the summed squared window is below 1e-11 anywhere in the kept range (the NOLA condition;
 *   torch raises the same), e.g. `center: false` with a Hann window.
 */
export function istft(spec: ComplexTensor, opts: IstftOptions): tf.Tensor {
  const r = resolve(opts, 'istft');
  if (!spec || !(spec.real instanceof tf.Tensor) || !(spec.imag instanceof tf.Tensor)) throw new Error('istft: expected spec = {real, imag} tensors');
  const shape = spec.real.shape;
  const F = Math.floor(r.nFft / 2) + 1;
  if (shape.join(',') !== spec.imag.shape.join(',') || (shape.length !== 2 && shape.length !== 3) || shape[shape.length - 1] !== F) {
    throw new Error(`istft: expected real and imag of shape [batch?, frames, ${F}] (nFft ${r.nFft}), got [${shape.join(', ')}] and [${spec.imag.shape.join(', ')}]`);
  }
  const T = shape[shape.length - 2] as number;
  if (T < 1) throw new Error(`istft: no frames in shape [${shape.join(', ')}]`);
  const rows = shape.length === 3 ? shape[0] : 1;
  return tf.tidy(() => {
    const specRows = tf.concat([spec.real.reshape([rows * T, F]), spec.imag.reshape([rows * T, F])], 1) as tf.Tensor2D;
    const out = overlapAddRows(specRows, rows, T, r, inverseBasis(r), opts, 'istft');
    return shape.length === 3 ? out : out.reshape([out.shape[1] as number]);
  });
}

/**
 * {@link istft} of a spectrum packed as [batch?, frames, nFft/2 + 1, 2] (real, imaginary on the last axis),
 * the layout {@link stftPacked} returns; no split or concat.
 */
export function istftPacked(spec: tf.Tensor, opts: IstftOptions): tf.Tensor {
  const r = resolve(opts, 'istftPacked');
  const F = Math.floor(r.nFft / 2) + 1;
  const shape = spec.shape;
  if ((shape.length !== 3 && shape.length !== 4) || shape[shape.length - 1] !== 2 || shape[shape.length - 2] !== F) {
    throw new Error(`istftPacked: expected a spectrum [batch?, frames, ${F}, 2] (nFft ${r.nFft}), got [${shape.join(', ')}]`);
  }
  const T = shape[shape.length - 3] as number;
  if (T < 1) throw new Error(`istftPacked: no frames in shape [${shape.join(', ')}]`);
  const rows = shape.length === 4 ? shape[0] : 1;
  return tf.tidy(() => {
    const out = overlapAddRows(spec.reshape([rows * T, 2 * F]) as tf.Tensor2D, rows, T, r, inverseBasisInterleaved(r), opts, 'istftPacked');
    return shape.length === 4 ? out : out.reshape([out.shape[1] as number]);
  });
}

/** [rows * T, 2F] spectrum rows times a [2F, nFft] inverse basis, overlap-added and normalised: [rows, length]. */
function overlapAddRows(specRows: tf.Tensor2D, rows: number, T: number, r: Resolved, basis: Float32Array, opts: IstftOptions,
  where: string): tf.Tensor2D {
  const F = Math.floor(r.nFft / 2) + 1;
  const full = r.nFft + r.hop * (T - 1);
  const start = r.center ? Math.floor(r.nFft / 2) : 0;
  if (opts.length !== undefined && (!Number.isInteger(opts.length) || opts.length < 0)) {
    throw new Error(`${where}: length must be a non-negative integer, got ${opts.length}`);
  }
  const end = opts.length !== undefined ? start + opts.length : r.center ? full - Math.floor(r.nFft / 2) : full;
  const kept = Math.max(0, Math.min(end, full) - start);

  const envelope = new Float64Array(full);
  for (let t = 0; t < T; t++) for (let n = 0; n < r.nFft; n++) envelope[t * r.hop + n] += r.window[n] ** 2;
  const inverseEnvelope = new Float32Array(kept);
  for (let i = 0; i < kept; i++) {
    const e = envelope[start + i];
    if (!(Math.abs(e) >= 1e-11)) {
      throw new Error(`${where}: the summed squared window is ${e} at output sample ${i} (window overlap-add below 1e-11, NOLA ` +
        `condition fails for nFft ${r.nFft}, winLength ${r.win}, hopLength ${r.hop}, center ${r.center}); torch.istft refuses this too`);
    }
    inverseEnvelope[i] = 1 / e;
  }
  return tf.tidy(() => {
    const frames = tf.matMul(specRows, tf.tensor2d(basis, [2 * F, r.nFft])); // [rows*T, nFft]
    const y = overlapAdd(frames.reshape([rows, T, r.nFft]), r.hop); // [rows, full]
    let out = y.slice([0, start], [rows, kept]).mul(tf.tensor1d(inverseEnvelope)) as tf.Tensor2D;
    if (end - start > kept) out = out.pad([[0, 0], [0, end - start - kept]]);
    return out;
  });
}

/** Number of STFT frames {@link stft} returns for `time` samples. */
export function stftFrames(time: number, opts: StftOptions): number {
  const r = resolve(opts, 'stftFrames');
  return numFrames(time + (r.center ? 2 * Math.floor(r.nFft / 2) : 0), r.nFft, r.hop);
}
