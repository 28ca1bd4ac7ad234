import * as tf from '@tensorflow/tfjs';
import { Ctx, Module } from '../nn/module';
import type { StepFn, StepOutput } from '../train/fit';
import type { LayerMapping } from './layer_mapping';

/**
 * Runs `fn` without recording anything on the gradient tape (torch.no_grad): its result is a constant for
 * every enclosing tf.grad / tf.variableGrads, and the activations of its operations are not saved for a
 * backward pass that will never reach them.
 *
 * How: tfjs records an operation only when `Engine.isTapeOn()`, i.e. gradientDepth > 0 and kernelDepth === 0
 * (tfjs-core 4.22, engine.js `runKernelFunc`), and the body of a kernel runs with kernelDepth > 0. So `fn`
 * runs as the forward function of a `tf.customGrad` op with no inputs: the engine records one tape node for
 * the op as a whole (no inputs, hence never on a path from a variable to the loss) and nothing inside it.
 * Tensors `fn` creates are disposed when it returns, except its result and tensors it keeps (taps).
 * Under tfjs's test flag IS_TEST (off by default; slimspeech never sets it) the engine checks each kernel
 * for leaked data, and tensors `fn` keeps would be reported as such.
 *
 * @param fn computes a tensor (e.g. a teacher's forward pass)
 * @returns fn's result, with no gradient
 */
export function noGrad<T extends tf.Tensor>(fn: () => T): T {
  const op = tf.customGrad(((_save: tf.GradSaveFunc) => ({ value: fn(), gradFunc: () => [] as tf.Tensor[] })) as
    unknown as Parameters<typeof tf.customGrad>[0]);
  return (op as unknown as () => T)();
}

/** What the terms of a {@link teacherStudentStep} read: both models' outputs and the taps recorded this step. */
export interface TeacherStudentOutputs {
  /** The student's output (on the tape). */
  student: tf.Tensor;
  /** The teacher's output (a constant: no gradient). */
  teacher: tf.Tensor;
  /** The student's recorded taps (on the tape); disposed by the step after the terms ran. */
  studentTaps: Map<string, tf.Tensor>;
  /** The teacher's recorded taps (constants); disposed by the step after the terms ran. */
  teacherTaps: Map<string, tf.Tensor>;
}

/** A term's loss: a scalar from the step's outputs (and the batch, e.g. its labels). */
export type DistillTermFn<B> = (outputs: TeacherStudentOutputs, batch: B, ctx: Ctx) => tf.Scalar;

/** A weighted loss term of a {@link teacherStudentStep}. */
export interface DistillTerm<B> {
  /** The term's value. */
  loss: DistillTermFn<B>;
  /** Its weight in the loss; a weight of 0 skips the term. Default 1. */
  weight?: number;
}

/** Options of {@link teacherStudentStep}. */
export interface TeacherStudentStepOptions<B> {
  /** Named loss terms, each a function or {loss, weight}; the names are logged by train.fit. */
  terms: Record<string, DistillTerm<B> | DistillTermFn<B>>;
  /** The student's input from a batch. Default `batch.x`. */
  inputs?: (batch: B) => tf.Tensor;
  /** The teacher's input from a batch. Default: the student's input. */
  teacherInputs?: (batch: B) => tf.Tensor;
  /** A layer mapping whose tap names are recorded (and whose projections the terms use). Default: none. */
  mapping?: LayerMapping;
  /** Student tap names to record. Default: `mapping.studentNames()`, or none without a mapping. */
  studentTaps?: readonly string[];
  /** Teacher tap names to record. Default: `mapping.teacherNames()`, or none without a mapping. */
  teacherTaps?: readonly string[];
}

