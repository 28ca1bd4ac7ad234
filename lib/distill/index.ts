// The distill namespace of slimspeech (see DESIGN.md): knowledge-distillation losses.
export { klDivergence } from './kl_divergence';
export type { KlDivergenceOptions, KlReduction } from './kl_divergence';
