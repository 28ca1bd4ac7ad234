/**
 * Data augmentation on waveforms and spectrograms: gain, time shift, noise mixing at an exact SNR and
 * SpecAugment masks. Tensor versions work on [time] or [batch, time] (spectrograms [batch?, frames,
 * freq]) and are differentiable; the *Array versions serve dataset readers that work on Float32Arrays.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng';

function checkSignal(x: tf.Tensor, where: string): void {
  if (!(x instanceof tf.Tensor) || (x.rank !== 1 && x.rank !== 2)) {
    throw new Error(`${where}: expected a tensor [time] or [batch, time], got ${x instanceof tf.Tensor ? `[${x.shape.join(', ')}]` : typeof x}`);
  }
}

/**
 * A per-example value as a tensor broadcastable against [batch, time]: a number, one number per
 * example, or a tensor [batch].
 */
function perExample(v: number | number[] | tf.Tensor, x: tf.Tensor, where: string, name: string): tf.Tensor {
  if (typeof v === 'number') return tf.scalar(v);
  const batch = x.rank === 2 ? x.shape[0] : 1;
  const t = v instanceof tf.Tensor ? v : tf.tensor1d(v);
  if (x.rank === 1 ? t.size !== 1 : t.rank !== 1 || t.shape[0] !== batch) {
    throw new Error(`${where}: ${name} must be a number or have one value per example (${batch}), got shape [${t.shape.join(', ')}]`);
  }
  return x.rank === 2 ? t.reshape([batch, 1]) : t.reshape([]);
}

/**
 * Scales by a gain in decibels: y = x * 10^(gainDb / 20).
 * @param x [time] or [batch, time] (any shape when gainDb is a number).
 * @param gainDb a number, one per example, or a tensor [batch].
 */
export function applyGain(x: tf.Tensor, gainDb: number | number[] | tf.Tensor): tf.Tensor {
  if (typeof gainDb !== 'number') checkSignal(x, 'applyGain');
  return tf.tidy(() => x.mul(perExample(gainDb, x, 'applyGain', 'gainDb').mul(Math.LN10 / 20).exp()));
}

/** {@link applyGain} on a Float32Array: a new array x * 10^(gainDb / 20). */
export function applyGainArray(x: Float32Array, gainDb: number): Float32Array {
  const g = 10 ** (gainDb / 20);
  return x.map((v) => v * g);
}

/** How {@link timeShift} fills the samples that shift in: 'roll' wraps the signal around, 'zero' inserts zeros. */
export type ShiftMode = 'roll' | 'zero';

/** Options of {@link timeShift}. */
export interface TimeShiftOptions {
  /** Default: 'roll'. */
  mode?: ShiftMode;
}

function shiftRow(row: tf.Tensor, shift: number, mode: ShiftMode): tf.Tensor {
  const n = row.shape[row.rank - 1];
  const begin = row.shape.map(() => 0);
  const size = (len: number) => [...row.shape.slice(0, -1), len];
  const at = (start: number) => [...begin.slice(0, -1), start];
  if (mode === 'roll') {
    const s = ((shift % n) + n) % n;
    if (s === 0) return row.clone();
    return tf.concat([row.slice(at(n - s), size(s)), row.slice(begin, size(n - s))], row.rank - 1);
  }
  const s = Math.max(-n, Math.min(n, shift));
  const padding: [number, number][] = row.shape.map(() => [0, 0]);
  if (s >= 0) {
    padding[row.rank - 1] = [s, 0];
    return row.slice(begin, size(n - s)).pad(padding);
  }
  padding[row.rank - 1] = [0, -s];
  return row.slice(at(-s), size(n + s)).pad(padding);
}

/**
 * Shifts along the last axis by `shift` samples: y[t] = x[t - shift] (positive delays, negative
 * advances); samples moved past the end wrap around ('roll', torch.roll) or are dropped and replaced
 * by zeros ('zero').
 * @param x [time] or [batch, time].
 * @param shift an integer, or one integer per example.
 */
