import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { hiddenStateTerms } from '../../distill/hidden_state_loss';
import { LinearProjection } from '../../distill/projection';
import { noGrad } from '../../distill/teacher_student_step';
import { AamSoftmax } from '../../models/ecapa_tdnn';
import { Wav2Vec2Model } from '../../models/wav2vec2';
import { Ctx, Module, withParameterRng } from '../../nn/module';
import { loadModel, saveModel } from '../../nn/serialize';
import type { StepFn } from '../../train/fit';
import { History } from '../../train/history';
import type { ParamGroup } from '../../train/optimizers';
import { Rng } from '../../util/rng';
import type { Run } from '../run';
import type { OsKdftConfig, OsKdftVariant } from './config';
import { speakerBatches } from './data';
import { buildBackend, buildStudent, SpeakerModel } from './model';
import type { OsKdftState } from './state';

type OkRun = Run<OsKdftConfig, OsKdftState>;

/** A batch as tensors: clean crops (teacher), augmented crops (student), speaker labels. */
export interface SpeakerTensors { clean: tf.Tensor2D; noisy: tf.Tensor2D; labels: tf.Tensor1D }

/** A trained variant. */
export interface TrainedSpeaker {
  variant: OsKdftVariant;
  model: SpeakerModel;
  aam: AamSoftmax;
  /** Per epoch: `kd` and `ft` loss terms (the phases of kd-then-ft one after the other). */
  history: History;
  seconds: number;
}

/**
 * The distillation loss of stacked student hidden states [B, L+1, T, D] against the teacher's stacked hidden states
 * of the clean crops [B, L_t+1, T, D_t] (off the tape).
 */
export function kdLoss(config: OsKdftConfig, student: tf.Tensor, teacher: tf.Tensor, heads: LinearProjection[], epoch: number, ctx: Ctx): tf.Scalar {
  return tf.tidy(() => {
    const L = student.shape[1]!;
    const last = tf.squeeze(tf.slice(student, [0, L - 1, 0, 0], [-1, 1, -1, -1]), [1]);
    if (config.kd.loss === 'mse') {
      const w = config.kd.weight * Math.max(0, (config.epochs - (epoch - 1)) / config.epochs);
      const Lt = teacher.shape[1]!;
      const tLast = tf.squeeze(tf.slice(teacher, [0, Lt - 1, 0, 0], [-1, 1, -1, -1]), [1]);
      return tf.mul(tf.mean(tf.square(tf.sub(last, tLast))), w) as tf.Scalar;
    }
    const pred = tf.stack(heads.map((h) => h.forward(last, ctx)), 1);
    const target = tf.gather(teacher, tf.tensor1d(config.kd.layers, 'int32'), 1);
    const t = hiddenStateTerms(pred, target, { cos: 'log_sig' });
    return tf.add(t.l1, t.cos) as tf.Scalar;
  });
}

function teacherHiddens(teacher: Wav2Vec2Model, clean: tf.Tensor): tf.Tensor {
  return noGrad(() => teacher.forward(clean, { training: false }));
}

/** OS-KDFT's step: the batch twice through the student, the first copy without adapters distilled, the second with them fine-tuned. */
export function osKdftStep(config: OsKdftConfig, teacher: Wav2Vec2Model, model: SpeakerModel, aam: AamSoftmax, heads: LinearProjection[]):
StepFn<SpeakerTensors> {
  return (b, ctx, info) => {
    const B = b.noisy.shape[0];
    const th = teacherHiddens(teacher, b.clean);
    const stacked = model.ssl.forward(tf.concat([b.noisy, b.noisy], 0), { ...ctx, adapters: { from: B } });
    const kd = kdLoss(config, tf.slice(stacked, 0, B), th, heads, info.epoch, ctx);
    const ft = aam.loss(model.backend.forward(tf.slice(stacked, B, B), ctx), b.labels);
    tf.dispose([th, stacked]);
    return { loss: tf.add(kd, ft) as tf.Scalar, terms: { kd, ft } };
  };
}

