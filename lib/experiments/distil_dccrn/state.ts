import type { EnhancementRow } from '../../metrics/enhancement_scores';
import type { DccrnVariant } from './config';
import type { EnhData } from './data';
import type { TrainedVariant } from './train';

/** Scores of one model (or of the noisy input) on one test set, item by item. */
export interface SetScores {
  rows: EnhancementRow[];
  mean: Record<string, number>;
}

/** What the Distil-DCCRN steps share (Run.state), filled in step order. */
export interface DccrnState {
  /** Step 'data'. */
  data?: EnhData;
  /** Steps 'train:<variant>'. */
  trained: Partial<Record<DccrnVariant, TrainedVariant>>;
  /** Step 'evaluate': per variant (and 'noisy', the unprocessed input), per test set. */
  scores: Record<string, { test: SetScores; stored?: SetScores }>;
  /** Step 'evaluate': size and speed per variant. */
  cost: Partial<Record<DccrnVariant, { params: number; macsPerSecond: number; rtf: number }>>;
}

/** An empty state. */
export function initialDccrnState(): DccrnState {
  return { trained: {}, scores: {}, cost: {} };
}

/** Disposes every model the state holds. */
export function disposeDccrnState(state: DccrnState): void {
  for (const t of Object.values(state.trained)) {
    t?.model.dispose();
    t?.mapping?.dispose();
  }
  state.trained = {};
}