export function timeShift(x: tf.Tensor, shift: number | number[], opts: TimeShiftOptions = {}): tf.Tensor {
  checkSignal(x, 'timeShift');
  const mode = opts.mode ?? 'roll';
  if (mode !== 'roll' && mode !== 'zero') throw new Error(`timeShift: mode must be 'roll' or 'zero', got '${mode}'`);
  const shifts = typeof shift === 'number' ? [shift] : shift;
  if (shifts.some((s) => !Number.isInteger(s))) throw new Error(`timeShift: shifts must be integers, got ${JSON.stringify(shift)}`);
  if (typeof shift !== 'number' && shifts.length !== (x.rank === 2 ? x.shape[0] : 1)) {
    throw new Error(`timeShift: ${shifts.length} shifts for ${x.rank === 2 ? x.shape[0] : 1} example(s) (shape [${x.shape.join(', ')}])`);
  }
  return tf.tidy(() => {
    if (shifts.length === 1) return shiftRow(x, shifts[0], mode);
    const rows = tf.unstack(x, 0);
    return tf.stack(rows.map((r, i) => shiftRow(r, shifts[i], mode)), 0);
  });
}

/** {@link timeShift} on a Float32Array (a new array). */
export function timeShiftArray(x: Float32Array, shift: number, opts: TimeShiftOptions = {}): Float32Array {
  const mode = opts.mode ?? 'roll';
  if (!Number.isInteger(shift)) throw new Error(`timeShiftArray: shift must be an integer, got ${shift}`);
  const n = x.length;
  const out = new Float32Array(n);
  if (n === 0) return out;
  for (let t = 0; t < n; t++) {
    const src = t - shift;
    if (mode === 'roll') out[t] = x[((src % n) + n) % n];
    else if (src >= 0 && src < n) out[t] = x[src];
  }
  return out;
}

/** Options of {@link fitLength}, {@link scaleNoiseToSnr} and {@link mixAtSnr}. */
export interface NoiseFitOptions {
  /** Noise sample at which the used segment starts (wrapping around when looping). Default: 0. */
  offset?: number;
}

/**
 * Loops or crops the last axis to `length` samples: y[t] = x[(offset + t) mod n] (so a noise shorter
 * than the speech repeats, a longer one is cut).
 * @param x [time] or [batch, time].
 */
export function fitLength(x: tf.Tensor, length: number, opts: NoiseFitOptions = {}): tf.Tensor {
  checkSignal(x, 'fitLength');
  const n = x.shape[x.rank - 1];
  if (n === 0) throw new Error(`fitLength: cannot loop an empty signal (shape [${x.shape.join(', ')}])`);
  if (!Number.isInteger(length) || length < 0) throw new Error(`fitLength: length must be a non-negative integer, got ${length}`);
  const offset = ((((opts.offset ?? 0) % n) + n) % n);
  return tf.tidy(() => {
    const reps = Math.ceil((offset + length) / n);
    const tiled = reps > 1 ? tf.tile(x, x.rank === 2 ? [1, reps] : [reps]) : x;
    return x.rank === 2 ? tiled.slice([0, offset], [x.shape[0], length]) : tiled.slice([offset], [length]);
  });
}

/** {@link fitLength} on a Float32Array (a new array). */
export function fitLengthArray(x: Float32Array, length: number, opts: NoiseFitOptions = {}): Float32Array {
  const n = x.length;
  if (n === 0) throw new Error('fitLengthArray: cannot loop an empty signal');
  const offset = ((((opts.offset ?? 0) % n) + n) % n);
  return Float32Array.from({ length }, (_, t) => x[(offset + t) % n]);
}

/**
 * The noise, looped/cropped to the clean signal's length (see {@link fitLength}) and scaled so that
 * 10 log10(P_clean / P_noise) = snrDb, with P the mean square over time per example:
 * scale = sqrt(P_clean / (P_noise 10^(snrDb / 10))). An all-zero noise stays zero (the SNR is then
 * infinite) rather than producing NaN.
 * @param clean [time] or [batch, time].
 * @param noise [noiseTime] (shared by every example) or [batch, noiseTime].
 * @param snrDb a number, one per example, or a tensor [batch].
 * @returns the scaled noise, shaped like `clean`.
 */
