// The train namespace: the training loop, optimizers, schedules, clipping, checkpoints, history, progress.
export * from './fit';
export * from './micro_batch';
export * from './optimizers';
export * from './schedule';
export * from './clip';
export * from './checkpoint';
export * from './history';
export * from './progress';
export { Rng } from '../util/rng';
export { manualSeed } from '../nn/module';
