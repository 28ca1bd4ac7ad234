import type { ClaimSpec } from '../claims';
import type { RecipeResults, ResultRow } from '../results';
import type { ClaimInput, Run } from '../run';
import type { EpochRecord } from '../../train/history';
import { DsdLoConfig, SEP_VARIANT_NAME, SepModelKind, SepVariant } from './config';
import type { DsdLoState, SepKey } from './state';

type SepRun = Run<DsdLoConfig, DsdLoState>;

/** Display names of the models. */
export const SEP_MODEL_NAME: Record<SepModelKind, string> = { 'conv-tasnet': 'Conv-TasNet', dprnn: 'DPRNN' };

/** A claim on paired per-mixture SI-SNRi of two variants of one model. */
interface SepClaim {
  model: SepModelKind;
  a: SepVariant;
  b: SepVariant;
  spec: ClaimSpec;
}

/**
 * The claims, per model, on the test mixtures' per-mixture SI-SNRi with the kit's 95% interval (the whole
 * interval of the paired difference above 0 for "holds"):
 * - the paper's: PIT + DSD + LO separates better than PIT (SI-SNRi);
 * - its parts: PIT + DSD (drop) better than PIT, and PIT + LO better than PIT.
 */
export function sepClaims(models: SepModelKind[]): SepClaim[] {
  const out: SepClaim[] = [];
  for (const model of models) {
    const m = SEP_MODEL_NAME[model];
    const claim = (a: SepVariant, id: string, statement: string): SepClaim => ({ model, a, b: 'pit', spec: {
      id: `${id}-${model}`, statement: `${m}: ${statement}`, metric: 'SI-SNRi (dB) per test mixture',
      variants: [SEP_VARIANT_NAME[a], SEP_VARIANT_NAME.pit], direction: 'higher', threshold: 0, strict: true, display: { scale: 1, unit: 'dB' } } });
    out.push(claim('pit-dsd-lo', 'dsd-lo-beats-pit', 'PIT with dynamic sample dropout and layer-wise optimisation separates better than PIT'));
    out.push(claim('pit-dsd-drop', 'dsd-beats-pit', 'PIT with dynamic sample dropout (drop) separates better than PIT'));
    out.push(claim('pit-lo', 'lo-beats-pit', 'PIT with layer-wise optimisation separates better than PIT'));
  }
  return out;
}

/** The claims whose two variants were evaluated; precondition: both separate at all (mean SI-SNRi above 0). */
export function sepClaimInputs(config: DsdLoConfig, state: DsdLoState): ClaimInput[] {
  return sepClaims(config.models).filter((c) => state.scores[`${c.model}/${c.a}`] && state.scores[`${c.model}/${c.b}`]).map((c) => {
    const rows = (v: SepVariant) => state.scores[`${c.model}/${v}`].rows.map((r) => r.siSnri);
    const worst = Math.min(state.scores[`${c.model}/${c.a}`].mean.siSnri, state.scores[`${c.model}/${c.b}`].mean.siSnri);
    return { spec: c.spec, evidence: { a: rows(c.a), b: rows(c.b),
      precondition: { ok: worst > 0, reason: `a variant does not separate at all (mean SI-SNRi ${worst.toFixed(2)} dB)` } } };
  });
}

/** Recipe-specific fields of results.json. */
export interface DsdLoExtra {
  config: DsdLoConfig;
  data: { train: number; valid: number; test: number; testSeconds: number; segmentSeconds: number; sources: Record<string, string> };
  /** Per training key (`<model>/<variant>`): per-epoch records (loss terms, validSiSnri, switchRate, flaggedShare). */
  curves: Partial<Record<SepKey, EpochRecord[]>>;
  /** Seconds each training took. */
  seconds: Partial<Record<SepKey, number>>;
}

/** results.json of dsd-lo. */
export type DsdLoResults = RecipeResults & DsdLoExtra;

const ROUND = (v: number | undefined | null, d: number) => (v === undefined || v === null || !Number.isFinite(v) ? null : Number(v.toFixed(d)));
const meanOf = (v: number[]) => { const f = v.filter(Number.isFinite); return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN; };

