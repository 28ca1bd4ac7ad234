import type { DphubertTeacher } from '../dphubert/state';
import type { OsKdftVariant } from './config';
import type { OsKdftData } from './data';
import type { SpeakerEvaluation } from './evaluate';
import type { TrainedSpeaker } from './train';

/** What the OS-KDFT steps share (Run.state), filled in step order. */
export interface OsKdftState {
  data?: OsKdftData;
  teacher?: DphubertTeacher;
  trained: Partial<Record<OsKdftVariant, TrainedSpeaker>>;
  evaluation: Partial<Record<OsKdftVariant, SpeakerEvaluation>>;
  /** The teacher's SSL milliseconds per second of audio on the timed utterances. */
  teacherSslMs?: number[];
}

/** An empty state. */
export function initialOsKdftState(): OsKdftState {
  return { trained: {}, evaluation: {} };
}

/** Disposes every model the state holds. */
export function disposeOsKdftState(state: OsKdftState): void {
  state.teacher?.model.dispose();
  for (const t of Object.values(state.trained)) { t?.model.dispose(); t?.aam.dispose(); }
  state.teacher = undefined;
  state.trained = {};
}