/**
 * A train.fit step for teacher-student distillation. Per batch:
 *
 *   teacher output and taps  = noGrad(teacher.forward(x_t, {training: false, taps}))   // no tape, eval mode
 *   student output and taps  = student.forward(x, {...ctx, taps})                       // fit's ctx: training, rng
 *   loss = sum_k weight_k * term_k(outputs, batch, ctx),   terms = {k: term_k}  (unweighted, logged by fit)
 *
 * The teacher runs inside {@link noGrad}, so none of its operations is recorded on fit's gradient tape and
 * none of its activations is kept for backpropagation (a large teacher costs only its forward pass); its
 * parameters get no gradient. Only the named taps are recorded (a teacher recording every module would keep
 * every activation alive until the terms ran); every tap is disposed before the step returns, also when a
 * term throws. The mapping's projections and the student are what fit trains: pass both as `modules`
 * (`{student, heads: mapping}`).
 *
 * @param student the model being trained
 * @param teacher the fixed model distilled from
 * @returns a StepFn whose batches are `{x, ...}` unless `inputs` says otherwise
 */
export function teacherStudentStep<B = { x: tf.Tensor }>(student: Module, teacher: Module,
  options: TeacherStudentStepOptions<B>): StepFn<B> {
  const entries = Object.entries(options.terms ?? {}).map(([name, term]) => {
    const t = typeof term === 'function' ? { loss: term, weight: 1 } : { loss: term.loss, weight: term.weight ?? 1 };
    if (typeof t.loss !== 'function') throw new Error(`teacherStudentStep: term '${name}' has no loss function`);
    if (!Number.isFinite(t.weight)) throw new Error(`teacherStudentStep: term '${name}' has weight ${t.weight}; expected a finite number`);
    return [name, t] as const;
  });
  const active = entries.filter(([, t]) => t.weight !== 0);
  if (!active.length) throw new Error('teacherStudentStep: no loss term with a non-zero weight');
  const inputs = options.inputs ?? ((b: B) => (b as unknown as { x: tf.Tensor }).x);
  const teacherInputs = options.teacherInputs ?? inputs;
  const sNames = new Set(options.studentTaps ?? options.mapping?.studentNames() ?? []);
  const tNames = new Set(options.teacherTaps ?? options.mapping?.teacherNames() ?? []);

  return (batch: B, ctx: Ctx): StepOutput => {
    const studentTaps = new Map<string, tf.Tensor>();
    const teacherTaps = new Map<string, tf.Tensor>();
    try {
      return tf.tidy(() => {
        const teacherOut = noGrad(() => teacher.forward(teacherInputs(batch),
          { training: false, ...(tNames.size ? { taps: teacherTaps, tapFilter: (p: string) => tNames.has(p) } : {}) }));
        const studentOut = student.forward(inputs(batch),
          { ...ctx, taps: sNames.size ? studentTaps : undefined, tapFilter: sNames.size ? (p: string) => sNames.has(p) : undefined });
        for (const [side, names, taps] of [['student', sNames, studentTaps], ['teacher', tNames, teacherTaps]] as const) {
          const missing = [...names].filter((n) => !taps.has(n));
          if (missing.length) {
            throw new Error(`teacherStudentStep: the ${side} recorded no tap ${missing.map((n) => `'${n}'`).join(', ')} ` +
              `(taps are named by module path)`);
          }
        }
        const outputs: TeacherStudentOutputs = { student: studentOut, teacher: teacherOut, studentTaps, teacherTaps };
        const terms: Record<string, tf.Scalar> = {};
        const weighted: tf.Tensor[] = [];
        for (const [name, t] of active) {
          const v = t.loss(outputs, batch, ctx);
          if (!(v instanceof tf.Tensor) || v.rank !== 0) {
            throw new Error(`teacherStudentStep: term '${name}' must return a scalar tensor; got ` +
              `${v instanceof tf.Tensor ? `shape [${v.shape}]` : typeof v}`);
          }
          terms[name] = v;
          weighted.push(t.weight === 1 ? v : tf.mul(v, t.weight));
        }
        return { loss: tf.addN(weighted) as tf.Scalar, terms };
      });
    } finally {
      tf.dispose([...studentTaps.values(), ...teacherTaps.values()]);
    }
  };
}
