import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { hiddenStateTerms } from '../../distill/hidden_state_loss';
import { LinearProjection } from '../../distill/projection';
import { noGrad } from '../../distill/teacher_student_step';
import { Wav2Vec2Model, Wav2Vec2ModelArgs } from '../../models/wav2vec2';
import { Module, withParameterRng } from '../../nn/module';
import { loadModel, saveModel } from '../../nn/serialize';
import { distillPruneStep } from '../../prune/distill_prune_step';
import { LagrangianController } from '../../prune/lagrangian';
import { expectedSparsity, materialize } from '../../prune/wav2vec2';
import { History } from '../../train/history';
import { Rng } from '../../util/rng';
import type { Run } from '../run';
import type { DphubertConfig } from './config';
import { concat } from './teacher';
import type { DphubertState, DphubertStudent } from './state';

type DpRun = Run<DphubertConfig, DphubertState>;

/** Training batches of the crops: a shuffled order per epoch (fit's generator), whole batches only. */
export function cropBatches(crops: Float32Array[], batchSize: number) {
  return function* (_epoch: number, rng: Rng): Generator<{ x: tf.Tensor2D }> {
    const order = rng.shuffle([...Array(crops.length).keys()]);
    for (let b = 0; b + batchSize <= crops.length; b += batchSize) {
      const pick = order.slice(b, b + batchSize).map((i) => crops[i]);
      yield { x: tf.tensor2d(concat(pick), [batchSize, crops[0].length]) };
    }
  };
}

/** The key of a target in the state and in step names: its decimal form ('0.75'). */
export const targetKey = (t: number): string => String(t);

/**
 * Mean distillation loss (L1 + cosine term, as trained) of a student on the validation crops, in evaluation mode,
 * between its `studentLayers` through `heads` and the teacher's `layers`.
 */
export async function validDistillLoss(student: Wav2Vec2Model, teacher: Wav2Vec2Model, heads: LinearProjection[], layers: number[],
  studentLayers: number[], crops: Float32Array[], cos: 'raw' | 'log_sig'): Promise<number> {
  if (!crops.length) return NaN;
  let sum = 0;
  for (let s = 0; s < crops.length; s += 16) {
    const chunk = crops.slice(s, s + 16);
    const v = noGrad(() => {
      const x = tf.tensor2d(concat(chunk), [chunk.length, chunk[0].length]);
      const th = teacher.hiddenStates(x, { training: false }, { numLayers: Math.max(...layers) });
      const sh = student.hiddenStates(x, { training: false }, { numLayers: Math.max(...studentLayers) });
      const t = tf.stack(layers.map((l) => th[l]), 1);
      const p = tf.stack(studentLayers.map((l, i) => heads[i].forward(sh[l], { training: false })), 1);
      const terms = hiddenStateTerms(p, t, { cos });
      return tf.mul(tf.add(terms.l1, terms.cos), chunk.length);
    });
    sum += (await v.data())[0];
    v.dispose();
  }
  return sum / crops.length;
}

function heads(config: DphubertConfig, width: number, teacherWidth: number, seedTag: string): LinearProjection[] {
  return withParameterRng(new Rng(seedTag), () => config.distillLayers.map(() => new LinearProjection({ inFeatures: width, outFeatures: teacherWidth })));
}

const headModules = (hs: LinearProjection[]): Record<string, Module> => Object.fromEntries(hs.map((h, i) => [`head${i}`, h]));

/**
 * Step 'prune:<target>': DPHuBERT for one target sparsity, every target with the same budget.
 * 1. The student starts as the teacher with HardConcrete gates on what `prune.units` names (initialised as the
 *    reference code does), one identity-initialised linear head per distilled layer, and a LagrangianController
 *    whose target ramps from 0 over `prune.warmupFraction` of the steps.
 * 2. `prune.steps` steps of distillation with pruning (prune.distillPruneStep): AdamW with three groups, weights and
 *    heads at `prune.lr`, gates at `prune.gateLr` without weight decay, multipliers at `prune.lambdaLr` (ascent).
 * 3. prune.materialize: the zero-gated units removed, soft gate values folded into the next weights.
 * 4. `final.steps` steps of distillation of the smaller model (same heads) at `final.lr`, no regulariser.
 */
