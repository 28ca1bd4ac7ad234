// The ssl namespace: self-supervised pre-training pieces (HuBERT's first iteration) for the teachers of the
// distillation recipes.
export { deltas, hubertMfcc, kmeans, nearestCentroid, spanMask, HubertPretrainModel } from './hubert';
export type { HubertPretrainArgs, KMeansResult } from './hubert';
export { LayerProbe } from './probe';
export type { LayerProbeArgs } from './probe';
