/**
 * Paper 3 end to end (PAPERS.md section 4): OS-KDFT, one-step knowledge distillation and fine-tuning of a
 * self-supervised model for speaker verification (Heo et al., arXiv 2305.17394). The student (the teacher's first
 * layers) is distilled and fine-tuned in one loop: each batch runs twice, the first copy without adapters pulled to
 * the teacher, the second with adapters into the speaker back end. Against the teacher fine-tuned, KD then FT and
 * FT only, at the same size and budget; EER and minDCF on the trial list and on all pairs, with the kit's intervals.
 */
import { loadTeacher, prepareTeacher, saveTeacher } from '../dphubert/teacher';
import type { Recipe, StepDef } from '../recipe';
import { OS_KDFT_PRESETS, OS_KDFT_VARIANTS, OsKdftConfig, OsKdftVariant } from './config';
import { prepareOsKdftData } from './data';
import { evaluateSpeakers } from './evaluate';
import { osKdftFigures } from './figures';
import { osKdftResultsOf, reportOsKdft } from './report';
import { disposeOsKdftState, initialOsKdftState, OsKdftState } from './state';
import { loadTrainedSpeaker, saveTrainedSpeaker, trainSpeaker } from './train';

export * from './config';
export * from './data';
export * from './model';
export * from './train';
export * from './evaluate';
export * from './report';
export * from './figures';
export * from './state';

type OkStep = StepDef<OsKdftConfig, OsKdftState>;

/** Checks a config: known variants, a student no deeper than the teacher, KD layers the teacher has, positive sizes. */
export function checkOsKdftConfig(c: OsKdftConfig): void {
  const fail = (m: string) => { throw new Error(`os-kdft: ${m}`); };
  for (const v of c.variants) if (!OS_KDFT_VARIANTS.includes(v)) fail(`unknown variant '${v}' (${OS_KDFT_VARIANTS.join(', ')})`);
  if (!c.variants.length) fail('variants must not be empty');
  for (const [k, v] of [['epochs', c.epochs], ['batchSize', c.batchSize], ['studentLayers', c.studentLayers]] as const) {
    if (!(Number.isInteger(v) && v >= 1)) fail(`${k} must be a positive integer, got ${v}`);
  }
  if (!c.teacher.path && c.teacher.preset !== null) fail(`teacher.preset is '${c.teacher.preset}' but teacher.path is not set: give the checkpoint with --set teacher.path=FILE.safetensors`);
  if (c.variants.includes('kd-then-ft') && c.epochs < 2) fail('kd-then-ft needs epochs >= 2 (one to distil, one to fine-tune)');
  const teacherLayers = c.teacher.path && c.teacher.preset ? ({ hubertBase: 12, hubertLarge: 24, wav2vec2Large: 24 })[c.teacher.preset]
    : c.teacher.args.encoderNumLayers ?? 12;
  if (c.studentLayers > teacherLayers) fail(`studentLayers ${c.studentLayers} exceeds the teacher's ${teacherLayers} layers`);
  for (const l of c.kd.layers) if (!(Number.isInteger(l) && l >= 0 && l <= teacherLayers)) fail(`kd.layers entry ${l} is not a hidden state of the teacher (0..${teacherLayers})`);
  if (!['distilhubert', 'mse'].includes(c.kd.loss)) fail(`kd.loss must be 'distilhubert' or 'mse', got '${c.kd.loss}'`);
  if (!['ecapa', 'light'].includes(c.backend.kind)) fail(`backend.kind must be 'ecapa' or 'light', got '${c.backend.kind}'`);
  if (!(c.augment.prob >= 0 && c.augment.prob <= 1)) fail(`augment.prob must be in [0, 1], got ${c.augment.prob}`);
  if (c.microBatch !== null) fail('microBatch must be null: the one-step batch is split in halves inside the step');
}

