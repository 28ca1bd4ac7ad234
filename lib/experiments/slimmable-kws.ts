/**
 * Paper 1 end to end (PAPERS.md section 1): small-footprint slimmable networks for keyword spotting
 * (Akhtar et al., arXiv 2304.12183). One supernet per architecture (a DS-CNN and a KWT-like transformer)
 * is trained once with the sandwich rule and in-place distillation; subnets of every width are cut from
 * it and compared with models of the same widths trained alone with the same budget.
 *
 * The steps, in the order `run` (the CLI) and notebooks/01_slimmable_kws.ipynb call them:
 *   prepareKwsData        -> log-mel features of every split, computed once (augmented training copies too)
 *   trainSlimmable        -> one supernet per architecture (sandwich rule + in-place distillation)
 *   trainIndependent      -> the baseline: every width trained alone, same budget (see below)
 *   recalibrateKws        -> batch-norm recalibration of every width of both variants
 *   extractKwsSubnets     -> standalone subnets, checked against the supernet on a test batch
 *   evaluateKws           -> accuracy (test, recorded voices), parameters, MACs, latency per width
 *   saveKwsModels         -> DIR/models/<arch>-w<width>/ (and the supernets and baselines)
 *   kwsReport, kwsClaim   -> results.json / results.csv, and whether the paper's claim held here
 *   kwsFigures, saveKwsFigures -> the plots, inline in a notebook or as HTML in DIR
 *
 * "Same budget": for a given architecture, the supernet and each width trained alone see exactly the same
 * batches (same epochs, the same seeded order, the same augmented copies and SpecAugment masks), take the
 * same number of optimizer steps (one per batch) with the same optimizer, learning rate, weight decay and
 * schedule. The supernet runs `sandwich` widths per step (forward and backward each), a width trained alone
 * one; with the default 4 widths and sandwich 4 (widest, narrowest and two of the middle ones) the supernet's
 * compute per step is, in expectation, the sum of the four baselines' compute per step: one supernet costs
 * as much as training the four widths alone, which is the comparison the paper makes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { currentBackend } from '../backend';
import { Ctx, Module, buildModule, withParameterRng } from '../nn/module';
import { saveModel } from '../nn/serialize';
import { logMelSpectrogram } from '../audio/features';
import { mixAtSnrArray, specAugment, timeShiftArray } from '../audio/augment';
import { fitLength } from '../data/collate';
import { embeddedDataDir, embeddedManifest } from '../data/embedded';
import { listDir, loadAudio, requireDir } from '../data/files';
import { SILENCE_LABEL, SpeechCommands } from '../data/speech_commands';
import { crossEntropy } from '../metrics/cross_entropy';
import { confusionMatrix } from '../metrics/confusion_matrix';
import { countMacs, countParams } from '../metrics/size';
import { latency } from '../metrics/latency';
import { fit } from '../train/fit';
import { EpochRecord, History } from '../train/history';
import { OptimizerKind } from '../train/optimizers';
import { ProgressMode } from '../train/progress';
import { Rng } from '../util/rng';
import { normalizeWidths, sameWidth } from '../slim/channels';
import { buildQuietly, buildTidy, extractSubnet } from '../slim/extract';
import { slimmableStep } from '../slim/inplace_distillation';
import { recalibrateBatchNorm } from '../slim/recalibrate';
import { SwitchableBatchNorm } from '../slim/switchable_batch_norm';
import { DS_CNN_PRESETS, SlimDsCnn } from '../slim/kws_ds_cnn';
import { KWT_PRESETS, KwtPooling, SlimKwt } from '../slim/kws_transformer';
import { ActivationName } from '../nn/activations';
import { Figure } from '../plot/figure';
import { trainingCurves } from '../plot/lines';
import { perWidthBars } from '../plot/bars';
import { pareto } from '../plot/pareto';
import { confusionMatrix as confusionFigure } from '../plot/confusion_matrix';
import { spectrogram } from '../plot/spectrogram';
import { savePlot } from '../plot/html';
import { registerExperiment } from './index';
import { ExperimentResults, PresetName, RunContext } from './types';

/** The two supernets of the paper: a depthwise-separable CNN and a keyword transformer. */
export type KwsArch = 'dscnn' | 'kwt';

/** Every architecture, in report order. */
export const KWS_ARCHS: readonly KwsArch[] = ['dscnn', 'kwt'];

/** The ten keywords of the standard 12-class Speech Commands task (Warden 2018). */
export const SPEECH_COMMANDS_KEYWORDS: readonly string[] = ['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go'];

/** Log-mel features (computed once per split; see {@link prepareKwsData}). */
export interface KwsFeatureConfig {
  /** Sample rate the audio is read at. Default 16000. */
  sampleRate: number;
  /** Every clip is cut or zero-padded to this many seconds. Default 1. */
  clipSeconds: number;
  /** FFT size = window length in samples (periodic Hann, no centring). Default 640 (40 ms). */
  nFft: number;
  /** Hop in samples. Default 320 (20 ms: 49 frames per second, as DS-CNN of Zhang et al.). */
  hopLength: number;
  /** Mel bands. Default 40. */
  nMels: number;
}

/** Training-time augmentation. Waveform augmentation is applied once, to `copies` stored copies of the training set. */
export interface KwsAugmentConfig {
  /**
   * Augmented copies of the training set, computed once with the features; each batch item is drawn at
   * random from the clean features or one of the copies (0: clean only). Default preset: 3.
   */
  copies: number;
  /** Largest time shift in milliseconds (uniform in [-max, max], zeros shifted in). Default preset: 100. */
  timeShiftMs: number;
  /** Probability that an item of a copy gets a `_background_noise_` crop mixed in. Default preset: 0 (paper: 0.8). */
  noiseProb: number;
  /** Signal-to-noise ratio range of that mix, dB (uniform). Presets: [0, 20]. */
  snrDb: [number, number];
  /** SpecAugment masks drawn per batch (Park et al. 2019), on the normalised features; null: none. Default preset: null. */
  specAugment: { freqMasks: number; maxFreqWidth: number; timeMasks: number; maxTimeWidth: number } | null;
}