export async function pruneStudent(run: DpRun, target: number): Promise<DphubertStudent> {
  const { config, state } = run;
  const teacher = state.teacher!.model;
  const data = state.data!;
  const t0 = Date.now();
  const D = teacher.args.encoderEmbedDim;
  const student = withParameterRng(new Rng(`${config.seed}/dphubert/gates`), () => new Wav2Vec2Model({ ...teacher.args, prune: config.prune.units }));
  student.loadStateDict(teacher.stateDict(), false);
  const hs = heads(config, D, D, `${config.seed}/dphubert/heads`);
  const controller = new LagrangianController({ targetSparsity: target, warmupSteps: Math.round(config.prune.warmupFraction * config.prune.steps) });
  const reference = teacher.numParams();
  const spe = Math.floor(data.train.length / config.batchSize);
  let small: Wav2Vec2Model | undefined;
  try {
    const gates = student.namedParameters().filter(([k]) => k.includes('hardConcrete')).map(([, v]) => v);
    const weights = [...student.namedParameters().filter(([k]) => !k.includes('hardConcrete')).map(([, v]) => v), ...hs.flatMap((h) => h.parameters())];
    const history = await run.fit<{ x: tf.Tensor2D }>({
      modules: { student, controller, ...headModules(hs) }, label: 'prune',
      step: distillPruneStep(student, teacher, { layers: config.distillLayers, heads: hs, controller, referenceParams: reference, cos: config.cos }),
      epochs: Math.ceil(config.prune.steps / spe), stepsPerEpoch: spe, maxSteps: config.prune.steps,
      batches: cropBatches(data.train, config.batchSize),
      optimizer: { kind: 'adamw', lr: config.prune.lr, groups: [
        { params: weights, lr: config.prune.lr, name: 'model' },
        { params: gates, lr: config.prune.gateLr, weightDecay: 0, name: 'gates' },
        { params: controller.parameters(), lr: config.prune.lambdaLr, weightDecay: 0, name: 'lagrangian' },
      ] },
    });
    const expected = tf.tidy(() => expectedSparsity(student, reference).dataSync()[0]);
    const m = materialize(student);
    small = m.model;
    const { args: _a, ...kept } = m.report;
    run.log(`dphubert ${target}: expected sparsity ${expected.toFixed(3)} after ${history.steps.length} steps; materialised ${small.numParams()} ` +
      `parameters (sparsity ${(1 - small.numParams() / reference).toFixed(3)}); heads per layer [${kept.heads}], FFN units [${kept.ffnUnits}], ` +
      `conv channels [${kept.convChannels}]${kept.exact ? '' : `; not exact: ${kept.inexact.join(', ')}`}`);
    const final = await finalDistill(run, small, teacher, hs, config.distillLayers, 'final');
    const validLoss = await validDistillLoss(small, teacher, hs, config.distillLayers, config.distillLayers, data.valid, config.cos);
    return { kind: 'dphubert', target, model: small, history, final, pruned: kept, expectedSparsity: expected, validLoss,
      seconds: (Date.now() - t0) / 1000 };
  } catch (e) {
    small?.dispose();
    throw e;
  } finally {
    student.dispose();
    controller.dispose();
    hs.forEach((h) => h.dispose());
  }
}

/** `final.steps` steps of distillation without the regulariser at `final.lr` (a fit of its own, labelled `label`). */
async function finalDistill(run: DpRun, student: Wav2Vec2Model, teacher: Wav2Vec2Model, hs: LinearProjection[], studentLayers: number[],
  label: string): Promise<History> {
  const { config, state } = run;
  const spe = Math.floor(state.data!.train.length / config.batchSize);
  return run.fit<{ x: tf.Tensor2D }>({
    modules: { student, ...headModules(hs) }, label,
    step: distillPruneStep(student, teacher, { layers: config.distillLayers, studentLayers, heads: hs, cos: config.cos }),
    epochs: Math.ceil(config.final.steps / spe), stepsPerEpoch: spe, maxSteps: config.final.steps,
    batches: cropBatches(state.data!.train, config.batchSize), optimizer: { kind: 'adamw', lr: config.final.lr },
  });
}

/**
 * The baseline's architecture: the teacher's first `layers` layers, narrowed to about `params` parameters with
 * attention and FFN shrunk in proportion. For each head count h (the teacher's head size kept), the FFN width that
 * brings the count closest to `params` is solved (the count is linear in it); the h whose FFN keeps the share of the
 * teacher's FFN closest to h's share of its heads is taken (a smaller DistilHuBERT, neither all attention nor all FFN).
 */
export function baselineArgs(teacher: Wav2Vec2Model, layers: number, params: number): { args: Wav2Vec2ModelArgs; params: number; ffn: number;
  heads: number } {
  const a = teacher.args;
  if (layers > a.encoderNumLayers) throw new Error(`dphubert: baseline.layers ${layers} exceeds the teacher's ${a.encoderNumLayers} layers`);
  const H = Math.max(...(a.encoderNumHeads as number[]).slice(0, layers)), I = Math.max(...(a.encoderFfIntermFeatures as number[]).slice(0, layers));
  const base: Wav2Vec2ModelArgs = { ...a, encoderNumLayers: layers, encoderHeadDim: a.encoderHeadDim, encoderUseAttention: Array(layers).fill(true),
    encoderUseFeedForward: Array(layers).fill(true), prune: {} };
  const count = (heads: number, ffn: number) => {
    const m = new Wav2Vec2Model({ ...base, encoderNumHeads: Array(layers).fill(heads), encoderFfIntermFeatures: Array(layers).fill(ffn) });
    const n = m.numParams();
    m.dispose();
    return n;
  };
  let best: { heads: number; ffn: number; params: number; score: number } | undefined;
  for (let h = 1; h <= H; h++) {
    const p1 = count(h, 1), p2 = count(h, 2);
    const ffn = Math.max(1, Math.min(I, Math.round((params - p1) / (p2 - p1)) + 1));
    const n = p1 + (ffn - 1) * (p2 - p1);
    const score = Math.abs(n - params) / params + Math.abs(ffn / I - h / H);
    if (!best || score < best.score) best = { heads: h, ffn, params: n, score };
  }
  const { heads, ffn } = best!;
  return { args: { ...base, encoderNumHeads: Array(layers).fill(heads), encoderFfIntermFeatures: Array(layers).fill(ffn) }, params: best!.params,
    ffn, heads };
}

