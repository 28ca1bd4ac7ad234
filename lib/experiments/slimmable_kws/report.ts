import type { ClaimSpec } from '../claims';
import { correctness, classificationBaselines } from '../evaluation';
import type { RecipeResults } from '../results';
import type { ClaimInput, Run } from '../run';
import { ARCH_NAME, checkConfig, KwsArch, SlimmableKwsConfig, widthTag } from './config';
import { KwsRow, predictionKey, RecalibrationRecord } from './evaluate';
import type { KwsState } from './state';
import { trainedId } from './train';
import type { EpochRecord } from '../../train/history';

/**
 * The paper's claim for one architecture (PAPERS.md section 1): slimmable subnets match models of the same
 * size trained alone. Tested as: mean test accuracy over the widths of the slimmable subnets minus that of
 * the same widths trained alone is at least -1 percentage point, judged on the 95% paired-bootstrap interval
 * over test clips (the kit's verdict: holds, does not hold, inconclusive).
 */
export function kwsClaimSpec(arch: KwsArch): ClaimSpec {
  return {
    id: `slimmable-matches-alone-${arch}`,
    statement: `${ARCH_NAME[arch]}: slimmable subnets are within 1 point of (or above) the same widths trained alone`,
    metric: 'test accuracy, mean over widths', variants: ['slimmable', 'trained alone'],
    direction: 'higher', threshold: -0.01, display: { scale: 100, unit: 'points' },
  };
}

/**
 * The evidence of {@link kwsClaimSpec} for `arch`: per test clip, the share of widths whose slimmable subnet
 * classifies it correctly, and the same for the models trained alone. Precondition: both variants beat the
 * majority-class baseline on average (models that learned nothing cannot confirm or refute anything).
 */
export function kwsClaimInput(state: KwsState, config: SlimmableKwsConfig, arch: KwsArch, majority: number): ClaimInput {
  const data = state.data!;
  const preds = state.evaluation!.predictions;
  const widths = checkConfig(config);
  const perItem = (variant: 'slimmable' | 'independent') => {
    const sums = new Array<number>(data.test.y.length).fill(0);
    for (const w of widths) {
      const p = preds[predictionKey(arch, variant, w)];
      if (!p) throw new Error(`slimmable-kws: no test predictions of ${arch} ${variant} ${w}`);
      correctness(p, data.test.y).forEach((c, i) => { sums[i] += c / widths.length; });
    }
    return sums;
  };
  const a = perItem('slimmable'), b = perItem('independent');
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const worst = Math.min(mean(a), mean(b));
  return {
    spec: kwsClaimSpec(arch),
    evidence: { a, b, precondition: { ok: worst > majority,
      reason: `a variant averages ${(100 * worst).toFixed(1)}%, not above the majority-class baseline (${(100 * majority).toFixed(1)}%)` } },
  };
}

/** Recipe-specific fields of the slimmable-KWS results.json. */
export interface SlimmableKwsExtra {
  labels: string[];
  config: SlimmableKwsConfig;
  data: { root: string; embedded: boolean; train: number; validation: number; test: number; testRecorded: number; frames: number; mels: number };
  /** Wall seconds: data, and per architecture the supernet's training and the baselines' training summed. */
  seconds: { data: number; training: Partial<Record<KwsArch, { slimmable: number; independent: number }>> };
  /** Largest |supernet - subnet| logit difference per architecture and width. */
  extraction: { arch: KwsArch; width: number; maxAbsDiff: number }[];
  recalibration: RecalibrationRecord[];
  /** Per-epoch records (loss, validation accuracy per width) of every training run. */
  curves: Partial<Record<KwsArch, { slimmable: EpochRecord[]; independent: Record<string, EpochRecord[]> }>>;
  confusion: Partial<Record<KwsArch, number[][]>>;
}

/** results.json of slimmable-kws. */
export interface SlimmableKwsResults extends RecipeResults, SlimmableKwsExtra {
  rows: KwsRow[];
}

/**
 * Step 'report': the table, the baselines (chance, always the training set's most frequent class), one claim
 * per architecture with its interval and verdict, and the recipe's details, written as results.json and
 * results.csv by the kit.
 */
