import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, buildModule, withParameterRng } from '../../nn/module';
import { loadModel, saveModel } from '../../nn/serialize';
import { crossEntropy } from '../../metrics/cross_entropy';
import { countMacs, countParams } from '../../metrics/size';
import { History } from '../../train/history';
import { Rng } from '../../util/rng';
import { buildQuietly, buildTidy, extractSubnet } from '../../slim/extract';
import { slimmableStep } from '../../slim/inplace_distillation';
import { SlimDsCnn } from '../../models/kws_ds_cnn';
import { SlimKwt } from '../../models/kws_transformer';
import { validationAccuracy } from '../evaluation';
import type { Run } from '../run';
import { checkConfig, KwsArch, SlimmableKwsConfig, widthTag } from './config';
import { disposeBatches, KwsBatch, KwsData, kwsEvalBatches, kwsTrainBatches } from './data';
import type { KwsState } from './state';

/**
 * The supernet of `arch` for this data: a SlimDsCnn or SlimKwt with the config's shapes, the data's
 * frames, mels and classes, and one switchable batch-norm set per width. Initialised from a generator seeded
 * by (seed, arch), leaving the global one alone.
 */
export function buildKwsSupernet(arch: KwsArch, config: SlimmableKwsConfig, data: KwsData): SlimDsCnn | SlimKwt {
  const widths = checkConfig(config);
  const common = { frames: data.frames, mels: data.mels, numClasses: data.labels.length, widths };
  return withParameterRng(new Rng(`${config.seed}/${arch}/slimmable`), () => arch === 'dscnn'
    ? new SlimDsCnn({ ...config.dscnn, ...common })
    : new SlimKwt({ ...config.kwt, ...common }));
}

/**
 * A standalone model of `arch` at `width`: the architecture of the supernet's subnet at that width (what
 * slim.extractSubnet would cut out), with fresh weights initialised for its own size from a generator
 * seeded by (seed, arch, width). The baseline "same width, trained alone".
 */
export function buildKwsWidthModel(arch: KwsArch, width: number, config: SlimmableKwsConfig, data: KwsData): Module {
  const supernet = buildQuietly(() => buildKwsSupernet(arch, config, data));
  const sub = extractSubnet(supernet, width);
  const spec = sub.spec();
  sub.dispose();
  supernet.dispose();
  return withParameterRng(new Rng(`${config.seed}/${arch}/independent/${width}`), () => buildTidy(() => buildModule(spec)));
}

/** Parameters and MACs of one clip at every width of every supernet (= the size of the baseline of that width). */
export function kwsSizes(config: SlimmableKwsConfig, data: KwsData): { arch: KwsArch; width: number; params: number; macs: number }[] {
  const out: { arch: KwsArch; width: number; params: number; macs: number }[] = [];
  for (const arch of config.archs) {
    const supernet = buildQuietly(() => buildKwsSupernet(arch, config, data));
    for (const width of checkConfig(config)) {
      const sub = extractSubnet(supernet, width);
      out.push({ arch, width, params: countParams(sub), macs: countMacs(supernet, [1, data.frames, data.mels], { training: false, width }) });
      sub.dispose();
    }
    supernet.dispose();
  }
  return out;
}

/** A trained model with its history and the wall time its training took. */
export interface TrainedKws {
  arch: KwsArch;
  /** 'slimmable': the supernet; 'independent': a standalone model of one width. */
  variant: 'slimmable' | 'independent';
  /** The width of an independent model (the supernet: undefined). */
  width?: number;
  model: Module;
  history: History;
  seconds: number;
}

/** The state key of a trained model: `dscnn-slimmable`, `kwt-w0.5`. */
export function trainedId(arch: KwsArch, width?: number): string {
  return width === undefined ? `${arch}-slimmable` : `${arch}-w${widthTag(width)}`;
}

/** The per-epoch validation accuracy of width `w` in a history record. */
export function validationKey(width: number): string {
  return `valAcc@${width}`;
}

/**
 * Trains one model in a step of `run`: the supernet of `arch` (width undefined) with the sandwich rule and
 * in-place distillation (slim.slimmableStep: per batch the largest, the smallest and `sandwich - 2` random
 * widths, the largest learning from the labels and the others from its detached soft predictions, one
 * optimizer step), or the standalone model of `width` on the labels. Same budget for both: the same epochs,
 * batches (order, augmented copies, SpecAugment masks), optimizer, learning rate, weight decay and schedule,
 * one optimizer step per batch. Validation accuracy of every width trained is recorded after each epoch.
 */
export async function trainKws(run: Run<SlimmableKwsConfig, KwsState>, arch: KwsArch, width?: number): Promise<TrainedKws> {
  const { config } = run;
  const data = run.state.data!;
  const widths = checkConfig(config);
  const variant = width === undefined ? 'slimmable' : 'independent';
  const t0 = Date.now();
  const model = width === undefined ? buildKwsSupernet(arch, config, data) : buildKwsWidthModel(arch, width, config, data);
  const stepsPerEpoch = Math.ceil(data.train[0].y.length / config.batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;
  const warmupSteps = Math.min(Math.round(config.warmupEpochs * stepsPerEpoch), totalSteps - 1);
  const step = width === undefined
    ? slimmableStep<KwsBatch>(model, { widths, n: config.sandwich, distill: config.inplaceDistillation })
    : (b: KwsBatch, ctx: Ctx) => tf.tidy(() => crossEntropy(model.forward(b.x, ctx), b.y) as tf.Scalar);
  const valWidths = width === undefined ? widths : [width];
  const valBatches = kwsEvalBatches(data.validation, data, 256);
  try {
    const history = await run.fit<KwsBatch>({
      modules: model, step, epochs: config.epochs, stepsPerEpoch,
      batches: (_epoch, rng) => kwsTrainBatches(data, config, rng),
      optimizer: { kind: config.optimizer, lr: config.lr[arch], weightDecay: config.weightDecay },
      schedule: { warmupSteps, decay: config.schedule, totalSteps },
      validate: validationAccuracy(model, valBatches.map((b) => b.x), data.validation.y,
        valWidths.map((w) => (width === undefined ? w : undefined)), (w) => validationKey(w ?? width!)),
    });
    const seconds = (Date.now() - t0) / 1000;
    const last = history.epochs[history.epochs.length - 1];
    run.log(`${arch} ${variant}${width !== undefined ? ` width ${width}` : ''}: final loss ${last.loss.toFixed(3)}, validation ` +
      valWidths.map((w) => `${w}: ${(100 * last[validationKey(w)]).toFixed(1)}%`).join(', '));
    return { arch, variant, width, model, history, seconds };
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    disposeBatches(valBatches);
  }
}

/** Writes a trained model into a step's cache folder (the model, its history and training time). */
export async function saveTrained(t: TrainedKws, dir: string): Promise<void> {
  await saveModel(t.model, path.join(dir, 'model'));
  fs.writeFileSync(path.join(dir, 'trained.json'), JSON.stringify({ arch: t.arch, variant: t.variant, width: t.width ?? null,
    seconds: t.seconds, history: t.history.toJSON() }));
}

/** Reads what {@link saveTrained} wrote. */
export async function loadTrained(dir: string): Promise<TrainedKws> {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'trained.json'), 'utf8'));
  return { arch: meta.arch, variant: meta.variant, width: meta.width ?? undefined, seconds: meta.seconds,
    history: History.fromJSON(meta.history), model: await loadModel(path.join(dir, 'model')) };
}