/** Fine-tuning only: the student (or teacher) and back end on the augmented crops, AAM-softmax. */
export function ftStep(model: SpeakerModel, aam: AamSoftmax): StepFn<SpeakerTensors> {
  return (b, ctx) => {
    const ft = aam.loss(model.forward(b.noisy, ctx), b.labels);
    return { loss: ft, terms: { ft } };
  };
}

/** Distillation only (the first step of kd-then-ft): the student on the augmented crops against the teacher on the clean ones. */
export function kdStep(config: OsKdftConfig, teacher: Wav2Vec2Model, model: SpeakerModel, heads: LinearProjection[]): StepFn<SpeakerTensors> {
  return (b, ctx, info) => {
    const th = teacherHiddens(teacher, b.clean);
    const stacked = model.ssl.forward(b.noisy, ctx);
    const kd = kdLoss(config, stacked, th, heads, info.epoch, ctx);
    tf.dispose([th, stacked]);
    return { loss: kd, terms: { kd } };
  };
}

function toTensors(b: { clean: Float32Array[]; noisy: Float32Array[]; labels: number[] }): SpeakerTensors {
  const n = b.clean[0].length, B = b.clean.length;
  const join = (rows: Float32Array[]) => { const o = new Float32Array(B * n); rows.forEach((r, i) => o.set(r, i * n)); return o; };
  return { clean: tf.tensor2d(join(b.clean), [B, n]), noisy: tf.tensor2d(join(b.noisy), [B, n]), labels: tf.tensor1d(b.labels, 'int32') };
}

/** The rate factor of the SSL (distillation) parameters at optimizer step `step`: linear warm-up over the first epochs, then x decay per epoch. */
export function sslRateFactor(config: OsKdftConfig, stepsPerEpoch: number): (step: number) => number {
  const warm = config.kdWarmupEpochs * stepsPerEpoch;
  return (step) => (step < warm ? (step + 1) / warm : config.kdDecay ** (Math.floor(step / stepsPerEpoch) - config.kdWarmupEpochs));
}

/**
 * Trains one variant with the budget every variant gets (`epochs` epochs of the same batches): builds its SSL model
 * (the teacher copied, or the student of its first `studentLayers` layers, with adapters for OS-KDFT), the back end
 * and the AAM-softmax weights from the same seeds, and runs the variant's step(s) with Adam in three groups (SSL and
 * KD heads on the warm-up/decay factor, adapters at adapterLrFactor x lr, back end and AAM at lr).
 */