/** Shapes of the DS-CNN supernet (see slim.SlimDsCnnArgs; frames, mels, classes and widths come from the experiment). */
export interface KwsDsCnnConfig {
  channels: number[];
  stemKernel: [number, number];
  stemStride: [number, number];
  kernelSize: number;
  dropout: number;
}

/** Shapes of the KWT supernet (see slim.SlimKwtArgs; frames, mels, classes and widths come from the experiment). */
export interface KwsKwtConfig {
  dModel: number;
  numHeads: number;
  dimFeedforward: number;
  numLayers: number;
  patchFrames: number;
  dropout: number;
  activation: ActivationName;
  pooling: KwtPooling;
}

/** Configuration of the slimmable-KWS experiment; the presets are in {@link SLIMMABLE_KWS_PRESETS}. */
export interface SlimmableKwsConfig {
  /** 'embedded' (data/kws, the default) or the root of a Speech Commands v2 tree (speech_commands_v0.02). */
  dataRoot: string;
  /**
   * The classes: these keywords plus '_unknown_' and '_silence_'; 'all': every word folder is a class (the
   * 35-word task, no unknown or silence class); null: the dataset's standard ten (the embedded set's, or
   * yes/no/up/down/left/right/on/off/stop/go for Speech Commands). Default null.
   */
  keywords: string[] | 'all' | null;
  /** '_silence_' items per word item (ignored with keywords 'all'). Default 0.1. */
  silence: number;
  /** At most this many '_unknown_' items per keyword item, per split; null keeps them all. Default null. */
  unknownRatio: number | null;
  features: KwsFeatureConfig;
  augment: KwsAugmentConfig;
  /** Architectures to run. Default ['dscnn', 'kwt']. */
  archs: KwsArch[];
  dscnn: KwsDsCnnConfig;
  kwt: KwsKwtConfig;
  /** Width multipliers, each with its own batch-norm statistics, evaluated and saved. Default [0.25, 0.5, 0.75, 1]. */
  widths: number[];
  /** Widths per step of the sandwich rule (largest, smallest, n-2 random). Default 4. */
  sandwich: number;
  /** In-place distillation: the smaller widths learn from the largest's soft predictions (else from the labels). Default true. */
  inplaceDistillation: boolean;
  /** Epochs, the same for every model. */
  epochs: number;
  /** Batch size. */
  batchSize: number;
  /** Optimizer of every model. Default 'adamw'. */
  optimizer: OptimizerKind;
  /** Base learning rate per architecture. */
  lr: Record<KwsArch, number>;
  /** Weight decay. */
  weightDecay: number;
  /** Linear warm-up, in epochs. */
  warmupEpochs: number;
  /** Decay after warm-up ('cosine' to 0 at the last step). Default 'cosine'. */
  schedule: 'constant' | 'linear' | 'cosine';
  /** Re-estimate batch-norm statistics of every width of both variants on the clean training features after training. Default true. */
  recalibrateBatchNorm: boolean;
  /** Timed runs of the batch-1 latency (median reported), after 3 untimed ones. */
  latencyRuns: number;
  /** Seed of data order, augmentation, dropout, widths and initialisation. Default 0. */
  seed: number;
}

/** Full augmentation (time shift, background noise, SpecAugment): the paper preset, and the quick one so that tests run every path. */
const FULL_AUGMENT: KwsAugmentConfig = {
  copies: 2, timeShiftMs: 100, noiseProb: 0.8, snrDb: [0, 20],
  specAugment: { freqMasks: 2, maxFreqWidth: 7, timeMasks: 2, maxTimeWidth: 10 },
};

/**
 * The default preset's augmentation: time shift only. Measured on the embedded set (DS-CNN and KWT at full
 * width trained alone for 16 epochs, single runs, test accuracy on 102 clips, so a few points are noise):
 * time shift alone 68.6% (DS-CNN) / 67.6% (KWT); with background noise (p 0.3, 10-30 dB) 59.8% / 60.8%;
 * with SpecAugment (2 + 2 masks) 52.9% / 56.9%. With this few steps on about 400 clips the models underfit,
 * and the test clips are clean, so noise and masks cost more than they give here; they stay available
 * (--set augment.noiseProb=0.8 augment.specAugment='{...}') and are on in the paper preset.
 */
const SHIFT_ONLY_AUGMENT: KwsAugmentConfig = { ...FULL_AUGMENT, copies: 3, noiseProb: 0, specAugment: null };

function dscnnConfig(channels: number[]): KwsDsCnnConfig {
  return { channels, stemKernel: [10, 4], stemStride: [2, 2], kernelSize: 3, dropout: 0.1 };
}

function kwtConfig(preset: 'quick' | 'default' | 'paper'): KwsKwtConfig {
  const p = KWT_PRESETS[preset];
  return { dModel: p.dModel!, numHeads: p.numHeads!, dimFeedforward: p.dimFeedforward!, numLayers: p.numLayers!, patchFrames: 1,
    dropout: 0, activation: 'gelu', pooling: 'cls' };
}

/**
 * The three presets (DESIGN.md "Experiments, CLI and notebooks"):
 * - quick: toy models (DS_CNN_PRESETS.quick, KWT_PRESETS.quick) for 2 epochs at 32 mels, one augmented
 *   copy; seconds, for tests;
 * - default: the README's main command, embedded data, both architectures at their 'default' sizes
 *   (DS-CNN-S, KWT with dModel 64, 2 layers) on 49 x 40 log-mels, 20 epochs of batch 32, time-shift
 *   augmentation only (see SHIFT_ONLY_AUGMENT); under 10 minutes on a 2-core CPU with the wasm backend;
 * - paper: paper-scale supernets (DS_CNN_PRESETS.paper, KWT_PRESETS.paper: every subnet under 250k
 *   parameters) on 98 x 40 log-mels (30 ms window, 10 ms hop) of the real Speech Commands v2, 12-class task
 *   (unknown words subsampled to 10% of the keyword items, as Google's input_data.py), time shift, background
 *   noise and SpecAugment, 60 epochs of batch 256: for a GPU (tfjs-node-gpu). `dataRoot` must be set
 *   (`--set dataRoot=/path/to/speech_commands_v0.02`). On the wasm backend, whose heap stops at 4 GB, the
 *   sandwich step of the paper DS-CNN (four widths in one gradient tape) fails above a batch of about 32
 *   with 'memory access out of bounds'; there, add `--set batchSize=32`.
 */
