/**
 * slimspeech: make speech models small on TensorFlow.js.
 *
 * One namespace per concern (DESIGN.md): `nn` (Module system and layers), `audio`, `data`, `distill`,
 * `prune`, `slim`, `pit`, `metrics`, `train`, `plot`, `experiments`, `models` (shared architectures), `ssl` (self-supervised
 * pre-training pieces); plus `useBackend`, `saveModel` and
 * `loadModel` at the top level, and `tf`, the TensorFlow.js instance slimspeech itself uses.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
export { useBackend, currentBackend } from './backend';
export type { BackendInfo, BackendName } from './backend';
export * as nn from './nn';
export { saveModel, loadModel, exportLayersModel, manualSeed } from './nn';
export type { Ctx } from './nn';
export * as audio from './audio';
export * as data from './data';
export * as distill from './distill';
export * as prune from './prune';
export * as slim from './slim';
export * as pit from './pit';
export * as metrics from './metrics';
export * as train from './train';
export * as plot from './plot';
export * as experiments from './experiments';
export * as models from './models';
export * as ssl from './ssl';
