/**
 * PESQ, Perceptual Evaluation of Speech Quality: ITU-T P.862 (narrow-band, with the P.862.1 MOS-LQO
 * mapping) and P.862.2 (wide-band), computed as the recommendations' reference implementation computes
 * it, on plain float32 arrays (no tensors: the work is FFTs, IIR filters and threshold decisions).
 *
 * Pipeline (module per stage): both signals scaled by their shared peak (as the `pesq` Python package
 * does) -> level alignment (level_align.ts) -> listening-device filter: IRS receive (nb) or 100 Hz
 * high-pass (wb) (irs_filter.ts) -> time alignment on band-pass-filtered copies: VAD (vad.ts), crude and
 * fine delays per utterance (time_align.ts), utterance splitting (utterance_split.ts) -> perceptual
 * model and disturbance aggregation (perceptual.ts, bad_intervals.ts, disturbance.ts) -> MOS mapping.
 */
import * as tf from '@tensorflow/tfjs';
import { alignLevel } from './level_align';
import { alignmentFilter, irsReceiveFilter, widebandHighpass } from './irs_filter';
import { copySignal, padSignal } from './signal';
import { rateTables } from './tables';
import { locateUtterances, utteranceBounds, AlignmentInput, FrameCorrelator } from './time_align';
import { splitUtterances } from './utterance_split';
import { voiceActivity } from './vad';
import { pesqIndicators } from './disturbance';
import { f32 } from './dsp';
import { NumbersLike, readSignals, SignalBatch } from '../inputs';

/** 'nb': P.862 narrow-band (IRS handset filter, P.862.1 mapping); 'wb': P.862.2 wide-band (16 kHz only). */
export type PesqMode = 'nb' | 'wb';

/** Options of {@link pesq}. */
export interface PesqOptions {
  /** Narrow- or wide-band PESQ. Default 'wb' at 16 kHz (as the `pesq` package), 'nb' at 8 kHz (its only mode). */
  mode?: PesqMode;
}

/** Options of {@link pesqBatch}. */
export interface PesqBatchOptions extends PesqOptions {
  /**
   * What an item without detectable speech in its reference gives: 'throw' a {@link NoUtterancesError},
   * or 'nan' (the batch goes on). Argument errors always throw. Default 'throw'.
   */
  onNoUtterances?: 'throw' | 'nan';
}

/**
 * PESQ found no utterance in the reference (silence, or speech shorter than 200 ms where the degraded
 * signal can hold it): the reference implementation's "No utterances detected" (error -7).
 */
export class NoUtterancesError extends Error {
  constructor(message = 'pesq: no utterances detected in the reference (silent, or no speech run of 200 ms)') {
    super(message);
    this.name = 'NoUtterancesError';
  }
}

function readSignal(x: NumbersLike, what: string, fn: string): Float32Array | Float64Array {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 1) throw new Error(`${fn}: ${what} must be 1-D [time]; got a tensor of shape [${x.shape.join(', ')}]`);
    return x.dataSync() as Float32Array;
  }
  if (x == null || typeof (x as ArrayLike<number>).length !== 'number' || typeof x === 'string') {
    throw new Error(`${fn}: ${what} must be a 1-D tensor or an array of numbers; got ${x === null ? 'null' : typeof x}`);
  }
  if (x instanceof Float32Array || x instanceof Float64Array) return x;
  return Float64Array.from(x as ArrayLike<number>, (v, i) => {
    if (typeof v !== 'number') {
      throw new Error(`${fn}: ${what}[${i}] is ${Array.isArray(v) ? 'an array' : typeof v}, expected a number`);
    }
    return v;
  });
}

/** max |x|, after checking that every sample is finite. */
function peakOf(x: ArrayLike<number>, what: string, fn: string): number {
  let peak = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (!Number.isFinite(v)) throw new Error(`${fn}: ${what} contains ${v} at sample ${i}; PESQ needs finite samples`);
    const a = Math.abs(v);
    if (a > peak) peak = a;
  }
  return peak;
}

