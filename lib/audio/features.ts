/**
 * Mel filterbanks, mel spectrograms, decibels and MFCCs, equal to torchaudio's (functional
 * melscale_fbanks / create_dct / amplitude_to_DB, transforms MelSpectrogram / MFCC) but frames-first:
 * [batch?, frames, features]. All are differentiable with respect to the waveform.
 */
import * as tf from '@tensorflow/tfjs';
import { stft } from './stft';
import { hannWindow } from './window';

/** Mel scale: 'htk' m = 2595 log10(1 + f / 700); 'slaney' linear below 1 kHz (f / (200/3)), logarithmic above. */
export type MelScale = 'htk' | 'slaney';

/** Hertz to mel on the given scale (torchaudio `_hz_to_mel`). */
export function hzToMel(freq: number, scale: MelScale = 'htk'): number {
  if (scale === 'htk') return 2595 * Math.log10(1 + freq / 700);
  const fSp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fSp;
  const logstep = Math.log(6.4) / 27;
  return freq >= minLogHz ? minLogMel + Math.log(freq / minLogHz) / logstep : freq / fSp;
}

/** Mel to hertz, the inverse of {@link hzToMel} (torchaudio `_mel_to_hz`). */
export function melToHz(mel: number, scale: MelScale = 'htk'): number {
  if (scale === 'htk') return 700 * (10 ** (mel / 2595) - 1);
  const fSp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fSp;
  const logstep = Math.log(6.4) / 27;
  return mel >= minLogMel ? minLogHz * Math.exp(logstep * (mel - minLogMel)) : fSp * mel;
}

/** Options of {@link melFilterbank}. */
export interface MelFilterbankOptions {
  /** Number of STFT bins, nFft/2 + 1. Required. */
  nFreqs: number;
  /** Number of mel bands. Default: 128. */
  nMels?: number;
  /** Sample rate in Hz. Default: 16000. */
  sampleRate?: number;
  /** Lowest band edge in Hz. Default: 0. */
  fMin?: number;
  /** Highest band edge in Hz. Default: floor(sampleRate / 2). */
  fMax?: number;
  /** 'slaney' divides each triangle by its width in Hz / 2 (equal area); undefined: peaks of 1. Default: undefined. */
  norm?: 'slaney';
  /** Mel scale. Default: 'htk'. */
  melScale?: MelScale;
}

function resolveFb(o: MelFilterbankOptions, where: string): Required<Omit<MelFilterbankOptions, 'norm'>> & { norm?: 'slaney' } {
  const r = {
    nFreqs: o.nFreqs, nMels: o.nMels ?? 128, sampleRate: o.sampleRate ?? 16000, fMin: o.fMin ?? 0,
    fMax: o.fMax ?? Math.floor((o.sampleRate ?? 16000) / 2), norm: o.norm, melScale: o.melScale ?? 'htk',
  };
  if (!Number.isInteger(r.nFreqs) || r.nFreqs < 2) throw new Error(`${where}: nFreqs must be an integer >= 2, got ${r.nFreqs}`);
  if (!Number.isInteger(r.nMels) || r.nMels < 1) throw new Error(`${where}: nMels must be a positive integer, got ${r.nMels}`);
  if (!(r.sampleRate > 0)) throw new Error(`${where}: sampleRate must be positive, got ${r.sampleRate}`);
  if (!(r.fMin >= 0 && r.fMin < r.fMax)) throw new Error(`${where}: need 0 <= fMin < fMax, got fMin ${r.fMin}, fMax ${r.fMax}`);
  if (r.norm !== undefined && r.norm !== 'slaney') throw new Error(`${where}: norm must be 'slaney' or undefined, got '${r.norm}'`);
  if (r.melScale !== 'htk' && r.melScale !== 'slaney') throw new Error(`${where}: melScale must be 'htk' or 'slaney', got '${r.melScale}'`);
  return r;
}

/**
 * The triangular mel filterbank as a Float64Array [nFreqs, nMels] (row-major), equal to
 * `torchaudio.functional.melscale_fbanks(nFreqs, fMin, fMax, nMels, sampleRate, norm, melScale)`:
 * bin frequencies f_i = i * floor(sampleRate / 2) / (nFreqs - 1); band edges p_0..p_{nMels+1} equally
 * spaced in mel between fMin and fMax; fb[i, m] = max(0, min((f_i - p_m) / (p_{m+1} - p_m),
 * (p_{m+2} - f_i) / (p_{m+2} - p_{m+1}))), times 2 / (p_{m+2} - p_m) with norm 'slaney'.
 */
