import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { logMelSpectrogram } from '../../audio/features';
import { mixAtSnrArray, specAugment, timeShiftArray } from '../../audio/augment';
import { fitLength } from '../../data/collate';
import { embeddedDataDir, embeddedManifest } from '../../data/embedded';
import { listDir, loadAudio, requireDir } from '../../data/files';
import { SILENCE_LABEL, SpeechCommands } from '../../data/speech_commands';
import { Rng } from '../../util/rng';
import { KwsAugmentConfig, KwsFeatureConfig, SlimmableKwsConfig, SPEECH_COMMANDS_KEYWORDS } from './config';

/** One split as features: item i is `x[i]`, a [frames * mels] row-major log-mel, normalised. */
export interface KwsSplit {
  x: Float32Array[];
  /** Class index per item. */
  y: Int32Array;
  /** Whether the item is a recorded human voice (embedded set: its manifest; a Speech Commands tree: every word item). */
  recorded: boolean[];
  /** Path of each item relative to the root. */
  paths: string[];
}

/** What {@link prepareKwsData} returns: features of every split, ready for batching. */
export interface KwsData {
  /** Where the audio came from. */
  root: string;
  /** True for the embedded set. */
  embedded: boolean;
  /** Class names, indexed by label. */
  labels: string[];
  frames: number;
  mels: number;
  /** The clean training features, then `augment.copies` augmented copies of them (same items, same order). */
  train: KwsSplit[];
  validation: KwsSplit;
  test: KwsSplit;
  /** Per-mel mean and standard deviation of the clean training log-mels, subtracted and divided everywhere. */
  normalization: { mean: number[]; std: number[] };
  /** One training item before and after augmentation (normalised log-mels [frames][mels]), for a plot. */
  example: { path: string; label: string; clean: number[][]; augmented: number[][] | null };
  /** Seconds spent reading audio and computing features. */
  seconds: number;
}

function resolveRoot(config: SlimmableKwsConfig): { root: string; embedded: boolean } {
  if (config.dataRoot === 'embedded') return { root: path.join(embeddedDataDir(), 'kws'), embedded: true };
  if (!config.dataRoot) {
    throw new Error('slimmable-kws: dataRoot is empty; the paper preset runs on the real Speech Commands v2: download ' +
      'speech_commands_v0.02 and pass --set dataRoot=/path/to/it (in a notebook: openRun(recipe, {set: [\'dataRoot=/path/to/it\']})), or dataRoot=embedded');
  }
  return { root: requireDir(path.resolve(config.dataRoot), 'slimmable-kws dataRoot', 'a Speech Commands v2 tree'), embedded: false };
}

function resolveKeywords(config: SlimmableKwsConfig, embedded: boolean): string[] | undefined {
  if (config.keywords === 'all') return undefined;
  if (config.keywords === null) return embedded ? embeddedManifest().kws.keywords : [...SPEECH_COMMANDS_KEYWORDS];
  if (!Array.isArray(config.keywords) || !config.keywords.length) {
    throw new Error(`slimmable-kws: keywords must be a list of words, 'all' or null, got ${JSON.stringify(config.keywords)}`);
  }
  return config.keywords;
}

/** Frames of a clip under `features` (no centring): floor((samples - nFft) / hop) + 1. */
export function kwsFrames(features: KwsFeatureConfig): number {
  const n = Math.round(features.clipSeconds * features.sampleRate);
  if (n < features.nFft) throw new Error(`slimmable-kws: a clip of ${n} samples is shorter than nFft ${features.nFft}`);
  return Math.floor((n - features.nFft) / features.hopLength) + 1;
}

async function logMels(clips: Float32Array[], f: KwsFeatureConfig): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const chunk = 256;
  for (let i = 0; i < clips.length; i += chunk) {
    const part = clips.slice(i, i + chunk);
    const n = part[0].length;
    const flat = new Float32Array(part.length * n);
    part.forEach((c, k) => flat.set(c, k * n));
    const mel = tf.tidy(() => logMelSpectrogram(tf.tensor2d(flat, [part.length, n]), {
      sampleRate: f.sampleRate, nFft: f.nFft, hopLength: f.hopLength, nMels: f.nMels, center: false }));
    const data = (await mel.data()) as Float32Array;
    const per = mel.size / part.length;
    mel.dispose();
    for (let k = 0; k < part.length; k++) out.push(data.slice(k * per, (k + 1) * per));
  }
  return out;
}

