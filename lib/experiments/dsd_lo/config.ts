import type { ConvTasNetArgs } from '../../models/conv_tasnet';
import type { DprnnArgs } from '../../models/dprnn';
import type { Presets } from '../presets';
import type { RecipeConfig } from '../recipe';

/** The separation models. */
export type SepModelKind = 'conv-tasnet' | 'dprnn';

/** Every model, in report order. */
export const SEP_MODELS: readonly SepModelKind[] = ['conv-tasnet', 'dprnn'];

/**
 * The training variants, each with the same budget:
 * - 'pit': utterance-level PIT on negative SI-SNR (the baseline);
 * - 'pit-dsd-drop' / 'pit-dsd-reorder': PIT with dynamic sample dropout, flagged samples left out of the loss
 *   or trained on their remembered assignment;
 * - 'pit-lo': PIT with layer-wise optimisation (a PIT loss on the separation of every intermediate block);
 * - 'pit-dsd-lo': both (DSD in `dsd.combinedMode`).
 */
export type SepVariant = 'pit' | 'pit-dsd-drop' | 'pit-dsd-reorder' | 'pit-lo' | 'pit-dsd-lo';

/** Every variant, in report order. */
export const SEP_VARIANTS: readonly SepVariant[] = ['pit', 'pit-dsd-drop', 'pit-dsd-reorder', 'pit-lo', 'pit-dsd-lo'];

/** Display names. */
export const SEP_VARIANT_NAME: Record<SepVariant, string> = {
  pit: 'PIT', 'pit-dsd-drop': 'PIT + DSD (drop)', 'pit-dsd-reorder': 'PIT + DSD (reorder)', 'pit-lo': 'PIT + LO', 'pit-dsd-lo': 'PIT + DSD + LO',
};

/** Configuration of the DSD + LO recipe; the presets are {@link DSD_LO_PRESETS}. */
export interface DsdLoConfig extends RecipeConfig {
  /** 'embedded' (data/sep, 8 kHz) or a generated Libri2Mix folder (holding wav8k/min/...). Default 'embedded'. */
  dataRoot: string;
  /** At most this many mixtures of each split (the first ones; null: all). */
  maxItems: { train: number | null; valid: number | null; test: number | null };
  /** Training and validation segments, seconds: the first seconds of each mixture, fixed across epochs. Default 1. */
  segmentSeconds: number;
  models: SepModelKind[];
  convTasnet: ConvTasNetArgs;
  dprnn: DprnnArgs;
  variants: SepVariant[];
  /**
   * Dynamic sample dropout (pit.dynamicSampleDropout), for the DSD variants: which samples are flagged (`when`, with
   * `margin` in dB of SI-SNR below the remembered best), and the mode of 'pit-dsd-lo' ('drop' or 'reorder'). The
   * paper publishes none of them. Defaults 'switch', 0 dB, 'drop': a sample is flagged while its best assignment
   * differs from the one of its best SI-SNR so far (until the new assignment beats that SI-SNR, which makes it the
   * remembered best). The library's default rule, 'switch-and-worse', flagged no sample at all in this recipe's
   * short trainings (measured: 0% in every epoch at lr 1e-3, 4 epochs), because SI-SNR rises every epoch this early,
   * so a switched sample is rarely also worse: the variant would be PIT under another name.
   */
  dsd: { when: 'switch' | 'switch-and-worse' | 'worse'; margin: number; combinedMode: 'drop' | 'reorder' };
  /**
   * Layer-wise optimisation, for the LO variants: every intermediate separation (after each Conv-TasNet repeat but
   * the last, each DPRNN block but the last) gets its own PIT loss, through the model's own mask head ('shared') or
   * a head per block ('separate'); their mean is added to the final output's loss with `weight`, decaying linearly
   * to 0 over training ('linear': deep supervision that hands over to the final output) or kept ('constant').
   * Samples dynamic sample dropout drops leave every layer's loss. Defaults 'shared', 0.5, 'linear'.
   */
  lo: { heads: 'shared' | 'separate'; weight: number; schedule: 'constant' | 'linear' };
  epochs: number;
  batchSize: number;
  /** Adam learning rate. Default 3e-3 (small models, short training); the paper preset: 1e-3, asteroid's recipes. */
  lr: number;
  /** Gradient clipping (asteroid's recipes: 5). */
  clipNorm: number;
  /** PESQ narrow-band on the test mixtures (about 40 ms per source and model). Default true. */
  pesq: boolean;
  /** BSS-eval SDR on the test mixtures (metrics.bssSdr, about 40 ms per source and model). Default true. */
  sdr: boolean;
  /** Median runs of the real-time-factor measurement. Default 5. */
  latencyRuns: number;
}

