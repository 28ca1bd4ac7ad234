import type { ClaimSpec } from '../claims';
import { classificationBaselines, correctness } from '../evaluation';
import type { RecipeResults, ResultRow } from '../results';
import type { ClaimInput, Run } from '../run';
import type { EpochRecord, StepRecord } from '../../train/history';
import { DPHUBERT_TASK_NAME, DphubertConfig, DphubertProbeTask } from './config';
import type { DphubertState, DphubertStudent } from './state';
import { targetKey } from './train';

type DpRun = Run<DphubertConfig, DphubertState>;

/**
 * The claims, one per probe task, on per-test-clip correctness with the kit's paired 95% interval: at the main
 * target's size, the distilled-and-pruned student beats the distillation-only student (the whole interval of the
 * accuracy difference above 0 for "holds"). Precondition: both above the majority-class baseline.
 */
export function dphubertClaims(config: DphubertConfig, state: DphubertState, majority: Partial<Record<DphubertProbeTask, number>>): ClaimInput[] {
  const main = `dphubert-${targetKey(config.mainTarget)}`;
  const a = state.probes[main], b = state.probes['distill-only'];
  if (!a || !b) return [];
  return config.probes.tasks.filter((t) => a[t] && b[t]).map((task) => {
    const labels = state.data!.probes[task]!.test.labels;
    const spec: ClaimSpec = {
      id: `pruned-beats-distilled-${task}`, statement: `At equal size (sparsity ${config.mainTarget}), the distilled and pruned student beats the ` +
        `distillation-only student on ${DPHUBERT_TASK_NAME[task]}`,
      metric: `${DPHUBERT_TASK_NAME[task]} probe accuracy per test clip`, variants: [`DPHuBERT ${config.mainTarget}`, 'distillation only'],
      direction: 'higher', threshold: 0, strict: true, display: { scale: 100, unit: 'points' } };
    const worst = Math.min(a[task]!.accuracy, b[task]!.accuracy);
    const maj = majority[task] ?? 0;
    return { spec, evidence: { a: correctness(a[task]!.predictions, labels), b: correctness(b[task]!.predictions, labels),
      precondition: { ok: worst > maj, reason: `a probe averages ${(100 * worst).toFixed(1)}%, not above the majority-class baseline ` +
        `(${(100 * maj).toFixed(1)}%)` } } };
  });
}

/** Recipe-specific fields of results.json. */
export interface DphubertExtra {
  config: DphubertConfig;
  data: { train: number; valid: number; clipSeconds: number; sources: Record<string, string>; probes: Record<string, { train: number; test: number; classes: number }> };
  teacher: { params: number; origin: string; where?: string; pretrain?: EpochRecord[]; kmeansInertia?: number[]; seconds: number };
  /** Per target: per optimizer step of distillation with pruning (sparsity, target, lambda1, lambda2, distill, ...), the final distillation's steps, what was kept. */
  pruning: Record<string, { steps: StepRecord[]; final: StepRecord[]; kept: DphubertStudent['pruned']; expectedSparsity?: number }>;
  baseline?: { steps: StepRecord[]; final: StepRecord[]; args: Record<string, unknown> };
  /** Per model and task: the softmax layer weights of its probe. */
  layerWeights: Record<string, Partial<Record<DphubertProbeTask, number[]>>>;
}

/** results.json of dphubert. */
export type DphubertResults = RecipeResults & DphubertExtra;

const ROUND = (v: number | undefined | null, d: number) => (v === undefined || v === null || !Number.isFinite(v) ? null : Number(v.toFixed(d)));
const sum = (v: number[] | undefined) => (v ? v.reduce((a, b) => a + b, 0) : null);

/**
 * Step 'report': one row per model (teacher, the pruned student of each target, the distillation-only student) with
 * its parameters, real sparsity, expected sparsity at the end of pruning, probe accuracies, validation distillation
 * loss, heads and FFN units kept, and training time; the tasks' chance and majority baselines; the claims.
 */
