/**
 * Paper 4 end to end (PAPERS.md section 5): dynamic sample dropout and layer-wise optimisation for PIT speech
 * separation (Gao, Gu and Marsic, arXiv 2311.12199). Under permutation-invariant training a mixture's best
 * assignment of outputs to speakers can switch between epochs; dynamic sample dropout (pit.dynamicSampleDropout)
 * keeps each training mixture's best assignment and SI-SNR so far (pit.AssignmentMemory) and drops (or pins to
 * the remembered assignment) the mixtures that would undo it; layer-wise optimisation adds PIT losses on the
 * separations of intermediate blocks (forwardLayers). Both models (Conv-TasNet, DPRNN) are trained in every
 * variant with the same budget and scored on the test mixtures (SI-SNRi, SDRi, STOI, PESQ-NB) with the kit's
 * intervals.
 */
import type { Recipe, StepDef } from '../recipe';
import type { Run } from '../run';
import { DSD_LO_PRESETS, DsdLoConfig, SEP_MODELS, SEP_VARIANTS, SepModelKind, SepVariant } from './config';
import { prepareSepData } from './data';
import { evaluateSep } from './evaluate';
import { sepFigures } from './figures';
import { reportSep, sepResultsOf } from './report';
import { disposeDsdLoState, DsdLoState, initialDsdLoState } from './state';
import { dsdOptions, loadTrainedSep, saveTrainedSep, trainSeparator, usesLo } from './train';

export * from './config';
export * from './data';
export * from './train';
export * from './evaluate';
export * from './report';
export * from './figures';
export * from './state';

type SepStep = StepDef<DsdLoConfig, DsdLoState>;

function trainingInputs(c: DsdLoConfig, kind: SepModelKind, v: SepVariant): unknown {
  return { model: kind === 'conv-tasnet' ? c.convTasnet : c.dprnn, dsd: dsdOptions(v, c), lo: usesLo(v) ? c.lo : null,
    epochs: c.epochs, batchSize: c.batchSize, lr: c.lr, clipNorm: c.clipNorm, maxItems: c.maxItems, segmentSeconds: c.segmentSeconds,
    dataRoot: c.dataRoot, microBatch: c.microBatch };
}

function trainStep(kind: SepModelKind, v: SepVariant): SepStep {
  const key = `${kind}/${v}` as const;
  return {
    name: `train:${kind}:${v}`,
    title: `${kind}, ${v}`,
    after: ['data'],
    inputs: (c) => trainingInputs(c, kind, v),
    run: async (run) => { run.state.trained[key] = await trainSeparator(run, kind, v); },
    save: (run, dir) => saveTrainedSep(run.state.trained[key]!, dir),
    load: async (run, dir) => { run.state.trained[key] = await loadTrainedSep(dir); },
  };
}

/** Checks a config: known models and variants, positive sizes, a fixed micro-batch (the memory is updated inside the step). */
export function checkDsdLoConfig(c: DsdLoConfig): void {
  for (const m of c.models) if (!SEP_MODELS.includes(m)) throw new Error(`dsd-lo: unknown model '${m}' (${SEP_MODELS.join(', ')})`);
  for (const v of c.variants) if (!SEP_VARIANTS.includes(v)) throw new Error(`dsd-lo: unknown variant '${v}' (${SEP_VARIANTS.join(', ')})`);
  if (!c.models.length || !c.variants.length) throw new Error('dsd-lo: models and variants must not be empty');
  if (!(Number.isInteger(c.epochs) && c.epochs >= 1)) throw new Error(`dsd-lo: epochs must be a positive integer, got ${c.epochs}`);
  if (!(Number.isInteger(c.batchSize) && c.batchSize >= 1)) throw new Error(`dsd-lo: batchSize must be a positive integer, got ${c.batchSize}`);
  if (!(c.segmentSeconds > 0)) throw new Error(`dsd-lo: segmentSeconds must be > 0, got ${c.segmentSeconds}`);
  if (!['switch', 'switch-and-worse', 'worse'].includes(c.dsd.when)) throw new Error(`dsd-lo: dsd.when must be 'switch', 'switch-and-worse' or 'worse', got '${c.dsd.when}'`);
  if (!['drop', 'reorder'].includes(c.dsd.combinedMode)) throw new Error(`dsd-lo: dsd.combinedMode must be 'drop' or 'reorder', got '${c.dsd.combinedMode}'`);
  if (!(c.dsd.margin >= 0)) throw new Error(`dsd-lo: dsd.margin must be >= 0 dB, got ${c.dsd.margin}`);
  if (!['shared', 'separate'].includes(c.lo.heads)) throw new Error(`dsd-lo: lo.heads must be 'shared' or 'separate', got '${c.lo.heads}'`);
  if (!['constant', 'linear'].includes(c.lo.schedule)) throw new Error(`dsd-lo: lo.schedule must be 'constant' or 'linear', got '${c.lo.schedule}'`);
  if (!(c.lo.weight >= 0)) throw new Error(`dsd-lo: lo.weight must be >= 0, got ${c.lo.weight}`);
  if (c.microBatch === 'auto') {
    throw new Error("dsd-lo: microBatch 'auto' probes the step twice, which would update the assignment memory; use null (whole batches) " +
      'or a fixed number');
  }
}

/**
 * The steps: 'data', 'train:<model>:<variant>' for every model and variant, 'evaluate', 'save' (models/<model>-<variant>/,
 * each usable by `slimspeech separate`), 'report', 'figures'.
 */
export function dsdLoSteps(config: DsdLoConfig): SepStep[] {
  checkDsdLoConfig(config);
  return [
    { name: 'data', title: 'training segments, validation segments and test mixtures', inputs: (c) => ({ dataRoot: c.dataRoot, maxItems: c.maxItems,
      segmentSeconds: c.segmentSeconds }),
    run: async (run) => { run.state.data = await prepareSepData(run.config, (l) => run.log(l)); } },
    ...config.models.flatMap((m) => config.variants.map((v) => trainStep(m, v))),
    { name: 'evaluate', title: 'SI-SNRi, SDRi, STOI, PESQ-NB, size and real-time factor of every model', run: evaluateSep },
    { name: 'save', title: 'models saved under models/', run: async (run) => {
      for (const t of Object.values(run.state.trained)) {
        await run.saveModel(`${t!.model}-${t!.variant}`, t!.module, { task: 'separation', sampleRate: run.state.data!.sampleRate,
          numSources: run.state.data!.numSources, input: 'waveform [batch, time]', model: t!.model, variant: t!.variant });
      }
    } },
    { name: 'report', title: 'results.json, results.csv and the claims', run: async (run) => reportSep(run) },
    { name: 'figures', title: 'plots/ as offline HTML', run: async (run: Run<DsdLoConfig, DsdLoState>) => {
      await run.savePlots(await sepFigures(run, sepResultsOf(run)));
    } },
  ];
}

/** The DSD + LO recipe (`npx slimspeech run dsd-lo`, notebooks/03_dsd_lo.ipynb). */
export const recipe: Recipe<DsdLoConfig, DsdLoState> = {
  name: 'dsd-lo',
  description: 'Dynamic sample dropout and layer-wise optimisation for PIT speech separation (Gao et al., arXiv 2311.12199): ' +
    'PIT, PIT + DSD (drop, reorder), PIT + LO and PIT + DSD + LO for Conv-TasNet and DPRNN, with label-switch statistics',
  presets: DSD_LO_PRESETS,
  check: checkDsdLoConfig,
  steps: dsdLoSteps,
  initialState: initialDsdLoState,
  dispose: disposeDsdLoState,
  rowKey: ['model', 'variant'],
};
