// Architectures shared by recipes and benchmarks.
export * from './conv_tasnet';
export * from './crn';
export * from './kws_ds_cnn';
export * from './kws_transformer';
export * from './dccrn';
export * from './dprnn';
export * from './wav2vec2';
export { loadSafetensors, saveSafetensors, readSafetensorsHeader } from './safetensors';
export type { SafetensorsEntry, SafetensorsHeader } from './safetensors';
export * from './wav2vec2_dphubert';
export * from './ecapa_tdnn';
