import * as tf from '@tensorflow/tfjs';
import { Ctx, Module } from './module';
import { FUSED } from '../backend/fused_names';

type TensorInfo = tf.TensorInfo;
type Engine = ReturnType<typeof tf.engine>;
type Ref = { kind: 'slot'; i: number } | { kind: 'input' } | { kind: 'const'; c: number };

/** A kernel call of the traced pass: which tensors it reads, the slots its outputs go to. */
interface Traced {
  kernel: tf.KernelConfig;
  /** Inputs as the op passed them: an array (Concat, AddN, ...) or named. */
  inputs: Ref[] | Record<string, Ref>;
  attrs: tf.NamedAttrMap | undefined;
  /** Slot of each output. */
  out: number[];
}

interface Step extends Traced {
  /** Slots whose last reader is this step: released after it. -1 in `out`: nothing reads it (disposed at once). */
  free: number[];
  /** For a shape change (Reshape, ExpandDims): the output's shape; replayed as a new view of the input's data. */
  view?: number[];
}

interface Plan {
  steps: Step[];
  slots: number;
  output: number;
  /** Tensors from outside the pass (parameters, cached derived tensors, folded constants), held by a backend reference. */
  consts: TensorInfo[];
  /** The module's variables (and any other the pass read) and the data they held when traced: a new value retraces. */
  vars: { v: tf.Variable; dataId: unknown }[];
  backend: tf.KernelBackend;
}

/** Options of {@link InferenceRunner}. */
export interface InferenceRunnerOptions {
  /**
   * Fold per-channel scales and shifts (eval-mode batch norm, a convolution's own bias) and a following ReLU or PReLU into the
   * convolution they follow, as one fused kernel with precomputed weights: fewer passes over memory, outputs equal to
   * `forward`'s within 1e-5 (relative and absolute; checked when traced, the exact plan kept otherwise). `false`: the
   * plan runs forward's own kernels and gives its outputs bit for bit. Default true.
   */
  fold?: boolean;
}

/** Why a module's forward cannot be replayed as a plan (the runner then calls `forward`). */
class Untraceable extends Error {}

/**
 * Batch-1 (or any fixed-shape) inference without tfjs's per-op bookkeeping: the module's eval-mode forward is traced
 * once per input shape into the list of kernels it runs (their attributes, which tensor each reads), then replayed by
 * calling those kernels directly on the backend: no Tensor objects, scopes, tape checks or profiler hooks in between,
 * and each intermediate released right after its last reader. When traced, the plan is simplified:
 * - kernels that read only constants (a Conv1d's reshaped weights, a complex convolution's assembled weight matrix,
 *   any weight transpose) are computed once, at the trace, and their outputs held as constants;
 * - with `fold` (the default), a convolution followed by per-channel multiplies and adds (eval-mode batch norm, its
 *   own bias) and optionally a ReLU or PReLU becomes one fused convolution with the scales and shifts folded into its
 *   weights and bias.
 * Constant kernels give the same bits; folding changes rounding only, so the runner checks what it traced: the plan
 * without folding must equal `forward` bit for bit, the folded one within 1e-5 (else the exact plan is kept and
 * `foldRejected` says why).
 *
 * A plan is rebuilt when any parameter or buffer of the module (or another variable the pass read) has changed: every
 * optimizer step, running-statistics update or `loadStateDict` assigns new data, so a runner stays valid across training
 * and batch-norm recalibration. Until then a plan holds a reference to the data it traced with (the parameters as they
 * were, and the constants it derived from them): `dispose()` releases it. Passes it cannot replay faithfully run
 * `forward` instead, with the reason in `fallbackReason`: a forward that reads tensor data on the host (its control flow
 * could depend on it), one whose two runs on the same input differ (randomness in eval mode), an output that is not a
 * kernel's, or a backend other than wasm (the native backends already run whole ops in C++). Under a gradient tape it
 * calls `forward` too.
 *
 * ```ts
 * const infer = new ss.nn.InferenceRunner(model);
 * const logits = infer.run(clip);   // [1, 98, 40] -> [1, 12]
 * infer.dispose();
 * ```
 */
