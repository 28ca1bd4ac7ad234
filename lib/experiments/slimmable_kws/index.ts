/**
 * Paper 1 end to end (PAPERS.md section 1): small-footprint slimmable networks for keyword spotting
 * (Akhtar et al., arXiv 2304.12183). One supernet per architecture (a DS-CNN and a KWT-like transformer) is
 * trained once with the sandwich rule and in-place distillation; subnets of every width are cut from it and
 * compared with models of the same widths trained alone with the same budget.
 *
 * "Same budget": for a given architecture, the supernet and each width trained alone see exactly the same
 * batches (same epochs, the same seeded order, the same augmented copies and SpecAugment masks), take the
 * same number of optimizer steps (one per batch) with the same optimizer, learning rate, weight decay and
 * schedule. The supernet runs `sandwich` widths per step (forward and backward each), a width trained alone
 * one; with the default 4 widths and sandwich 4 the supernet's compute per step is the sum of the four
 * baselines' compute per step: one supernet costs as much as training the four widths alone, which is the
 * comparison the paper makes.
 */
import * as path from 'path';
import { StepDef, Recipe } from '../recipe';
import type { Run } from '../run';
import { checkConfig, KwsArch, SLIMMABLE_KWS_PRESETS, SlimmableKwsConfig, widthTag } from './config';
import { loadKwsData, prepareKwsData, saveKwsData } from './data';
import { evaluateKws, extractKwsSubnets, recalibrateKws, saveKwsModels } from './evaluate';
import { kwsFigures } from './figures';
import { reportKws, resultsOf } from './report';
import { disposeKwsState, initialKwsState, KwsState } from './state';
import { loadTrained, saveTrained, trainKws, trainedId } from './train';

export * from './config';
export * from './data';
export * from './train';
export * from './evaluate';
export * from './report';
export * from './figures';
export * from './state';

type KwsStep = StepDef<SlimmableKwsConfig, KwsState>;
type KwsRun = Run<SlimmableKwsConfig, KwsState>;

function dataInputs(c: SlimmableKwsConfig): unknown {
  const { keywords, silence, unknownRatio, features, augment: { specAugment: _perBatch, ...augment } } = c;
  return { dataRoot: c.dataRoot === 'embedded' ? 'embedded' : path.resolve(c.dataRoot), keywords, silence, unknownRatio, features, augment };
}

function trainingInputs(c: SlimmableKwsConfig, arch: KwsArch): Record<string, unknown> {
  return { model: c[arch], lr: c.lr[arch], epochs: c.epochs, batchSize: c.batchSize, optimizer: c.optimizer, weightDecay: c.weightDecay,
    warmupEpochs: c.warmupEpochs, schedule: c.schedule, microBatch: c.microBatch, specAugment: c.augment.specAugment };
}

function trainStep(arch: KwsArch, width?: number): KwsStep {
  const id = trainedId(arch, width);
  return {
    name: width === undefined ? `slimmable:${arch}` : `alone:${arch}-w${widthTag(width)}`,
    title: width === undefined
      ? `${arch} supernet trained once (sandwich rule, in-place distillation)`
      : `${arch} at width ${width} trained alone (the baseline, same budget)`,
    after: ['data'],
    inputs: (c) => width === undefined
      ? { ...trainingInputs(c, arch), widths: c.widths, sandwich: c.sandwich, inplaceDistillation: c.inplaceDistillation }
      : { ...trainingInputs(c, arch), width },
    run: async (run) => { run.state.trained[id] = await trainKws(run, arch, width); },
    save: (run, dir) => saveTrained(run.state.trained[id], dir),
    load: async (run, dir) => { run.state.trained[id] = await loadTrained(dir); },
  };
}

/**
 * The steps, in order: 'data' (features of every split), 'slimmable:<arch>' (the supernets), 'alone:<arch>-w<w>'
 * (every width trained alone), 'recalibrate', 'extract', 'evaluate', 'save' (models/), 'report'
 * (results.json and results.csv with the claims), 'figures' (plots/). Trainings are cached in the run
 * directory and resume from their checkpoints.
 */
export function kwsSteps(config: SlimmableKwsConfig): KwsStep[] {
  const widths = checkConfig(config);
  return [
    { name: 'data', title: 'log-mel features of every split, computed once', inputs: dataInputs,
      run: async (run) => { run.state.data = await prepareKwsData(run.config, (l) => run.log(l)); },
      save: async (run, dir) => saveKwsData(run.state.data!, dir),
      load: async (run, dir) => { run.state.data = loadKwsData(dir); } },
    ...config.archs.map((a) => trainStep(a)),
    ...config.archs.flatMap((a) => widths.map((w) => trainStep(a, w))),
    { name: 'recalibrate', title: 'batch-norm statistics re-estimated with the final weights', run: recalibrateKws },
    { name: 'extract', title: 'standalone subnets cut from the supernets', run: extractKwsSubnets },
    { name: 'evaluate', title: 'accuracy, size and latency of every model', run: evaluateKws },
    { name: 'save', title: 'models saved under models/', run: saveKwsModels },
    { name: 'report', title: 'results.json, results.csv and the claims', run: async (run) => reportKws(run) },
    { name: 'figures', title: 'plots/ as offline HTML', run: async (run: KwsRun) => {
      await run.savePlots(await kwsFigures(resultsOf(run), run.state.data));
    } },
  ];
}

/** The slimmable-KWS recipe (`npx slimspeech run slimmable-kws`, notebooks/01_slimmable_kws.ipynb). */
export const recipe: Recipe<SlimmableKwsConfig, KwsState> = {
  name: 'slimmable-kws',
  description: 'Slimmable keyword spotting (Akhtar et al., arXiv 2304.12183): DS-CNN and KWT supernets trained once ' +
    '(sandwich rule, in-place distillation) against every width trained alone',
  presets: SLIMMABLE_KWS_PRESETS,
  check: (c) => { checkConfig(c); },
  steps: kwsSteps,
  initialState: initialKwsState,
  dispose: disposeKwsState,
  rowKey: ['arch', 'variant', 'width'],
};
