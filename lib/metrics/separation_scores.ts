import { linearSumAssignment } from '../pit/hungarian';
import { bssSdr } from './bss_sdr';
import { finiteMeans, readSignals, SignalBatch } from './inputs';
import { pesqOrNaN, PesqMode } from './pesq';
import { stoi } from './stoi';

/** Options of {@link separationScores}. */
export interface SeparationScoresOptions {
  /** PESQ modes. Default ['nb'] at 8 kHz, ['wb', 'nb'] at 16 kHz, none at other rates; [] for none. */
  pesq?: PesqMode[];
  /** STOI (pystoi 0.4.1). Default true. */
  stoi?: boolean;
  /** BSS-eval SDR (mir_eval v3, 512 taps; about 40 ms per 4 s source). Default true. */
  sdr?: boolean;
  /**
   * The mixture's rows from an earlier call on the same mixtures and references with the same options
   * (`result.mixture.rows`): reused instead of scoring the mixtures again, when several models are scored on one
   * test set. Default: scored here.
   */
  mixtureRows?: SeparationRow[];
}

/** One mixture's scores, each the mean over its sources (null where not computed). */
export interface SeparationRow {
  [metric: string]: number | number[] | null;
  item: number;
  /** SI-SNR of the matched estimates (dB, metrics.siSnr: zero-mean, eps 1e-8). */
  siSnr: number;
  /** SI-SNR improvement over the mixture taken as the estimate of every source. */
  siSnri: number;
  /** BSS-eval SDR and its improvement over the mixture. */
  sdr: number | null;
  sdri: number | null;
  stoi: number | null;
  pesqNb: number | null;
  pesqWb: number | null;
  /** The estimate matched to each reference: perm[k] is the estimate of reference k (best total SI-SNR). */
  perm: number[];
}

/** What {@link separationScores} returns: rows per mixture, means of each metric, the mixture's own scores. */
export interface SeparationScores {
  rows: SeparationRow[];
  mean: Record<string, number>;
  /** The unprocessed mixture scored as the estimate of every source (the baseline of the improvements). */
  mixture: { rows: SeparationRow[]; mean: Record<string, number> };
}

const METRICS = ['siSnr', 'siSnri', 'sdr', 'sdri', 'stoi', 'pesqNb', 'pesqWb'] as const;

const meanOf = (rows: SeparationRow[]) => finiteMeans(rows, METRICS);

/** metrics.siSnr's formula (zero-mean, eps 1e-8) in float64 on plain arrays: no tensors for whole test mixtures. */
function siSnr64(est: Float64Array, ref: Float64Array, eps = 1e-8): number {
  const n = est.length;
  let me = 0, mr = 0;
  for (let t = 0; t < n; t++) { me += est[t]; mr += ref[t]; }
  me /= n; mr /= n;
  let dot = 0, rr = 0;
  for (let t = 0; t < n; t++) { const r = ref[t] - mr; dot += (est[t] - me) * r; rr += r * r; }
  const alpha = (dot + eps) / (rr + eps);
  let target = 0, noise = 0;
  for (let t = 0; t < n; t++) {
    const a = alpha * (ref[t] - mr);
    const e = est[t] - me - a;
    target += a * a;
    noise += e * e;
  }
  return 10 * Math.log10((target + eps) / (noise + eps));
}