export class InferenceRunner {
  private readonly plans = new Map<string, Plan>();
  private unsupported?: string;
  private readonly fold: boolean;
  /** Traces made so far (one per input shape, plus one after each parameter change). */
  traces = 0;
  /** Of the last trace: kernels computed once as constants, and convolutions with their epilogue folded in. */
  lastTrace = { steps: 0, constantKernels: 0, folded: 0 };
  /** Why the last trace kept its exact plan instead of the folded one, if it did. */
  foldRejected?: string;

  /** `ctx` is merged into every call's context (`training` is always false), e.g. `{ width: 0.5 }`. */
  constructor(readonly module: Module, private readonly ctx: Partial<Ctx> = {}, opts: InferenceRunnerOptions = {}) {
    this.fold = opts.fold ?? true;
  }

  /** Why this runner calls `forward` instead of a plan, or undefined while it replays plans. */
  get fallbackReason(): string | undefined {
    return this.unsupported;
  }

  /** The module's eval-mode output for `x` (the caller disposes it). */
  run(x: tf.Tensor): tf.Tensor {
    const backend = tf.backend();
    if (!this.unsupported && tf.getBackend() !== 'wasm') this.unsupported = `backend ${tf.getBackend()}: plans are for wasm`;
    if (this.unsupported || tf.engine().state.gradientDepth > 0) return this.forward(x);
    const key = `${x.dtype}[${x.shape}]`;
    let plan = this.plans.get(key);
    if (plan && (plan.backend !== backend || plan.vars.some((e) => e.v.isDisposed || e.v.dataId !== e.dataId))) {
      release(plan);
      this.plans.delete(key);
      plan = undefined;
    }
    if (!plan) {
      const traced = this.trace(x);
      if (!traced.plan) return traced.output;
      this.plans.set(key, traced.plan);
      return traced.output;
    }
    return tf.engine().makeTensorFromTensorInfo(replay(plan, x));
  }

  /** Releases every plan's held tensors (the module is not touched). */
  dispose(): void {
    for (const p of this.plans.values()) release(p);
    this.plans.clear();
  }

  private forward(x: tf.Tensor): tf.Tensor {
    return this.module.forward(x, { ...this.ctx, training: false });
  }

