// Architectures shared by recipes and benchmarks.
export * from './conv_tasnet';
export * from './crn';
export * from './kws_ds_cnn';
export * from './kws_transformer';
export * from './dccrn';
export * from './dprnn';
