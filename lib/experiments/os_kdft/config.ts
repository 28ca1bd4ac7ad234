import type { AdapterOptions } from '../../distill/adapter';
import type { Presets } from '../presets';
import type { RecipeConfig } from '../recipe';
import { DPHUBERT_PRESETS, DphubertConfig } from '../dphubert/config';

/**
 * The variants, every one trained for the same epochs of the same batches:
 * - 'teacher-ft': the whole teacher fine-tuned with the speaker back end (the upper reference, not compressed);
 * - 'kd-then-ft': the student distilled first (`twoStepKdShare` of the epochs), then fine-tuned (the rest): two steps;
 * - 'ft-only': the student (initialised from the teacher's first layers) fine-tuned without distillation;
 * - 'os-kdft': one step: each batch twice, the first copy distilled without adapters, the second fine-tuned with them.
 */
export type OsKdftVariant = 'teacher-ft' | 'kd-then-ft' | 'ft-only' | 'os-kdft';

/** Every variant, in report order. */
export const OS_KDFT_VARIANTS: readonly OsKdftVariant[] = ['teacher-ft', 'kd-then-ft', 'ft-only', 'os-kdft'];

/** Display names. */
export const OS_KDFT_VARIANT_NAME: Record<OsKdftVariant, string> = {
  'teacher-ft': 'teacher fine-tuned', 'kd-then-ft': 'KD then FT (two steps)', 'ft-only': 'FT only', 'os-kdft': 'OS-KDFT (one step)',
};

/** Configuration of the OS-KDFT recipe; the presets are {@link OS_KDFT_PRESETS}. */
export interface OsKdftConfig extends RecipeConfig {
  /**
   * Speaker data: 'embedded' (data/sv: its dev speakers train, its veri_test2-style trials over the test speakers
   * score) or a VoxCeleb1 root (wav/, vox1_meta.csv or veri_test2.txt).
   */
  dataRoot: string;
  /** Noise for the student's augmented copy: 'embedded' (data/noise) or a MUSAN root. */
  noiseRoot: string;
  /** At most this many training utterances (the first ones; null: all). */
  maxTrain: number | null;
  /** Training crops, seconds (a random crop per utterance and epoch; shorter utterances repeated). Default 1. */
  clipSeconds: number;
  /**
   * The teacher, as the DPHuBERT recipe makes it (dphubert.prepareTeacher): the default HuBERT-like teacher pre-trained
   * on `ssl` unlabelled data and cached (shared with dphubert when the options agree), or `teacher.path`.
   */
  teacher: DphubertConfig['teacher'];
  ssl: Pick<DphubertConfig, 'dataRoot' | 'clipSeconds' | 'maxItems'>;
  /** Transformer layers of the student: the teacher's first ones (OS-KDFT: 2 of HuBERT Base's 12, 4 of wav2vec2 XLSR's 24). */
  studentLayers: number;
  /** The OS-KDFT student's adapters (distill.Adapter), one per layer in parallel with its FFN. */
  adapters: AdapterOptions;
  /**
   * Distillation: 'distilhubert' (the HuBERT scripts: one linear head per teacher hidden state in `layers` from the
   * student's last, L1 - log sigmoid(cos)) or 'mse' (the wav2vec2 scripts: MSE of the last hidden states x `weight`,
   * the weight decaying linearly to 0 over the epochs).
   */
  kd: { loss: 'distilhubert' | 'mse'; layers: number[]; weight: number };
  /** The speaker back end: OS-KDFT's ECAPA-TDNN (`channels` C, `attentionHidden`) on the weighted sum of hidden states, or the light head. */
  backend: { kind: 'ecapa' | 'light'; channels: number; attentionHidden: number; embeddingDim: number };
  /** AAM-softmax: margin (radians) and scale. */
  aam: { margin: number; scale: number };
  /** Augmentation of the student's copy: noise added with probability `prob` at an SNR drawn uniformly in `snr` dB. */
  augment: { prob: number; snr: [number, number] };
  variants: OsKdftVariant[];
  epochs: number;
  /** The share of the epochs kd-then-ft spends distilling before it fine-tunes. Default 0.5. */
  twoStepKdShare: number;
  batchSize: number;
  /**
   * Adam at `lr` for the back end and the AAM weights; the SSL model and the KD heads at `lr` too, warmed up
   * linearly over `kdWarmupEpochs` then times `kdDecay` per epoch (the reference: 10 epochs, 0.93); adapters at
   * `adapterLrFactor` times `lr` (the reference: 10).
   */
  lr: number;
  kdWarmupEpochs: number;
  kdDecay: number;
  adapterLrFactor: number;
  /** Scoring as the reference: half the cosine of whole-utterance embeddings, half the mean cosine of `segments` x `segments` crops of `segmentSeconds`. */
  scoring: { segments: number; segmentSeconds: number };
  /** Utterances and repeats timed for SSL inference per second of audio (batch 1, median of the repeats). */
  latency: { utterances: number; runs: number };
}

