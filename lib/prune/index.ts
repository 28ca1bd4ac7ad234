// The prune namespace: structured pruning with HardConcrete gates (PAPERS.md section 3, DPHuBERT).
export * from './hard_concrete';
export { LagrangianController } from './lagrangian';
export type { LagrangianControllerArgs } from './lagrangian';
export { expectedParams, expectedSparsity, materialize, ungatedParams } from './wav2vec2';
export type { MaterializeReport } from './wav2vec2';
export { distillPruneStep } from './distill_prune_step';
export type { DistillPruneStepOptions } from './distill_prune_step';