function resolveMode(sampleRate: number, options: PesqOptions, fn: string): PesqMode {
  if (sampleRate !== 8000 && sampleRate !== 16000) {
    throw new Error(`${fn}: sampleRate must be 8000 or 16000 Hz (the rates P.862 defines); got ${sampleRate}`);
  }
  const mode = options.mode ?? (sampleRate === 16000 ? 'wb' : 'nb');
  if (mode !== 'nb' && mode !== 'wb') throw new Error(`${fn}: mode must be 'nb' or 'wb'; got ${JSON.stringify(mode)}`);
  if (mode === 'wb' && sampleRate !== 16000) {
    throw new Error(`${fn}: mode 'wb' (P.862.2) needs sampleRate 16000; got ${sampleRate} (use mode 'nb')`);
  }
  return mode;
}

/**
 * The P.862 pipeline on one validated pair (equal lengths >= fs/4, finite, reference not silent), both
 * already divided by their shared peak.
 */
function pesqScaled(estimate: Float32Array, reference: Float32Array, sampleRate: number, mode: PesqMode,
  fn: string): number {
  const rate = rateTables(sampleRate)!;
  const ref = padSignal(reference, rate);
  const deg = padSignal(estimate, rate);
  alignLevel([ref, deg], rate);
  if (mode === 'nb') irsReceiveFilter(ref, deg, rate);
  else widebandHighpass(ref, deg, rate);

  const refAlign = copySignal(ref);
  const degAlign = copySignal(deg);
  alignmentFilter(refAlign, degAlign, rate);
  const refVad = voiceActivity(refAlign.data, refAlign.nsamples, rate.downsample);
  const degVad = voiceActivity(degAlign.data, degAlign.nsamples, rate.downsample);
  const a: AlignmentInput = {
    rate, ref: refAlign, deg: degAlign, refVad: refVad.vad, refLogVad: refVad.logVad, degLogVad: degVad.logVad,
  };
  const { utterances } = locateUtterances(a);
  if (utterances.length === 0) {
    throw new NoUtterancesError(`${fn}: no utterances detected (the reference has no speech run of 200 ms that ` +
      'the estimate can hold)');
  }
  utteranceBounds(a, utterances);
  splitUtterances(a, new FrameCorrelator(refAlign.data, degAlign.data, rate.alignNfft), utterances);

  const { raw } = pesqIndicators(ref, deg, utterances, rate);
  const [slope, offset] = mode === 'nb' ? [1.4945, 4.6607] : [1.3669, 3.8224];
  const e = f32(Math.exp(f32(f32(f32(-slope) * raw) + f32(offset))));
  return f32(f32(0.999) + f32(4 / f32(1 + e)));
}

/** Checks a pair, scales both by their shared peak (as the pesq package does) and scores it. */
function pesqPair(est: ArrayLike<number>, ref: ArrayLike<number>, sampleRate: number, mode: PesqMode, fn: string): number {
  if (est.length !== ref.length) {
    throw new Error(`${fn}: estimate and reference must have the same length; got ${est.length} and ${ref.length} samples`);
  }
  if (ref.length < sampleRate / 4) {
    throw new Error(`${fn}: signals must be at least 1/4 s long (${sampleRate / 4} samples at ${sampleRate} Hz); ` +
      `got ${ref.length} samples`);
  }
  const estPeak = peakOf(est, 'estimate', fn);
  const refPeak = peakOf(ref, 'reference', fn);
  if (refPeak === 0) throw new NoUtterancesError(`${fn}: the reference is silent (all zeros); no utterances detected`);
  if (estPeak === 0) return NaN;
  const peak = Math.max(estPeak, refPeak);
  const scale = (x: ArrayLike<number>) => {
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = x[i] / peak;
    return out;
  };
  return pesqScaled(scale(est), scale(ref), sampleRate, mode, fn);
}