export function melFilterbankArray(opts: MelFilterbankOptions): Float64Array {
  const o = resolveFb(opts, 'melFilterbank');
  const nyquist = Math.floor(o.sampleRate / 2);
  const mMin = hzToMel(o.fMin, o.melScale);
  const mMax = hzToMel(o.fMax, o.melScale);
  const pts = Float64Array.from({ length: o.nMels + 2 }, (_, i) => melToHz(mMin + ((mMax - mMin) * i) / (o.nMels + 1), o.melScale));
  const fb = new Float64Array(o.nFreqs * o.nMels);
  for (let i = 0; i < o.nFreqs; i++) {
    const f = (nyquist * i) / (o.nFreqs - 1);
    for (let m = 0; m < o.nMels; m++) {
      const down = (f - pts[m]) / (pts[m + 1] - pts[m]);
      const up = (pts[m + 2] - f) / (pts[m + 2] - pts[m + 1]);
      let v = Math.max(0, Math.min(down, up));
      if (o.norm === 'slaney') v *= 2 / (pts[m + 2] - pts[m]);
      fb[i * o.nMels + m] = v;
    }
  }
  return fb;
}

/** {@link melFilterbankArray} as a float32 tensor [nFreqs, nMels] (spectrogram [.., frames, nFreqs] @ fb). */
export function melFilterbank(opts: MelFilterbankOptions): tf.Tensor2D {
  const o = resolveFb(opts, 'melFilterbank');
  return tf.tensor2d(Float32Array.from(melFilterbankArray(o)), [o.nFreqs, o.nMels]);
}

/** DCT normalisation: 'ortho' (orthonormal DCT-II) or 'none' (unscaled, times 2). */
export type DctNorm = 'ortho' | 'none';

/**
 * DCT-II matrix [nMels, nMfcc] (row-major Float64Array) to right-multiply row vectors of log mels,
 * equal to `torchaudio.functional.create_dct(nMfcc, nMels, norm)`:
 * D[n, k] = cos(pi / nMels * (n + 1/2) * k), times sqrt(2 / nMels) (and 1/sqrt(2) for k = 0) with
 * 'ortho', times 2 with 'none'.
 */
export function dctMatrix(nMfcc: number, nMels: number, norm: DctNorm = 'ortho'): Float64Array {
  if (!Number.isInteger(nMels) || nMels < 1) throw new Error(`dctMatrix: nMels must be a positive integer, got ${nMels}`);
  if (!Number.isInteger(nMfcc) || nMfcc < 1 || nMfcc > nMels) throw new Error(`dctMatrix: nMfcc must be an integer in [1, nMels = ${nMels}], got ${nMfcc}`);
  if (norm !== 'ortho' && norm !== 'none') throw new Error(`dctMatrix: norm must be 'ortho' or 'none', got '${norm}'`);
  const d = new Float64Array(nMels * nMfcc);
  for (let n = 0; n < nMels; n++) {
    for (let k = 0; k < nMfcc; k++) {
      let v = Math.cos((Math.PI / nMels) * (n + 0.5) * k);
      v *= norm === 'none' ? 2 : Math.sqrt(2 / nMels) * (k === 0 ? Math.SQRT1_2 : 1);
      d[n * nMfcc + k] = v;
    }
  }
  return d;
}

/** Options of {@link melSpectrogram}: torchaudio.transforms.MelSpectrogram's, same defaults. */
export interface MelSpectrogramOptions {
  /** Sample rate in Hz. Default: 16000. */
  sampleRate?: number;
  /** FFT size. Default: 400. */
  nFft?: number;
  /** Window length (periodic Hann). Default: nFft. */
  winLength?: number;
  /** Hop between frames. Default: floor(winLength / 2). */
  hopLength?: number;
  /** Lowest mel band edge in Hz. Default: 0. */
  fMin?: number;
  /** Highest mel band edge in Hz. Default: floor(sampleRate / 2). */
  fMax?: number;
  /** Zeros added on both sides of the signal before the STFT. Default: 0. */
  pad?: number;
  /** Number of mel bands. Default: 128. */
  nMels?: number;
  /**
   * Exponent of the magnitude: 2 (power), 1 (magnitude) or any positive number. Powers below 2 have
   * an infinite gradient at bins that are exactly zero. Default: 2.
   */
  power?: number;
  /** Divide the STFT by sqrt(sum of squared window), torchaudio's normalized=True. Default: false. */
  normalized?: boolean;
  /** Reflect-pad nFft/2 on both sides so frames are centred. Default: true. */
  center?: boolean;
  /** Filterbank normalisation. Default: undefined (none). */
  norm?: 'slaney';
  /** Mel scale. Default: 'htk'. */
  melScale?: MelScale;
}

