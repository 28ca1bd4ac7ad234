import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { ConvTasNet } from '../../models/conv_tasnet';
import { Dprnn } from '../../models/dprnn';
import { Ctx, Module, withParameterRng } from '../../nn/module';
import { loadModel, saveModel } from '../../nn/serialize';
import { AssignmentMemory } from '../../pit/assignment_memory';
import { DynamicSampleDropoutOptions, pitLossWithMemory } from '../../pit/dynamic_sample_dropout';
import { pairwiseLosses, pitFromPairwise } from '../../pit/pit_loss';
import type { StepFn } from '../../train/fit';
import { History } from '../../train/history';
import { Rng } from '../../util/rng';
import type { Run } from '../run';
import type { DsdLoConfig, SepModelKind, SepVariant } from './config';
import { SepBatch, SepData, SepItem, sepTrainBatches } from './data';
import type { DsdLoState } from './state';

type SepRun = Run<DsdLoConfig, DsdLoState>;

/** A separation model with layer-wise outputs (Conv-TasNet, DPRNN). */
export type LayeredSeparator = Module & { forwardLayers(mixture: tf.Tensor, ctx: Ctx): tf.Tensor[] };

/** Whether a variant uses dynamic sample dropout, and its options. */
export function dsdOptions(variant: SepVariant, config: DsdLoConfig): DynamicSampleDropoutOptions | null {
  const { when, margin, combinedMode } = config.dsd;
  if (variant === 'pit-dsd-drop') return { mode: 'drop', when, margin };
  if (variant === 'pit-dsd-reorder') return { mode: 'reorder', when, margin };
  if (variant === 'pit-dsd-lo') return { mode: combinedMode, when, margin };
  return null;
}

/** Whether a variant uses layer-wise optimisation. */
export function usesLo(variant: SepVariant): boolean {
  return variant === 'pit-lo' || variant === 'pit-dsd-lo';
}

/**
 * The model of a training. Every variant of one model starts from the same weights (a generator seeded by
 * (seed, model) only; the separate LO heads, when asked for, are created after the shared layers), so the
 * variants differ by their training alone.
 */
export function buildSeparator(kind: SepModelKind, variant: SepVariant, config: DsdLoConfig): LayeredSeparator {
  const heads = usesLo(variant) ? config.lo.heads : 'shared';
  return withParameterRng(new Rng(`${config.seed}/dsd-lo/${kind}`), () => (kind === 'conv-tasnet'
    ? new ConvTasNet({ ...config.convTasnet, layerHeads: heads }) : new Dprnn({ ...config.dprnn, layerHeads: heads })));
}

/** The weight of the intermediate layers' loss at optimizer step `step` of `total`. */
export function loWeight(config: DsdLoConfig, step: number, total: number): number {
  return config.lo.schedule === 'linear' ? config.lo.weight * Math.max(0, 1 - step / total) : config.lo.weight;
}

/**
 * The loss of one training step of a variant (inside the gradient tape, nothing read back):
 * - the final output's PIT on negative SI-SNR with the assignment memory (pit.pitLossWithMemory), which also
 *   applies dynamic sample dropout for the DSD variants and records every sample's assignment and SI-SNR;
 * - for the LO variants, plus `loWeight` times the mean over the intermediate separations of their own PIT
 *   loss (each layer picks its best assignment), over the samples dynamic sample dropout kept.
 * Terms logged per epoch: `pit` (the plain PIT loss of the final output), `switched` and `flagged` (shares of the
 * batch), `layers` (the intermediate layers' loss, LO only).
 */
export function separationStep(model: LayeredSeparator, memory: AssignmentMemory, variant: SepVariant, config: DsdLoConfig,
  totalSteps: number): StepFn<SepBatch> {
  const dropout = dsdOptions(variant, config);
  const lo = usesLo(variant);
  return (b, ctx, info) => {
    const outs = lo ? model.forwardLayers(b.x, ctx) : [model.forward(b.x, ctx)];
    const final = pitLossWithMemory(pairwiseLosses(outs[outs.length - 1], b.y), b.ids, memory, { dropout, epoch: info.epoch });
    const terms: Record<string, tf.Scalar> = { ...final.terms };
    if (!lo || outs.length < 2) return { loss: final.loss, terms };
    const keep = dropout?.mode === 'drop' ? tf.cast(tf.logicalNot(final.flagged), 'float32') : tf.onesLike(final.perExample);
    const layerLosses = outs.slice(0, -1).map((o) => {
      const per = pitFromPairwise(pairwiseLosses(o, b.y)).perExample;
      return tf.div(tf.sum(tf.mul(keep, per)), tf.maximum(tf.sum(keep), 1));
    });
    const layers = tf.mean(tf.stack(layerLosses)) as tf.Scalar;
    terms.layers = layers;
    return { loss: tf.add(final.loss, tf.mul(layers, loWeight(config, info.step, totalSteps))) as tf.Scalar, terms };
  };
}

