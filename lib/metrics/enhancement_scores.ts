import * as tf from '@tensorflow/tfjs';
import { finiteMeans, readSignals, SignalBatch } from './inputs';
import { pesqOrNaN, PesqMode } from './pesq';
import { siSnr } from './si_snr';
import { stoi } from './stoi';

/** Options of {@link enhancementScores}. */
export interface EnhancementScoresOptions {
  /** PESQ modes to score. Default ['wb', 'nb'] at 16 kHz, ['nb'] at 8 kHz, none at other rates; [] for none. */
  pesq?: PesqMode[];
  /** Score STOI and ESTOI. Default true. */
  stoi?: boolean;
}

/** One item's scores (null where not computed: SI-SNRi without the noisy input, a PESQ mode not asked for). */
export interface EnhancementRow {
  [metric: string]: number | null;
  item: number;
  /** SI-SNR of the estimate, dB (metrics.siSnr: zero-mean, eps 1e-8). */
  siSnr: number;
  /** SI-SNR of the estimate minus that of the noisy input, dB. */
  siSnri: number | null;
  stoi: number | null;
  estoi: number | null;
  /** PESQ MOS-LQO, wide-band (P.862.2) and narrow-band (P.862.1); NaN when the reference has no utterance. */
  pesqWb: number | null;
  pesqNb: number | null;
}

/** What {@link enhancementScores} returns: a row per item, and the mean of each metric over the items where it is finite. */
export interface EnhancementScores {
  rows: EnhancementRow[];
  mean: Record<string, number>;
  /** The same scores of the noisy input itself (the unprocessed baseline), when `noisy` was given. */
  noisy?: { rows: EnhancementRow[]; mean: Record<string, number> };
}

const METRICS = ['siSnr', 'siSnri', 'stoi', 'estoi', 'pesqWb', 'pesqNb'] as const;

function scoreOne(e: Float64Array, r: Float64Array, n: Float64Array | undefined, sampleRate: number, modes: PesqMode[],
  withStoi: boolean, item: number): EnhancementRow {
  const snr = (x: Float64Array) => tf.tidy(() => siSnr(tf.tensor1d(Float32Array.from(x)), tf.tensor1d(Float32Array.from(r))).dataSync()[0]);
  const s = snr(e);
  const p = (mode: PesqMode) => {
    if (!modes.includes(mode)) return null;
    return pesqOrNaN(e, r, sampleRate, { mode });
  };
  return {
    item, siSnr: s, siSnri: n ? s - snr(n) : null,
    stoi: withStoi ? stoi(e, r, sampleRate, { onShort: 'silent' }) : null,
    estoi: withStoi ? stoi(e, r, sampleRate, { extended: true, onShort: 'silent' }) : null,
    pesqWb: p('wb'), pesqNb: p('nb'),
  };
}

const meanOf = (rows: EnhancementRow[]) => finiteMeans(rows, METRICS);

/**
 * The scores enhancement and separation papers report, per item and averaged: SI-SNR and, given the noisy
 * input, SI-SNRi (dB); STOI and ESTOI (pystoi 0.4.1); PESQ wide-band and narrow-band (ITU-T P.862.2 and
 * P.862.1 MOS-LQO). With `noisy`, the noisy input is scored the same way against the references, so that
 * every number has its unprocessed baseline beside it (its SI-SNRi is 0 by definition).
 *
 * @param estimates [batch, time] tensor or array of signals: the enhanced (or separated) signals
 * @param references the clean signals, item for item of the same length
 * @param noisy the unprocessed inputs, or undefined
 * @param sampleRate 8000 or 16000 for PESQ (other rates: pass `{pesq: []}`)
 */
export function enhancementScores(estimates: SignalBatch, references: SignalBatch, noisy: SignalBatch | undefined,
  sampleRate: number, options: EnhancementScoresOptions = {}): EnhancementScores {
  const fn = 'enhancementScores';
  const est = readSignals(estimates, 'estimates', fn);
  const ref = readSignals(references, 'references', fn);
  const nsy = noisy === undefined ? undefined : readSignals(noisy, 'noisy', fn);
  if (est.length !== ref.length || (nsy && nsy.length !== ref.length)) {
    throw new Error(`${fn}: estimates, references${nsy ? ' and noisy' : ''} must hold the same number of signals; got ` +
      `${est.length}, ${ref.length}${nsy ? ` and ${nsy.length}` : ''}`);
  }
  ref.forEach((r, i) => {
    for (const [name, x] of [['estimates', est[i]], ['noisy', nsy?.[i]]] as const) {
      if (x && x.length !== r.length) throw new Error(`${fn}: ${name}[${i}] has ${x.length} samples, references[${i}] ${r.length}`);
    }
  });
  const modes = options.pesq ?? (sampleRate === 16000 ? ['wb', 'nb'] : sampleRate === 8000 ? ['nb'] : []);
  const withStoi = options.stoi ?? true;
  const rows = est.map((e, i) => scoreOne(e, ref[i], nsy?.[i], sampleRate, modes, withStoi, i));
  const out: EnhancementScores = { rows, mean: meanOf(rows) };
  if (nsy) {
    const nrows = nsy.map((n, i) => scoreOne(n, ref[i], n, sampleRate, modes, withStoi, i));
    out.noisy = { rows: nrows, mean: meanOf(nrows) };
  }
  return out;
}