  /** Runs forward while recording its kernels; returns its output and, when it replays faithfully, the plan. */
  private trace(x: tf.Tensor): { output: tf.Tensor; plan?: Plan } {
    this.traces++;
    this.foldRejected = undefined;
    // A plain pass first: it fills the module's caches (EvalCache), so the traced pass reads their tensors instead of
    // recording their computation, and the two passes' outputs show whether forward is deterministic.
    const first = this.forward(x);
    // A pass may hand back its input (identity, eval-mode dropout): that tensor is the caller's.
    const drop = (t: tf.Tensor) => {
      if (t !== x) t.dispose();
    };
    const engine = tf.engine();
    const backend = tf.backend();
    const slotOf = new Map<tf.Tensor, number>();
    const constOf = new Map<tf.Tensor, number>();
    const consts: tf.Tensor[] = [];
    const constInfos: TensorInfo[] = [];
    const raw: Traced[] = [];
    const slotShape: number[][] = [];
    let constantKernels = 0;
    let depth = 0;
    let problem: string | undefined;
    const refOf = (t: tf.Tensor): Ref => {
      if (t === x) return { kind: 'input' };
      const s = slotOf.get(t);
      if (s !== undefined) return { kind: 'slot', i: s };
      let c = constOf.get(t);
      if (c === undefined) {
        c = consts.length;
        consts.push(t);
        constOf.set(t, c);
        // Held now: a constant the forward creates is disposed when its tidy scope ends.
        (backend as unknown as { incRef(d: unknown): void }).incRef(t.dataId);
        constInfos.push({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });
      }
      return { kind: 'const', c };
    };
    const hooked = ['runKernel', 'readSync', 'read'] as const;
    const own = hooked.map((k) => Object.getOwnPropertyDescriptor(engine, k));
    const origRun = engine.runKernel;
    const origRead = engine.readSync;
    const origReadAsync = engine.read;
    engine.runKernel = function (this: Engine, name: string, inputs: tf.NamedTensorMap, attrs?: tf.NamedAttrMap) {
      if (depth > 0) return origRun.call(this, name, inputs, attrs);
      depth++;
      try {
        const out = origRun.call(this, name, inputs, attrs) as tf.Tensor | tf.Tensor[];
        const kernel = tf.getKernel(name, tf.getBackend());
        if (!kernel) {
          problem ??= `kernel ${name} is not registered for ${tf.getBackend()}`;
        } else {
          const ins = Array.isArray(inputs)
            ? (inputs as tf.Tensor[]).map(refOf)
            : Object.fromEntries(Object.entries(inputs).filter(([, t]) => t != null).map(([k, t]) => [k, refOf(t as tf.Tensor)]));
          const outs = Array.isArray(out) ? out : [out];
          if ((Object.values(ins) as Ref[]).every((r) => r.kind === 'const')) {
            // Reads nothing that changes between calls (weights, constants): its outputs are constants of the plan.
            // (A random kernel among them would make the two traced passes differ, which the check below catches.)
            for (const t of outs) refOf(t);
            constantKernels++;
          } else {
            const slots = outs.map((t) => {
              slotOf.set(t, slotShape.length);
              slotShape.push(t.shape);
              return slotShape.length - 1;
            });
            raw.push({ kernel, inputs: ins, attrs: attrs ? { ...attrs } : attrs, out: slots });
          }
        }
        return out;
      } finally {
        depth--;
      }
    } as typeof engine.runKernel;
    engine.readSync = function (this: Engine, dataId: object) {
      problem ??= 'the forward reads tensor data on the host';
      return origRead.call(this, dataId);
    } as typeof engine.readSync;
    engine.read = function (this: Engine, dataId: object) {
      problem ??= 'the forward reads tensor data on the host';
      return origReadAsync.call(this, dataId);
    } as typeof engine.read;
    let output: tf.Tensor;
    let plan: Plan | undefined;
    try {
      output = this.forward(x);
      if (problem) throw new Untraceable(problem);
      const outSlot = slotOf.get(output);
      if (outSlot === undefined) throw new Untraceable('the output is not produced by a kernel of the pass');
      // Every parameter and buffer of the module, read or not: a pass may read tensors derived from them (batch norm's
      // cached scale and shift), so a new running variance alone must retrace too.
      const watched = new Set<tf.Variable>([...this.module.namedParameters(), ...this.module.namedBuffers()].map(([, v]) => v));
      for (const t of consts) if (t instanceof tf.Variable) watched.add(t);
      const vars = [...watched].map((v) => ({ v, dataId: v.dataId }));
      plan = { steps: schedule(raw, slotShape, outSlot), slots: slotShape.length, output: outSlot, consts: constInfos, vars, backend };
    } catch (e) {
      for (const c of constInfos) backend.disposeData(c.dataId);
      if (!(e instanceof Untraceable)) {
        drop(first);
        throw e;
      }
      this.unsupported = e.message;
    } finally {
      // The hooks are own properties shadowing the prototype's methods: put back what was there.
      hooked.forEach((k, i) => {
        if (own[i]) Object.defineProperty(engine, k, own[i]!);
        else delete (engine as unknown as Record<string, unknown>)[k];
      });
    }
    if (!plan) {
      drop(first);
      return { output: output! };
    }
    // The plan must give forward's output bit for bit, and forward must give it twice (no randomness in eval).
    const again = first;
    const a = output!.dataSync(), b = again.dataSync(), c = replayData(plan, x);
    const same = (p: ArrayLike<number>, q: ArrayLike<number>) => p.length === q.length && Array.prototype.every.call(p,
      (v: number, i: number) => Object.is(v, q[i]) || (Number.isNaN(v) && Number.isNaN(q[i])));
    drop(again);
    if (!same(a, b)) this.unsupported = 'two eval-mode forwards of the same input differ';
    else if (!same(a, c)) this.unsupported = 'the replayed pass differs from forward';
    if (this.unsupported) {
      release(plan);
      return { output: output! };
    }
    this.lastTrace = { steps: raw.length, constantKernels, folded: 0 };
    if (this.fold) {
      const fused = foldConvEpilogues(raw, slotShape, plan.output, plan.consts, backend);
      if (fused.folded > 0) {
        const folded: Plan = { ...plan, steps: schedule(fused.steps, slotShape, plan.output) };
        const f = replayData(folded, x);
        const worst = Array.prototype.findIndex.call(a, (v: number, i: number) => !(Math.abs(f[i] - v) <= 1e-5 + 1e-5 * Math.abs(v)));
        if (worst < 0) {
          plan = folded;
          this.lastTrace = { steps: fused.steps.length, constantKernels, folded: fused.folded };
        } else {
          this.foldRejected = `folded output ${f[worst]} against forward's ${a[worst]} at element ${worst}`;
        }
      }
    }
    pruneConsts(plan);
    return { output: output!, plan };
  }
}

