import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { currentBackend } from '../../backend/use_backend';
import { loadSafetensors } from '../../models/safetensors';
import { Wav2Vec2Model, WAV2VEC2_PRESETS } from '../../models/wav2vec2';
import { withParameterRng } from '../../nn/module';
import { loadModel, saveModel } from '../../nn/serialize';
import { HubertPretrainModel, hubertMfcc, kmeans, nearestCentroid, spanMask } from '../../ssl/hubert';
import { History } from '../../train/history';
import { Rng } from '../../util/rng';
import type { Run } from '../run';
import { packageVersion } from '../run';
import type { DphubertConfig } from './config';
import type { DphubertTeacher } from './state';

/** What the teacher depends on: its options, the unlabelled data it pre-trains on, the seed (any recipe's config can give it). */
export type TeacherSource = Pick<DphubertConfig, 'teacher' | 'dataRoot' | 'clipSeconds' | 'maxItems' | 'seed'>;

/** The crops a default teacher pre-trains on (DphubertData's train and valid). */
export interface TeacherCrops { train: Float32Array[]; valid: Float32Array[] }

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyRun = Run<any, any>;

/**
 * Where pre-trained default teachers are kept between runs: `$SLIMSPEECH_CACHE/teachers`, else
 * `~/.cache/slimspeech/teachers`. A teacher is pre-trained once per configuration (its architecture, its
 * pre-training options, the data it saw, the seed, slimspeech's version and the backend) and reused by every run
 * and notebook that asks for the same one; `--fresh` does not clear it (delete the folder for that).
 */
export function teacherCacheDir(): string {
  return path.join(process.env.SLIMSPEECH_CACHE || path.join(os.homedir(), '.cache', 'slimspeech'), 'teachers');
}

/** The cache key of the default teacher of a config: a hash of everything its pre-training reads. */
export function teacherKey(config: TeacherSource): string {
  const { path: _p, preset: _q, ...pretrain } = config.teacher;
  return createHash('sha256').update(JSON.stringify({ pretrain, dataRoot: config.dataRoot, clipSeconds: config.clipSeconds, maxItems: config.maxItems,
    seed: config.seed, version: packageVersion(), backend: currentBackend()?.name ?? tf.getBackend() })).digest('hex').slice(0, 20);
}

/** MFCC frames of crops [n, samples], in batches, as [n, frames, 39]. */
function mfccOf(crops: Float32Array[]): tf.Tensor3D {
  const parts: tf.Tensor[] = [];
  for (let s = 0; s < crops.length; s += 64) {
    const chunk = crops.slice(s, s + 64);
    parts.push(tf.tidy(() => hubertMfcc(tf.tensor2d(concat(chunk), [chunk.length, chunk[0].length]))));
  }
  const out = tf.concat(parts, 0) as tf.Tensor3D;
  tf.dispose(parts);
  return out;
}

/** Rows of equal-length arrays, joined. */
export function concat(rows: Float32Array[]): Float32Array {
  const out = new Float32Array(rows.reduce((s, r) => s + r.length, 0));
  let k = 0;
  for (const r of rows) { out.set(r, k); k += r.length; }
  return out;
}

interface PretrainBatch { x: tf.Tensor2D; labels: tf.Tensor2D; mask: tf.Tensor2D }

/**
 * HuBERT's first iteration on the training crops (Hsu et al. 2021), the default teacher's pre-training:
 * 39-dim MFCC frames (ssl.hubertMfcc, aligned with the model's frames) clustered by k-means (ssl.kmeans,
 * k-means++ from the run's seed), then masked prediction of each frame's cluster (ssl.HubertPretrainModel: spans of
 * `maskLength` frames over about `maskProb` of each crop, loss on masked frames), AdamW at `lr` with a linear
 * warm-up over the first tenth of the steps. After every epoch: masked-prediction accuracy on the validation crops
 * (fixed masks; labels from the nearest centroid). Returns the encoder (the teacher) and the curves.
 */
