import type { ClaimSpec } from '../claims';
import type { RecipeResults, ResultRow } from '../results';
import type { ClaimInput, Run } from '../run';
import type { EpochRecord } from '../../train/history';
import { OS_KDFT_VARIANT_NAME, OsKdftConfig, OsKdftVariant } from './config';
import { median } from './evaluate';
import type { OsKdftState } from './state';

type OkRun = Run<OsKdftConfig, OsKdftState>;

/**
 * The claims, with the kit's paired 95% intervals:
 * - OS-KDFT's EER is at most KD-then-FT's at the same student size and budget (statistic 'eer', bootstrap over
 *   trials), on the trial list and on all pairs of test utterances; precondition: both below chance (50%);
 * - the student's SSL inference is at least 70% faster than the teacher's: per timed utterance 1 - student ms /
 *   teacher ms, its mean at least 0.7.
 */
export function osKdftClaims(state: OsKdftState): ClaimInput[] {
  const out: ClaimInput[] = [];
  const a = state.evaluation['os-kdft'], b = state.evaluation['kd-then-ft'];
  if (a && b) {
    for (const [set, key] of [['the trial list', 'trials'], ['all pairs of test utterances', 'allPairs']] as const) {
      const spec: ClaimSpec = { id: `oskdft-eer-at-most-two-step-${key === 'trials' ? 'trials' : 'pairs'}`,
        statement: `OS-KDFT's EER is at most KD-then-FT's at the same size and budget (${set})`, metric: `EER over ${set}`,
        variants: [OS_KDFT_VARIANT_NAME['os-kdft'], OS_KDFT_VARIANT_NAME['kd-then-ft']], direction: 'lower', threshold: 0, statistic: 'eer',
        display: { scale: 100, unit: 'points' } };
      const worst = Math.max(a[key].eer, b[key].eer);
      out.push({ spec, evidence: { a: a[key].scores, b: b[key].scores, labels: a[key].labels,
        precondition: { ok: worst < 0.5, reason: `a system is not better than chance (EER ${(100 * worst).toFixed(1)}%)` } } });
    }
  }
  if (a && state.teacherSslMs) {
    const red = a.sslMs.map((s, i) => 1 - s / state.teacherSslMs![i]);
    out.push({ spec: { id: 'student-ssl-70pct-faster', statement: 'The OS-KDFT student\'s SSL inference is at least 70% faster than the teacher\'s',
      metric: 'per utterance, 1 - student ms / teacher ms (batch 1)', variants: ['student', 'no reduction'], direction: 'higher', threshold: 0.7,
      display: { scale: 100, unit: '%' } }, evidence: { a: red, b: red.map(() => 0) } });
  }
  return out;
}

/** Recipe-specific fields of results.json. */
export interface OsKdftExtra {
  config: OsKdftConfig;
  data: { train: number; speakers: number; test: number; trials: number; pairs: number; sources: Record<string, string> };
  teacher: { params: number; sslMs: number | null; origin: string; where?: string };
  /** Per variant: per-epoch loss terms (kd, ft). */
  curves: Partial<Record<OsKdftVariant, EpochRecord[]>>;
  /** Per variant: trial scores and labels (trial list and all pairs), for DET curves and histograms. */
  scores: Partial<Record<OsKdftVariant, { trials: number[]; pairs: number[] }>>;
  labels: { trials: number[]; pairs: number[] };
  /** Per variant: whole-utterance test embeddings; speaker of each test utterance. */
  embeddings: Partial<Record<OsKdftVariant, number[][]>>;
  testSpeakers: number[];
}

/** results.json of os-kdft. */
export type OsKdftResults = RecipeResults & OsKdftExtra;

const R = (v: number | undefined | null, d: number) => (v === undefined || v === null || !Number.isFinite(v) ? null : Number(v.toFixed(d)));

/** Step 'report': a row per variant (sizes, EER and minDCF on both trial sets, SSL time and its reduction), the claims. */
export function reportOsKdft(run: OkRun): void {
  const { config, state } = run;
  const data = state.data!;
  const teacherParams = state.teacher!.model.numParams();
  const teacherMs = state.teacherSslMs ? median(state.teacherSslMs) : null;
  const rows: ResultRow[] = [];
  for (const v of config.variants) {
    const ev = state.evaluation[v], t = state.trained[v];
    if (!ev || !t) continue;
    const ms = median(ev.sslMs);
    const last = t.history.epochs[t.history.epochs.length - 1];
    rows.push({ variant: v, name: OS_KDFT_VARIANT_NAME[v], sslParams: ev.params.ssl, backendParams: ev.params.backend,
      sslReduction: R(1 - ev.params.ssl / teacherParams, 4), eer: R(ev.trials.eer, 4), minDcf01: R(ev.trials.minDcf01, 4),
      minDcf05: R(ev.trials.minDcf05, 4), eerAllPairs: R(ev.allPairs.eer, 4), minDcf01AllPairs: R(ev.allPairs.minDcf01, 4),
      sslMsPerSecond: R(ms, 2), sslTimeReduction: teacherMs ? R(1 - ms / teacherMs, 4) : null, threshold: R(ev.trials.threshold, 4),
      ftLoss: R(last?.ft, 4), seconds: R(t.seconds, 1) });
  }
  const first = Object.values(state.evaluation)[0];
  const extra: OsKdftExtra = {
    config,
    data: { train: data.train.length, speakers: data.speakers.length, test: data.test.length, trials: data.trials.length,
      pairs: first?.allPairs.labels.length ?? 0, sources: data.sources },
    teacher: { params: teacherParams, sslMs: R(teacherMs, 2), origin: state.teacher!.origin, where: state.teacher!.where },
    curves: Object.fromEntries(Object.entries(state.trained).map(([k, t]) => [k, t!.history.epochs])),
    scores: Object.fromEntries(Object.entries(state.evaluation).map(([k, e]) => [k, { trials: e!.trials.scores, pairs: e!.allPairs.scores }])),
    labels: { trials: first?.trials.labels ?? [], pairs: first?.allPairs.labels ?? [] },
    embeddings: Object.fromEntries(Object.entries(state.evaluation).map(([k, e]) => [k, e!.embeddings])),
    testSpeakers: data.test.map((u) => u.speaker),
  };
  run.report({
    rows, claims: osKdftClaims(state), baselines: { chanceEer: 0.5, teacherParams, ...(teacherMs ? { teacherSslMs: teacherMs } : {}) },
    columns: [{ key: 'name', title: 'variant' }, { key: 'sslParams', title: 'SSL params', format: 'int' },
      { key: 'sslReduction', title: 'smaller', format: 'pct' }, { key: 'eer', title: 'EER %', format: 'pct' },
      { key: 'minDcf01', title: 'minDCF .01', format: 'fixed:3' }, { key: 'minDcf05', title: 'minDCF .05', format: 'fixed:3' },
      { key: 'eerAllPairs', title: 'EER all pairs %', format: 'pct' }, { key: 'sslMsPerSecond', title: 'SSL ms/s', format: 'fixed:1' },
      { key: 'sslTimeReduction', title: 'faster', format: 'pct' }, { key: 'seconds', title: 'train s', format: 'fixed:0' }],
    extra: extra as unknown as Record<string, unknown>,
  });
}

/** The results of a run whose report step ran, typed (throws before that). */
export function osKdftResultsOf(run: OkRun): OsKdftResults {
  if (!run.results) throw new Error("os-kdft: no results yet; run the step 'report' first");
  return run.results as OsKdftResults;
}
