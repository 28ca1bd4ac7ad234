import type { Wav2Vec2ModelArgs, Wav2Vec2PruneArgs } from '../../models/wav2vec2';
import type { Presets } from '../presets';
import type { RecipeConfig } from '../recipe';

/** The downstream probes: keyword spotting (Speech Commands layout) and speaker identification (VoxCeleb1 layout). */
export type DphubertProbeTask = 'kws' | 'sid';

/** Every probe task, in report order. */
export const DPHUBERT_TASKS: readonly DphubertProbeTask[] = ['kws', 'sid'];

/** Display names of the probe tasks. */
export const DPHUBERT_TASK_NAME: Record<DphubertProbeTask, string> = { kws: 'keyword spotting', sid: 'speaker identification' };

/** Architectures of a real checkpoint given as `teacher.path` (torchaudio's factory functions). */
export type DphubertTeacherPreset = 'hubertBase' | 'hubertLarge' | 'wav2vec2Large';

/** Configuration of the DPHuBERT recipe; the presets are {@link DPHUBERT_PRESETS}. */
export interface DphubertConfig extends RecipeConfig {
  /**
   * Unlabelled speech for pre-training the default teacher and for distillation: 'embedded' (data/ssl) or a folder
   * holding fairseq manifests `train.tsv` and `valid.tsv` (first line the audio root, then `path<TAB>samples`; the
   * layout DPHuBERT's and fairseq's data preparation write for LibriSpeech), audio as WAV at 16 kHz.
   */
  dataRoot: string;
  /**
   * Length of the training crops, seconds. Each split's audio is read in order, joined and cut into crops of this
   * length (crops may span two utterances; the remainder is dropped), so that no crop is padded. Default 1.
   */
  clipSeconds: number;
  /** At most this many crops of each split (the first ones; null: all). */
  maxItems: { train: number | null; valid: number | null };
  /**
   * The teacher. With `path` null (the default) a small HuBERT-like model of architecture `args` is pre-trained with
   * HuBERT's first-iteration objective on the training crops (k-means with `clusters` centroids on 39-dim MFCC frames,
   * masked prediction of the cluster labels with spans of `maskLength` frames covering about `maskProb` of the
   * frames, AdamW at `lr` warmed up over the first tenth), and cached (see teacherCacheDir). With `path` a
   * safetensors file of a real model (torchaudio or Hugging Face key names) of architecture `preset` is loaded.
   */
  teacher: {
    path: string | null;
    preset: DphubertTeacherPreset | null;
    args: Wav2Vec2ModelArgs;
    clusters: number;
    epochs: number;
    batchSize: number;
    lr: number;
    maskProb: number;
    maskLength: number;
    /** Weight of the unmasked frames' cross-entropy (HuBERT's pred_nomask_weight, 0 in its recipes). */
    unmaskedWeight: number;
    finalDim: number;
    kmeansIterations: number;
  };
  /** Target sparsities of the sweep, each a distill + prune run of the same budget (1 - parameters / the teacher's). */
  targets: number[];
  /** The target whose student is compared with the distillation-only baseline of the same size; one of `targets`. */
  mainTarget: number;
  /**
   * Hidden states distilled: 0 is the feature projection's output, l the output of transformer layer l (DPHuBERT
   * distils [0, 4, 8, 12] of HuBERT Base); one identity-initialised linear head per entry.
   */
  distillLayers: number[];
  /** DPHuBERT's cosine term: 'raw' (-cos) or 'log_sig' (-log sigmoid(cos)); the L1 term is the mean absolute error. */
  cos: 'raw' | 'log_sig';
  /**
   * Distillation with pruning: `steps` optimizer steps; the target ramps linearly from 0 over the first
   * `warmupFraction` of them (DPHuBERT: 5k of 50k); AdamW at `lr` for the weights and heads, `gateLr` for the gates'
   * log_alpha (no weight decay), `lambdaLr` (negative: ascent) for the Lagrange multipliers; `units` says what is gated.
   */
  prune: { steps: number; warmupFraction: number; lr: number; gateLr: number; lambdaLr: number; units: Wav2Vec2PruneArgs };
  /** The final distillation of the materialised student (no regulariser): `steps` optimizer steps of AdamW at `lr`. */
  final: { steps: number; lr: number };
  /**
   * The distillation-only baseline (DistilHuBERT-like): the teacher's feature extractor, feature projection,
   * positional convolution and first `layers` transformer layers, with heads and FFN units narrowed in proportion to
   * the main pruned student's parameter count (train.baselineArgs; the first heads and units kept), trained by distillation alone for
   * the same number of steps as pruning plus final distillation, at `prune.lr`. Student layer i is distilled to
   * `distillLayers[i]` (layer 0 to 0, layer 1 to the second entry, ...).
   */
  baseline: { layers: number };
  batchSize: number;
  /**
   * Probes on frozen features (a softmax-weighted sum of all hidden states, mean over time, a head of `hidden`
   * units): the tasks, their data (`kwsRoot`: 'embedded' or a Speech Commands root; `sidRoot`: 'embedded' or a
   * VoxCeleb1 root with iden_split.txt), Adam at `lr` for `epochs` epochs of batches of `batchSize`. Speaker clips are
   * cut (or repeated) to `sidSeconds`, keyword clips padded to 1 s.
   */
  probes: { tasks: DphubertProbeTask[]; kwsRoot: string; sidRoot: string; epochs: number; lr: number; hidden: number; batchSize: number;
    sidSeconds: number };
}