export function reportKws(run: Run<SlimmableKwsConfig, KwsState>): void {
  const { config, state } = run;
  const data = state.data!;
  const ev = state.evaluation!;
  const widths = checkConfig(config);
  const base = classificationBaselines(data.train[0].y, data.test.y, data.labels.length);
  const training: SlimmableKwsExtra['seconds']['training'] = {};
  const curves: SlimmableKwsExtra['curves'] = {};
  for (const arch of config.archs) {
    const alone = widths.map((w) => state.trained[trainedId(arch, w)]).filter(Boolean);
    const slim = state.trained[trainedId(arch)];
    training[arch] = { slimmable: slim?.seconds ?? 0, independent: alone.reduce((s, t) => s + t.seconds, 0) };
    curves[arch] = { slimmable: slim?.history.epochs ?? [], independent: Object.fromEntries(alone.map((t) => [widthTag(t.width!), t.history.epochs])) };
  }
  const extra: SlimmableKwsExtra = {
    labels: data.labels, config,
    data: { root: data.root, embedded: data.embedded, train: data.train[0].y.length, validation: data.validation.y.length,
      test: data.test.y.length, testRecorded: data.test.recorded.filter(Boolean).length, frames: data.frames, mels: data.mels },
    seconds: { data: data.seconds, training },
    extraction: state.subnets.map((s) => ({ arch: s.arch, width: s.width, maxAbsDiff: s.maxAbsDiff })),
    recalibration: state.recalibration, curves, confusion: ev.confusion,
  };
  run.report({
    rows: ev.rows,
    baselines: { chance: base.chance, majority: base.majority },
    claims: config.archs.map((arch) => kwsClaimInput(state, config, arch, base.majority)),
    columns: [{ key: 'arch' }, { key: 'variant' }, { key: 'width' }, { key: 'params', format: 'int' }, { key: 'macs', title: 'MACs', format: 'int' },
      { key: 'accuracy', title: 'acc %', format: 'pct' }, { key: 'accuracyRecorded', title: 'recorded %', format: 'pct' },
      { key: 'accuracySynthetic', title: 'synthetic %', format: 'pct' }, { key: 'accuracyValidation', title: 'val %', format: 'pct' },
      { key: 'latencyMs', title: 'latency ms', format: 'fixed:2' }],
    extra: extra as unknown as Record<string, unknown>,
  });
}

/** Test clips the widest slimmable subnet of `arch` gets wrong: path, true and predicted label, recorded or not. */
export function misclassified(state: KwsState, config: SlimmableKwsConfig, arch: KwsArch, limit = 5):
{ path: string; label: string; predicted: string; recorded: boolean }[] {
  const data = state.data!;
  const widths = checkConfig(config);
  const pred = state.evaluation!.predictions[predictionKey(arch, 'slimmable', widths[widths.length - 1])];
  const out: { path: string; label: string; predicted: string; recorded: boolean }[] = [];
  for (let i = 0; i < pred.length && out.length < limit; i++) {
    if (pred[i] !== data.test.y[i]) {
      out.push({ path: data.test.paths[i], label: data.labels[data.test.y[i]], predicted: data.labels[pred[i]], recorded: data.test.recorded[i] });
    }
  }
  return out;
}

/**
 * The results table as a notebook shows it: one row per model with accuracies in % and sizes, then the
 * baselines (chance, always the most frequent class) as rows of their own, so that no accuracy is read
 * without them.
 */
export function kwsDisplayRows(results: SlimmableKwsResults): Record<string, string | number>[] {
  const pct = (v: number | null) => (v === null ? '-' : `${(100 * v).toFixed(1)}`);
  const rows: Record<string, string | number>[] = results.rows.map((r) => ({
    model: `${ARCH_NAME[r.arch]} ${r.variant === 'slimmable' ? 'slimmable' : 'alone'} ${r.width}×`, parameters: r.params,
    'MACs per clip': r.macs, 'test %': pct(r.accuracy), 'recorded voices %': pct(r.accuracyRecorded),
    'synthetic voices %': pct(r.accuracySynthetic), 'validation %': pct(r.accuracyValidation), 'latency ms': r.latencyMs.toFixed(2),
  }));
  const base = (name: string, v: number) => ({ model: `baseline: ${name}`, parameters: '-', 'MACs per clip': '-', 'test %': pct(v),
    'recorded voices %': '-', 'synthetic voices %': '-', 'validation %': '-', 'latency ms': '-' });
  return [...rows, base('chance (uniform guess)', results.baselines.chance), base('always the most frequent class', results.baselines.majority)];
}

/** The results of a run whose report step ran, typed (throws before that). */
export function resultsOf(run: Run<SlimmableKwsConfig, KwsState>): SlimmableKwsResults {
  if (!run.results) throw new Error("slimmable-kws: no results yet; run the step 'report' first");
  return run.results as unknown as SlimmableKwsResults;
}