/**
 * Log-mels of every item of `ds`, streamed in chunks (no split's audio is held whole): one list of rows per
 * variant, `variants[v]` mapping a padded clip to its version (null: the clip itself).
 */
async function splitFeatures(ds: SpeechCommands, length: number, f: KwsFeatureConfig,
  variants: Array<((x: Float32Array) => Float32Array) | null>): Promise<Float32Array[][]> {
  const rows: Float32Array[][] = variants.map(() => []);
  for (let i = 0; i < ds.length; i += 256) {
    const items = await Promise.all(Array.from({ length: Math.min(256, ds.length - i) }, (_, k) => ds.get(i + k)));
    const clips = items.map((it) => fitLength(it.audio, length));
    for (let v = 0; v < variants.length; v++) {
      const fn = variants[v];
      rows[v].push(...(await logMels(fn ? clips.map(fn) : clips, f)));
    }
  }
  return rows;
}

function augmentClip(x: Float32Array, rng: Rng, a: KwsAugmentConfig, sampleRate: number, noises: Float32Array[]): Float32Array {
  const maxShift = Math.round((a.timeShiftMs / 1000) * sampleRate);
  let y = maxShift > 0 ? timeShiftArray(x, rng.int(2 * maxShift + 1) - maxShift, { mode: 'zero' }) : x;
  if (noises.length && rng.next() < a.noiseProb) {
    const noise = noises[rng.int(noises.length)];
    const offset = rng.int(noise.length);
    y = mixAtSnrArray(y, noise, rng.uniform(a.snrDb[0], a.snrDb[1]), { offset }).mixture;
  }
  return y;
}

function normalize(rows: Float32Array[], mean: Float64Array, std: Float64Array): void {
  const m = mean.length;
  for (const r of rows) for (let i = 0; i < r.length; i++) r[i] = (r[i] - mean[i % m]) / std[i % m];
}

function toMatrix(row: Float32Array, frames: number, mels: number): number[][] {
  return Array.from({ length: frames }, (_, t) => Array.from(row.subarray(t * mels, (t + 1) * mels)));
}

/**
 * Step 1, data and features: reads the train, validation and test splits of `config.dataRoot` (Speech
 * Commands v2 layout; the embedded set by default) with the chosen keywords, '_unknown_' and '_silence_',
 * crops or pads every clip to `clipSeconds`, and computes log-mel features once: of the clean audio of every
 * split and of `augment.copies` augmented copies of the training audio (time shift, then a crop of a
 * `_background_noise_` file at a random SNR). Features are normalised per mel band with the mean and standard
 * deviation of the clean training features. Items of the test split are flagged as recorded human voices
 * from the embedded set's manifest (its synthetic espeak-ng voices are not); in a real Speech Commands tree
 * every word item is recorded. '_silence_' items never count as recorded.
 */