/** Mixtures [n, T] and sources [n, S, T] of equal-length items. */
function stack(items: SepItem[]): { x: tf.Tensor2D; y: tf.Tensor3D } {
  const T = items[0].mixture.length, S = items[0].sources.length;
  const x = new Float32Array(items.length * T), y = new Float32Array(items.length * S * T);
  items.forEach((it, k) => {
    x.set(it.mixture, k * T);
    it.sources.forEach((s, j) => y.set(s, (k * S + j) * T));
  });
  return { x: tf.tensor2d(x, [items.length, T]), y: tf.tensor3d(y, [items.length, S, T]) };
}

/** Mean SI-SNR improvement (dB) of a model's best-assigned outputs over the mixture, on equal-length items, in batches of 16. */
export async function validSiSnri(model: Module, items: SepItem[]): Promise<number> {
  let sum = 0;
  for (let s = 0; s < items.length; s += 16) {
    const v = tf.tidy(() => {
      const { x, y } = stack(items.slice(s, s + 16));
      const est = pitFromPairwise(pairwiseLosses(model.forward(x, { training: false }), y)).perExample;
      const mix = pitFromPairwise(pairwiseLosses(tf.tile(tf.expandDims(x, 1), [1, y.shape[1], 1]), y)).perExample;
      return tf.sum(tf.sub(mix, est));
    });
    sum += (await v.data())[0];
    v.dispose();
  }
  return sum / items.length;
}

/** A trained variant of a model. */
export interface TrainedSep {
  model: SepModelKind;
  variant: SepVariant;
  module: LayeredSeparator;
  /** The assignment memory at the end of training (every variant keeps one, for the label-switch statistics). */
  memory: AssignmentMemory;
  /**
   * Per epoch: the loss terms, `validSiSnri`, and from the memory `switchRate` (share of revisited samples whose
   * best assignment changed since their last visit; NaN in epoch 1) and `flaggedShare` (share flagged by DSD).
   */
  history: History;
  seconds: number;
}

/**
 * Trains one variant of one model with the same budget as every other: the same initial weights, epochs and
 * batches (order from the run's seed and the epoch), Adam at `lr`, gradients clipped at `clipNorm`, one optimizer
 * step per batch; the assignment memory is one of fit's modules, so a checkpoint holds it and a killed run
 * resumes with it. After each epoch: validation SI-SNRi and the memory's label-switch statistics.
 */
export async function trainSeparator(run: SepRun, kind: SepModelKind, variant: SepVariant): Promise<TrainedSep> {
  const { config, state } = run;
  const data: SepData = state.data!;
  const t0 = Date.now();
  const model = buildSeparator(kind, variant, config);
  const memory = new AssignmentMemory({ numSamples: data.train.length, numSources: data.numSources });
  const stepsPerEpoch = Math.ceil(data.train.length / config.batchSize);
  try {
    const history = await run.fit<SepBatch>({
      modules: { model, memory }, step: separationStep(model, memory, variant, config, stepsPerEpoch * config.epochs),
      epochs: config.epochs, stepsPerEpoch, label: `${kind}:${variant}`,
      batches: (_e, rng) => sepTrainBatches(data, config.batchSize, rng),
      optimizer: { kind: 'adam', lr: config.lr }, clipNorm: config.clipNorm,
      validate: async () => {
        const s = await memory.statistics();
        return { validSiSnri: await validSiSnri(model, data.valid), switchRate: s.switchRate, flaggedShare: s.flaggedShare };
      },
    });
    const last = history.epochs[history.epochs.length - 1];
    run.log(`${kind} ${variant}: ${model.numParams()} parameters, validation SI-SNRi ${last.validSiSnri.toFixed(2)} dB, ` +
      `label switches in the last epoch ${(100 * last.switchRate).toFixed(1)}%`);
    return { model: kind, variant, module: model, memory, history, seconds: (Date.now() - t0) / 1000 };
  } catch (e) {
    model.dispose();
    memory.dispose();
    throw e;
  }
}

/** Writes a trained variant into its step's cache folder. */
export async function saveTrainedSep(t: TrainedSep, dir: string): Promise<void> {
  await saveModel(t.module, path.join(dir, 'model'));
  await saveModel(t.memory, path.join(dir, 'memory'));
  fs.writeFileSync(path.join(dir, 'trained.json'), JSON.stringify({ model: t.model, variant: t.variant, seconds: t.seconds, history: t.history.toJSON() }));
}

/** Reads what {@link saveTrainedSep} wrote. */
export async function loadTrainedSep(dir: string): Promise<TrainedSep> {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'trained.json'), 'utf8'));
  return { model: meta.model, variant: meta.variant, seconds: meta.seconds, history: History.fromJSON(meta.history),
    module: (await loadModel(path.join(dir, 'model'))) as LayeredSeparator, memory: (await loadModel(path.join(dir, 'memory'))) as AssignmentMemory };
}