/** Kernels that only give their input another shape (on wasm: the same data, one more reference). */
const VIEWS = new Set(['Reshape', 'ExpandDims']);

/**
 * Assigns each slot's release to its last reader (the output slot is never released), and marks shape changes as views
 * (their output shapes are known from the trace, so the replay skips the kernel's shape arithmetic).
 */
function schedule(traced: Traced[], slotShape: number[][], outSlot: number): Step[] {
  const slots = slotShape.length;
  const last = new Array<number>(slots).fill(-1);
  traced.forEach((st, i) => {
    for (const r of Object.values(st.inputs) as Ref[]) if (r.kind === 'slot') last[r.i] = i;
  });
  last[outSlot] = traced.length;
  const steps: Step[] = traced.map((st) => ({
    ...st, out: st.out.map((s) => (last[s] === -1 ? -1 : s)), free: [],
    view: VIEWS.has(st.kernel.kernelName) && Object.keys(st.inputs).length === 1 ? slotShape[st.out[0]] : undefined,
  }));
  last.forEach((i, s) => {
    if (i >= 0 && i < traced.length) steps[i].free.push(s);
  });
  return steps;
}

const CONVS: Record<string, string> = {
  Conv2D: 'FusedConv2D', FusedConv2D: 'FusedConv2D', DepthwiseConv2dNative: 'FusedDepthwiseConv2D',
  FusedDepthwiseConv2D: 'FusedDepthwiseConv2D',
};

/**
 * Folds into each NHWC convolution with constant weights the chain of per-channel affine kernels that alone read its
 * output: multiplies and adds by constants of [C] (or [1, ..., C]), a shape change that keeps the channel axis last,
 * and a final ReLU or PReLU with constant slopes. y = conv(x, W) * a + b becomes conv(x, W * a) + b, one fused kernel with
 * bias and activation.
 */
