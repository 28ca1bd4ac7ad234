/**
 * Paper 2 end to end (PAPERS.md section 3): DPHuBERT, joint distillation and structured pruning of a
 * self-supervised speech model (Peng, Sudo, Muhammad and Watanabe, arXiv 2305.17651). A student that starts as
 * a copy of the teacher is distilled while HardConcrete gates and a Lagrangian constraint prune it to a target
 * sparsity; the gates are removed (prune.materialize) and a short final distillation follows. Every target of
 * the sweep and the distillation-only baseline of the main target's size train with the same budget, and frozen
 * probes (keyword spotting, speaker identification) compare them with the kit's intervals.
 */
import * as fs from 'fs';
import * as path from 'path';
import { saveDphubert } from '../../models/wav2vec2_dphubert';
import type { Recipe, StepDef } from '../recipe';
import { DPHUBERT_PRESETS, DPHUBERT_TASKS, DphubertConfig } from './config';
import { prepareDphubertData } from './data';
import { dphubertFigures } from './figures';
import { probeAll } from './probe';
import { dphubertResultsOf, reportDphubert } from './report';
import { disposeDphubertState, DphubertState, initialDphubertState, ProbeResult } from './state';
import { loadTeacher, prepareTeacher, saveTeacher } from './teacher';
import { loadStudent, pruneStudent, saveStudent, targetKey, trainBaseline } from './train';

export * from './config';
export * from './data';
export * from './teacher';
export * from './train';
export * from './probe';
export * from './report';
export * from './figures';
export * from './state';

type DpStep = StepDef<DphubertConfig, DphubertState>;

const DATA_INPUTS = (c: DphubertConfig) => ({ dataRoot: c.dataRoot, clipSeconds: c.clipSeconds, maxItems: c.maxItems, batchSize: c.batchSize });
const TRAIN_INPUTS = (c: DphubertConfig) => ({ distillLayers: c.distillLayers, cos: c.cos, prune: c.prune, final: c.final, batchSize: c.batchSize,
  microBatch: c.microBatch });

/** Checks a config: targets in [0, 1), the main target among them, distilled layers that exist, positive budgets. */
export function checkDphubertConfig(c: DphubertConfig): void {
  const fail = (m: string) => { throw new Error(`dphubert: ${m}`); };
  if (!c.targets.length) fail('targets must not be empty');
  for (const t of c.targets) if (!(t >= 0 && t < 1)) fail(`every target sparsity must be in [0, 1), got ${t}`);
  if (!c.targets.includes(c.mainTarget)) fail(`mainTarget ${c.mainTarget} is not one of targets [${c.targets}]`);
  if (new Set(c.targets).size !== c.targets.length) fail(`targets [${c.targets}] repeat a value`);
  for (const t of c.probes.tasks) if (!DPHUBERT_TASKS.includes(t)) fail(`unknown probe task '${t}' (${DPHUBERT_TASKS.join(', ')})`);
  for (const [k, v] of [['prune.steps', c.prune.steps], ['final.steps', c.final.steps], ['batchSize', c.batchSize], ['teacher.epochs', c.teacher.epochs],
    ['probes.epochs', c.probes.epochs], ['baseline.layers', c.baseline.layers]] as const) {
    if (!(Number.isInteger(v) && v >= 1)) fail(`${k} must be a positive integer, got ${v}`);
  }
  if (!(c.prune.lambdaLr <= 0)) fail(`prune.lambdaLr must be <= 0 (the multipliers ascend), got ${c.prune.lambdaLr}`);
  if (!(c.prune.warmupFraction >= 0 && c.prune.warmupFraction <= 1)) fail(`prune.warmupFraction must be in [0, 1], got ${c.prune.warmupFraction}`);
  if (!c.teacher.path && c.teacher.preset !== null) {
    fail(`teacher.preset is '${c.teacher.preset}' but teacher.path is not set: give the checkpoint with --set teacher.path=FILE.safetensors`);
  }
  const layers = c.teacher.path && c.teacher.preset ? ({ hubertBase: 12, hubertLarge: 24, wav2vec2Large: 24 })[c.teacher.preset]
    : c.teacher.args.encoderNumLayers ?? 12;
  for (const l of c.distillLayers) if (!(Number.isInteger(l) && l >= 0 && l <= layers)) fail(`distillLayers entry ${l} is not a hidden state of the teacher (0..${layers})`);
  if (c.distillLayers.length !== c.baseline.layers + 1) {
    fail(`the distillation-only student maps its ${c.baseline.layers + 1} hidden states (baseline.layers + 1) to distillLayers [${c.distillLayers}], ` +
      `which has ${c.distillLayers.length}: make them agree`);
  }
  if (c.microBatch !== null) fail('microBatch must be null: the Lagrangian controller and the gates see each batch once (use a smaller batchSize)');
}

