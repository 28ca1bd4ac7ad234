import { ActivationName } from '../../nn/activations';
import { normalizeWidths } from '../../slim/channels';
import { DS_CNN_PRESETS } from '../../models/kws_ds_cnn';
import { KWT_PRESETS, KwtPooling } from '../../models/kws_transformer';
import { OptimizerKind } from '../../train/optimizers';
import type { Presets } from '../presets';
import type { RecipeConfig } from '../recipe';

/** The two supernets of the paper: a depthwise-separable CNN and a keyword transformer. */
export type KwsArch = 'dscnn' | 'kwt';

/** Every architecture, in report order. */
export const KWS_ARCHS: readonly KwsArch[] = ['dscnn', 'kwt'];

/** Display names. */
export const ARCH_NAME: Record<KwsArch, string> = { dscnn: 'DS-CNN', kwt: 'KWT' };

/** The ten keywords of the standard 12-class Speech Commands task (Warden 2018). */
export const SPEECH_COMMANDS_KEYWORDS: readonly string[] = ['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go'];

/** Log-mel features (computed once per split). */
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
   * random from the clean features or one of the copies (0: clean only). Default 3.
   */
  copies: number;
  /** Largest time shift in milliseconds (uniform in [-max, max], zeros shifted in). Default 100. */
  timeShiftMs: number;
  /** Probability that an item of a copy gets a `_background_noise_` crop mixed in. Default 0 (paper: 0.8). */
  noiseProb: number;
  /** Signal-to-noise ratio range of that mix, dB (uniform). Default [0, 20]. */
  snrDb: [number, number];
  /** SpecAugment masks drawn per batch (Park et al. 2019), on the normalised features; null: none. Default null. */
  specAugment: { freqMasks: number; maxFreqWidth: number; timeMasks: number; maxTimeWidth: number } | null;
}

/** Shapes of the DS-CNN supernet (see models.SlimDsCnnArgs; frames, mels, classes and widths come from the experiment). */
export interface KwsDsCnnConfig {
  channels: number[];
  stemKernel: [number, number];
  stemStride: [number, number];
  kernelSize: number;
  dropout: number;
}

/** Shapes of the KWT supernet (see models.SlimKwtArgs; frames, mels, classes and widths come from the experiment). */
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

/** Configuration of the slimmable-KWS recipe; the presets are {@link SLIMMABLE_KWS_PRESETS}. */
export interface SlimmableKwsConfig extends RecipeConfig {
  /** 'embedded' (data/kws) or the root of a Speech Commands v2 tree (speech_commands_v0.02). Default 'embedded'. */
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
  /** Epochs, the same for every model. Default 20. */
  epochs: number;
  /** Batch size. Default 32. */
  batchSize: number;
  /** Optimizer of every model. Default 'adamw'. */
  optimizer: OptimizerKind;
  /** Base learning rate per architecture. Default {dscnn: 3e-3, kwt: 1e-3}. */
  lr: Record<KwsArch, number>;
  /** Weight decay. Default 0.01. */
  weightDecay: number;
  /** Linear warm-up, in epochs. Default 1. */
  warmupEpochs: number;
  /** Decay after warm-up ('cosine' to 0 at the last step). Default 'cosine'. */
  schedule: 'constant' | 'linear' | 'cosine';
  /** Re-estimate batch-norm statistics of every width of both variants on the clean training features after training. Default true. */
  recalibrateBatchNorm: boolean;
  /** Timed runs of the batch-1 latency (median reported), after 3 untimed ones. Default 20. */
  latencyRuns: number;
}

/** Full augmentation (time shift, background noise, SpecAugment): the paper preset, and the quick one so that tests run every path. */
const FULL_AUGMENT: KwsAugmentConfig = {
  copies: 2, timeShiftMs: 100, noiseProb: 0.8, snrDb: [0, 20],
  specAugment: { freqMasks: 2, maxFreqWidth: 7, timeMasks: 2, maxTimeWidth: 10 },
};

const dscnn = (channels: number[]): KwsDsCnnConfig => ({ channels, stemKernel: [10, 4], stemStride: [2, 2], kernelSize: 3, dropout: 0.1 });
const kwt = (p: typeof KWT_PRESETS.default): Partial<KwsKwtConfig> => ({ dModel: p.dModel, numHeads: p.numHeads,
  dimFeedforward: p.dimFeedforward, numLayers: p.numLayers });

