import type { Wav2Vec2Model } from '../../models/wav2vec2';
import type { History } from '../../train/history';
import type { DphubertProbeTask } from './config';
import type { DphubertData } from './data';
import type { MaterializeReport } from '../../prune/wav2vec2';

/** The teacher: pre-trained here (with its pre-training history) or loaded from a file. */
export interface DphubertTeacher {
  model: Wav2Vec2Model;
  /** 'pretrained' (HuBERT iteration 1 on the training crops) or 'file'. */
  origin: 'pretrained' | 'file';
  /** Pre-training: per epoch the masked-prediction loss and accuracy, validation accuracy; k-means inertia per iteration. */
  history?: History;
  kmeansInertia?: number[];
  /** Where it was read from or cached. */
  where?: string;
  seconds: number;
}

/** A student of the sweep or the baseline, after all its training. */
export interface DphubertStudent {
  /** 'dphubert' (distilled and pruned to `target`) or 'distill-only' (the baseline). */
  kind: 'dphubert' | 'distill-only';
  /** The target sparsity (dphubert), or the main target the baseline's size matches. */
  target: number;
  model: Wav2Vec2Model;
  /** The first phase (distillation with pruning, or the baseline's first steps) and the final distillation. */
  history: History;
  final: History;
  /** What materialize kept (dphubert only). */
  pruned?: Omit<MaterializeReport, 'args'>;
  /** Expected sparsity at the end of pruning (from the gates). */
  expectedSparsity?: number;
  /** Mean distillation loss (L1 + cosine term) on the validation crops, after training. */
  validLoss: number;
  seconds: number;
}

/** One probe's result on one model. */
export interface ProbeResult {
  /** Test predictions, in test order. */
  predictions: number[];
  accuracy: number;
  /** Softmax weights of the hidden states (0: feature projection, l: layer l). */
  layerWeights: number[];
  seconds: number;
}

/** What the DPHuBERT steps share (Run.state), filled in step order. */
export interface DphubertState {
  data?: DphubertData;
  teacher?: DphubertTeacher;
  /** Per target sparsity (as written in the config, e.g. '0.75'). */
  students: Record<string, DphubertStudent>;
  baseline?: DphubertStudent;
  /** Per model name ('teacher', 'dphubert-0.75', 'distill-only') and task. */
  probes: Record<string, Partial<Record<DphubertProbeTask, ProbeResult>>>;
}

/** An empty state. */
export function initialDphubertState(): DphubertState {
  return { students: {}, probes: {} };
}

/** Disposes every model the state holds. */
export function disposeDphubertState(state: DphubertState): void {
  state.teacher?.model.dispose();
  for (const s of Object.values(state.students)) s.model.dispose();
  state.baseline?.model.dispose();
  state.students = {};
  state.teacher = undefined;
  state.baseline = undefined;
}
