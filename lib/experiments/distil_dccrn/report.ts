import type { ClaimSpec } from '../claims';
import type { RecipeResults, ResultRow } from '../results';
import type { ClaimInput, Run } from '../run';
import type { EpochRecord } from '../../train/history';
import { DccrnVariant, DistilDccrnConfig, VARIANT_NAME } from './config';
import type { DccrnState } from './state';

type DccrnRun = Run<DistilDccrnConfig, DccrnState>;

/** A claim of the paper, tested on the test mixtures' per-item scores of two variants. */
interface DccrnClaim {
  spec: ClaimSpec;
  a: DccrnVariant;
  b: DccrnVariant;
  metric: 'siSnr' | 'pesqWb';
}

/**
 * The paper's claims (PAPERS.md section 2), each on paired per-item scores of the test mixtures with the
 * kit's 95% interval:
 * (a) the student with AT-KL beats the student alone, on SI-SNR and on PESQ (wide-band): the whole interval
 *     of the difference above 0;
 * (b) at about 30% of the parameters, the student with AT-KL matches or beats the full-size DCCRN trained
 *     alone: within 0.5 dB SI-SNR and within 0.1 PESQ (MOS) or above (our reading of "beats DCCRN").
 */
export const DCCRN_CLAIMS: readonly DccrnClaim[] = [
  { a: 'student-atkl', b: 'student', metric: 'siSnr', spec: { id: 'atkl-beats-student-si-snr',
    statement: 'the student with AT-KL beats the student alone on SI-SNR', metric: 'SI-SNR (dB) per test mixture',
    variants: ['student + AT-KL', 'student alone'], direction: 'higher', threshold: 0, strict: true, display: { scale: 1, unit: 'dB' } } },
  { a: 'student-atkl', b: 'student', metric: 'pesqWb', spec: { id: 'atkl-beats-student-pesq',
    statement: 'the student with AT-KL beats the student alone on PESQ', metric: 'PESQ wide-band (MOS) per test mixture',
    variants: ['student + AT-KL', 'student alone'], direction: 'higher', threshold: 0, strict: true, display: { scale: 1, unit: 'MOS' } } },
  { a: 'student-atkl', b: 'full', metric: 'siSnr', spec: { id: 'student-matches-full-si-snr',
    statement: 'the student with AT-KL, at about 30% of the parameters, is within 0.5 dB SI-SNR of the full DCCRN or above',
    metric: 'SI-SNR (dB) per test mixture', variants: ['student + AT-KL', 'DCCRN (full size)'], direction: 'higher', threshold: -0.5,
    display: { scale: 1, unit: 'dB' } } },
  { a: 'student-atkl', b: 'full', metric: 'pesqWb', spec: { id: 'student-matches-full-pesq',
    statement: 'the student with AT-KL, at about 30% of the parameters, is within 0.1 PESQ of the full DCCRN or above',
    metric: 'PESQ wide-band (MOS) per test mixture', variants: ['student + AT-KL', 'DCCRN (full size)'], direction: 'higher', threshold: -0.1,
    display: { scale: 1, unit: 'MOS' } } },
];

/** The claims whose two variants were evaluated; precondition: both enhance at all (mean SI-SNRi above 0). */
export function dccrnClaimInputs(state: DccrnState): ClaimInput[] {
  return DCCRN_CLAIMS.filter((c) => state.scores[c.a] && state.scores[c.b]).map((c) => {
    const rows = (v: DccrnVariant) => state.scores[v].test.rows;
    const values = (v: DccrnVariant) => rows(v).map((r) => (r[c.metric] !== null && Number.isFinite(r[c.metric]!) ? r[c.metric]! : NaN));
    const a = values(c.a), b = values(c.b);
    const keep = a.map((_, i) => Number.isFinite(a[i]) && Number.isFinite(b[i]));
    const worst = Math.min(state.scores[c.a].test.mean.siSnri, state.scores[c.b].test.mean.siSnri);
    return { spec: c.spec, evidence: { a: a.filter((_, i) => keep[i]), b: b.filter((_, i) => keep[i]),
      precondition: { ok: worst > 0, reason: `a variant does not improve on the noisy input (mean SI-SNRi ${worst.toFixed(2)} dB)` } } };
  });
}

