import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { atKl } from '../../distill/at_kl';
import { attentionTransfer } from '../../distill/attention_transfer';
import { channelKl } from '../../distill/at_kl';
import { LayerMapping, mapLayers } from '../../distill/layer_mapping';
import { DistillTerm, noGrad, teacherStudentStep } from '../../distill/teacher_student_step';
import { siSnr } from '../../metrics/si_snr';
import { ConvTasNet } from '../../models/conv_tasnet';
import { Dccrn } from '../../models/dccrn';
import { Ctx, Module, withParameterRng } from '../../nn/module';
import { loadModel, saveModel } from '../../nn/serialize';
import type { History } from '../../train/history';
import { History as HistoryClass } from '../../train/history';
import { Rng } from '../../util/rng';
import type { Run } from '../run';
import type { DccrnVariant, DistilDccrnConfig } from './config';
import { EnhBatch, EnhData, EnhPair, enhTrainBatches } from './data';
import type { DccrnState } from './state';

type DccrnRun = Run<DistilDccrnConfig, DccrnState>;

/** The enhanced signal [batch, time] of an enhancement model (a one-source separator's [batch, 1, time] squeezed). */
export function enhance(model: Module, noisy: tf.Tensor, ctx: Ctx): tf.Tensor2D {
  return tf.tidy(() => {
    const y = model.forward(noisy, ctx);
    return (y.rank === 3 ? tf.squeeze(y, [1]) : y) as tf.Tensor2D;
  });
}

/** The training loss of every variant: -SI-SNR in dB, without mean removal and with eps 1e-8 as DCCRN's reference code. */
export function negSiSnr(estimate: tf.Tensor, clean: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(siSnr(estimate, clean, { zeroMean: false }))) as tf.Scalar);
}

/** The model of a variant, freshly initialised from a generator seeded by (seed, variant). */
export function buildVariant(variant: DccrnVariant, config: DistilDccrnConfig): Module {
  return withParameterRng(new Rng(`${config.seed}/dccrn/${variant}`), () => {
    if (variant === 'teacher') {
      return config.teacherKind === 'conv-tasnet' ? new ConvTasNet({ ...config.teacherConvTasnet, numSources: 1 }) : new Dccrn(config.teacherDccrn);
    }
    return new Dccrn(variant === 'full' ? config.full : config.student);
  });
}

/**
 * The teacher taps distilled from: `distill.teacherTaps`, else a DCCRN teacher's taps of the same names as
 * the student's, or, for a Conv-TasNet teacher, as many of its TCN blocks as there are student taps, spread
 * evenly over its depth (ending at the last block).
 */
export function teacherTapNames(config: DistilDccrnConfig, teacher: Module): string[] {
  if (config.distill.teacherTaps) return config.distill.teacherTaps;
  if (!(teacher instanceof ConvTasNet)) return config.distill.studentTaps;
  const blocks = teacher.blocks.map((b) => b.path);
  const n = config.distill.studentTaps.length;
  return Array.from({ length: n }, (_, i) => blocks[Math.round(((i + 1) * blocks.length) / n) - 1]);
}

/**
 * The layer mapping of a distilled student: the student's and the teacher's taps recorded on one probe
 * input (1 s of noise), paired by relative depth and bridged by distill.mapLayers (frequency merged into
 * channels where one side has none, frames resampled to the teacher's, channels projected by an
 * identity-initialised linear layer), initialised from a generator seeded by (seed, variant).
 */
export function buildMapping(variant: DccrnVariant, config: DistilDccrnConfig, student: Module, teacher: Module, sampleRate: number): LayerMapping {
  const sNames = config.distill.studentTaps;
  const tNames = teacherTapNames(config, teacher);
  const probe = tf.randomNormal([1, sampleRate], 0, 0.1, 'float32', 7);
  const sTaps = new Map<string, tf.Tensor>();
  const tTaps = new Map<string, tf.Tensor>();
  try {
    tf.tidy(() => {
      student.forward(probe, { training: false, taps: sTaps, tapFilter: (p) => sNames.includes(p) });
      noGrad(() => teacher.forward(probe, { training: false, taps: tTaps, tapFilter: (p) => tNames.includes(p) }));
    });
    const order = (names: string[], taps: Map<string, tf.Tensor>, side: string) => new Map(names.map((n) => {
      const t = taps.get(n);
      if (!t) throw new Error(`distil-dccrn: the ${side} records no tap '${n}'; it records ${[...taps.keys()].join(', ') || 'none of those asked'}`);
      return [n, t.shape] as [string, number[]];
    }));
    return withParameterRng(new Rng(`${config.seed}/dccrn/${variant}/mapping`), () =>
      mapLayers(order(sNames, sTaps, 'student'), order(tNames, tTaps, 'teacher'), { strategy: 'relative-depth' }));
  } finally {
    tf.dispose([probe, ...sTaps.values(), ...tTaps.values()]);
  }
}