export async function trainSpeaker(run: OkRun, variant: OsKdftVariant): Promise<TrainedSpeaker> {
  const { config, state } = run;
  const data = state.data!;
  const teacher = state.teacher!.model;
  const t0 = Date.now();
  const D = teacher.args.encoderEmbedDim;
  let ssl: Wav2Vec2Model;
  if (variant === 'teacher-ft') {
    ssl = new Wav2Vec2Model({ ...teacher.args });
    ssl.loadStateDict(teacher.stateDict(), false);
  } else {
    // Seeded: the adapters' down-projections are drawn at construction (the rest is copied from the teacher).
    ssl = withParameterRng(new Rng(`${config.seed}/os-kdft/student`),
      () => buildStudent(teacher, config.studentLayers, variant === 'os-kdft' ? config.adapters : null));
  }
  const layers = ssl.args.encoderNumLayers;
  const backend = withParameterRng(new Rng(`${config.seed}/os-kdft/backend`), () => buildBackend(config.backend.kind, layers, D, config.backend));
  const model = new SpeakerModel(ssl, backend);
  const aam = withParameterRng(new Rng(`${config.seed}/os-kdft/aam`), () => new AamSoftmax({ embeddingDim: config.backend.embeddingDim,
    numClasses: data.speakers.length, margin: config.aam.margin, scale: config.aam.scale }));
  const heads = config.kd.loss === 'distilhubert' && variant !== 'teacher-ft' && variant !== 'ft-only'
    ? withParameterRng(new Rng(`${config.seed}/os-kdft/heads`), () => config.kd.layers.map(() => new LinearProjection({ inFeatures: D, outFeatures: D })))
    : [];
  const spe = Math.floor(data.train.length / config.batchSize);
  const sslParams = [...ssl.namedParameters().filter(([k]) => !k.includes('.adapter.')).map(([, v]) => v), ...heads.flatMap((h) => h.parameters())];
  const adapterParams = ssl.namedParameters().filter(([k]) => k.includes('.adapter.')).map(([, v]) => v);
  const groups = (withBackend: boolean): ParamGroup[] => [
    { params: sslParams, lr: config.lr, lrScale: sslRateFactor(config, spe), name: 'ssl' },
    ...(adapterParams.length ? [{ params: adapterParams, lr: config.lr * config.adapterLrFactor, name: 'adapters' }] : []),
    ...(withBackend ? [{ params: [...backend.parameters(), ...aam.parameters()], lr: config.lr, name: 'backend' }] : []),
  ];
  const modules: Record<string, Module> = { model, aam, ...Object.fromEntries(heads.map((h, i) => [`head${i}`, h])) };
  const fitPhase = (label: string, epochs: number, step: StepFn<SpeakerTensors>, withBackend: boolean) => run.fit<SpeakerTensors>({
    modules, label, step, epochs, stepsPerEpoch: spe,
    batches: function* (_e, rng) { for (const b of speakerBatches(data, config, rng)) yield toTensors(b); },
    optimizer: { kind: 'adam', lr: config.lr, groups: groups(withBackend) },
  });
  try {
    let history: History;
    if (variant === 'os-kdft') {
      history = await fitPhase('os-kdft', config.epochs, osKdftStep(config, teacher, model, aam, heads), true);
    } else if (variant === 'kd-then-ft') {
      const kdEpochs = Math.max(1, Math.min(config.epochs - 1, Math.round(config.epochs * config.twoStepKdShare)));
      const h1 = await fitPhase('kd', kdEpochs, kdStep(config, teacher, model, heads), false);
      const h2 = await fitPhase('ft', config.epochs - kdEpochs, ftStep(model, aam), true);
      history = History.fromJSON({ steps: [...h1.steps, ...h2.steps], epochs: [...h1.epochs, ...h2.epochs.map((e) => ({ ...e, epoch: e.epoch + kdEpochs }))] });
    } else {
      history = await fitPhase('ft', config.epochs, ftStep(model, aam), true);
    }
    heads.forEach((h) => h.dispose());
    return { variant, model, aam, history, seconds: (Date.now() - t0) / 1000 };
  } catch (e) {
    [model, aam, ...heads].forEach((m) => m.dispose());
    throw e;
  }
}

/** Writes a trained variant into its step's cache folder. */
export async function saveTrainedSpeaker(t: TrainedSpeaker, dir: string): Promise<void> {
  await saveModel(t.model, path.join(dir, 'model'));
  await saveModel(t.aam, path.join(dir, 'aam'));
  fs.writeFileSync(path.join(dir, 'trained.json'), JSON.stringify({ variant: t.variant, seconds: t.seconds, history: t.history.toJSON() }));
}

/** Reads what {@link saveTrainedSpeaker} wrote. */
export async function loadTrainedSpeaker(dir: string): Promise<TrainedSpeaker> {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'trained.json'), 'utf8'));
  return { variant: meta.variant, seconds: meta.seconds, history: History.fromJSON(meta.history),
    model: (await loadModel(path.join(dir, 'model'))) as SpeakerModel, aam: (await loadModel(path.join(dir, 'aam'))) as AamSoftmax };
}