/** Recipe-specific fields of results.json. */
export interface DistilDccrnExtra {
  config: DistilDccrnConfig;
  data: { train: number; valid: number; test: number; stored: number; sources: Record<string, string> };
  /** The layer mapping of the distilled students (one table, the same pairs for every distilled variant). */
  mapping: Record<string, unknown>[];
  /** Per-epoch records of every training (loss terms, validation SI-SNR). */
  curves: Partial<Record<DccrnVariant, EpochRecord[]>>;
  /** Seconds each training took. */
  seconds: Partial<Record<DccrnVariant, number>>;
}

/** results.json of distil-dccrn. */
export type DistilDccrnResults = RecipeResults & DistilDccrnExtra;

const ROUND = (v: number | undefined, d: number) => (v === undefined ? null : Number(v.toFixed(d)));

/**
 * Step 'report': one row per (test set, variant) with the means of every score and the variant's size
 * and speed, the noisy input as a row of its own and as the baselines, the claims with their intervals.
 */
export function reportDccrn(run: DccrnRun): void {
  const { config, state } = run;
  const data = state.data!;
  const rows: ResultRow[] = [];
  for (const set of ['test', 'stored'] as const) {
    for (const key of ['noisy', ...config.variants]) {
      const s = state.scores[key]?.[set];
      if (!s) continue;
      const cost = state.cost[key as DccrnVariant];
      rows.push({ set, variant: key, name: key === 'noisy' ? 'noisy input' : VARIANT_NAME[key as DccrnVariant],
        params: cost?.params ?? null, macsPerSecond: cost?.macsPerSecond ?? null, rtf: ROUND(cost?.rtf, 4),
        siSnr: ROUND(s.mean.siSnr, 3), siSnri: ROUND(s.mean.siSnri, 3), pesqWb: ROUND(s.mean.pesqWb, 3), pesqNb: ROUND(s.mean.pesqNb, 3),
        stoi: ROUND(s.mean.stoi, 4), estoi: ROUND(s.mean.estoi, 4), items: s.rows.length });
    }
  }
  const noisy = state.scores.noisy.test.mean;
  const distilled = (['student-atkl', 'student-at', 'student-kl'] as const).map((v) => state.trained[v]).find((t) => t?.mapping);
  const extra: DistilDccrnExtra = {
    config, data: { train: data.train.length, valid: data.valid.length, test: data.test.length, stored: data.stored.length, sources: data.sources },
    mapping: distilled?.mapping?.table() as unknown as Record<string, unknown>[] ?? [],
    curves: Object.fromEntries(Object.entries(state.trained).map(([k, t]) => [k, t!.history.epochs])),
    seconds: Object.fromEntries(Object.entries(state.trained).map(([k, t]) => [k, t!.seconds])),
  };
  run.report({
    rows, claims: dccrnClaimInputs(state),
    baselines: Object.fromEntries(Object.entries({ noisySiSnr: noisy.siSnr, noisyPesqWb: noisy.pesqWb, noisyPesqNb: noisy.pesqNb,
      noisyStoi: noisy.stoi }).filter(([, v]) => typeof v === 'number')) as Record<string, number>,
    columns: [{ key: 'set' }, { key: 'name', title: 'model' }, { key: 'params', format: 'int' }, { key: 'macsPerSecond', title: 'MACs/s', format: 'int' },
      { key: 'rtf', title: 'RTF', format: 'fixed:3' }, { key: 'siSnr', title: 'SI-SNR dB', format: 'fixed:2' },
      { key: 'siSnri', title: 'SI-SNRi dB', format: 'fixed:2' }, { key: 'pesqWb', title: 'PESQ-WB', format: 'fixed:3' },
      { key: 'pesqNb', title: 'PESQ-NB', format: 'fixed:3' }, { key: 'stoi', title: 'STOI', format: 'fixed:3' }, { key: 'estoi', title: 'ESTOI', format: 'fixed:3' }],
    extra: extra as unknown as Record<string, unknown>,
  });
}

/** The results of a run whose report step ran, typed (throws before that). */
export function dccrnResultsOf(run: DccrnRun): DistilDccrnResults {
  if (!run.results) throw new Error("distil-dccrn: no results yet; run the step 'report' first");
  return run.results as DistilDccrnResults;
}