function trainStep(v: OsKdftVariant): OkStep {
  return {
    name: `train:${v}`, title: `${v}: ${v === 'os-kdft' ? 'distillation and fine-tuning in one step' : v === 'kd-then-ft' ? 'distillation, then fine-tuning'
      : 'fine-tuning'}`, after: ['data', 'teacher'],
    inputs: (c) => ({ studentLayers: c.studentLayers, adapters: v === 'os-kdft' ? c.adapters : null, kd: c.kd, backend: c.backend, aam: c.aam,
      augment: c.augment, epochs: c.epochs, twoStepKdShare: v === 'kd-then-ft' ? c.twoStepKdShare : null, batchSize: c.batchSize, lr: c.lr,
      kdWarmupEpochs: c.kdWarmupEpochs, kdDecay: c.kdDecay, adapterLrFactor: c.adapterLrFactor, clipSeconds: c.clipSeconds }),
    run: async (run) => { run.state.trained[v] = await trainSpeaker(run, v); },
    save: (run, dir) => saveTrainedSpeaker(run.state.trained[v]!, dir),
    load: async (run, dir) => { run.state.trained[v] = await loadTrainedSpeaker(dir); },
  };
}

/** The steps: 'data', 'teacher', 'train:<variant>' per variant, 'evaluate', 'save', 'report', 'figures'. */
export function osKdftSteps(config: OsKdftConfig): OkStep[] {
  checkOsKdftConfig(config);
  const teacherSource = (c: OsKdftConfig) => ({ teacher: c.teacher, dataRoot: c.ssl.dataRoot, clipSeconds: c.ssl.clipSeconds, maxItems: c.ssl.maxItems,
    seed: c.seed });
  return [
    { name: 'data', title: 'speaker utterances, trials, noise and the teacher\'s unlabelled crops',
      inputs: (c) => ({ dataRoot: c.dataRoot, noiseRoot: c.noiseRoot, maxTrain: c.maxTrain, ssl: c.ssl }),
      run: async (run) => { run.state.data = await prepareOsKdftData(run.config, (l) => run.log(l)); } },
    { name: 'teacher', title: 'the teacher (DPHuBERT\'s default teacher, cached, or teacher.path)', after: ['data'], inputs: teacherSource,
      run: async (run) => { run.state.teacher = await prepareTeacher(run, teacherSource(run.config), run.state.data!.ssl); },
      save: (run, dir) => saveTeacher(run.state.teacher!, dir),
      load: async (run, dir) => { run.state.teacher = await loadTeacher(dir); } },
    ...config.variants.map(trainStep),
    { name: 'evaluate', title: 'embeddings, EER and minDCF on the trials and on all pairs, sizes, SSL time', inputs: (c) => ({ scoring: c.scoring, latency: c.latency }),
      run: evaluateSpeakers },
    { name: 'save', title: 'models saved under models/ (usable by slimspeech verify and embed)', run: async (run) => {
      for (const [v, t] of Object.entries(run.state.trained)) {
        const ev = run.state.evaluation[v as OsKdftVariant];
        await run.saveModel(v, t!.model, { task: 'speaker verification', sampleRate: 16000, input: 'waveform [batch, time]', output: 'embedding [batch, dim]',
          variant: v, threshold: ev?.trials.threshold ?? null, eer: ev?.trials.eer ?? null, scoring: run.config.scoring });
      }
    } },
    { name: 'report', title: 'results.json, results.csv and the claims', run: async (run) => reportOsKdft(run) },
    { name: 'figures', title: 'plots/ as offline HTML', run: async (run) => { await run.savePlots(await osKdftFigures(osKdftResultsOf(run))); } },
  ];
}

/** The OS-KDFT recipe (`npx slimspeech run os-kdft`). */
export const recipe: Recipe<OsKdftConfig, OsKdftState> = {
  name: 'os-kdft',
  description: 'OS-KDFT (Heo et al., arXiv 2305.17394): one-step distillation and fine-tuning of a HuBERT-like student for speaker verification, ' +
    'against KD then FT, FT only and the fine-tuned teacher; EER, minDCF, SSL size and time',
  presets: OS_KDFT_PRESETS,
  check: checkOsKdftConfig,
  steps: osKdftSteps,
  initialState: initialOsKdftState,
  dispose: disposeOsKdftState,
  rowKey: ['variant'],
};

