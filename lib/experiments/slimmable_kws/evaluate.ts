import * as tf from '@tensorflow/tfjs';
import type { Module } from '../../nn/module';
import { confusionMatrix } from '../../metrics/confusion_matrix';
import { countMacs, countParams } from '../../metrics/size';
import { latency } from '../../metrics/latency';
import { extractSubnet } from '../../slim/extract';
import { recalibrateBatchNorm } from '../../slim/recalibrate';
import { SwitchableBatchNorm } from '../../slim/switchable_batch_norm';
import { SILENCE_LABEL } from '../../data/speech_commands';
import { accuracyWhere, predictClasses } from '../evaluation';
import type { Run } from '../run';
import { checkConfig, KwsArch, SlimmableKwsConfig, widthTag } from './config';
import { disposeBatches, KwsData, kwsBatch, kwsEvalBatches, KwsSplit } from './data';
import type { KwsState } from './state';
import { trainedId } from './train';

type KwsRun = Run<SlimmableKwsConfig, KwsState>;

/** What the recalibration step did to one model at one width. */
export interface RecalibrationRecord {
  arch: KwsArch;
  variant: 'slimmable' | 'independent';
  width: number;
  /** Batch-norm layers re-estimated and batches used. */
  layers: number;
  batches: number;
  /** Validation accuracy with the running statistics of training, and with the recalibrated ones. */
  before: number;
  after: number;
}

function hasBatchNorm(m: Module): boolean {
  return m.namedModules().some(([, c]) => c instanceof SwitchableBatchNorm);
}

async function predictSplit(model: Module, split: KwsSplit, data: KwsData, width?: number): Promise<Int32Array> {
  const batches = kwsEvalBatches(split, data, 256);
  try {
    return await predictClasses(model, batches.map((b) => b.x), { ctx: { training: false, width } });
  } finally {
    disposeBatches(batches);
  }
}

/**
 * Step 'recalibrate', batch-norm recalibration (Yu & Huang 2019, sec. 3.2): with `recalibrateBatchNorm`
 * on, the running statistics of every width of every supernet and of every baseline with batch norm (the
 * DS-CNNs; KWT has layer norm only) are re-estimated from the clean training features with the final
 * weights, for both variants alike so that the comparison stays fair. Running statistics are averages taken
 * while the weights moved (with momentum 0.1, dominated by the last batches of a still-changing model), so
 * they can be far from the statistics of the final weights; validation accuracy before and after is
 * recorded per width to show how much that matters.
 */
export async function recalibrateKws(run: KwsRun): Promise<void> {
  const { config, state } = run;
  const data = state.data!;
  state.recalibration = [];
  if (!config.recalibrateBatchNorm) return;
  const widths = checkConfig(config);
  const batches = kwsEvalBatches(data.train[0], data, Math.max(config.batchSize, 64));
  const val = (m: Module, w?: number) => predictSplit(m, data.validation, data, w).then((p) => accuracyWhere(p, data.validation.y)!);
  try {
    for (const arch of config.archs) {
      const s = state.trained[trainedId(arch)];
      if (s && hasBatchNorm(s.model)) {
        for (const w of widths) {
          const before = await val(s.model, w);
          const r = await recalibrateBatchNorm(s.model, batches, { width: w });
          state.recalibration.push({ arch, variant: 'slimmable', width: w, ...r, before, after: await val(s.model, w) });
        }
      }
      for (const w of widths) {
        const t = state.trained[trainedId(arch, w)];
        if (!t || !hasBatchNorm(t.model)) continue;
        const before = await val(t.model);
        const r = await recalibrateBatchNorm(t.model, batches);
        state.recalibration.push({ arch, variant: 'independent', width: w, ...r, before, after: await val(t.model) });
      }
    }
  } finally {
    disposeBatches(batches);
  }
  for (const r of state.recalibration) {
    run.log(`  ${r.arch} ${r.variant} ${r.width}: validation ${(100 * r.before).toFixed(1)}% -> ${(100 * r.after).toFixed(1)}%`);
  }
}

/** A subnet cut from a supernet. */
export interface KwsSubnet {
  arch: KwsArch;
  width: number;
  model: Module;
  /** Largest |supernet(x, width) - subnet(x)| over the logits of a test batch, in evaluation mode (0 up to float rounding). */
  maxAbsDiff: number;
}

/**
 * Step 'extract': slim.extractSubnet cuts the standalone subnet of every width out of each supernet (the
 * first channels, heads and feed-forward units; that width's batch-norm statistics), and its logits are
 * compared with the supernet's at that width on a test batch.
 */
export async function extractKwsSubnets(run: KwsRun): Promise<void> {
  const { config, state } = run;
  const data = state.data!;
  for (const s of state.subnets) s.model.dispose();
  state.subnets = [];
  const probe = kwsBatch(data.test, Array.from({ length: Math.min(16, data.test.y.length) }, (_, i) => i), data.frames, data.mels);
  try {
    for (const arch of config.archs) {
      const s = state.trained[trainedId(arch)];
      if (!s) continue;
      for (const w of checkConfig(config)) {
        const model = extractSubnet(s.model, w);
        const d = tf.tidy(() => tf.max(tf.abs(tf.sub(s.model.forward(probe.x, { training: false, width: w }), model.forward(probe.x, { training: false })))));
        const maxAbsDiff = (await d.data())[0];
        d.dispose();
        state.subnets.push({ arch, width: w, model, maxAbsDiff });
      }
    }
  } finally {
    tf.dispose([probe.x, probe.y]);
  }
}