/** [estimate][reference] SI-SNR in dB. */
function siSnrMatrix(est: Float64Array[], ref: Float64Array[]): number[][] {
  return est.map((e) => ref.map((r) => siSnr64(e, r)));
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

interface Scored {
  item: number; perm: number[]; siSnr: number; sdr: number | null; stoi: number | null; pesqNb: number | null; pesqWb: number | null;
}

function scoreSources(est: Float64Array[], ref: Float64Array[], sampleRate: number, o: Required<Omit<SeparationScoresOptions, 'mixtureRows'>>, item: number,
  perm: number[], snr: number[]): Scored {
  const pairs = ref.map((r, k) => [est[perm[k]], r] as const);
  const p = (mode: PesqMode) => {
    if (!o.pesq.includes(mode)) return null;
    return mean(pairs.map(([e, r]) => pesqOrNaN(e, r, sampleRate, { mode })));
  };
  return {
    item, perm, siSnr: mean(snr),
    sdr: o.sdr ? mean(pairs.map(([e, r]) => bssSdr(e, r))) : null,
    stoi: o.stoi ? mean(pairs.map(([e, r]) => stoi(e, r, sampleRate, { onShort: 'silent' }))) : null,
    pesqNb: p('nb'), pesqWb: p('wb'),
  };
}

/**
 * The scores separation papers report, per mixture and averaged: the estimates are matched to the references
 * by the assignment of the best total SI-SNR (Hungarian, as PIT at evaluation), then SI-SNR, BSS-eval SDR
 * (metrics.bssSdr, as mir_eval and asteroid), STOI and PESQ of each matched pair, averaged over the sources;
 * the mixture itself is scored as the estimate of every source, and the improvements (SI-SNRi, SDRi) are the
 * differences, as in asteroid's evaluation.
 *
 * @param estimates per mixture, the separated signals (an array of signals or a [sources, time] tensor each)
 * @param references per mixture, the sources, as many as estimates, each as long as the mixture
 * @param mixtures the mixtures
 * @param sampleRate 8000 or 16000 for PESQ
 */
export function separationScores(estimates: ReadonlyArray<SignalBatch>, references: ReadonlyArray<SignalBatch>,
  mixtures: SignalBatch, sampleRate: number, options: SeparationScoresOptions = {}): SeparationScores {
  const fn = 'separationScores';
  const mix = readSignals(mixtures, 'mixtures', fn);
  if (estimates.length !== mix.length || references.length !== mix.length) {
    throw new Error(`${fn}: estimates, references and mixtures must hold the same number of mixtures; got ${estimates.length}, ` +
      `${references.length} and ${mix.length}`);
  }
  const o = {
    pesq: options.pesq ?? (sampleRate === 16000 ? ['wb', 'nb'] : sampleRate === 8000 ? ['nb'] : []),
    stoi: options.stoi ?? true, sdr: options.sdr ?? true,
  } as Required<Omit<SeparationScoresOptions, 'mixtureRows'>>;
  const reuse = options.mixtureRows;
  if (reuse && reuse.length !== mix.length) {
    throw new Error(`${fn}: mixtureRows holds ${reuse.length} rows for ${mix.length} mixtures: it must come from the same test set`);
  }
  const rows: SeparationRow[] = [];
  const mrows: SeparationRow[] = [];
  mix.forEach((m, i) => {
    const est = readSignals(estimates[i], `estimates[${i}]`, fn);
    const ref = readSignals(references[i], `references[${i}]`, fn);
    if (est.length !== ref.length) throw new Error(`${fn}: mixture ${i} has ${est.length} estimates and ${ref.length} references`);
    for (const [what, xs] of [['estimates', est], ['references', ref]] as const) {
      xs.forEach((x, k) => {
        if (x.length !== m.length) throw new Error(`${fn}: ${what}[${i}][${k}] has ${x.length} samples, mixture ${i} has ${m.length}`);
      });
    }
    const matrix = siSnrMatrix(est, ref);
    // Cost [reference, estimate]: the assignment perm[k] = estimate of reference k.
    const perm = linearSumAssignment(ref.map((_, k) => est.map((_, e) => -matrix[e][k])));
    const row = scoreSources(est, ref, sampleRate, o, i, perm, perm.map((e, k) => matrix[e][k]));
    const base = reuse ? reuse[i] : scoreSources(ref.map(() => m), ref, sampleRate, o, i, ref.map((_, k) => k), siSnrMatrix([m], ref)[0]);
    const sdri = typeof row.sdr === 'number' && typeof base.sdr === 'number' ? row.sdr - base.sdr : null;
    rows.push({ ...row, siSnri: row.siSnr - (base.siSnr as number), sdri } as SeparationRow);
    mrows.push({ ...base, siSnri: 0, sdri: base.sdr !== null ? 0 : null } as SeparationRow);
  });
  return { rows, mean: meanOf(rows), mixture: { rows: mrows, mean: meanOf(mrows) } };
}