function foldConvEpilogues(traced: Traced[], slotShape: number[][], outSlot: number, consts: TensorInfo[],
  backend: tf.KernelBackend): { steps: Traced[]; folded: number } {
  const readers = new Array<number[]>(slotShape.length);
  traced.forEach((st, i) => {
    for (const r of Object.values(st.inputs) as Ref[]) if (r.kind === 'slot') (readers[r.i] ??= []).push(i);
  });
  const sole = (slot: number) => (slot !== outSlot && readers[slot]?.length === 1 ? readers[slot][0] : -1);
  const constOf = (r: Ref | undefined) => (r?.kind === 'const' ? r.c : -1);
  const read = (c: number) => backend.readSync(consts[c].dataId) as Float32Array;
  const addConst = (data: Float32Array, shape: number[]): Ref => {
    const t = tf.tensor(data, shape, 'float32');
    (backend as unknown as { incRef(d: unknown): void }).incRef(t.dataId);
    consts.push({ dataId: t.dataId, shape, dtype: 'float32' });
    t.dispose();
    return { kind: 'const', c: consts.length - 1 };
  };
  const removed = new Set<number>();
  const out: Traced[] = traced.map((st) => ({ ...st }));
  let folded = 0;
  traced.forEach((st, i) => {
    const fusedName = CONVS[st.kernel.kernelName];
    if (!fusedName || Array.isArray(st.inputs)) return;
    const { x, filter, bias, preluActivationWeights } = st.inputs;
    const attrs = st.attrs ?? {};
    const f = constOf(filter), b0 = bias ? constOf(bias) : -2;
    if (!x || f < 0 || b0 === -1 || preluActivationWeights || (attrs.activation ?? 'linear') !== 'linear' ||
        (attrs.dataFormat ?? 'NHWC') !== 'NHWC' || consts[f].dtype !== 'float32') return;
    const fShape = consts[f].shape;
    const C = fusedName === 'FusedDepthwiseConv2D' ? fShape[2] * fShape[3] : fShape[3];
    const ops: { kind: 'mul' | 'add'; c: number }[] = [];
    const chain: number[] = [];
    let reshape = -1, relu = false, prelu = -1, cur = st.out[0], end = cur;
    for (let j = sole(cur); j >= 0 && !relu && prelu < 0; j = sole(cur)) {
      const sj = traced[j], name = sj.kernel.kernelName, next = sj.out[0];
      if (name === 'Reshape' && reshape < 0 && slotShape[next].at(-1) === C) {
        reshape = j;
      } else if ((name === 'Multiply' || name === 'Add') && !Array.isArray(sj.inputs)) {
        const { a, b } = sj.inputs;
        const k = a?.kind === 'slot' && a.i === cur ? constOf(b) : b?.kind === 'slot' && b.i === cur ? constOf(a) : -1;
        const ks = k >= 0 ? consts[k].shape : [];
        if (k < 0 || consts[k].dtype !== 'float32' || ks.at(-1) !== C || ks.slice(0, -1).some((d) => d !== 1) ||
            ks.length > slotShape[cur].length || `${slotShape[next]}` !== `${slotShape[cur]}`) break;
        ops.push({ kind: name === 'Multiply' ? 'mul' : 'add', c: k });
      } else if (name === 'Relu') {
        relu = true;
      } else if (name === FUSED.prelu && !Array.isArray(sj.inputs) && sj.inputs.x?.kind === 'slot' && sj.inputs.x.i === cur) {
        const k = constOf(sj.inputs.alpha);
        const n = k >= 0 ? consts[k].shape.reduce((a, b) => a * b, 1) : 0;
        if (k < 0 || consts[k].dtype !== 'float32' || (n !== 1 && n !== C)) break;
        prelu = k;
      } else {
        break;
      }
      chain.push(j);
      cur = next;
      if (name !== 'Reshape') end = cur;
    }
    // A shape change with nothing folded after it stays where it is.
    if (reshape >= 0 && chain[chain.length - 1] === reshape) {
      chain.pop();
      reshape = -1;
    }
    if (!ops.length && !relu && prelu < 0) return;
    // The scale and shift per output channel, composed in order: y = conv * scale + shift.
    const scale = new Float64Array(C).fill(1), shift = new Float64Array(C);
    if (b0 >= 0) read(b0).forEach((v, c) => (shift[c] = v));
    for (const op of ops) {
      const k = read(op.c);
      for (let c = 0; c < C; c++) {
        if (op.kind === 'mul') {
          scale[c] *= k[c];
          shift[c] *= k[c];
        } else {
          shift[c] += k[c];
        }
      }
    }
    // Output channel of every filter element: the last axis (dense [KH, KW, Cin, Cout]), or the last two (depthwise
    // [KH, KW, Cin, M], channel c * M + m): either way the flat index modulo C.
    const w = read(f), w2 = new Float32Array(w.length);
    for (let e = 0; e < w.length; e++) w2[e] = w[e] * scale[e % C];
    for (const j of chain) if (j !== reshape) removed.add(j);
    // With a shape change inside the chain, the fused convolution writes its own slot and the reshape moves the result
    // to the chain's last slot; without one, the fused convolution writes that slot directly.
    const convOut = reshape >= 0 ? st.out[0] : end;
    const inputs: Record<string, Ref> = { x, filter: addConst(w2, fShape), bias: addConst(Float32Array.from(shift), [C]) };
    if (prelu >= 0) {
      // The slopes, one per channel (the fused kernels take [C]; a shared slope is repeated).
      const a = read(prelu);
      inputs.preluActivationWeights = addConst(Float32Array.from({ length: C }, (_, c) => a[a.length === 1 ? 0 : c]), [C]);
    }
    out[i] = {
      kernel: tf.getKernel(fusedName, tf.getBackend())!,
      inputs,
      attrs: { ...attrs, activation: prelu >= 0 ? 'prelu' : relu ? 'relu' : 'linear' },
      out: [convOut],
    };
    if (reshape >= 0) out[reshape] = { ...traced[reshape], inputs: { x: { kind: 'slot', i: st.out[0] } }, out: [end] };
    folded++;
  });
  return { steps: out.filter((_, i) => !removed.has(i)), folded };
}