export function scaleNoiseToSnr(clean: tf.Tensor, noise: tf.Tensor, snrDb: number | number[] | tf.Tensor, opts: NoiseFitOptions = {}): tf.Tensor {
  checkSignal(clean, 'scaleNoiseToSnr');
  checkSignal(noise, 'scaleNoiseToSnr');
  if (noise.rank > clean.rank || (noise.rank === 2 && noise.shape[0] !== clean.shape[0])) {
    throw new Error(`scaleNoiseToSnr: noise of shape [${noise.shape.join(', ')}] does not match clean of shape [${clean.shape.join(', ')}] (use [noiseTime] or [batch, noiseTime])`);
  }
  const length = clean.shape[clean.rank - 1];
  return tf.tidy(() => {
    let n = fitLength(noise, length, opts);
    if (n.rank < clean.rank) n = n.reshape([1, length]).tile([clean.shape[0], 1]);
    const pc = clean.square().mean(-1, true);
    const pn = n.square().mean(-1, true);
    const snr = perExample(snrDb, clean, 'scaleNoiseToSnr', 'snrDb');
    const target = pc.div(snr.mul(Math.LN10 / 10).exp());
    const silent = pn.lessEqual(0);
    const scale = tf.where(silent, tf.zerosLike(pn), target.div(tf.where(silent, tf.onesLike(pn), pn)).sqrt());
    return n.mul(scale);
  });
}

/**
 * Adds noise at an exact signal-to-noise ratio: clean + {@link scaleNoiseToSnr}(clean, noise, snrDb),
 * so that 10 log10(mean(clean^2) / mean(scaledNoise^2)) = snrDb per example.
 * @param clean [time] or [batch, time].
 * @param noise [noiseTime] or [batch, noiseTime], looped or cropped to the clean length from `offset`.
 * @param snrDb a number, one per example, or a tensor [batch].
 * @returns the mixture, shaped like `clean`.
 */
export function mixAtSnr(clean: tf.Tensor, noise: tf.Tensor, snrDb: number | number[] | tf.Tensor, opts: NoiseFitOptions = {}): tf.Tensor {
  return tf.tidy(() => clean.add(scaleNoiseToSnr(clean, noise, snrDb, opts)));
}

/**
 * {@link mixAtSnr} on Float32Arrays, computed in float64: returns the mixture and the scaled noise.
 * @throws if the clean signal is empty.
 */
export function mixAtSnrArray(clean: Float32Array, noise: Float32Array, snrDb: number, opts: NoiseFitOptions = {}): { mixture: Float32Array; noise: Float32Array } {
  if (clean.length === 0) throw new Error('mixAtSnrArray: the clean signal is empty');
  const n = fitLengthArray(noise, clean.length, opts);
  let pc = 0;
  let pn = 0;
  for (let i = 0; i < clean.length; i++) {
    pc += clean[i] * clean[i];
    pn += n[i] * n[i];
  }
  const scale = pn > 0 ? Math.sqrt(pc / (pn * 10 ** (snrDb / 10))) : 0;
  const scaled = n.map((v) => v * scale);
  return { mixture: clean.map((v, i) => v + scaled[i]), noise: scaled };
}

/** Options of {@link specAugment} and {@link specAugmentMasks}. Defaults: the LD policy of Park et al. (2019). */
export interface SpecAugmentOptions {
  /** Number of frequency masks per example. Default: 2. */
  freqMasks?: number;
  /** Largest frequency-mask width in bins; widths are uniform over 0..maxFreqWidth. Default: 27. */
  maxFreqWidth?: number;
  /** Number of time masks per example. Default: 2. */
  timeMasks?: number;
  /** Largest time-mask width in frames; widths are uniform over 0..maxTimeWidth. Default: 100. */
  maxTimeWidth?: number;
  /** Time masks are also at most floor(maxTimeRatio * frames) wide (the paper's p). Default: 1. */
  maxTimeRatio?: number;
  /** Value written into masked cells: a number, or 'mean' (the example's mean). Default: 0. */
  value?: number | 'mean';
  /** Generator to draw masks from (advanced by the call). Default: new Rng(seed). */
  rng?: Rng;
  /** Seed used when no rng is given; one of the two is required so that masks are reproducible. Default: none. */
  seed?: number;
}

/** A band [start, start + width) masked along one axis. */
export interface MaskBand {
  start: number;
  width: number;
}

/** The masks drawn for each example: frequency bands (bins) and time bands (frames). */
export interface SpecAugmentMasks {
  freq: MaskBand[][];
  time: MaskBand[][];
}

