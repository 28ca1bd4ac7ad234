// The slim namespace of slimspeech (see DESIGN.md and PAPERS.md section 1): slimmable layers, switchable
// batch norm, the sandwich rule with in-place distillation, batch-norm recalibration, subnet extraction
// (the slimmable KWS supernets are in models).
export * from './channels';
export * from './extract';
export * from './slim_linear';
export * from './slim_conv';
export * from './switchable_batch_norm';
export * from './slim_layer_norm';
export * from './slim_attention';
export * from './sandwich';
export * from './inplace_distillation';
export * from './recalibrate';