export const SLIMMABLE_KWS_PRESETS: Readonly<Record<PresetName, SlimmableKwsConfig>> = Object.freeze({
  quick: {
    dataRoot: 'embedded', keywords: null, silence: 0.1, unknownRatio: null,
    features: { sampleRate: 16000, clipSeconds: 1, nFft: 640, hopLength: 320, nMels: 32 },
    augment: { ...FULL_AUGMENT, copies: 1, specAugment: { freqMasks: 2, maxFreqWidth: 5, timeMasks: 2, maxTimeWidth: 5 } },
    archs: ['dscnn', 'kwt'], dscnn: dscnnConfig(DS_CNN_PRESETS.quick.channels!), kwt: kwtConfig('quick'),
    widths: [0.25, 0.5, 0.75, 1], sandwich: 4, inplaceDistillation: true,
    epochs: 2, batchSize: 64, optimizer: 'adamw', lr: { dscnn: 3e-3, kwt: 1e-3 }, weightDecay: 0.01, warmupEpochs: 0,
    schedule: 'cosine', recalibrateBatchNorm: true, latencyRuns: 5, seed: 0,
  },
  default: {
    dataRoot: 'embedded', keywords: null, silence: 0.1, unknownRatio: null,
    features: { sampleRate: 16000, clipSeconds: 1, nFft: 640, hopLength: 320, nMels: 40 },
    augment: SHIFT_ONLY_AUGMENT,
    archs: ['dscnn', 'kwt'], dscnn: dscnnConfig(DS_CNN_PRESETS.default.channels!), kwt: kwtConfig('default'),
    widths: [0.25, 0.5, 0.75, 1], sandwich: 4, inplaceDistillation: true,
    epochs: 20, batchSize: 32, optimizer: 'adamw', lr: { dscnn: 3e-3, kwt: 1e-3 }, weightDecay: 0.01, warmupEpochs: 1,
    schedule: 'cosine', recalibrateBatchNorm: true, latencyRuns: 20, seed: 0,
  },
  paper: {
    dataRoot: '', keywords: null, silence: 0.1, unknownRatio: 0.1,
    features: { sampleRate: 16000, clipSeconds: 1, nFft: 480, hopLength: 160, nMels: 40 },
    augment: FULL_AUGMENT,
    archs: ['dscnn', 'kwt'], dscnn: dscnnConfig(DS_CNN_PRESETS.paper.channels!), kwt: kwtConfig('paper'),
    widths: [0.25, 0.5, 0.75, 1], sandwich: 4, inplaceDistillation: true,
    epochs: 60, batchSize: 256, optimizer: 'adamw', lr: { dscnn: 3e-3, kwt: 1e-3 }, weightDecay: 0.01, warmupEpochs: 5,
    schedule: 'cosine', recalibrateBatchNorm: true, latencyRuns: 50, seed: 0,
  },
});

// ---------------------------------------------------------------------------------------------- data

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
      'speech_commands_v0.02 and pass --set dataRoot=/path/to/it (in a notebook: config.dataRoot = ...), or dataRoot=embedded');
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

function stack(split: KwsSplit, idx: number[], frames: number, mels: number, rows?: Float32Array[]): KwsBatch {
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
      const b = stack(data.train[0], idx, frames, mels, rows);
      if (sa) {
        const x = specAugment(b.x, { ...sa, rng }) as tf.Tensor3D;
        b.x.dispose();
        b.x = x;
      }
      yield b;
    }
  })();
}

function evalBatches(split: KwsSplit, data: KwsData, batchSize: number): KwsBatch[] {
  const out: KwsBatch[] = [];
  for (let s = 0; s < split.y.length; s += batchSize) {
    out.push(stack(split, Array.from({ length: Math.min(batchSize, split.y.length - s) }, (_, k) => s + k), data.frames, data.mels));
  }
  return out;
}

async function predict(model: Module, split: KwsSplit, data: KwsData, width: number | undefined, batchSize: number): Promise<Int32Array> {
  const out = new Int32Array(split.y.length);
  let o = 0;
  for (let s = 0; s < split.y.length; s += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, split.y.length - s) }, (_, k) => s + k);
    const b = stack(split, idx, data.frames, data.mels);
    const am = tf.tidy(() => tf.argMax(model.forward(b.x, { training: false, width }), -1));
    out.set((await am.data()) as Int32Array, o);
    o += idx.length;
    tf.dispose([am, b.x, b.y]);
  }
  return out;
}

function accuracyOf(pred: Int32Array, y: Int32Array, mask?: boolean[]): number | null {
  let hit = 0, n = 0;
  for (let i = 0; i < y.length; i++) {
    if (mask && !mask[i]) continue;
    n += 1;
    if (pred[i] === y[i]) hit += 1;
  }
  return n ? hit / n : null;
}

// ---------------------------------------------------------------------------------------------- models

function checkConfig(config: SlimmableKwsConfig): number[] {
  for (const a of config.archs) if (!KWS_ARCHS.includes(a)) throw new Error(`slimmable-kws: unknown arch '${a}' (dscnn, kwt)`);
  if (!config.archs.length) throw new Error('slimmable-kws: archs is empty');
  if (!(Number.isInteger(config.epochs) && config.epochs >= 1)) throw new Error(`slimmable-kws: epochs must be a positive integer, got ${config.epochs}`);
  if (!(Number.isInteger(config.batchSize) && config.batchSize >= 1)) throw new Error(`slimmable-kws: batchSize must be a positive integer, got ${config.batchSize}`);
  return normalizeWidths(config.widths, 'slimmable-kws');
}

