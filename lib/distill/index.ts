// The distill namespace of slimspeech (see DESIGN.md): knowledge-distillation losses, attention transfer,
// hidden-state losses, projections, time alignment, automatic layer mapping and the teacher-student step.
export { klDivergence } from './kl_divergence';
export type { KlDivergenceOptions, KlReduction } from './kl_divergence';
export { attentionMap, attentionTransfer } from './attention_transfer';
export type { AttentionAxis, AttentionMapOptions, AttentionNormalization, AttentionTransferMode,
  AttentionTransferOptions } from './attention_transfer';
export { hiddenStateLoss, hiddenStateTerms, mse } from './hidden_state_loss';
export type { CosineLossType, HiddenStateLossOptions, HiddenStateTerms } from './hidden_state_loss';
export { alignTime } from './align_time';
export type { AlignTimeOptions, TimeAlignMethod } from './align_time';
export { ConvProjection, LinearProjection } from './projection';
export type { ConvProjectionArgs, LinearProjectionArgs, ProjectionInit } from './projection';
export { LayerMapping, mapLayers, relativeDepthPairs } from './layer_mapping';
export type { AlignedPair, LayerMappingRow, LayerMappingStrategy, LayerPair, LayerPairSpec, MapLayersOptions,
  ProjectionPolicy, TapShapes } from './layer_mapping';
export { noGrad, teacherStudentStep } from './teacher_student_step';
export type { DistillTerm, DistillTermFn, TeacherStudentOutputs, TeacherStudentStepOptions } from './teacher_student_step';
export { atKl, channelKl } from './at_kl';
export type { AtKlAxis, AtKlOptions, ChannelKlOptions } from './at_kl';
export { Adapter } from './adapter';
export type { AdapterArgs, AdapterOptions, AdapterSelection } from './adapter';