export async function pretrainTeacher(run: AnyRun, config: TeacherSource, data: TeacherCrops): Promise<DphubertTeacher> {
  const t = config.teacher;
  const t0 = Date.now();
  const feats = mfccOf(data.train);
  const [n, frames] = feats.shape;
  const flat = tf.reshape(feats, [n * frames, 39]) as tf.Tensor2D;
  const km = kmeans(flat, t.clusters, { seed: config.seed, iterations: t.kmeansIterations });
  tf.dispose([feats, flat]);
  run.log(`teacher: k-means with ${t.clusters} clusters on ${n * frames} MFCC frames, inertia ${km.inertia[0].toFixed(0)} -> ` +
    `${km.inertia[km.inertia.length - 1].toFixed(0)} in ${km.inertia.length} iterations`);
  const validFeats = data.valid.length ? mfccOf(data.valid) : undefined;
  const validLabels = validFeats ? tf.tidy(() => tf.reshape(nearestCentroid(tf.reshape(validFeats, [-1, 39]) as tf.Tensor2D, km.centroids).labels,
    [data.valid.length, frames])) : undefined;
  validFeats?.dispose();
  km.centroids.dispose();
  const trainLabels = tf.tensor2d(km.labels, [n, frames], 'int32');
  const xs = tf.tensor2d(concat(data.train), [n, data.train[0].length]);
  const validMask = validLabels ? spanMask(data.valid.length, frames, { prob: t.maskProb, length: t.maskLength }, new Rng(`${config.seed}/dphubert/valid-mask`))
    : undefined;
  const xv = data.valid.length ? tf.tensor2d(concat(data.valid), [data.valid.length, data.valid[0].length]) : undefined;
  const model = withParameterRng(new Rng(`${config.seed}/dphubert/teacher`), () => new HubertPretrainModel({
    encoder: t.args, numClasses: t.clusters, finalDim: t.finalDim }));
  const stepsPerEpoch = Math.floor(n / t.batchSize);
  try {
    const history = await run.fit<PretrainBatch>({
      modules: model, epochs: t.epochs, stepsPerEpoch, label: 'pretrain',
      optimizer: { kind: 'adamw', lr: t.lr }, schedule: { warmupSteps: Math.max(1, Math.round(0.1 * stepsPerEpoch * t.epochs)) },
      batches: function* (_epoch, rng) {
        const order = rng.shuffle([...Array(n).keys()]);
        for (let b = 0; b < stepsPerEpoch; b++) {
          const batch = tf.tidy(() => {
            const idx = tf.tensor1d(Int32Array.from(order.slice(b * t.batchSize, (b + 1) * t.batchSize)), 'int32');
            return { x: tf.gather(xs, idx) as tf.Tensor2D, labels: tf.gather(trainLabels, idx) as tf.Tensor2D };
          });
          yield { ...batch, mask: spanMask(t.batchSize, frames, { prob: t.maskProb, length: t.maskLength }, rng) };
        }
      },
      step: (b, ctx) => {
        const { loss, accuracy } = model.maskedPrediction(b.x, b.labels, b.mask, ctx, { unmaskedWeight: t.unmaskedWeight });
        return { loss, terms: { accuracy } };
      },
      validate: async (): Promise<Record<string, number>> => {
        if (!xv || !validLabels || !validMask) return {};
        const r = model.maskedPrediction(xv, validLabels, validMask, { training: false });
        const [acc, loss] = [(await r.accuracy.data())[0], (await r.loss.data())[0]];
        tf.dispose([r.accuracy, r.loss]);
        return { validAccuracy: acc, validLoss: loss };
      },
    });
    const last = history.epochs[history.epochs.length - 1];
    run.log(`teacher: ${model.encoder.numParams()} parameters, masked-prediction accuracy on the validation crops ` +
      `${last?.validAccuracy !== undefined ? last.validAccuracy.toFixed(3) : 'n/a'} (chance ${(1 / t.clusters).toFixed(3)})`);
    const encoder = model.encoder;
    model.finalProj.dispose();
    tf.dispose([model.maskEmbedding, model.labelEmbeddings]);
    return { model: encoder, origin: 'pretrained', history, kmeansInertia: km.inertia, seconds: (Date.now() - t0) / 1000 };
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    tf.dispose([trainLabels, xs, ...(validLabels ? [validLabels] : []), ...(validMask ? [validMask] : []), ...(xv ? [xv] : [])]);
  }
}