/** Copies every tensor of `src` into the tensor of the same name in `dst`, keeping its leading part where `dst`'s is smaller. */
export function loadLeading(dst: Module, src: Module): void {
  const from = src.stateDict();
  const out = new Map<string, tf.Tensor>();
  for (const [k, v] of dst.stateDict()) {
    const s = from.get(k);
    if (!s) throw new Error(`loadLeading: ${k} is not in the source model`);
    out.set(k, tf.slice(s, v.shape.map(() => 0), v.shape));
  }
  try {
    dst.loadStateDict(out, false);
  } finally {
    tf.dispose([...out.values()]);
  }
}

/**
 * Step 'baseline': the distillation-only student at the main target's size (DistilHuBERT-like: see
 * DphubertConfig.baseline), initialised from the teacher's first layers (their first FFN units), then trained with
 * the same budget as a pruned student: `prune.steps` steps at `prune.lr` and `final.steps` at `final.lr`, the same
 * heads, losses and batches, without gates or regulariser.
 */
export async function trainBaseline(run: DpRun): Promise<DphubertStudent> {
  const { config, state } = run;
  const teacher = state.teacher!.model;
  const main = state.students[targetKey(config.mainTarget)];
  const t0 = Date.now();
  const { args, ffn, heads: nHeads } = baselineArgs(teacher, config.baseline.layers, main.model.numParams());
  const student = new Wav2Vec2Model(args);
  const target = main.model.numParams();
  if (Math.abs(student.numParams() - target) > 0.02 * target) {
    run.log(`distill-only: WARNING: ${config.baseline.layers} of the teacher's layers cannot be narrowed or widened to ${target} parameters ` +
      `(closest: ${student.numParams()}); the comparison is not at equal size (change baseline.layers)`);
  }
  loadLeading(student, teacher);
  const D = teacher.args.encoderEmbedDim;
  const hs = heads(config, D, D, `${config.seed}/dphubert/heads`);
  const studentLayers = config.distillLayers.map((_, i) => i);
  const data = state.data!;
  const spe = Math.floor(data.train.length / config.batchSize);
  run.log(`distill-only: ${config.baseline.layers} layers with ${nHeads} heads and ${ffn} FFN units each, ${student.numParams()} parameters ` +
    `(the pruned student at ${config.mainTarget}: ${main.model.numParams()}); student layers [${studentLayers}] learn teacher layers [${config.distillLayers}]`);
  try {
    const history = await run.fit<{ x: tf.Tensor2D }>({
      modules: { student, ...headModules(hs) }, label: 'distill',
      step: distillPruneStep(student, teacher, { layers: config.distillLayers, studentLayers, heads: hs, cos: config.cos }),
      epochs: Math.ceil(config.prune.steps / spe), stepsPerEpoch: spe, maxSteps: config.prune.steps,
      batches: cropBatches(data.train, config.batchSize), optimizer: { kind: 'adamw', lr: config.prune.lr },
    });
    const final = await finalDistill(run, student, teacher, hs, studentLayers, 'final');
    const validLoss = await validDistillLoss(student, teacher, hs, config.distillLayers, studentLayers, data.valid, config.cos);
    return { kind: 'distill-only', target: config.mainTarget, model: student, history, final, validLoss, seconds: (Date.now() - t0) / 1000 };
  } catch (e) {
    student.dispose();
    throw e;
  } finally {
    hs.forEach((h) => h.dispose());
  }
}

/** Writes a student into its step's cache folder. */
export async function saveStudent(s: DphubertStudent, dir: string): Promise<void> {
  await saveModel(s.model, path.join(dir, 'model'));
  const { model: _m, history, final, ...rest } = s;
  fs.writeFileSync(path.join(dir, 'student.json'), JSON.stringify({ ...rest, history: history.toJSON(), final: final.toJSON() }));
}

/** Reads what {@link saveStudent} wrote. */
export async function loadStudent(dir: string): Promise<DphubertStudent> {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'student.json'), 'utf8'));
  return { ...meta, history: History.fromJSON(meta.history), final: History.fromJSON(meta.final),
    model: (await loadModel(path.join(dir, 'model'))) as Wav2Vec2Model };
}