/**
 * Draws SpecAugment masks for `batch` examples of `frames` x `freqBins` (SpecAugment, Park et al.,
 * Interspeech 2019): per example, `freqMasks` bands of width w ~ U{0..maxFreqWidth} (capped at
 * freqBins) starting at s ~ U{0..freqBins - w}, then `timeMasks` bands likewise with width capped at
 * min(maxTimeWidth, floor(maxTimeRatio * frames)). Draws come from `rng` (or `new Rng(seed)`) in that
 * order, so a seed fixes every mask.
 */
export function specAugmentMasks(batch: number, frames: number, freqBins: number, opts: SpecAugmentOptions): SpecAugmentMasks {
  if (!opts || (opts.rng === undefined && opts.seed === undefined)) {
    throw new Error('specAugment: pass {seed} or {rng} so that the masks are reproducible');
  }
  const rng = opts.rng ?? new Rng(opts.seed);
  const nF = opts.freqMasks ?? 2;
  const nT = opts.timeMasks ?? 2;
  const maxF = Math.min(opts.maxFreqWidth ?? 27, freqBins);
  const maxT = Math.min(opts.maxTimeWidth ?? 100, Math.floor((opts.maxTimeRatio ?? 1) * frames), frames);
  for (const [name, v] of [['freqMasks', nF], ['timeMasks', nT], ['maxFreqWidth', maxF], ['maxTimeWidth', maxT]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`specAugment: ${name} must be a non-negative integer, got ${v}`);
  }
  const band = (maxW: number, size: number): MaskBand => {
    const width = rng.int(maxW + 1);
    return { start: rng.int(size - width + 1), width };
  };
  const out: SpecAugmentMasks = { freq: [], time: [] };
  for (let b = 0; b < batch; b++) {
    out.freq.push(Array.from({ length: nF }, () => band(maxF, freqBins)));
    out.time.push(Array.from({ length: nT }, () => band(maxT, frames)));
  }
  return out;
}

/**
 * SpecAugment frequency and time masking (Park et al., 2019; time warping not included): cells in a
 * masked frequency band or a masked time band get `value`, others are kept. Masks as
 * {@link specAugmentMasks}, independent per example, reproducible from `seed`/`rng`.
 * y = spec * keep + value * (1 - keep), keep[b, t, f] = keepTime[b, t] * keepFreq[b, f]; differentiable
 * with respect to spec.
 * @param spec [frames, freq] or [batch, frames, freq].
 */
export function specAugment(spec: tf.Tensor, opts: SpecAugmentOptions): tf.Tensor {
  if (!(spec instanceof tf.Tensor) || (spec.rank !== 2 && spec.rank !== 3)) {
    throw new Error(`specAugment: expected a spectrogram [frames, freq] or [batch, frames, freq], got ${spec instanceof tf.Tensor ? `[${spec.shape.join(', ')}]` : typeof spec}`);
  }
  const [batch, frames, bins] = spec.rank === 3 ? spec.shape : [1, ...spec.shape];
  const masks = specAugmentMasks(batch, frames, bins, opts);
  const keepT = new Float32Array(batch * frames).fill(1);
  const keepF = new Float32Array(batch * bins).fill(1);
  for (let b = 0; b < batch; b++) {
    for (const m of masks.time[b]) keepT.fill(0, b * frames + m.start, b * frames + m.start + m.width);
    for (const m of masks.freq[b]) keepF.fill(0, b * bins + m.start, b * bins + m.start + m.width);
  }
  const value = opts.value ?? 0;
  if (value !== 'mean' && !Number.isFinite(value)) throw new Error(`specAugment: value must be a finite number or 'mean', got ${value}`);
  return tf.tidy(() => {
    const s = spec.reshape([batch, frames, bins]);
    const keep = tf.tensor3d(keepT, [batch, frames, 1]).mul(tf.tensor3d(keepF, [batch, 1, bins]));
    let y = s.mul(keep);
    const fill = value === 'mean' ? s.mean([1, 2], true) : value !== 0 ? tf.scalar(value) : undefined;
    if (fill) y = y.add(tf.onesLike(keep).sub(keep).mul(fill));
    return y.reshape(spec.shape);
  });
}