const SSL = { dataRoot: DPHUBERT_PRESETS.default.dataRoot, clipSeconds: DPHUBERT_PRESETS.default.clipSeconds, maxItems: DPHUBERT_PRESETS.default.maxItems };

/**
 * The presets, quick and paper as differences from default:
 * - default: the DPHuBERT recipe's default teacher (1.9M parameters, 4 layers, cached once pre-trained), a student
 *   of its first layer; the embedded sv set (240 training utterances of 30 speakers, 672 trials over 96 test
 *   utterances of 12 others), 1 s crops, batches of 8, 6 epochs for every variant; a small ECAPA-TDNN (C 64) with
 *   AAM-softmax; the HuBERT scripts' adapters (bottleneck 64, ReLU, training noise) and distillation (heads to
 *   teacher layers 2 and 4, L1 - log sigmoid(cos)).
 * - quick: a toy teacher, 32 utterances, 2 epochs: seconds; numbers mean nothing.
 * - paper: a real checkpoint (`--set teacher.path=... --set teacher.preset=hubertBase`), VoxCeleb1 at `dataRoot`,
 *   MUSAN at `noiseRoot`, 2 of 12 layers, ECAPA-TDNN C 512, 3 s crops, batch 128, 100 epochs: for a GPU.
 */
export const OS_KDFT_PRESETS: Presets<OsKdftConfig> = {
  default: {
    dataRoot: 'embedded', noiseRoot: 'embedded', maxTrain: null, clipSeconds: 1,
    teacher: DPHUBERT_PRESETS.default.teacher, ssl: SSL,
    studentLayers: 1,
    adapters: { hidden: 64, layerNorm: false, activation: 'relu', scale: 1, noise: [0.1, 0.5], addResidual: false },
    kd: { loss: 'distilhubert', layers: [2, 4], weight: 100 },
    backend: { kind: 'ecapa', channels: 64, attentionHidden: 64, embeddingDim: 192 },
    aam: { margin: 0.2, scale: 30 },
    augment: { prob: 0.6, snr: [5, 20] },
    variants: [...OS_KDFT_VARIANTS], epochs: 6, twoStepKdShare: 0.5, batchSize: 8,
    lr: 1e-3, kdWarmupEpochs: 1, kdDecay: 0.93, adapterLrFactor: 10,
    scoring: { segments: 5, segmentSeconds: 0.5 },
    latency: { utterances: 12, runs: 3 },
    seed: 0, microBatch: null,
  },
  quick: {
    maxTrain: 32,
    teacher: DPHUBERT_PRESETS.quick.teacher as DphubertConfig['teacher'],
    ssl: { maxItems: { train: 48, valid: 8 } },
    adapters: { hidden: 8 },
    kd: { layers: [2] },
    backend: { channels: 16, attentionHidden: 8, embeddingDim: 16 },
    epochs: 2, batchSize: 4,
    latency: { utterances: 2, runs: 1 },
  },
  paper: {
    dataRoot: '', noiseRoot: '', clipSeconds: 3,
    teacher: { preset: 'hubertBase' },
    studentLayers: 2, kd: { layers: [4, 8, 12] },
    backend: { channels: 512, attentionHidden: 256 },
    epochs: 100, batchSize: 128, lr: 1e-4, kdWarmupEpochs: 10,
    scoring: { segmentSeconds: 3 },
  },
};