/** A real checkpoint (`teacher.path`, safetensors with torchaudio or Hugging Face key names) of architecture `teacher.preset`. */
export function teacherFromFile(config: TeacherSource): DphubertTeacher {
  const { path: file, preset } = config.teacher;
  if (!file) throw new Error('dphubert: teacher.path is not set');
  if (!fs.existsSync(file)) throw new Error(`dphubert: teacher.path ${file} does not exist (a safetensors file; the README shows how to convert a .pt/.bin)`);
  if (!preset || !(preset in WAV2VEC2_PRESETS)) {
    throw new Error(`dphubert: teacher.preset must name the checkpoint's architecture (${Object.keys(WAV2VEC2_PRESETS).join(', ')}), got '${preset}'`);
  }
  const t0 = Date.now();
  const dict = loadSafetensors(file);
  try {
    const model = Wav2Vec2Model.fromStateDict(dict, { ...WAV2VEC2_PRESETS[preset], encoderLayerDrop: 0 });
    return { model, origin: 'file', where: file, seconds: (Date.now() - t0) / 1000 };
  } finally {
    tf.dispose([...dict.values()]);
  }
}

/**
 * Step 'teacher' (of dphubert, and of any recipe reusing its teacher): the file's model, or the default teacher from
 * the cache, or pre-trained now on `data` (and cached).
 */
export async function prepareTeacher(run: AnyRun, config: TeacherSource, data: TeacherCrops): Promise<DphubertTeacher> {
  if (config.teacher.path) {
    const t = teacherFromFile(config);
    run.log(`teacher: ${t.model.numParams()} parameters from ${t.where}`);
    return t;
  }
  const dir = path.join(teacherCacheDir(), teacherKey(config));
  if (fs.existsSync(path.join(dir, 'teacher.json'))) {
    try {
      const t = await loadTeacher(dir);
      run.log(`teacher: the pre-trained teacher in ${dir} (same configuration, data, seed, version and backend), ${t.model.numParams()} parameters`);
      return t;
    } catch (e) {
      run.log(`teacher: the cached teacher in ${dir} could not be read (${(e as Error).message}); pre-training again`);
    }
  }
  const t = await pretrainTeacher(run, config, data);
  try {
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    await saveTeacher(t, tmp);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    t.where = dir;
    run.log(`teacher: cached in ${dir}`);
  } catch (e) {
    run.log(`teacher: could not cache the teacher in ${dir} (${(e as Error).message}); the run goes on`);
  }
  return t;
}

/** Writes a teacher (model and pre-training record) into `dir`. */
export async function saveTeacher(t: DphubertTeacher, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await saveModel(t.model, path.join(dir, 'model'));
  fs.writeFileSync(path.join(dir, 'teacher.json'), JSON.stringify({ origin: t.origin, where: t.where, seconds: t.seconds,
    kmeansInertia: t.kmeansInertia, history: t.history?.toJSON() }));
}

/** Reads what {@link saveTeacher} wrote. */
export async function loadTeacher(dir: string): Promise<DphubertTeacher> {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'teacher.json'), 'utf8'));
  const model = (await loadModel(path.join(dir, 'model'))) as Wav2Vec2Model;
  if (!(model instanceof Wav2Vec2Model)) throw new Error(`${dir}/model is not a Wav2Vec2Model`);
  return { model, origin: meta.origin, where: meta.where ?? dir, seconds: meta.seconds, kmeansInertia: meta.kmeansInertia,
    history: meta.history ? History.fromJSON(meta.history) : undefined };
}