/** One row of the results table. */
export interface KwsRow {
  [key: string]: string | number | boolean | null;
  arch: KwsArch;
  variant: 'slimmable' | 'independent';
  width: number;
  /** Trainable parameters of the standalone model. */
  params: number;
  /** Multiply-accumulates of one clip (1 s of audio). */
  macs: number;
  /** Test accuracy in [0, 1]. */
  accuracy: number;
  /** Test accuracy on the recorded human voices, and on the synthetic ones, in [0, 1] (null when there are none). */
  accuracyRecorded: number | null;
  accuracySynthetic: number | null;
  /** Median wall-clock latency of one clip (batch 1), ms, on this run's backend. */
  latencyMs: number;
  /** Validation accuracy after training (and recalibration). */
  accuracyValidation: number;
  /** The saved model, relative to the run directory (set by the save step). */
  model: string | null;
}

/** What the evaluation step leaves in the state. */
export interface KwsEvaluation {
  rows: KwsRow[];
  /** Test predictions per model, by `<arch>-<variant>-w<width>`. */
  predictions: Record<string, Int32Array>;
  /** Confusion matrix (counts, rows = true class) of the widest slimmable subnet per architecture. */
  confusion: Partial<Record<KwsArch, number[][]>>;
}

/** The key of a model's predictions in {@link KwsEvaluation.predictions}. */
export function predictionKey(arch: KwsArch, variant: 'slimmable' | 'independent', width: number): string {
  return `${arch}-${variant}-w${widthTag(width)}`;
}

/** The standalone model of (arch, variant, width) in the state: an extracted subnet or a baseline. */
export function standaloneModel(state: KwsState, arch: KwsArch, variant: 'slimmable' | 'independent', width: number): Module | undefined {
  return variant === 'slimmable'
    ? state.subnets.find((s) => s.arch === arch && s.width === width)?.model
    : state.trained[trainedId(arch, width)]?.model;
}

/**
 * Step 'evaluate': every width of both variants, as standalone models (the extracted subnets and the
 * baselines): accuracy on the test split, on its recorded and on its synthetic voices, trainable parameters,
 * MACs of one clip, batch-1 latency (median of `latencyRuns` runs on this backend), validation accuracy.
 */
export async function evaluateKws(run: KwsRun): Promise<void> {
  const { config, state } = run;
  const data = state.data!;
  const widths = checkConfig(config);
  const rows: KwsRow[] = [];
  const predictions: Record<string, Int32Array> = {};
  const confusion: Partial<Record<KwsArch, number[][]>> = {};
  const silence = data.labels.indexOf(SILENCE_LABEL);
  const synthetic = data.test.recorded.map((r, i) => !r && data.test.y[i] !== silence);
  const one = tf.tidy(() => tf.tensor3d(data.test.x[0], [1, data.frames, data.mels]));
  try {
    for (const arch of config.archs) {
      for (const variant of ['slimmable', 'independent'] as const) {
        for (const w of widths) {
          const model = standaloneModel(state, arch, variant, w);
          if (!model) continue;
          const pred = await predictSplit(model, data.test, data);
          const val = await predictSplit(model, data.validation, data);
          const lat = await latency({ module: model, input: one }, { warmup: 3, runs: config.latencyRuns });
          predictions[predictionKey(arch, variant, w)] = pred;
          rows.push({
            arch, variant, width: w, params: countParams(model), macs: countMacs(model, [1, data.frames, data.mels]),
            accuracy: accuracyWhere(pred, data.test.y)!, accuracyRecorded: accuracyWhere(pred, data.test.y, data.test.recorded),
            accuracySynthetic: accuracyWhere(pred, data.test.y, synthetic),
            latencyMs: lat.medianMs, accuracyValidation: accuracyWhere(val, data.validation.y)!, model: null,
          });
          if (variant === 'slimmable' && w === widths[widths.length - 1]) confusion[arch] = confusionMatrix(pred, data.test.y, data.labels.length);
        }
      }
    }
  } finally {
    one.dispose();
  }
  state.evaluation = { rows, predictions, confusion };
}

/**
 * Step 'save': every extracted subnet to `models/<arch>-w<width>/`, the supernets to `<arch>-supernet/` and
 * the baselines to `<arch>-independent-w<width>/` (reloadable with loadModel at their own size), with the
 * labels, feature settings and normalisation in their metadata: everything needed to run a model on new
 * audio. Sets each row's `model`.
 */
export async function saveKwsModels(run: KwsRun): Promise<void> {
  const { config, state } = run;
  const data = state.data!;
  const rows = state.evaluation!.rows;
  const meta = (arch: KwsArch, variant: string, width?: number) => ({ arch, variant, ...(width !== undefined ? { width } : {}),
    labels: data.labels, features: config.features, normalization: data.normalization, input: [data.frames, data.mels] });
  const setRow = (arch: KwsArch, variant: string, width: number, rel: string) => {
    const row = rows.find((r) => r.arch === arch && r.variant === variant && r.width === width);
    if (row) row.model = rel;
  };
  for (const arch of config.archs) {
    const s = state.trained[trainedId(arch)];
    if (s) await run.saveModel(`${arch}-supernet`, s.model, { ...meta(arch, 'supernet'), widths: config.widths });
    for (const sub of state.subnets.filter((x) => x.arch === arch)) {
      setRow(arch, 'slimmable', sub.width, await run.saveModel(`${arch}-w${widthTag(sub.width)}`, sub.model, meta(arch, 'slimmable', sub.width)));
    }
    for (const w of checkConfig(config)) {
      const t = state.trained[trainedId(arch, w)];
      if (t) setRow(arch, 'independent', w, await run.saveModel(`${arch}-independent-w${widthTag(w)}`, t.model, meta(arch, 'independent', w)));
    }
  }
}