/**
 * Step 2, the supernet of `arch` for this data: a SlimDsCnn or SlimKwt with the config's shapes, the data's
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

/**
 * Parameters and MACs of one clip at every width of every supernet (of its extracted subnet, which is also
 * the size of the baseline of that width), before any training.
 */
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

/** A trained model with its history and wall time. */
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

/** Options of the training steps. */
export interface KwsTrainOptions {
  /** Progress display of train.fit. Default 'auto'. */
  progress?: ProgressMode;
  /** One line per finished model. Default: none. */
  log?: (line: string) => void;
}

function validationKey(width: number): string {
  return `valAcc@${width}`;
}

async function trainOne(arch: KwsArch, variant: 'slimmable' | 'independent', width: number | undefined, config: SlimmableKwsConfig,
  data: KwsData, opts: KwsTrainOptions): Promise<TrainedKws> {
  const widths = checkConfig(config);
  const t0 = Date.now();
  const model = variant === 'slimmable' ? buildKwsSupernet(arch, config, data) : buildKwsWidthModel(arch, width!, config, data);
  const stepsPerEpoch = Math.ceil(data.train[0].y.length / config.batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;
  const warmupSteps = Math.min(Math.round(config.warmupEpochs * stepsPerEpoch), totalSteps - 1);
  const step = variant === 'slimmable'
    ? slimmableStep<KwsBatch>(model, { widths, n: config.sandwich, distill: config.inplaceDistillation })
    : (b: KwsBatch, ctx: Ctx) => tf.tidy(() => crossEntropy(model.forward(b.x, ctx), b.y) as tf.Scalar);
  const valWidths = variant === 'slimmable' ? widths : [width!];
  const valBatches = evalBatches(data.validation, data, 256);
  try {
    const history = await fit<KwsBatch>({
      modules: model, step, epochs: config.epochs, seed: config.seed, stepsPerEpoch,
      batches: (_epoch, rng) => kwsTrainBatches(data, config, rng),
      optimizer: { kind: config.optimizer, lr: config.lr[arch], weightDecay: config.weightDecay },
      schedule: { warmupSteps, decay: config.schedule, totalSteps },
      progress: opts.progress ?? 'auto', label: `${arch} ${variant}${width !== undefined ? ` ${width}` : ''}`,
      validate: async () => {
        const out: Record<string, number> = {};
        for (const w of valWidths) {
          let hit = 0;
          for (const b of valBatches) {
            const ok = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(model.forward(b.x, { training: false, width: variant === 'slimmable' ? w : undefined }), -1), b.y), 'int32')));
            hit += (await ok.data())[0];
            ok.dispose();
          }
          out[validationKey(w)] = hit / data.validation.y.length;
        }
        return out;
      },
    });
    const seconds = (Date.now() - t0) / 1000;
    const last = history.epochs[history.epochs.length - 1];
    opts.log?.(`${arch} ${variant}${width !== undefined ? ` width ${width}` : ''}: ${config.epochs} epochs, ${totalSteps} steps, ` +
      `${seconds.toFixed(0)} s; final loss ${last.loss.toFixed(3)}, validation ${valWidths.map((w) => `${w}: ${(100 * last[validationKey(w)]).toFixed(1)}%`).join(', ')}`);
    return { arch, variant, width, model, history, seconds };
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    for (const b of valBatches) tf.dispose([b.x, b.y]);
  }
}

/**
 * Step 3, slimmable training of one architecture: the supernet trained with train.fit and
 * slim.slimmableStep, i.e. per batch the sandwich rule (largest, smallest and `sandwich - 2` random widths
 * of the list), the largest learning from the labels and the others from its detached soft predictions
 * (in-place distillation), gradients summed over the widths, one optimizer step. Validation accuracy of
 * every width is recorded after each epoch.
 */
export async function trainSlimmableArch(arch: KwsArch, config: SlimmableKwsConfig, data: KwsData, opts: KwsTrainOptions = {}): Promise<TrainedKws> {
  return trainOne(arch, 'slimmable', undefined, config, data, opts);
}

/** Step 3 for every architecture of the config: `{dscnn: TrainedKws, kwt: TrainedKws}`. */
export async function trainSlimmable(config: SlimmableKwsConfig, data: KwsData, opts: KwsTrainOptions = {}): Promise<Partial<Record<KwsArch, TrainedKws>>> {
  const out: Partial<Record<KwsArch, TrainedKws>> = {};
  for (const arch of config.archs) out[arch] = await trainSlimmableArch(arch, config, data, opts);
  return out;
}

/**
 * Step 4, the baseline for one architecture and width: a standalone model of that width
 * ({@link buildKwsWidthModel}) trained alone on the labels with the same budget as the supernet: the same
 * epochs, batches (order, augmented copies, SpecAugment masks), optimizer, learning rate, weight decay and
 * schedule, one optimizer step per batch.
 */
export async function trainIndependentWidth(arch: KwsArch, width: number, config: SlimmableKwsConfig, data: KwsData,
  opts: KwsTrainOptions = {}): Promise<TrainedKws> {
  return trainOne(arch, 'independent', width, config, data, opts);
}

/** Step 4 for every architecture and width: `{dscnn: [one TrainedKws per width, ascending], ...}`. */
export async function trainIndependent(config: SlimmableKwsConfig, data: KwsData, opts: KwsTrainOptions = {}): Promise<Partial<Record<KwsArch, TrainedKws[]>>> {
  const out: Partial<Record<KwsArch, TrainedKws[]>> = {};
  for (const arch of config.archs) {
    const list: TrainedKws[] = [];
    try {
      for (const w of checkConfig(config)) list.push(await trainIndependentWidth(arch, w, config, data, opts));
    } catch (e) {
      for (const t of list) t.model.dispose();
      throw e;
    }
    out[arch] = list;
  }
  return out;
}