export async function prepareKwsData(config: SlimmableKwsConfig, log: (line: string) => void = () => undefined): Promise<KwsData> {
  const t0 = Date.now();
  const { root, embedded } = resolveRoot(config);
  const keywords = resolveKeywords(config, embedded);
  const f = config.features;
  const length = Math.round(f.clipSeconds * f.sampleRate);
  const frames = kwsFrames(f);
  const opts = { keywords, sampleRate: f.sampleRate, silence: keywords ? config.silence : 0, seed: config.seed,
    unknownRatio: config.unknownRatio ?? undefined };
  const splits = {
    train: new SpeechCommands(root, { ...opts, split: 'train' }),
    validation: new SpeechCommands(root, { ...opts, split: 'validation' }),
    test: new SpeechCommands(root, { ...opts, split: 'test' }),
  };
  const labels = splits.train.labels;
  const recordedHash = embedded
    ? new Set(Object.values(embeddedManifest().kws.speakers as Record<string, { kind: string; hash: string }>)
      .filter((s) => s.kind === 'recorded').map((s) => s.hash))
    : undefined;
  const silence = labels.indexOf(SILENCE_LABEL);
  const meta = (ds: SpeechCommands) => {
    const y = Int32Array.from(ds.labelIndices());
    const recorded = ds.speakers().map((sp, i) => y[i] !== silence && sp !== '' && (!recordedHash || recordedHash.has(sp)));
    return { y, recorded, paths: ds.paths() };
  };
  const train = meta(splits.train);
  const validation = meta(splits.validation);
  const test = meta(splits.test);
  log(`data: ${root}: ${labels.length} classes; train ${train.y.length}, validation ${validation.y.length}, test ${test.y.length} items ` +
    `(${test.recorded.filter(Boolean).length} recorded voices)`);

  const a = config.augment;
  let noises: Float32Array[] = [];
  if (a.copies > 0 && a.noiseProb > 0) {
    const dir = requireDir(path.join(root, '_background_noise_'), 'slimmable-kws augmentation',
      'noise mixing reads _background_noise_/*.wav; set augment.noiseProb=0 to train without it');
    noises = await Promise.all(listDir(dir, (e) => e.isFile() && e.name.endsWith('.wav'))
      .map(async (n) => (await loadAudio(path.join(dir, n), { sampleRate: f.sampleRate })).samples));
  }
  const augmenters = Array.from({ length: a.copies }, (_, c) => {
    const rng = new Rng(`${config.seed}/augment/${c + 1}`);
    return (x: Float32Array) => augmentClip(x, rng, a, f.sampleRate, noises);
  });
  const [cleanTrain, ...copies] = await splitFeatures(splits.train, length, f, [null, ...augmenters]);
  const mean = new Float64Array(f.nMels);
  const sq = new Float64Array(f.nMels);
  for (const r of cleanTrain) for (let i = 0; i < r.length; i++) { mean[i % f.nMels] += r[i]; sq[i % f.nMels] += r[i] * r[i]; }
  const count = cleanTrain.length * frames;
  const std = new Float64Array(f.nMels);
  for (let m = 0; m < f.nMels; m++) {
    mean[m] /= count;
    std[m] = Math.sqrt(Math.max(sq[m] / count - mean[m] * mean[m], 0)) + 1e-5;
  }
  const [valX] = await splitFeatures(splits.validation, length, f, [null]);
  const [testX] = await splitFeatures(splits.test, length, f, [null]);
  for (const rows of [cleanTrain, ...copies, valX, testX]) normalize(rows, mean, std);
  const split = (r: ReturnType<typeof meta>, x: Float32Array[]): KwsSplit => ({ x, ...r });
  const ex = Math.max(0, train.y.findIndex((y) => y !== silence && labels[y] !== '_unknown_'));
  const data: KwsData = {
    root, embedded, labels, frames, mels: f.nMels,
    train: [split(train, cleanTrain), ...copies.map((x) => split(train, x))],
    validation: split(validation, valX), test: split(test, testX),
    normalization: { mean: Array.from(mean), std: Array.from(std) },
    example: { path: train.paths[ex], label: labels[train.y[ex]], clean: toMatrix(cleanTrain[ex], frames, f.nMels),
      augmented: copies.length ? toMatrix(copies[0][ex], frames, f.nMels) : null },
    seconds: (Date.now() - t0) / 1000,
  };
  log(`features: ${frames} x ${f.nMels} log-mels, ${1 + copies.length} training cop${copies.length ? 'ies' : 'y'} (${copies.length} augmented), ` +
    `${data.seconds.toFixed(1)} s`);
  return data;
}

/** A batch: normalised log-mels [batch, frames, mels] and labels int32 [batch]. */
export interface KwsBatch {
  x: tf.Tensor3D;
  y: tf.Tensor1D;
}