/** The default teacher: a HuBERT-Base-shaped model (group-norm extractor, post-norm layers), small for a CPU. */
export const SMALL_TEACHER: Wav2Vec2ModelArgs = {
  extractorMode: 'group_norm', extractorConvBias: false,
  extractorConvLayerConfig: [[64, 10, 5], [64, 3, 2], [64, 3, 2], [64, 3, 2], [64, 3, 2], [64, 2, 2], [64, 2, 2]],
  encoderEmbedDim: 192, encoderNumLayers: 4, encoderNumHeads: 4, encoderFfIntermFeatures: 768, encoderPosConvKernel: 16,
  encoderPosConvGroups: 16, encoderLayerNormFirst: false, encoderLayerDrop: 0, encoderDropout: 0.1, encoderAttentionDropout: 0.1,
  encoderFfIntermDropout: 0, encoderProjectionDropout: 0.1,
};

/**
 * The presets, quick and paper written as differences from default:
 * - default: the embedded ssl set cut into 1 s crops; the default teacher (1,895,824 parameters) pre-trained for 10
 *   epochs on it (about 3 minutes, once: it is cached). Eight minutes of audio and a few hundred steps are far from
 *   HuBERT's scale, so the pre-training is set to learn fast: masks over about half of each crop (HuBERT: 0.8 of
 *   spans of 10) and the unmasked frames' loss at weight 1 (HuBERT: 0). Measured on this set: masked frames only,
 *   mask 0.65, lr 5e-4, 4 epochs reached a masked-prediction accuracy of 0.046 on the validation crops (chance 0.02);
 *   these settings reached 0.130 after 8 epochs, still rising; targets 0.5, 0.75 and 0.9, each 120 steps of distillation with pruning (target ramped over the
 *   first 30%) and 40 of final distillation, batches of 8; the baseline trained for the same 160 steps; probes on the
 *   embedded kws and sv sets. Under 10 minutes on a 2-core CPU with the teacher cached (see the README).
 * - quick: a toy teacher and a few steps: seconds; numbers mean nothing.
 * - paper: HuBERT Base from a safetensors file (`--set teacher.path=...`) and LibriSpeech manifests at `dataRoot`,
 *   the reference code's schedule (50k steps with pruning, ramp over 5k, lr 2e-4, gates and multipliers at +-0.02;
 *   25k steps of final distillation at 1e-4; layers [0, 4, 8, 12]), target 0.75: meant for a GPU.
 */
export const DPHUBERT_PRESETS: Presets<DphubertConfig> = {
  default: {
    dataRoot: 'embedded', clipSeconds: 1, maxItems: { train: null, valid: null },
    teacher: { path: null, preset: null, args: SMALL_TEACHER, clusters: 50, epochs: 10, batchSize: 8, lr: 1e-3, maskProb: 0.5, maskLength: 10,
      unmaskedWeight: 1, finalDim: 64, kmeansIterations: 15 },
    targets: [0.5, 0.75, 0.9], mainTarget: 0.75, distillLayers: [0, 2, 4], cos: 'raw',
    prune: { steps: 120, warmupFraction: 0.3, lr: 5e-4, gateLr: 0.05, lambdaLr: -0.05,
      units: { convChannels: true, attentionHeads: true, attentionLayers: true, ffnUnits: true, ffnLayers: true } },
    final: { steps: 40, lr: 2.5e-4 },
    baseline: { layers: 2 },
    batchSize: 8,
    probes: { tasks: ['kws', 'sid'], kwsRoot: 'embedded', sidRoot: 'embedded', epochs: 40, lr: 1e-3, hidden: 128, batchSize: 32, sidSeconds: 2 },
    seed: 0, microBatch: null,
  },
  quick: {
    maxItems: { train: 48, valid: 8 },
    teacher: { args: { ...SMALL_TEACHER, extractorConvLayerConfig: [[16, 10, 5], [16, 3, 2], [16, 3, 2], [16, 3, 2], [16, 3, 2], [16, 2, 2], [16, 2, 2]],
      encoderEmbedDim: 32, encoderNumLayers: 2, encoderNumHeads: 2, encoderFfIntermFeatures: 64, encoderPosConvKernel: 8, encoderPosConvGroups: 4 },
    clusters: 8, epochs: 1, finalDim: 16, kmeansIterations: 5 },
    targets: [0.5], mainTarget: 0.5, distillLayers: [0, 1, 2],
    prune: { steps: 6, warmupFraction: 0.5 }, final: { steps: 3 },
    baseline: { layers: 2 },
    probes: { epochs: 3, hidden: 16 },
  },
  paper: {
    dataRoot: '',
    teacher: { preset: 'hubertBase' },
    targets: [0.75], mainTarget: 0.75, distillLayers: [0, 4, 8, 12],
    prune: { steps: 50000, warmupFraction: 0.1, lr: 2e-4, gateLr: 0.02, lambdaLr: -0.02 },
    final: { steps: 25000, lr: 1e-4 },
    baseline: { layers: 2 },
    batchSize: 8,
  },
};