export function reportDphubert(run: DpRun): void {
  const { config, state } = run;
  const data = state.data!;
  const teacher = state.teacher!;
  const T = teacher.model.numParams();
  const rows: ResultRow[] = [];
  const acc = (name: string, task: DphubertProbeTask) => ROUND(state.probes[name]?.[task]?.accuracy, 4);
  const row = (name: string, kind: string, target: number | null, s: DphubertStudent | null, params: number) => {
    rows.push({ model: name, kind, target, params, sparsity: ROUND(1 - params / T, 4), expectedSparsity: ROUND(s?.expectedSparsity, 4),
      kws: acc(name, 'kws'), sid: acc(name, 'sid'), validLoss: ROUND(s?.validLoss, 4),
      heads: s ? sum(s.pruned?.heads ?? (s.model.args.encoderNumHeads as number[])) : null,
      ffnUnits: s ? sum(s.pruned?.ffnUnits ?? (s.model.args.encoderFfIntermFeatures as number[])) : null,
      layers: s ? s.model.args.encoderNumLayers : teacher.model.args.encoderNumLayers, seconds: ROUND(s?.seconds ?? teacher.seconds, 1) });
  };
  row('teacher', 'teacher', null, null, T);
  for (const t of config.targets) {
    const s = state.students[targetKey(t)];
    if (s) row(`dphubert-${targetKey(t)}`, 'dphubert', t, s, s.model.numParams());
  }
  if (state.baseline) row('distill-only', 'distill-only', config.mainTarget, state.baseline, state.baseline.model.numParams());
  const baselines: Record<string, number> = {};
  const majority: Partial<Record<DphubertProbeTask, number>> = {};
  for (const task of config.probes.tasks) {
    const p = data.probes[task]!;
    const b = classificationBaselines(p.train.labels, p.test.labels, p.classes.length);
    baselines[`${task}Chance`] = b.chance;
    baselines[`${task}Majority`] = b.majority;
    majority[task] = b.majority;
  }
  const extra: DphubertExtra = {
    config,
    data: { train: data.train.length, valid: data.valid.length, clipSeconds: config.clipSeconds, sources: data.sources,
      probes: Object.fromEntries(Object.entries(data.probes).map(([k, p]) => [k, { train: p!.train.audio.length, test: p!.test.audio.length,
        classes: p!.classes.length }])) },
    teacher: { params: T, origin: teacher.origin, where: teacher.where, pretrain: teacher.history?.epochs, kmeansInertia: teacher.kmeansInertia,
      seconds: teacher.seconds },
    pruning: Object.fromEntries(Object.entries(state.students).map(([k, s]) => [k, { steps: s.history.steps, final: s.final.steps, kept: s.pruned,
      expectedSparsity: s.expectedSparsity }])),
    baseline: state.baseline ? { steps: state.baseline.history.steps, final: state.baseline.final.steps,
      args: state.baseline.model.args as unknown as Record<string, unknown> } : undefined,
    layerWeights: Object.fromEntries(Object.entries(state.probes).map(([m, r]) => [m, Object.fromEntries(Object.entries(r).map(([t, v]) => [t, v!.layerWeights]))])),
  };
  run.report({
    rows, claims: dphubertClaims(config, state, majority), baselines,
    columns: [{ key: 'model' }, { key: 'params', format: 'int' }, { key: 'sparsity', format: 'pct' },
      { key: 'kws', title: 'KWS acc', format: 'pct' }, { key: 'sid', title: 'SID acc', format: 'pct' },
      { key: 'validLoss', title: 'valid distill loss', format: 'fixed:3' }, { key: 'layers', format: 'int' }, { key: 'heads', format: 'int' },
      { key: 'ffnUnits', title: 'FFN units', format: 'int' }, { key: 'seconds', title: 'train s', format: 'fixed:0' }],
    extra: extra as unknown as Record<string, unknown>,
  });
}

/** The results of a run whose report step ran, typed (throws before that). */
export function dphubertResultsOf(run: DpRun): DphubertResults {
  if (!run.results) throw new Error("dphubert: no results yet; run the step 'report' first");
  return run.results as DphubertResults;
}