function resolveMel(o: MelSpectrogramOptions) {
  const nFft = o.nFft ?? 400;
  const winLength = o.winLength ?? nFft;
  const sampleRate = o.sampleRate ?? 16000;
  const power = o.power ?? 2;
  if (!(power > 0)) throw new Error(`melSpectrogram: power must be positive, got ${power}`);
  const pad = o.pad ?? 0;
  if (!Number.isInteger(pad) || pad < 0) throw new Error(`melSpectrogram: pad must be a non-negative integer, got ${pad}`);
  return {
    nFft, winLength, hopLength: o.hopLength ?? Math.floor(winLength / 2), center: o.center ?? true, power, pad,
    normalized: o.normalized ?? false,
    fb: { nFreqs: Math.floor(nFft / 2) + 1, nMels: o.nMels ?? 128, sampleRate, fMin: o.fMin ?? 0,
      fMax: o.fMax ?? Math.floor(sampleRate / 2), norm: o.norm, melScale: o.melScale ?? 'htk' } as MelFilterbankOptions,
  };
}

/**
 * Mel spectrogram, frames-first, equal to `torchaudio.transforms.MelSpectrogram(**opts)(x)
 * .transpose(-1, -2)`: |STFT(x)|^power (periodic Hann window, reflect padding) times the mel
 * filterbank.
 * @param x [time] or [batch, time].
 * @returns [frames, nMels] or [batch, frames, nMels].
 */
export function melSpectrogram(x: tf.Tensor, opts: MelSpectrogramOptions = {}): tf.Tensor {
  const o = resolveMel(opts);
  if (!(x instanceof tf.Tensor) || (x.rank !== 1 && x.rank !== 2)) {
    throw new Error(`melSpectrogram: expected x of shape [time] or [batch, time], got ${x instanceof tf.Tensor ? `[${x.shape.join(', ')}]` : typeof x}`);
  }
  const fb = melFilterbankArray(o.fb);
  const windowNorm = o.normalized ? Math.sqrt(hannWindow(o.winLength).reduce((s, w) => s + w * w, 0)) : 1;
  return tf.tidy(() => {
    const padded = o.pad ? x.pad(x.rank === 1 ? [[o.pad, o.pad]] : [[0, 0], [o.pad, o.pad]]) : x;
    const { real, imag } = stft(padded, { nFft: o.nFft, hopLength: o.hopLength, winLength: o.winLength, center: o.center });
    let spec = real.square().add(imag.square());
    if (windowNorm !== 1) spec = spec.div(windowNorm * windowNorm);
    if (o.power !== 2) spec = spec.pow(o.power / 2);
    const nFreqs = o.fb.nFreqs;
    const nMels = o.fb.nMels as number;
    const flat = spec.reshape([-1, nFreqs]);
    const mel = tf.matMul(flat, tf.tensor2d(Float32Array.from(fb), [nFreqs, nMels]));
    return mel.reshape([...spec.shape.slice(0, -1), nMels]);
  });
}

/** Options of {@link logMelSpectrogram}. */
export interface LogMelOptions extends MelSpectrogramOptions {
  /** Added before the log (torchaudio MFCC's log_mels offset). Default: 1e-6. */
  eps?: number;
}

/**
 * Log mel spectrogram log(mel + eps) (natural log), frames-first; `mel` as {@link melSpectrogram}.
 * eps defaults to 1e-6, the offset torchaudio's MFCC(log_mels=True) adds.
 * @param x [time] or [batch, time].
 * @returns [frames, nMels] or [batch, frames, nMels].
 */
export function logMelSpectrogram(x: tf.Tensor, opts: LogMelOptions = {}): tf.Tensor {
  const eps = opts.eps ?? 1e-6;
  if (!(eps > 0)) throw new Error(`logMelSpectrogram: eps must be positive, got ${eps}`);
  return tf.tidy(() => melSpectrogram(x, opts).add(eps).log());
}

/** Short name of {@link logMelSpectrogram}. */
export const logMel = logMelSpectrogram;

/**
 * Over what the top-dB floor's maximum is taken: 'example' (each [frames, features] item of a batch on
 * its own, as torchaudio gives when each clip is transformed separately) or 'batch' (over the whole
 * input, which is what torchaudio does to a 3-D [batch, freq, time] input).
 */
export type TopDbScope = 'example' | 'batch';

/** Options of {@link amplitudeToDb}: torchaudio.transforms.AmplitudeToDB's, plus the scope. */
export interface AmplitudeToDbOptions {
  /** 'power' (10 log10) or 'magnitude' (20 log10). Default: 'power'. */
  stype?: 'power' | 'magnitude';
  /** Values are clamped below at amin before the log. Default: 1e-10. */
  amin?: number;
  /** Reference value, dB relative to max(amin, ref). Default: 1. */
  ref?: number;
  /** If set, dB values are floored at (maximum - topDb). Default: undefined (no floor). */
  topDb?: number;
  /** Where that maximum is taken, for inputs [batch, frames, features]. Default: 'example'. */
  topDbScope?: TopDbScope;
}