/** The feature loss of a distilled variant on the aligned pairs (mean over pairs). */
function featureLoss(variant: DccrnVariant, config: DistilDccrnConfig, mapping: LayerMapping): DistillTerm<EnhBatch>['loss'] {
  const d = config.distill;
  const fn = variant === 'student-atkl' ? (s: tf.Tensor, t: tf.Tensor) => atKl(s, t, d.atKl)
    : variant === 'student-at' ? (s: tf.Tensor, t: tf.Tensor) => attentionTransfer(s, t, { mode: d.atMode })
      : (s: tf.Tensor, t: tf.Tensor) => channelKl(s, t, { temperature: d.klTemperature });
  return (o) => mapping.loss(o.studentTaps, o.teacherTaps, fn, 'mean');
}

/** Mean SI-SNR (dB, zero-mean as the metric) of a model over pairs, one item at a time. */
export async function meanSiSnr(model: Module, pairs: EnhPair[]): Promise<number> {
  let sum = 0;
  for (const p of pairs) {
    const v = tf.tidy(() => {
      const est = enhance(model, tf.tensor2d(p.noisy, [1, p.noisy.length]), { training: false });
      return siSnr(est, tf.tensor2d(p.clean, [1, p.clean.length]));
    });
    sum += (await v.data())[0];
    v.dispose();
  }
  return sum / pairs.length;
}

/** A trained variant. */
export interface TrainedVariant {
  variant: DccrnVariant;
  model: Module;
  /** The distilled variants' layer mapping (its projections trained with the student). */
  mapping?: LayerMapping;
  history: History;
  seconds: number;
}

/**
 * Trains one variant with the same budget as every other: the same epochs and batches (order, crops),
 * Adam at `lr`, gradients clipped at `clipNorm`, one step per batch; validation SI-SNR after each epoch.
 * The teacher, the full DCCRN and the student alone minimise -SI-SNR; the distilled students minimise
 * -SI-SNR + weight * (their feature loss against the trained teacher, which runs off the tape in eval mode).
 */
export async function trainVariant(run: DccrnRun, variant: DccrnVariant): Promise<TrainedVariant> {
  const { config, state } = run;
  const data: EnhData = state.data!;
  const t0 = Date.now();
  const model = buildVariant(variant, config);
  const distilled = variant === 'student-atkl' || variant === 'student-at' || variant === 'student-kl';
  const teacher = distilled ? state.trained.teacher?.model : undefined;
  if (distilled && !teacher) throw new Error(`distil-dccrn: ${variant} needs the trained teacher (the step 'train:teacher')`);
  const mapping = teacher ? buildMapping(variant, config, model, teacher, data.sampleRate) : undefined;
  const step = teacher && mapping
    ? teacherStudentStep<EnhBatch>(model, teacher, { mapping, terms: {
      negSiSnr: (o, b) => negSiSnr(enhanceOutput(o.student), b.y),
      feature: { loss: featureLoss(variant, config, mapping), weight: config.distill.weight },
    } })
    : (b: EnhBatch, ctx: Ctx) => negSiSnr(enhance(model, b.x, ctx), b.y);
  const stepsPerEpoch = Math.ceil(data.train.length / config.batchSize);
  try {
    const history = await run.fit<EnhBatch>({
      modules: mapping ? { student: model, mapping } : model, step, epochs: config.epochs, stepsPerEpoch,
      batches: (_e, rng) => enhTrainBatches(data, config, rng), label: variant,
      optimizer: { kind: 'adam', lr: config.lr }, clipNorm: config.clipNorm,
      validate: async () => ({ validSiSnr: await meanSiSnr(model, data.valid) }),
    });
    const last = history.epochs[history.epochs.length - 1];
    run.log(`${variant}: ${model.numParams()} parameters, validation SI-SNR ${last.validSiSnr.toFixed(2)} dB`);
    return { variant, model, mapping, history, seconds: (Date.now() - t0) / 1000 };
  } catch (e) {
    model.dispose();
    mapping?.dispose();
    throw e;
  }
}

function enhanceOutput(y: tf.Tensor): tf.Tensor {
  return y.rank === 3 ? tf.squeeze(y, [1]) : y;
}

/** Writes a trained variant into its step's cache folder. */
export async function saveTrainedVariant(t: TrainedVariant, dir: string): Promise<void> {
  await saveModel(t.model, path.join(dir, 'model'));
  if (t.mapping) await saveModel(t.mapping, path.join(dir, 'mapping'));
  fs.writeFileSync(path.join(dir, 'trained.json'), JSON.stringify({ variant: t.variant, seconds: t.seconds, history: t.history.toJSON() }));
}

/** Reads what {@link saveTrainedVariant} wrote. */
export async function loadTrainedVariant(dir: string): Promise<TrainedVariant> {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'trained.json'), 'utf8'));
  const mappingDir = path.join(dir, 'mapping');
  return { variant: meta.variant, seconds: meta.seconds, history: HistoryClass.fromJSON(meta.history), model: await loadModel(path.join(dir, 'model')),
    mapping: fs.existsSync(mappingDir) ? (await loadModel(mappingDir)) as LayerMapping : undefined };
}