/**
 * The presets (DESIGN.md "Experiments, CLI and notebooks"), quick and paper written as differences from default:
 * - default: the README's main command, embedded data, both architectures at their 'default' sizes (DS-CNN-S,
 *   KWT with dModel 64, 2 layers) on 49 x 40 log-mels, 20 epochs of batch 32, time-shift augmentation only;
 *   about 4 minutes on a 2-core CPU with the wasm backend. Augmentation: measured on the embedded set (DS-CNN
 *   and KWT at full width trained alone for 16 epochs, single runs, test accuracy on 102 clips, so a few
 *   points are noise): time shift alone 68.6% (DS-CNN) / 67.6% (KWT); with background noise (p 0.3, 10-30 dB)
 *   59.8% / 60.8%; with SpecAugment (2 + 2 masks) 52.9% / 56.9%. With this few steps on about 400 clips the
 *   models underfit, and the test clips are clean, so noise and masks cost more than they give here; they stay
 *   available (--set augment.noiseProb=0.8 --set augment.specAugment='{...}') and are on in the paper preset.
 * - quick: toy models (DS_CNN_PRESETS.quick, KWT_PRESETS.quick) for 2 epochs at 32 mels, one augmented copy
 *   with every augmentation on, so that tests run every path; seconds; its numbers mean nothing.
 * - paper: paper-scale supernets (every subnet under 250k parameters) on 98 x 40 log-mels (30 ms window, 10 ms
 *   hop) of the real Speech Commands v2, 12-class task (unknown words subsampled to 10% of the keyword items,
 *   as Google's input_data.py), time shift, background noise and SpecAugment, 60 epochs of batch 256: for a
 *   GPU (tfjs-node-gpu). `dataRoot` must be set (`--set dataRoot=/path/to/speech_commands_v0.02`). On wasm a
 *   batch of 256 over four widths exceeds the 4 GB heap: microBatch 'auto' then runs it as micro-batches.
 */
export const SLIMMABLE_KWS_PRESETS: Presets<SlimmableKwsConfig> = {
  default: {
    dataRoot: 'embedded', keywords: null, silence: 0.1, unknownRatio: null,
    features: { sampleRate: 16000, clipSeconds: 1, nFft: 640, hopLength: 320, nMels: 40 },
    augment: { ...FULL_AUGMENT, copies: 3, noiseProb: 0, specAugment: null },
    archs: ['dscnn', 'kwt'], dscnn: dscnn(DS_CNN_PRESETS.default.channels!),
    kwt: { ...kwt(KWT_PRESETS.default) as KwsKwtConfig, patchFrames: 1, dropout: 0, activation: 'gelu', pooling: 'cls' },
    widths: [0.25, 0.5, 0.75, 1], sandwich: 4, inplaceDistillation: true,
    epochs: 20, batchSize: 32, optimizer: 'adamw', lr: { dscnn: 3e-3, kwt: 1e-3 }, weightDecay: 0.01, warmupEpochs: 1,
    schedule: 'cosine', recalibrateBatchNorm: true, latencyRuns: 20, seed: 0, microBatch: 'auto',
  },
  quick: {
    features: { nMels: 32 },
    augment: { copies: 1, noiseProb: 0.8, specAugment: { freqMasks: 2, maxFreqWidth: 5, timeMasks: 2, maxTimeWidth: 5 } },
    dscnn: { channels: DS_CNN_PRESETS.quick.channels! }, kwt: kwt(KWT_PRESETS.quick),
    epochs: 2, batchSize: 64, warmupEpochs: 0, latencyRuns: 5,
  },
  paper: {
    dataRoot: '', unknownRatio: 0.1,
    features: { nFft: 480, hopLength: 160 },
    augment: FULL_AUGMENT,
    dscnn: { channels: DS_CNN_PRESETS.paper.channels! }, kwt: kwt(KWT_PRESETS.paper),
    epochs: 60, batchSize: 256, warmupEpochs: 5, latencyRuns: 50,
  },
};

/** Checks a config; resolves to its widths, ascending. */
export function checkConfig(config: SlimmableKwsConfig): number[] {
  for (const a of config.archs) if (!KWS_ARCHS.includes(a)) throw new Error(`slimmable-kws: unknown arch '${a}' (dscnn, kwt)`);
  if (!config.archs.length) throw new Error('slimmable-kws: archs is empty');
  if (!(Number.isInteger(config.epochs) && config.epochs >= 1)) throw new Error(`slimmable-kws: epochs must be a positive integer, got ${config.epochs}`);
  if (!(Number.isInteger(config.batchSize) && config.batchSize >= 1)) throw new Error(`slimmable-kws: batchSize must be a positive integer, got ${config.batchSize}`);
  const sa = config.augment.specAugment;
  const saKeys = ['freqMasks', 'maxFreqWidth', 'timeMasks', 'maxTimeWidth'];
  if (sa !== null && (typeof sa !== 'object' || Object.keys(sa).sort().join() !== [...saKeys].sort().join())) {
    throw new Error(`slimmable-kws: augment.specAugment must be null or {${saKeys.join(', ')}}, got ${JSON.stringify(sa)}`);
  }
  return normalizeWidths(config.widths, 'slimmable-kws');
}

/** A width as it appears in names and file names: 0.25, 0.5, 1. */
export function widthTag(w: number): string {
  return String(Number(w.toFixed(6)));
}
