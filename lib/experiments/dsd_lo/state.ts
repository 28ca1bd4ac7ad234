import type { SeparationRow } from '../../metrics/separation_scores';
import type { SepModelKind, SepVariant } from './config';
import type { SepData } from './data';
import type { TrainedSep } from './train';

/** A training's key in the state: `<model>/<variant>`. */
export type SepKey = `${SepModelKind}/${SepVariant}`;

/** Scores of one model (or of the mixture) on the test mixtures, mixture by mixture. */
export interface SepScores {
  rows: SeparationRow[];
  mean: Record<string, number>;
}

/** What the DSD + LO steps share (Run.state), filled in step order. */
export interface DsdLoState {
  /** Step 'data'. */
  data?: SepData;
  /** Steps 'train:<model>:<variant>'. */
  trained: Partial<Record<SepKey, TrainedSep>>;
  /** Step 'evaluate': per training key, and 'mixture' (the unprocessed input as both estimates). */
  scores: Record<string, SepScores>;
  /** Step 'evaluate': size and speed per training key. */
  cost: Partial<Record<SepKey, { params: number; rtf: number }>>;
}

/** An empty state. */
export function initialDsdLoState(): DsdLoState {
  return { trained: {}, scores: {}, cost: {} };
}

/** Disposes every model and memory the state holds. */
export function disposeDsdLoState(state: DsdLoState): void {
  for (const t of Object.values(state.trained)) {
    t?.module.dispose();
    t?.memory.dispose();
  }
  state.trained = {};
}