/** What {@link recalibrateKws} did, per model. */
export interface RecalibrationRecord {
  arch: KwsArch;
  variant: 'slimmable' | 'independent';
  width: number;
  layers: number;
  batches: number;
}

/**
 * Step 5, batch-norm recalibration (Yu & Huang 2019, sec. 3.2): with `recalibrateBatchNorm` on, the
 * running statistics of every width of every supernet and of every baseline with batch norm (the DS-CNNs;
 * KWT has layer norm only) are re-estimated from the clean training features with the trained weights.
 * Under the sandwich rule each listed width trains its own statistics, so this is not needed for
 * correctness here; it replaces running averages taken while the weights moved by the statistics of the
 * final weights, and is applied to both variants so that the comparison stays fair.
 */
export async function recalibrateKws(config: SlimmableKwsConfig, data: KwsData, slimmable: Partial<Record<KwsArch, TrainedKws>>,
  independent: Partial<Record<KwsArch, TrainedKws[]>>): Promise<RecalibrationRecord[]> {
  const out: RecalibrationRecord[] = [];
  if (!config.recalibrateBatchNorm) return out;
  const widths = checkConfig(config);
  const batches = evalBatches(data.train[0], data, Math.max(config.batchSize, 64));
  const hasBn = (m: Module) => m.namedModules().some(([, c]) => c instanceof SwitchableBatchNorm);
  try {
    for (const arch of config.archs) {
      const s = slimmable[arch];
      if (s && hasBn(s.model)) {
        for (const w of widths) out.push({ arch, variant: 'slimmable', width: w, ...(await recalibrateBatchNorm(s.model, batches, { width: w })) });
      }
      for (const t of independent[arch] ?? []) {
        if (hasBn(t.model)) out.push({ arch, variant: 'independent', width: t.width!, ...(await recalibrateBatchNorm(t.model, batches)) });
      }
    }
  } finally {
    for (const b of batches) tf.dispose([b.x, b.y]);
  }
  return out;
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
 * Step 6, extraction: slim.extractSubnet cuts the standalone subnet of every width out of each supernet (the
 * first channels, heads and feed-forward units; that width's batch-norm statistics), and its logits are
 * compared with the supernet's at that width on a test batch.
 */
export async function extractKwsSubnets(config: SlimmableKwsConfig, data: KwsData,
  slimmable: Partial<Record<KwsArch, TrainedKws>>): Promise<Partial<Record<KwsArch, KwsSubnet[]>>> {
  const widths = checkConfig(config);
  const probe = stack(data.test, Array.from({ length: Math.min(16, data.test.y.length) }, (_, i) => i), data.frames, data.mels);
  const out: Partial<Record<KwsArch, KwsSubnet[]>> = {};
  try {
    for (const arch of config.archs) {
      const s = slimmable[arch];
      if (!s) continue;
      out[arch] = [];
      for (const w of widths) {
        const model = extractSubnet(s.model, w);
        const d = tf.tidy(() => tf.max(tf.abs(tf.sub(s.model.forward(probe.x, { training: false, width: w }), model.forward(probe.x, { training: false })))));
        const maxAbsDiff = (await d.data())[0];
        d.dispose();
        out[arch]!.push({ arch, width: w, model, maxAbsDiff });
      }
    }
  } finally {
    tf.dispose([probe.x, probe.y]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- evaluation

/** One row of the results table. */
export interface KwsRow {
  [key: string]: string | number | boolean | null;
  arch: KwsArch;
  variant: 'slimmable' | 'independent';
  width: number;
  /** Trainable parameters of the standalone model. */
  params: number;
  /** Multiply-accumulates of one clip. */
  macs: number;
  /** Test accuracy in [0, 1]. */
  accuracy: number;
  /** Test accuracy on the recorded human voices, in [0, 1] (null when the test split has none). */
  accuracyRecorded: number | null;
  /** Median wall-clock latency of one clip (batch 1), ms, on this run's backend. */
  latencyMs: number;
  /** Validation accuracy after the last epoch. */
  accuracyValidation: number;
  /** The saved model, relative to the output folder (set by saveKwsModels). */
  model: string | null;
}

/** What {@link evaluateKws} returns. */
export interface KwsEvaluation {
  rows: KwsRow[];
  /** Confusion matrix (counts, rows = true class) of the widest slimmable subnet per architecture. */
  confusion: Partial<Record<KwsArch, number[][]>>;
}

/**
 * Step 7, evaluation of every width of both variants, on the standalone models (the extracted subnets and
 * the baselines): accuracy on the test split and on its recorded voices, trainable parameters, MACs of one
 * clip, batch-1 latency (median of `latencyRuns` runs on this backend), validation accuracy.
 */
export async function evaluateKws(config: SlimmableKwsConfig, data: KwsData, subnets: Partial<Record<KwsArch, KwsSubnet[]>>,
  independent: Partial<Record<KwsArch, TrainedKws[]>>): Promise<KwsEvaluation> {
  const widths = checkConfig(config);
  const rows: KwsRow[] = [];
  const confusion: Partial<Record<KwsArch, number[][]>> = {};
  const one = tf.tidy(() => tf.tensor3d(data.test.x[0], [1, data.frames, data.mels]));
  try {
    for (const arch of config.archs) {
      for (const variant of ['slimmable', 'independent'] as const) {
        for (const w of widths) {
          const model = variant === 'slimmable'
            ? subnets[arch]?.find((s) => sameWidth(s.width, w))?.model
            : independent[arch]?.find((t) => sameWidth(t.width!, w))?.model;
          if (!model) continue;
          const pred = await predict(model, data.test, data, undefined, 256);
          const val = await predict(model, data.validation, data, undefined, 256);
          const lat = await latency({ module: model, input: one }, { warmup: 3, runs: config.latencyRuns });
          rows.push({
            arch, variant, width: w, params: countParams(model), macs: countMacs(model, [1, data.frames, data.mels]),
            accuracy: accuracyOf(pred, data.test.y)!, accuracyRecorded: accuracyOf(pred, data.test.y, data.test.recorded),
            latencyMs: lat.medianMs, accuracyValidation: accuracyOf(val, data.validation.y)!, model: null,
          });
          if (variant === 'slimmable' && sameWidth(w, widths[widths.length - 1])) {
            confusion[arch] = confusionMatrix(pred, data.test.y, data.labels.length);
          }
        }
      }
    }
  } finally {
    one.dispose();
  }
  return { rows, confusion };
}

function widthTag(w: number): string {
  return String(Number(w.toFixed(6)));
}

/**
 * Step 8, saving: every extracted subnet to `<outDir>/models/<arch>-w<width>/`, the supernets to
 * `<arch>-supernet/` and the baselines to `<arch>-independent-w<width>/` (saveModel: reloadable with
 * loadModel at their own size). The metadata holds the labels and the feature settings with the
 * normalisation, everything needed to run a model on new audio. Sets each row's `model`.
 */
export async function saveKwsModels(outDir: string, config: SlimmableKwsConfig, data: KwsData, slimmable: Partial<Record<KwsArch, TrainedKws>>,
  subnets: Partial<Record<KwsArch, KwsSubnet[]>>, independent: Partial<Record<KwsArch, TrainedKws[]>>, rows: KwsRow[]): Promise<void> {
  const meta = (arch: KwsArch, variant: string, width?: number) => ({ experiment: 'slimmable-kws', arch, variant,
    ...(width !== undefined ? { width } : {}), labels: data.labels, features: config.features, normalization: data.normalization,
    input: [data.frames, data.mels] });
  for (const arch of config.archs) {
    const s = slimmable[arch];
    if (s) await saveModel(s.model, path.join(outDir, 'models', `${arch}-supernet`), { metadata: { ...meta(arch, 'supernet'), widths: config.widths } });
    for (const sub of subnets[arch] ?? []) {
      const rel = path.join('models', `${arch}-w${widthTag(sub.width)}`);
      await saveModel(sub.model, path.join(outDir, rel), { metadata: meta(arch, 'slimmable', sub.width) });
      const row = rows.find((r) => r.arch === arch && r.variant === 'slimmable' && sameWidth(r.width, sub.width));
      if (row) row.model = rel;
    }
    for (const t of independent[arch] ?? []) {
      const rel = path.join('models', `${arch}-independent-w${widthTag(t.width!)}`);
      await saveModel(t.model, path.join(outDir, rel), { metadata: meta(arch, 'independent', t.width) });
      const row = rows.find((r) => r.arch === arch && r.variant === 'independent' && sameWidth(r.width, t.width!));
      if (row) row.model = rel;
    }
  }
}

/** The paper's claim, per architecture and overall. */
export interface KwsClaim {
  statement: string;
  holds: boolean;
  detail: string;
  /** Per architecture: mean accuracy over the widths of each variant and their difference in points (slimmable - independent). */
  perArch: Partial<Record<KwsArch, { slimmable: number; independent: number; differencePoints: number; holds: boolean }>>;
}

/** The claim under test (PAPERS.md section 1). */
export const KWS_CLAIM = 'mean accuracy of slimmable subnets within 1 point of (or above) the same widths trained alone, for both architectures';

/**
 * Whether the paper's claim held in `rows`: for every architecture, mean test accuracy over the widths of
 * the slimmable subnets minus that of the same widths trained alone is at least -1 percentage point. Computed
 * from the rows only; an architecture without both variants fails the claim.
 */
export function kwsClaim(rows: KwsRow[], archs: readonly KwsArch[], testItems?: number): KwsClaim {
  const perArch: KwsClaim['perArch'] = {};
  const parts: string[] = [];
  let holds = archs.length > 0;
  for (const arch of archs) {
    const mean = (v: string) => {
      const r = rows.filter((x) => x.arch === arch && x.variant === v);
      return r.length ? r.reduce((s, x) => s + x.accuracy, 0) / r.length : NaN;
    };
    const s = mean('slimmable'), i = mean('independent');
    const d = 100 * (s - i);
    const ok = Number.isFinite(d) && d >= -1;
    holds &&= ok;
    perArch[arch] = { slimmable: s, independent: i, differencePoints: d, holds: ok };
    parts.push(`${arch}: slimmable ${(100 * s).toFixed(1)}% vs independent ${(100 * i).toFixed(1)}% (${d >= 0 ? '+' : ''}${d.toFixed(1)} points, ${ok ? 'holds' : 'does not hold'})`);
  }
  const note = testItems ? `; ${testItems} test items, so one item is ${(100 / testItems).toFixed(1)} points` : '';
  return { statement: KWS_CLAIM, holds, detail: parts.join('; ') + note, perArch };
}

/** results.json of this experiment. */
export interface SlimmableKwsResults extends ExperimentResults {
  rows: KwsRow[];
  claim: KwsClaim;
  labels: string[];
  config: SlimmableKwsConfig;
  data: { root: string; embedded: boolean; train: number; validation: number; test: number; testRecorded: number; frames: number; mels: number };
  /** Wall seconds: data, and per architecture the supernet's training and the baselines' training summed. */
  seconds: { data: number; training: Partial<Record<KwsArch, { slimmable: number; independent: number }>>; total?: number };
  /** Largest |supernet - subnet| logit difference per architecture and width. */
  extraction: { arch: KwsArch; width: number; maxAbsDiff: number }[];
  recalibration: RecalibrationRecord[];
  /** Per-epoch records (loss, validation accuracy per width) of every training run. */
  curves: Partial<Record<KwsArch, { slimmable: EpochRecord[]; independent: Record<string, EpochRecord[]> }>>;
  confusion: Partial<Record<KwsArch, number[][]>>;
}

/** Assembles results.json from the steps' outputs (the claim computed by {@link kwsClaim}). */
export function kwsReport(preset: PresetName | 'custom', config: SlimmableKwsConfig, data: KwsData, slimmable: Partial<Record<KwsArch, TrainedKws>>,
  independent: Partial<Record<KwsArch, TrainedKws[]>>, subnets: Partial<Record<KwsArch, KwsSubnet[]>>, evaluation: KwsEvaluation,
  recalibration: RecalibrationRecord[]): SlimmableKwsResults {
  const training: SlimmableKwsResults['seconds']['training'] = {};
  const curves: SlimmableKwsResults['curves'] = {};
  for (const arch of config.archs) {
    training[arch] = { slimmable: slimmable[arch]?.seconds ?? 0, independent: (independent[arch] ?? []).reduce((s, t) => s + t.seconds, 0) };
    curves[arch] = { slimmable: slimmable[arch]?.history.epochs ?? [],
      independent: Object.fromEntries((independent[arch] ?? []).map((t) => [widthTag(t.width!), t.history.epochs])) };
  }
  return {
    experiment: 'slimmable-kws', preset, backend: currentBackend()?.name ?? tf.getBackend(),
    rows: evaluation.rows, claim: kwsClaim(evaluation.rows, config.archs, data.test.y.length),
    labels: data.labels, config,
    data: { root: data.root, embedded: data.embedded, train: data.train[0].y.length, validation: data.validation.y.length,
      test: data.test.y.length, testRecorded: data.test.recorded.filter(Boolean).length, frames: data.frames, mels: data.mels },
    seconds: { data: data.seconds, training },
    extraction: config.archs.flatMap((a) => (subnets[a] ?? []).map((s) => ({ arch: a, width: s.width, maxAbsDiff: s.maxAbsDiff }))),
    recalibration, curves, confusion: evaluation.confusion,
  };
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The rows as CSV: a header of every key (in the order first seen), one line per row. */
export function kwsCsv(rows: KwsRow[]): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return [cols.join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n';
}

/** The rows as a fixed-width text table (accuracies in %, latency in ms), for logs and notebooks. */
export function formatKwsTable(rows: KwsRow[]): string {
  const head = ['arch', 'variant', 'width', 'params', 'MACs', 'acc %', 'acc rec. %', 'val %', 'latency ms'];
  const pct = (v: number | null) => (v === null ? '-' : (100 * v).toFixed(1));
  const body = rows.map((r) => [r.arch, r.variant, String(r.width), String(r.params), String(r.macs), pct(r.accuracy),
    pct(r.accuracyRecorded), pct(r.accuracyValidation), r.latencyMs.toFixed(2)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** Writes results.json and results.csv into `outDir`; resolves to their paths. */
export async function writeKwsResults(results: SlimmableKwsResults, outDir: string): Promise<{ json: string; csv: string }> {
  fs.mkdirSync(outDir, { recursive: true });
  const json = path.join(outDir, 'results.json');
  const csv = path.join(outDir, 'results.csv');
  fs.writeFileSync(json, JSON.stringify(results, null, 1));
  fs.writeFileSync(csv, kwsCsv(results.rows));
  return { json, csv };
}

// ---------------------------------------------------------------------------------------------- plots

const ARCH_NAME: Record<KwsArch, string> = { dscnn: 'DS-CNN', kwt: 'KWT' };

function perWidth(results: SlimmableKwsResults, arch: KwsArch, variant: string, f: (r: KwsRow) => number): number[] {
  return normalizeWidths(results.config.widths, 'slimmable-kws plots').map((w) => {
    const r = results.rows.find((x) => x.arch === arch && x.variant === variant && sameWidth(x.width, w));
    return r ? f(r) : NaN;
  });
}

/** A training clip's normalised log-mels, clean and (with augmented copies) as its first augmented copy. */
export async function kwsExampleFigure(data: KwsData, features: KwsFeatureConfig): Promise<Figure> {
  const specs: Record<string, number[][]> = { clean: data.example.clean };
  if (data.example.augmented) specs.augmented = data.example.augmented;
  return spectrogram(specs, { title: `Normalised log-mels of '${data.example.label}' (${data.example.path})`,
    frameSeconds: features.hopLength / features.sampleRate, yTitle: 'mel band' });
}

/** Per architecture: training loss per epoch, and validation accuracy per epoch of every width of both variants. */
export async function kwsTrainingFigures(results: SlimmableKwsResults): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const arch of results.config.archs) {
    const c = results.curves[arch];
    if (!c) continue;
    const loss: Record<string, number[]> = { 'slimmable (sandwich sum)': c.slimmable.map((e) => e.loss) };
    const val: Record<string, number[]> = {};
    const widths = normalizeWidths(results.config.widths, 'slimmable-kws plots');
    for (const w of widths) val[`slimmable ${w}×`] = c.slimmable.map((e) => e[validationKey(w)]);
    for (const w of widths) {
      const eps = c.independent[widthTag(w)];
      if (!eps) continue;
      loss[`independent ${w}×`] = eps.map((e) => e.loss);
      val[`independent ${w}×`] = eps.map((e) => e[validationKey(w)]);
    }
    out.push(await trainingCurves(loss, { title: `${ARCH_NAME[arch]}: training loss`, xTitle: 'epoch', yTitle: 'loss', markers: true }));
    out.push(await trainingCurves(val, { title: `${ARCH_NAME[arch]}: validation accuracy`, xTitle: 'epoch', yTitle: 'accuracy', markers: true }));
  }
  return out;
}

/** Per architecture: test accuracy of every width, slimmable subnets next to the same widths trained alone. */
export async function kwsAccuracyFigures(results: SlimmableKwsResults): Promise<Figure[]> {
  return Promise.all(results.config.archs.map((arch) => perWidthBars(results.config.widths, {
    slimmable: perWidth(results, arch, 'slimmable', (r) => r.accuracy), independent: perWidth(results, arch, 'independent', (r) => r.accuracy),
  }, { title: `${ARCH_NAME[arch]}: test accuracy per width`, yTickFormat: '.0%', valueFormat: '.1%' })));
}

/** Parameters (log axis) against test accuracy for every architecture and variant, with the Pareto front. */
export async function kwsParetoFigure(results: SlimmableKwsResults): Promise<Figure> {
  const points: Record<string, { x: number[]; y: number[]; labels: string[] }> = {};
  for (const arch of results.config.archs) {
    for (const variant of ['slimmable', 'independent']) {
      const r = results.rows.filter((x) => x.arch === arch && x.variant === variant);
      if (r.length) points[`${ARCH_NAME[arch]} ${variant}`] = { x: r.map((x) => x.params), y: r.map((x) => x.accuracy), labels: r.map((x) => `${x.width}×`) };
    }
  }
  return pareto(points, { title: 'Parameters against test accuracy', logX: true });
}

/** Per architecture: batch-1 latency (median) of every width and variant on this run's backend. */
export async function kwsLatencyFigures(results: SlimmableKwsResults): Promise<Figure[]> {
  return Promise.all(results.config.archs.map((arch) => perWidthBars(results.config.widths, {
    slimmable: perWidth(results, arch, 'slimmable', (r) => r.latencyMs), independent: perWidth(results, arch, 'independent', (r) => r.latencyMs),
  }, { title: `${ARCH_NAME[arch]}: latency per width (batch 1, median, ${results.backend})`, yTitle: 'latency (ms)', valueFormat: '.2f' })));
}

/** Per architecture: the confusion matrix of the widest slimmable subnet on the test split, rows normalised. */
export async function kwsConfusionFigures(results: SlimmableKwsResults): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const arch of results.config.archs) {
    const cm = results.confusion[arch];
    if (cm) out.push(await confusionFigure(cm, { labels: results.labels, normalize: 'true', title: `${ARCH_NAME[arch]}: widest slimmable subnet on the test split` }));
  }
  return out;
}

/**
 * Every plot of the experiment, by file name (without .html): training-curves, accuracy-per-width, pareto,
 * latency-per-width, confusion-matrix and, given the data, spectrogram (see the functions above).
 */
export async function kwsFigures(results: SlimmableKwsResults, data?: KwsData): Promise<Record<string, Figure[]>> {
  return {
    'training-curves': await kwsTrainingFigures(results),
    'accuracy-per-width': await kwsAccuracyFigures(results),
    pareto: [await kwsParetoFigure(results)],
    'latency-per-width': await kwsLatencyFigures(results),
    'confusion-matrix': await kwsConfusionFigures(results),
    ...(data ? { spectrogram: [await kwsExampleFigure(data, results.config.features)] } : {}),
  };
}

/** Writes each entry of {@link kwsFigures} to `<outDir>/<name>.html` (plotly.js once, as a sibling file); resolves to the paths. */
export async function saveKwsFigures(figs: Record<string, Figure[]>, outDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const [name, list] of Object.entries(figs)) {
    if (list.length) out.push(await savePlot(list, path.join(outDir, `${name}.html`), { plotlyJs: 'sibling', title: `slimmable-kws: ${name}` }));
  }
  return out;
}

/** Disposes every model the steps made. */
export function disposeKws(...groups: Array<Partial<Record<KwsArch, TrainedKws | TrainedKws[] | KwsSubnet[]>>>): void {
  for (const g of groups) {
    for (const v of Object.values(g)) for (const t of Array.isArray(v) ? v : v ? [v] : []) t.model.dispose();
  }
}

// ---------------------------------------------------------------------------------------------- the recipe

/**
 * Every step in order, as `npx slimspeech run slimmable-kws` runs it: writes results.json, results.csv,
 * the plots as HTML and the models under `ctx.outDir`, logs the table and returns the results.
 */
export async function runSlimmableKws(config: SlimmableKwsConfig, ctx: RunContext, preset: PresetName | 'custom'): Promise<SlimmableKwsResults> {
  const t0 = Date.now();
  checkConfig(config);
  const data = await prepareKwsData(config, ctx.log);
  const opts: KwsTrainOptions = { log: ctx.log, progress: 'auto' };
  let slimmable: Partial<Record<KwsArch, TrainedKws>> = {};
  let independent: Partial<Record<KwsArch, TrainedKws[]>> = {};
  let subnets: Partial<Record<KwsArch, KwsSubnet[]>> = {};
  try {
    slimmable = await trainSlimmable(config, data, opts);
    independent = await trainIndependent(config, data, opts);
    const recalibration = await recalibrateKws(config, data, slimmable, independent);
    subnets = await extractKwsSubnets(config, data, slimmable);
    const evaluation = await evaluateKws(config, data, subnets, independent);
    await saveKwsModels(ctx.outDir, config, data, slimmable, subnets, independent, evaluation.rows);
    const results = kwsReport(preset, config, data, slimmable, independent, subnets, evaluation, recalibration);
    await saveKwsFigures(await kwsFigures(results, data), ctx.outDir);
    results.seconds.total = (Date.now() - t0) / 1000;
    await writeKwsResults(results, ctx.outDir);
    ctx.log(formatKwsTable(results.rows));
    return results;
  } finally {
    disposeKws(slimmable, independent, subnets);
  }
}

/** The experiment as the CLI finds it (`experiments.getExperiment('slimmable-kws')`). */
export const experiment = {
  name: 'slimmable-kws',
  description: 'Slimmable keyword spotting (Akhtar et al., arXiv 2304.12183): DS-CNN and KWT supernets trained once ' +
    '(sandwich rule, in-place distillation) against every width trained alone',
  presets: SLIMMABLE_KWS_PRESETS as Record<PresetName, SlimmableKwsConfig>,
  run: runSlimmableKws,
};

registerExperiment(experiment);
