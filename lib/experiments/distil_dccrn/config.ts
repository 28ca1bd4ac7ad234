import type { AtKlAxis } from '../../distill/at_kl';
import type { AttentionTransferMode } from '../../distill/attention_transfer';
import type { ConvTasNetArgs } from '../../models/conv_tasnet';
import type { DccrnArgs } from '../../models/dccrn';
import type { PesqMode } from '../../metrics/pesq';
import type { Presets } from '../presets';
import type { RecipeConfig } from '../recipe';

/**
 * The models trained, each with the same budget:
 * - 'teacher': the larger teacher (a wide DCCRN, or a Conv-TasNet: `teacherKind`), trained on SI-SNR;
 * - 'full': the full-size DCCRN alone, the paper's baseline;
 * - 'student': the small DCCRN alone (SI-SNR only);
 * - 'student-atkl': the student with SI-SNR + AT-KL from the teacher (Distil-DCCRN);
 * - 'student-at': ablation, SI-SNR + attention transfer (torchdistill's AT, L2 between normalised maps);
 * - 'student-kl': ablation, SI-SNR + a KL between the features' own distributions (channel-wise KL), no
 *   attention pooling.
 */
export type DccrnVariant = 'teacher' | 'full' | 'student' | 'student-atkl' | 'student-at' | 'student-kl';

/** Every variant, in report order. */
export const DCCRN_VARIANTS: readonly DccrnVariant[] = ['teacher', 'full', 'student', 'student-atkl', 'student-at', 'student-kl'];

/** Display names. */
export const VARIANT_NAME: Record<DccrnVariant, string> = {
  teacher: 'teacher', full: 'DCCRN (full size)', student: 'student alone', 'student-atkl': 'student + AT-KL',
  'student-at': 'student + AT', 'student-kl': 'student + KL',
};

/** How the students learn from the teacher's intermediate features. */
export interface DistillConfig {
  /** Weight of the feature loss next to the negative SI-SNR (dB). Default 1. */
  weight: number;
  /**
   * Student taps whose features are distilled (module paths of models.Dccrn). Default the encoder blocks 1,
   * 3 and 5 and the recurrent block.
   */
  studentTaps: string[];
  /**
   * Teacher taps, paired with the student's by relative depth (distill.mapLayers): the teacher's i-th of n
   * goes with the student tap at the same relative depth. Default: the teacher's encoder blocks and its
   * recurrent block (a Conv-TasNet teacher: its TCN blocks).
   */
  teacherTaps: string[] | null;
  /** AT-KL: the maps compared, the energy exponent, the temperature (see distill.atKl). */
  atKl: { over: AtKlAxis[]; p: number; temperature: number };
  /** The attention-transfer ablation's mode (torchdistill's ATLoss). Default 'code'. */
  atMode: AttentionTransferMode;
  /** The KL ablation's temperature (distill.channelKl). Default 1. */
  klTemperature: number;
}

/** Configuration of the Distil-DCCRN recipe; the presets are {@link DISTIL_DCCRN_PRESETS}. */
export interface DistilDccrnConfig extends RecipeConfig {
  /**
   * 'embedded' (data/enh: DNS recipes over recorded speech and noise, 16 kHz), or a DNS training folder
   * holding noisy/ and clean/ (`noisy/<...>_fileid_<K>.wav` with `clean/clean_fileid_<K>.wav`). Default 'embedded'.
   */
  dataRoot: string;
  /**
   * With a DNS dataRoot: its synthetic test folder (noisy/ and clean/, e.g. test_set/synthetic/no_reverb).
   * Ignored for the embedded set, whose test mixtures are built from held-out speakers and noises. Default null.
   */
  testRoot: string | null;
  /** At most this many pairs of each set are used (the first ones; null: all). Default all; quick: a few, for speed. */
  maxItems: { train: number | null; valid: number | null; stored: number | null };
  /** Training crops, seconds (shorter items are zero-padded). Default 0.5; paper 4. */
  segmentSeconds: number;
  /** Test mixtures built from the embedded set's test speakers and test noises. Default 200. */
  testMixtures: number;
  /** SNRs the test mixtures cycle through, dB. Default [-5, 0, 5, 10, 15, 20]. */
  testSnrs: number[];
  /** The teacher's family. Default 'dccrn' (wider than the full DCCRN); 'conv-tasnet': a time-domain teacher. */
  teacherKind: 'dccrn' | 'conv-tasnet';
  teacherDccrn: Required<DccrnArgs>;
  teacherConvTasnet: ConvTasNetArgs;
  /** The full-size DCCRN (the paper's baseline). */
  full: Required<DccrnArgs>;
  /** The student, about 30% of the full DCCRN's parameters. */
  student: Required<DccrnArgs>;
  /** Variants to train and evaluate. Default all of DCCRN_VARIANTS. */
  variants: DccrnVariant[];
  distill: DistillConfig;
  /** Epochs, the same for every model. Default 5 (125 steps of 8 crops). */
  epochs: number;
  /** Batch size. Default 8. */
  batchSize: number;
  /** Adam learning rate. Default 1e-3 (DCCRN's reference). */
  lr: number;
  /** Clip gradients to this global norm (the reference clips at 5). Default 5. */
  clipNorm: number;
  /** PESQ modes scored ('wb' is what the claims use). Default ['wb']; paper ['wb', 'nb']. */
  pesqModes: PesqMode[];
  /** Timed runs of the real-time-factor measurement (1 s of audio, batch 1), median reported. Default 10. */
  latencyRuns: number;
}