/** Releases the constants no step of the plan reads (a folded convolution's original weights) and renumbers the rest. */
function pruneConsts(plan: Plan): void {
  const used = new Set<number>();
  for (const st of plan.steps) for (const r of Object.values(st.inputs) as Ref[]) if (r.kind === 'const') used.add(r.c);
  const index = new Map<number, number>();
  const kept: TensorInfo[] = [];
  plan.consts.forEach((c, i) => {
    if (used.has(i)) {
      index.set(i, kept.length);
      kept.push(c);
    } else {
      plan.backend.disposeData(c.dataId);
    }
  });
  const map = (r: Ref): Ref => (r.kind === 'const' ? { kind: 'const', c: index.get(r.c)! } : r);
  for (const st of plan.steps) {
    st.inputs = Array.isArray(st.inputs) ? st.inputs.map(map) : Object.fromEntries(Object.entries(st.inputs).map(([k, r]) => [k, map(r)]));
  }
  plan.consts = kept;
}

function replay(plan: Plan, x: tf.Tensor): TensorInfo {
  const backend = plan.backend;
  const xInfo: TensorInfo = { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  const slots: (TensorInfo | undefined)[] = new Array(plan.slots);
  const resolve = (r: Ref): TensorInfo => (r.kind === 'slot' ? slots[r.i]! : r.kind === 'input' ? xInfo : plan.consts[r.c]);
  for (const st of plan.steps) {
    if (st.view) {
      const src = resolve(Object.values(st.inputs)[0] as Ref);
      (backend as unknown as { incRef(d: unknown): void }).incRef(src.dataId);
      if (st.out[0] >= 0) slots[st.out[0]] = { dataId: src.dataId, shape: st.view, dtype: src.dtype };
      else backend.disposeData(src.dataId);
      for (const s of st.free) {
        backend.disposeData(slots[s]!.dataId);
        slots[s] = undefined;
      }
      continue;
    }
    const inputs = Array.isArray(st.inputs)
      ? st.inputs.map(resolve)
      : Object.fromEntries(Object.entries(st.inputs).map(([k, r]) => [k, resolve(r)]));
    const out = st.kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, attrs: st.attrs, backend });
    const outs = Array.isArray(out) ? out : [out];
    st.out.forEach((s, j) => {
      if (s >= 0) slots[s] = outs[j];
      else backend.disposeData(outs[j].dataId);
    });
    for (const s of st.free) {
      backend.disposeData(slots[s]!.dataId);
      slots[s] = undefined;
    }
  }
  return slots[plan.output]!;
}

/** The plan's output for `x`, read to the host (the check at trace time). */
function replayData(plan: Plan, x: tf.Tensor): Float32Array | Int32Array | Uint8Array {
  const t = tf.engine().makeTensorFromTensorInfo(replay(plan, x));
  const data = t.dataSync() as Float32Array | Int32Array | Uint8Array;
  t.dispose();
  return data;
}

function release(plan: Plan): void {
  for (const c of plan.consts) plan.backend.disposeData(c.dataId);
  plan.consts.length = 0;
}