/**
 * The presets, quick and paper written as differences from default:
 * - default: on the embedded set (LibriSpeech recordings mixed Libri2Mix-style at 8 kHz, speakers disjoint
 *   between splits), 128 training mixtures cut to their first second (the same segment every epoch, so that
 *   assignments compare across epochs), 40 validation segments, 40 test mixtures whole; a small Conv-TasNet
 *   (N 64, L 16, B 32, H 64, Sc 32, P 3, X 3, R 3: 67,443 parameters; LO on repeats 1 and 2) and a small DPRNN (N 64,
 *   L 32, B 32, 24 LSTM units, chunks of 30, 2 blocks: 63,649 parameters; LO on block 1); every variant of both
 *   models for 6 epochs of 16 batches of 8 (96 optimizer steps each; Adam at 3e-3, which reached 2.0 dB validation
 *   SI-SNRi with Conv-TasNet where 1e-3 reached 0.6 dB); the first 40 test mixtures. The whole recipe takes under 10
 *   minutes on a 2-core CPU. Sized for that limit, the models are far from converged: what the run can show is the
 *   effect in the first epochs, where label switches are most frequent.
 * - quick: toy models, 16 mixtures, 2 epochs (label switches need a second epoch): seconds; numbers mean nothing.
 * - paper: asteroid's Libri2Mix Conv-TasNet (N 512, L 16, B 128, H 512, Sc 128, X 8, R 3) and DPRNN's paper preset
 *   (models.DPRNN_PRESETS.paper) on Libri2Mix train-100 at 8 kHz, min mode, 4 s segments, 200 epochs: for a GPU.
 */
export const DSD_LO_PRESETS: Presets<DsdLoConfig> = {
  default: {
    dataRoot: 'embedded', maxItems: { train: 128, valid: 40, test: 40 }, segmentSeconds: 1,
    models: ['conv-tasnet', 'dprnn'],
    convTasnet: { numSources: 2, encoderDim: 64, kernelSize: 16, bottleneck: 32, hidden: 64, skip: 32, convKernel: 3, blocks: 3, repeats: 3 },
    dprnn: { numSources: 2, encoderDim: 64, kernelSize: 32, bottleneck: 32, hidden: 24, chunkSize: 30, hopSize: 15, numBlocks: 2,
      bidirectional: true, maskAct: 'sigmoid' },
    variants: [...SEP_VARIANTS],
    dsd: { when: 'switch', margin: 0, combinedMode: 'drop' },
    lo: { heads: 'shared', weight: 0.5, schedule: 'linear' },
    epochs: 6, batchSize: 8, lr: 3e-3, clipNorm: 5, pesq: true, sdr: true, latencyRuns: 5, seed: 0, microBatch: null,
  },
  quick: {
    maxItems: { train: 16, valid: 4, test: 4 }, segmentSeconds: 0.5,
    convTasnet: { encoderDim: 16, bottleneck: 8, hidden: 16, skip: 8, blocks: 2, repeats: 2 },
    dprnn: { encoderDim: 16, bottleneck: 8, hidden: 8, chunkSize: 10, hopSize: 5 },
    epochs: 2, batchSize: 4, pesq: false, latencyRuns: 1,
  },
  paper: {
    dataRoot: '', maxItems: { train: null, valid: null, test: null }, segmentSeconds: 4,
    convTasnet: { encoderDim: 512, kernelSize: 16, bottleneck: 128, hidden: 512, skip: 128, blocks: 8, repeats: 3 },
    dprnn: { encoderDim: 64, kernelSize: 16, bottleneck: 64, hidden: 128, chunkSize: 100, hopSize: 50, numBlocks: 6 },
    epochs: 200, batchSize: 6, lr: 1e-3,
  },
};