// The default preset's STFT: a 200-sample window every 100 samples, 256-point FFT (128 bins into the encoder): half
// the reference's frequency resolution, half its cost, so that six models train in minutes on a CPU.
const SMALL: Required<DccrnArgs> = { kernelNum: [8, 16, 32, 64, 64, 64], rnnUnits: 64, rnnLayers: 2, useClstm: true, maskingMode: 'E',
  kernelSize: 5, winLen: 200, winInc: 100, fftLen: 256 };
const REFERENCE_STFT = { winLen: 400, winInc: 100, fftLen: 512 };

/**
 * The presets, quick and paper written as differences from default:
 * - default: CPU-sized models on the embedded DNS-style set (198 recipes of recorded speech and noise for
 *   training, 200 test mixtures of held-out speakers and noises plus the 20 stored test pairs); a full DCCRN
 *   with a quarter of DCCRN-CL's channels (210,957 parameters), a student with 30% of them (63,917), a teacher
 *   1.5 times as wide as the full one (472,621); 0.5 s training crops and half the reference's FFT size (256),
 *   so that the six models train and are scored in under 10 minutes on a 2-core CPU.
 * - quick: toy models for 1 epoch, a few test mixtures: seconds, for tests; its numbers mean nothing.
 * - paper: DCCRN-CL (kernelNum [32, 64, 128, 256, 256, 256], rnnUnits 256: 3,671,053 parameters) as the full
 *   model, a student of 1,130,221 (31%: [16, 32, 64, 128, 128, 160], rnnUnits 160), a teacher wider than DCCRN-CL, on a DNS training folder at `dataRoot` and its
 *   synthetic test set at `testRoot`: for a GPU.
 */
export const DISTIL_DCCRN_PRESETS: Presets<DistilDccrnConfig> = {
  default: {
    dataRoot: 'embedded', testRoot: null, maxItems: { train: null, valid: null, stored: null }, segmentSeconds: 0.5, testMixtures: 200, testSnrs: [-5, 0, 5, 10, 15, 20],
    teacherKind: 'dccrn',
    teacherDccrn: { ...SMALL, kernelNum: [12, 24, 48, 96, 96, 96], rnnUnits: 96 },
    teacherConvTasnet: { numSources: 1, encoderDim: 64, kernelSize: 16, bottleneck: 64, hidden: 128, skip: 64, blocks: 4, repeats: 2 },
    full: SMALL,
    student: { ...SMALL, kernelNum: [4, 8, 16, 32, 32, 32], rnnUnits: 48 },
    variants: [...DCCRN_VARIANTS],
    distill: {
      weight: 1, studentTaps: ['encoder.1', 'encoder.3', 'encoder.5', 'rnn'], teacherTaps: null,
      atKl: { over: ['time', 'channel'], p: 2, temperature: 1 }, atMode: 'code', klTemperature: 1,
    },
    epochs: 5, batchSize: 8, lr: 1e-3, clipNorm: 5, pesqModes: ['wb'], latencyRuns: 10, seed: 0, microBatch: 'auto',
  },
  quick: {
    maxItems: { train: 16, valid: 4, stored: 4 }, testMixtures: 8, teacherDccrn: { kernelNum: [8, 8, 16, 16, 16, 16], rnnUnits: 32 },
    full: { kernelNum: [4, 8, 8, 16, 16, 16], rnnUnits: 16 }, student: { kernelNum: [4, 4, 8, 8, 8, 8], rnnUnits: 16 },
    teacherConvTasnet: { encoderDim: 16, bottleneck: 16, hidden: 32, skip: 16, blocks: 2, repeats: 1 },
    epochs: 1, latencyRuns: 2,
  },
  paper: {
    dataRoot: '', testRoot: '', segmentSeconds: 4,
    teacherDccrn: { kernelNum: [64, 128, 256, 256, 256, 256], rnnUnits: 512, ...REFERENCE_STFT },
    full: { kernelNum: [32, 64, 128, 256, 256, 256], rnnUnits: 256, ...REFERENCE_STFT },
    student: { kernelNum: [16, 32, 64, 128, 128, 160], rnnUnits: 160, ...REFERENCE_STFT },
    epochs: 50, batchSize: 16, pesqModes: ['wb', 'nb'],
  },
};
