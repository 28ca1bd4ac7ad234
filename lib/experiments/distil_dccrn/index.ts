/**
 * Paper 2 end to end (PAPERS.md section 2): Distil-DCCRN, feature distillation for speech enhancement (Han et
 * al., arXiv 2408.04267). A small DCCRN student learns from a larger teacher of another shape (a wide DCCRN,
 * or a time-domain Conv-TasNet) through AT-KL (distill.atKl: attention maps over time and channels compared
 * by a KL divergence, on features bridged by distill.mapLayers), on top of the SI-SNR loss. Every variant is
 * trained with the same budget (epochs, batches, optimizer) and scored on test mixtures of held-out speakers
 * and noises with SI-SNR, SI-SNRi, PESQ and STOI; the claims come with the kit's intervals.
 */
import type { Recipe, StepDef } from '../recipe';
import type { Run } from '../run';
import { DCCRN_VARIANTS, DccrnVariant, DISTIL_DCCRN_PRESETS, DistilDccrnConfig } from './config';
import { prepareEnhData } from './data';
import { evaluateDccrn } from './evaluate';
import { dccrnFigures } from './figures';
import { dccrnResultsOf, reportDccrn } from './report';
import { DccrnState, disposeDccrnState, initialDccrnState } from './state';
import { loadTrainedVariant, saveTrainedVariant, trainVariant } from './train';

export * from './config';
export * from './data';
export * from './train';
export * from './evaluate';
export * from './report';
export * from './figures';
export * from './state';

type DccrnStep = StepDef<DistilDccrnConfig, DccrnState>;

const DISTILLED: readonly DccrnVariant[] = ['student-atkl', 'student-at', 'student-kl'];

function trainingInputs(c: DistilDccrnConfig, v: DccrnVariant): unknown {
  const model = v === 'teacher' ? (c.teacherKind === 'dccrn' ? c.teacherDccrn : c.teacherConvTasnet) : v === 'full' ? c.full : c.student;
  const base = { model, teacherKind: v === 'teacher' ? c.teacherKind : undefined, epochs: c.epochs, batchSize: c.batchSize, lr: c.lr, maxItems: c.maxItems,
    clipNorm: c.clipNorm, segmentSeconds: c.segmentSeconds, microBatch: c.microBatch };
  if (!DISTILLED.includes(v)) return base;
  const d = c.distill;
  return { ...base, weight: d.weight, studentTaps: d.studentTaps, teacherTaps: d.teacherTaps,
    loss: v === 'student-atkl' ? d.atKl : v === 'student-at' ? d.atMode : d.klTemperature };
}

function trainStep(v: DccrnVariant): DccrnStep {
  return {
    name: `train:${v}`,
    title: v === 'teacher' ? 'the teacher' : v === 'full' ? 'the full-size DCCRN alone (the baseline)'
      : v === 'student' ? 'the student alone' : `the student with ${v === 'student-atkl' ? 'AT-KL' : v === 'student-at' ? 'attention transfer' : 'KL'} from the teacher`,
    after: DISTILLED.includes(v) ? ['data', 'train:teacher'] : ['data'],
    inputs: (c) => trainingInputs(c, v),
    run: async (run) => { run.state.trained[v] = await trainVariant(run, v); },
    save: (run, dir) => saveTrainedVariant(run.state.trained[v]!, dir),
    load: async (run, dir) => { run.state.trained[v] = await loadTrainedVariant(dir); },
  };
}

/** Checks a config: known variants, a teacher wherever a distilled student is asked for, data folders named for the paper preset. */
export function checkDccrnConfig(c: DistilDccrnConfig): void {
  for (const v of c.variants) if (!DCCRN_VARIANTS.includes(v)) throw new Error(`distil-dccrn: unknown variant '${v}' (${DCCRN_VARIANTS.join(', ')})`);
  if (!c.variants.length) throw new Error('distil-dccrn: variants is empty');
  if (c.teacherKind !== 'dccrn' && c.teacherKind !== 'conv-tasnet') throw new Error(`distil-dccrn: teacherKind must be 'dccrn' or 'conv-tasnet', got '${c.teacherKind}'`);
  if (!(Number.isInteger(c.epochs) && c.epochs >= 1)) throw new Error(`distil-dccrn: epochs must be a positive integer, got ${c.epochs}`);
  if (!(c.segmentSeconds > 0)) throw new Error(`distil-dccrn: segmentSeconds must be > 0, got ${c.segmentSeconds}`);
}

/**
 * The steps: 'data', 'train:<variant>' (the teacher first when a distilled student needs it), 'evaluate',
 * 'save' (models/<variant>/, each reloadable and usable by `slimspeech enhance`), 'report', 'figures'.
 */
export function dccrnSteps(config: DistilDccrnConfig): DccrnStep[] {
  checkDccrnConfig(config);
  const needTeacher = config.variants.some((v) => DISTILLED.includes(v));
  const train = DCCRN_VARIANTS.filter((v) => config.variants.includes(v) || (v === 'teacher' && needTeacher));
  return [
    { name: 'data', title: 'training recipes, validation pairs and test mixtures', inputs: (c) => ({ dataRoot: c.dataRoot, testRoot: c.testRoot,
      testMixtures: c.testMixtures, testSnrs: c.testSnrs, maxItems: c.maxItems }),
    run: async (run) => { run.state.data = await prepareEnhData(run.config, (l) => run.log(l)); } },
    ...train.map(trainStep),
    { name: 'evaluate', title: 'SI-SNR, PESQ, STOI, size and real-time factor of every variant', run: evaluateDccrn },
    { name: 'save', title: 'models saved under models/', run: async (run) => {
      for (const [v, t] of Object.entries(run.state.trained)) {
        await run.saveModel(v, t!.model, { task: 'enhancement', sampleRate: run.state.data!.sampleRate, input: 'waveform [batch, time]', variant: v });
      }
    } },
    { name: 'report', title: 'results.json, results.csv and the claims', run: async (run) => reportDccrn(run) },
    { name: 'figures', title: 'plots/ as offline HTML', run: async (run: Run<DistilDccrnConfig, DccrnState>) => {
      await run.savePlots(await dccrnFigures(run, dccrnResultsOf(run)));
    } },
  ];
}

/** The Distil-DCCRN recipe (`npx slimspeech run distil-dccrn`, notebooks/02_distil_dccrn.ipynb). */
export const recipe: Recipe<DistilDccrnConfig, DccrnState> = {
  name: 'distil-dccrn',
  description: 'Distil-DCCRN (Han et al., arXiv 2408.04267): a small DCCRN distilled from a larger teacher of another shape ' +
    'with AT-KL, against the student alone and the full-size DCCRN, on SI-SNR, PESQ and STOI',
  presets: DISTIL_DCCRN_PRESETS,
  check: checkDccrnConfig,
  steps: dccrnSteps,
  initialState: initialDccrnState,
  dispose: disposeDccrnState,
  rowKey: ['set', 'variant'],
};