/**
 * PESQ MOS-LQO of `estimate` (the degraded or enhanced signal) against `reference` (clean), as the
 * ITU-T P.862 reference implementation computes it (Rix et al., "Perceptual evaluation of speech
 * quality (PESQ)", ICASSP 2001; ITU-T P.862, P.862.1, P.862.2):
 *
 *   raw = 4.5 - 0.1 d_sym - 0.0309 d_asym   (d: aggregated symmetric / asymmetric disturbances)
 *   'nb': MOS-LQO = 0.999 + 4 / (1 + exp(-1.4945 raw + 4.6607))   (P.862.1)
 *   'wb': MOS-LQO = 0.999 + 4 / (1 + exp(-1.3669 raw + 3.8224))   (P.862.2)
 *
 * Both signals are first divided by their shared peak |x|, as the `pesq` Python package does (its
 * `pesq(fs, ref, deg, mode)` takes the reference first; here the estimate comes first, as everywhere in
 * slimspeech). Scores range from about 1.0 to 4.5 ('nb' at most 4.549, 'wb' 4.644). A silent estimate
 * (all zeros) has no level to align and scores NaN, as in the reference implementation.
 *
 * Agreement with the reference implementation: the same stages in the same order, with its float32
 * arithmetic reproduced where a threshold decision follows (filters, VAD, histogram votes); its
 * FFTs are replaced by fft.js in float64. On the test pairs the scores agree within 2e-5 MOS. A pair
 * whose delay histogram holds a near-tie (a correlation within ~1e-6 of a vote threshold) can resolve
 * it the other way: in about 0.2% of random degraded pairs this moved the score by 0.005 - 0.015.
 *
 * @param estimate [time] samples (any scale)
 * @param reference [time], the estimate's length, at least sampleRate / 4 samples
 * @param sampleRate 8000 or 16000
 * @throws NoUtterancesError when the reference holds no detectable speech (e.g. silence)
 */
export function pesq(estimate: NumbersLike, reference: NumbersLike, sampleRate: number, options: PesqOptions = {}): number {
  const fn = 'pesq';
  const mode = resolveMode(sampleRate, options, fn);
  const est = readSignal(estimate, 'estimate', fn);
  const ref = readSignal(reference, 'reference', fn);
  return pesqPair(est, ref, sampleRate, mode, fn);
}

/**
 * {@link pesq} of each row: estimates and references as [batch, time] tensors (of one shape) or as
 * arrays of 1-D signals (pairwise of equal length). Returns one MOS-LQO per row.
 */
/** {@link pesq}, or NaN where the reference has no speech (NoUtterancesError): for tables whose means skip NaN. */
export function pesqOrNaN(estimate: NumbersLike, reference: NumbersLike, sampleRate: number, options: PesqOptions): number {
  try {
    return pesq(estimate, reference, sampleRate, options);
  } catch (err) {
    if (err instanceof NoUtterancesError) return NaN;
    throw err;
  }
}

export function pesqBatch(estimates: SignalBatch, references: SignalBatch,
  sampleRate: number, options: PesqBatchOptions = {}): number[] {
  const fn = 'pesqBatch';
  const mode = resolveMode(sampleRate, options, fn);
  const onNoUtterances = options.onNoUtterances ?? 'throw';
  if (onNoUtterances !== 'throw' && onNoUtterances !== 'nan') {
    throw new Error(`${fn}: onNoUtterances must be 'throw' or 'nan'; got ${JSON.stringify(onNoUtterances)}`);
  }
  const est = readSignals(estimates, 'estimates', fn);
  const ref = readSignals(references, 'references', fn);
  if (est.length !== ref.length) {
    throw new Error(`${fn}: estimates and references must have the same batch size; got ${est.length} and ${ref.length}`);
  }
  return est.map((e, i) => {
    try {
      return pesqPair(e, ref[i], sampleRate, mode, `${fn}: item ${i}`);
    } catch (err) {
      if (err instanceof NoUtterancesError && onNoUtterances === 'nan') return NaN;
      throw err;
    }
  });
}