/** Items `idx` of a split as a batch (rows: the feature rows to use instead of the split's own). */
export function kwsBatch(split: KwsSplit, idx: number[], frames: number, mels: number, rows?: Float32Array[]): KwsBatch {
  const per = frames * mels;
  const buf = new Float32Array(idx.length * per);
  idx.forEach((i, k) => buf.set(rows ? rows[k] : split.x[i], k * per));
  return { x: tf.tensor3d(buf, [idx.length, frames, mels]), y: tf.tensor1d(Array.from(idx, (i) => split.y[i]), 'int32') };
}

/**
 * The training batches of one epoch, as train.fit asks for them: the items in an order shuffled by `rng`
 * (fit's generator for that epoch), each taken from one of the augmented copies drawn by `rng`, SpecAugment
 * masks drawn by `rng`. The same epoch and seed give the same batches, so every model of a comparison sees
 * the same data.
 */
export function kwsTrainBatches(data: KwsData, config: SlimmableKwsConfig, rng: Rng): Iterable<KwsBatch> {
  const n = data.train[0].y.length;
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const bs = config.batchSize;
  const sa = config.augment.specAugment;
  const { frames, mels } = data;
  return (function* () {
    for (let s = 0; s < n; s += bs) {
      const idx = order.slice(s, s + bs);
      const rows = idx.map((i) => data.train[rng.int(data.train.length)].x[i]);
      const b = kwsBatch(data.train[0], idx, frames, mels, rows);
      if (sa) {
        const x = specAugment(b.x, { ...sa, rng }) as tf.Tensor3D;
        b.x.dispose();
        b.x = x;
      }
      yield b;
    }
  })();
}

/** A split in order as batches of at most `batchSize` items (the caller disposes them). */
export function kwsEvalBatches(split: KwsSplit, data: KwsData, batchSize: number): KwsBatch[] {
  const out: KwsBatch[] = [];
  for (let s = 0; s < split.y.length; s += batchSize) {
    out.push(kwsBatch(split, Array.from({ length: Math.min(batchSize, split.y.length - s) }, (_, k) => s + k), data.frames, data.mels));
  }
  return out;
}

/** Disposes batches' tensors. */
export function disposeBatches(batches: KwsBatch[]): void {
  for (const b of batches) tf.dispose([b.x, b.y]);
}


/**
 * Writes prepared features into a step's cache folder: data.json (everything but the feature rows) and one
 * float32 file per split copy (rows concatenated), so that a rerun skips reading audio and computing features.
 */
export function saveKwsData(data: KwsData, dir: string): void {
  const files: string[] = [];
  const splits = { train: data.train, validation: [data.validation], test: [data.test] };
  const meta = { ...data, train: undefined, validation: undefined, test: undefined,
    splits: Object.fromEntries(Object.entries(splits).map(([name, list]) => [name, list.map((sp, k) => {
      const file = `${name}-${k}.f32`;
      files.push(file);
      const per = data.frames * data.mels;
      const buf = new Float32Array(sp.x.length * per);
      sp.x.forEach((r, i) => buf.set(r, i * per));
      fs.writeFileSync(path.join(dir, file), Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
      return { file, y: Array.from(sp.y), recorded: sp.recorded, paths: sp.paths };
    })])) };
  fs.writeFileSync(path.join(dir, 'data.json'), JSON.stringify(meta));
}

/** Reads what {@link saveKwsData} wrote. */
export function loadKwsData(dir: string): KwsData {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'data.json'), 'utf8'));
  const per = meta.frames * meta.mels;
  const read = (s: { file: string; y: number[]; recorded: boolean[]; paths: string[] }): KwsSplit => {
    const b = fs.readFileSync(path.join(dir, s.file));
    const all = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    if (all.length !== s.y.length * per) throw new Error(`${path.join(dir, s.file)}: ${all.length} values, expected ${s.y.length * per}`);
    return { x: s.y.map((_, i) => all.slice(i * per, (i + 1) * per)), y: Int32Array.from(s.y), recorded: s.recorded, paths: s.paths };
  };
  const { splits, ...rest } = meta;
  return { ...rest, train: splits.train.map(read), validation: read(splits.validation[0]), test: read(splits.test[0]) };
}
