// The pit namespace: permutation-invariant training for source separation, the assignment memory and dynamic
// sample dropout (PAPERS.md section 5).
export { assignmentLoss, assignmentMask, pairwiseLosses, pairwiseNegSiSnr, pitFromPairwise, pitLoss } from './pit_loss';
export type { PairLoss, PairwiseLossesOptions, PitFromPairwiseOptions, PitLossOptions, PitResult, PitSolver } from './pit_loss';
export { linearSumAssignment } from './hungarian';
export { invertPermutation, reorderSources } from './reorder';
export { AssignmentMemory } from './assignment_memory';
export type { AssignmentMemoryArgs, AssignmentStatistics, AssignmentUpdateOptions } from './assignment_memory';
export { dynamicSampleDropout, pitLossWithMemory } from './dynamic_sample_dropout';
export type { DsdCondition, DsdCurrent, DsdMode, DsdResult, DynamicSampleDropoutOptions, PitLossWithMemoryOptions,
  PitLossWithMemoryResult } from './dynamic_sample_dropout';