/**
 * Step 'report': one row per (model, variant) with the mean scores on the test mixtures, size and speed, the
 * label-switch rate (mean over epochs 2.., and in the last epoch) and the flagged share; the mixture as a row of
 * its own and as the baselines; the claims with their intervals.
 */
export function reportSep(run: SepRun): void {
  const { config, state } = run;
  const data = state.data!;
  const rows: ResultRow[] = [];
  const mix = state.scores.mixture;
  const score = (key: string, model: string, variant: string, name: string) => {
    const s = state.scores[key];
    if (!s) return;
    const t = state.trained[key as SepKey];
    const cost = state.cost[key as SepKey];
    const eps = t?.history.epochs ?? [];
    rows.push({ model, variant, name, params: cost?.params ?? null, rtf: ROUND(cost?.rtf, 4),
      siSnr: ROUND(s.mean.siSnr, 3), siSnri: ROUND(s.mean.siSnri, 3), sdr: ROUND(s.mean.sdr, 3), sdri: ROUND(s.mean.sdri, 3),
      stoi: ROUND(s.mean.stoi, 4), pesqNb: ROUND(s.mean.pesqNb, 3),
      switchRate: t ? ROUND(meanOf(eps.slice(1).map((e) => e.switchRate)), 4) : null,
      switchRateLast: t ? ROUND(eps[eps.length - 1]?.switchRate, 4) : null,
      flaggedShare: t ? ROUND(meanOf(eps.slice(1).map((e) => e.flaggedShare)), 4) : null,
      validSiSnri: t ? ROUND(eps[eps.length - 1]?.validSiSnri, 3) : null, items: s.rows.length });
  };
  score('mixture', '-', 'mixture', 'mixture (unprocessed)');
  for (const model of config.models) {
    for (const variant of config.variants) score(`${model}/${variant}`, model, variant, `${SEP_MODEL_NAME[model]}: ${SEP_VARIANT_NAME[variant]}`);
  }
  const extra: DsdLoExtra = {
    config,
    data: { train: data.train.length, valid: data.valid.length, test: data.test.length, segmentSeconds: config.segmentSeconds,
      testSeconds: Number((data.test.reduce((s, it) => s + it.mixture.length, 0) / data.sampleRate).toFixed(1)), sources: data.sources },
    curves: Object.fromEntries(Object.entries(state.trained).map(([k, t]) => [k, t!.history.epochs])),
    seconds: Object.fromEntries(Object.entries(state.trained).map(([k, t]) => [k, t!.seconds])),
  };
  run.report({
    rows, claims: sepClaimInputs(config, state),
    baselines: Object.fromEntries(Object.entries({ mixtureSiSnr: mix?.mean.siSnr, mixtureSdr: mix?.mean.sdr, mixtureStoi: mix?.mean.stoi,
      mixturePesqNb: mix?.mean.pesqNb }).filter(([, v]) => typeof v === 'number')) as Record<string, number>,
    columns: [{ key: 'name', title: 'model' }, { key: 'params', format: 'int' }, { key: 'rtf', title: 'RTF', format: 'fixed:3' },
      { key: 'siSnri', title: 'SI-SNRi dB', format: 'fixed:2' }, { key: 'sdri', title: 'SDRi dB', format: 'fixed:2' },
      { key: 'stoi', title: 'STOI', format: 'fixed:3' }, { key: 'pesqNb', title: 'PESQ-NB', format: 'fixed:3' },
      { key: 'switchRate', title: 'switches %', format: 'pct' }, { key: 'flaggedShare', title: 'flagged %', format: 'pct' },
      { key: 'validSiSnri', title: 'valid SI-SNRi', format: 'fixed:2' }],
    extra: extra as unknown as Record<string, unknown>,
  });
}

/** The results of a run whose report step ran, typed (throws before that). */
export function sepResultsOf(run: SepRun): DsdLoResults {
  if (!run.results) throw new Error("dsd-lo: no results yet; run the step 'report' first");
  return run.results as DsdLoResults;
}
