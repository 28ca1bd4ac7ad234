// The metrics namespace of slimspeech (see DESIGN.md): classification, separation and verification
// metrics, and the objective functions they double as (cross-entropy, SI-SNR, SDR).
export { accuracy, topKAccuracy } from './accuracy';
export type { ClassesLike } from './accuracy';
export { confusionMatrix } from './confusion_matrix';
export type { ConfusionMatrixOptions, ConfusionNormalize } from './confusion_matrix';
export { crossEntropy } from './cross_entropy';
export type { CrossEntropyOptions, CrossEntropyReduction } from './cross_entropy';
export { siSnr, siSnrImprovement } from './si_snr';
export type { SiSnrOptions } from './si_snr';
export { sdr } from './sdr';
export type { SdrOptions } from './sdr';
export { rocCurve, detCurve } from './roc_curve';
export type { RocCurve, DetCurve, RocCurveOptions } from './roc_curve';
export { eer } from './eer';
export type { EerResult } from './eer';
export { minDcf } from './min_dcf';
export type { MinDcfOptions, MinDcfResult } from './min_dcf';
export type { NumbersLike } from './inputs';
export { countParams, countMacs } from './size';
export type { CountParamsOptions } from './size';
export { latency } from './latency';
export type { LatencyOptions, LatencyResult } from './latency';
export { stoi, stoiBatch, STOI_SHORT_INPUT_VALUE, type StoiOptions, type StoiShortInput, type StoiBatchInput } from './stoi';
export { pesq, pesqBatch, NoUtterancesError, type PesqMode, type PesqOptions, type PesqBatchOptions } from './pesq';
export { enhancementScores } from './enhancement_scores';
export type { EnhancementRow, EnhancementScores, EnhancementScoresOptions } from './enhancement_scores';
export type { SignalBatch } from './inputs';