/**
 * Decibels, equal to `torchaudio.functional.amplitude_to_DB`: y = m log10(max(x, amin)) -
 * m log10(max(amin, ref)), m = 10 ('power') or 20 ('magnitude'); with topDb, y = max(y, max(y) - topDb)
 * with the max per example (rank 3, scope 'example') or over the whole input.
 * @param x non-negative [frames, features] or [batch, frames, features] (any rank with scope 'batch').
 */
export function amplitudeToDb(x: tf.Tensor, opts: AmplitudeToDbOptions = {}): tf.Tensor {
  const stype = opts.stype ?? 'power';
  if (stype !== 'power' && stype !== 'magnitude') throw new Error(`amplitudeToDb: stype must be 'power' or 'magnitude', got '${stype}'`);
  const amin = opts.amin ?? 1e-10;
  const ref = opts.ref ?? 1;
  const scope = opts.topDbScope ?? 'example';
  if (!(amin > 0)) throw new Error(`amplitudeToDb: amin must be positive, got ${amin}`);
  if (opts.topDb !== undefined && !(opts.topDb >= 0)) throw new Error(`amplitudeToDb: topDb must be non-negative, got ${opts.topDb}`);
  if (scope !== 'example' && scope !== 'batch') throw new Error(`amplitudeToDb: topDbScope must be 'example' or 'batch', got '${scope}'`);
  const m = stype === 'power' ? 10 : 20;
  return tf.tidy(() => {
    let y = tf.maximum(x, amin).log().mul(m / Math.LN10);
    const offset = m * Math.log10(Math.max(amin, ref));
    if (offset) y = y.sub(offset);
    if (opts.topDb !== undefined) {
      const perExample = scope === 'example' && x.rank === 3;
      const floor = (perExample ? y.max([1, 2], true) : y.max()).sub(opts.topDb);
      // max(y, floor) written as floor + relu(y - floor): tf.maximum's gradient does not reduce a
      // broadcast operand (tfjs 4.22).
      y = floor.add(y.sub(floor).relu());
    }
    return y;
  });
}

/** Options of {@link mfcc}: torchaudio.transforms.MFCC's (melkwargs as melOptions), same defaults. */
export interface MfccOptions {
  /** Sample rate in Hz (also passed to the mel spectrogram). Default: 16000. */
  sampleRate?: number;
  /** Number of coefficients kept, <= nMels. Default: 40. */
  nMfcc?: number;
  /** DCT-II normalisation. Default: 'ortho'. */
  norm?: DctNorm;
  /** Use log(mel + 1e-6) instead of decibels with an 80 dB floor. Default: false. */
  logMels?: boolean;
  /** Mel spectrogram options (torchaudio's melkwargs); their defaults otherwise (nMels 128, nFft 400). Default: {}. */
  melOptions?: MelSpectrogramOptions;
  /** Scope of the 80 dB floor when not logMels, see {@link TopDbScope}. Default: 'example'. */
  topDbScope?: TopDbScope;
}

/**
 * Mel-frequency cepstral coefficients, frames-first, equal to `torchaudio.transforms.MFCC(sample_rate,
 * n_mfcc, norm=norm, log_mels, melkwargs)(x).transpose(-1, -2)`: mel power spectrogram -> decibels
 * (10 log10(max(mel, 1e-10)), floored at its maximum - 80 dB) or log(mel + 1e-6) -> DCT-II.
 * With a batch, torchaudio takes the 80 dB floor over the whole batch; here it is per example unless
 * `topDbScope: 'batch'` (the two agree for a single clip).
 * @param x [time] or [batch, time].
 * @returns [frames, nMfcc] or [batch, frames, nMfcc].
 */
export function mfcc(x: tf.Tensor, opts: MfccOptions = {}): tf.Tensor {
  const sampleRate = opts.sampleRate ?? 16000;
  const melOpts = { ...(opts.melOptions ?? {}), sampleRate };
  const nMels = melOpts.nMels ?? 128;
  const nMfcc = opts.nMfcc ?? 40;
  if (nMfcc > nMels) throw new Error(`mfcc: cannot keep ${nMfcc} coefficients from ${nMels} mel bands`);
  const dct = dctMatrix(nMfcc, nMels, opts.norm ?? 'ortho');
  return tf.tidy(() => {
    const mel = melSpectrogram(x, melOpts);
    const logmel = opts.logMels
      ? mel.add(1e-6).log()
      : amplitudeToDb(mel, { stype: 'power', topDb: 80, topDbScope: opts.topDbScope ?? 'example' });
    const out = tf.matMul(logmel.reshape([-1, nMels]), tf.tensor2d(Float32Array.from(dct), [nMels, nMfcc]));
    return out.reshape([...mel.shape.slice(0, -1), nMfcc]);
  });
}
