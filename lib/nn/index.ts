// The nn namespace: the Module system and layers (DESIGN.md "Models: a small Module system").
export * from './module';
export * from './init';
export * from './linear';
export * from './conv';
export * from './conv_transpose';
export * from './norm';
export * from './activations';
export * from './dropout';
export * from './sequential';
export * from './pooling';
export * from './recurrent';
export * from './attention';
export * from './serialize';
export * from './export_layers';
export * from './ops';
export * from './eval_cache';
export * from './inference';
