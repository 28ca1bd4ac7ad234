import type { KwsData } from './data';
import type { TrainedKws } from './train';
import type { KwsEvaluation, KwsSubnet, RecalibrationRecord } from './evaluate';

/** What the slimmable-KWS steps share (Run.state), filled in step order. */
export interface KwsState {
  /** Step 'data': features of every split. */
  data?: KwsData;
  /** Steps 'slimmable:<arch>' and 'alone:<arch>-w<width>': trained models by trainedId. */
  trained: Record<string, TrainedKws>;
  /** Step 'recalibrate': batch-norm recalibration, validation accuracy before and after, per model and width. */
  recalibration: RecalibrationRecord[];
  /** Step 'extract': the subnets cut from the supernets. */
  subnets: KwsSubnet[];
  /** Step 'evaluate': the table and per-item predictions. */
  evaluation?: KwsEvaluation;
}

/** An empty state. */
export function initialKwsState(): KwsState {
  return { trained: {}, recalibration: [], subnets: [] };
}

/** Disposes every model the state holds. */
export function disposeKwsState(state: KwsState): void {
  for (const t of Object.values(state.trained)) t.model.dispose();
  for (const s of state.subnets) s.model.dispose();
  state.trained = {};
  state.subnets = [];
}