function pruneStep(target: number): DpStep {
  const key = targetKey(target);
  return {
    name: `prune:${key}`, title: `distil + prune to sparsity ${key}, materialise, final distillation`, after: ['teacher'],
    inputs: (c) => ({ ...TRAIN_INPUTS(c), target }),
    run: async (run) => { run.state.students[key] = await pruneStudent(run, target); },
    save: (run, dir) => saveStudent(run.state.students[key], dir),
    load: async (run, dir) => { run.state.students[key] = await loadStudent(dir); },
  };
}

/**
 * The steps: 'data', 'teacher' (pre-trained and cached, or read from teacher.path), 'prune:<target>' for every
 * target, 'baseline' (distillation only, at the main target's size), 'probe' (every model, every task), 'save'
 * (models/ in slimspeech's format, and the pruned students in DPHuBERT's under models/<name>/pytorch), 'report',
 * 'figures'.
 */
export function dphubertSteps(config: DphubertConfig): DpStep[] {
  checkDphubertConfig(config);
  const main = `prune:${targetKey(config.mainTarget)}`;
  return [
    { name: 'data', title: 'training crops and the probe tasks\' clips', inputs: (c) => ({ ...DATA_INPUTS(c), probes: c.probes }),
      run: async (run) => { run.state.data = await prepareDphubertData(run.config, (l) => run.log(l)); } },
    { name: 'teacher', title: 'the teacher (pre-trained with HuBERT\'s first iteration and cached, or from teacher.path)', after: ['data'],
      inputs: (c) => ({ ...DATA_INPUTS(c), teacher: c.teacher }),
      run: async (run) => { run.state.teacher = await prepareTeacher(run, run.config, run.state.data!); },
      save: (run, dir) => saveTeacher(run.state.teacher!, dir),
      load: async (run, dir) => { run.state.teacher = await loadTeacher(dir); } },
    ...config.targets.map(pruneStep),
    { name: 'baseline', title: 'distillation-only student of the same size, same budget', after: ['teacher', main],
      inputs: (c) => ({ ...TRAIN_INPUTS(c), baseline: c.baseline, mainTarget: c.mainTarget }),
      run: async (run) => { run.state.baseline = await trainBaseline(run); },
      save: (run, dir) => saveStudent(run.state.baseline!, dir),
      load: async (run, dir) => { run.state.baseline = await loadStudent(dir); } },
    { name: 'probe', title: 'frozen-feature probes of every model', after: ['teacher', ...config.targets.map((t) => `prune:${targetKey(t)}`), 'baseline'],
      inputs: (c) => ({ probes: c.probes }),
      run: probeAll,
      save: async (run, dir) => fs.writeFileSync(path.join(dir, 'probes.json'), JSON.stringify(run.state.probes)),
      load: async (run, dir) => {
        run.state.probes = JSON.parse(fs.readFileSync(path.join(dir, 'probes.json'), 'utf8')) as Record<string, Record<string, ProbeResult>>;
      } },
    { name: 'save', title: 'models saved under models/ (DPHuBERT format under models/<name>/pytorch)', run: async (run) => {
      const { state, config: c } = run;
      const meta = { task: 'speech representation', sampleRate: 16000, input: 'waveform [batch, time]', output: 'hidden states [batch, layers + 1, frames, width]' };
      await run.saveModel('teacher', state.teacher!.model, { ...meta, variant: 'teacher' });
      for (const t of c.targets) {
        const s = state.students[targetKey(t)];
        const rel = await run.saveModel(`dphubert-${targetKey(t)}`, s.model, { ...meta, variant: 'dphubert', target: t });
        await saveDphubert(s.model, run.path(rel, 'pytorch'));
      }
      if (state.baseline) await run.saveModel('distill-only', state.baseline.model, { ...meta, variant: 'distill-only' });
    } },
    { name: 'report', title: 'results.json, results.csv and the claims', run: async (run) => reportDphubert(run) },
    { name: 'figures', title: 'plots/ as offline HTML', run: async (run) => { await run.savePlots(await dphubertFigures(dphubertResultsOf(run))); } },
  ];
}

/** The DPHuBERT recipe (`npx slimspeech run dphubert`, notebooks/04_dphubert.ipynb). */
export const recipe: Recipe<DphubertConfig, DphubertState> = {
  name: 'dphubert',
  description: 'DPHuBERT (Peng et al., arXiv 2305.17651): joint distillation and structured pruning of a HuBERT-like model to target ' +
    'sparsities, against a distillation-only student of the same size, on keyword-spotting and speaker-identification probes',
  presets: DPHUBERT_PRESETS,
  check: checkDphubertConfig,
  steps: dphubertSteps,
  initialState: initialDphubertState,
  dispose: disposeDphubertState,
  rowKey: ['model'],
};
