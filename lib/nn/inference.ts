import * as tf from '@tensorflow/tfjs';
import { Ctx, Module } from './module';

type TensorInfo = tf.TensorInfo;
type Engine = ReturnType<typeof tf.engine>;
type Ref = { kind: 'slot'; i: number } | { kind: 'input' } | { kind: 'const'; c: number };

interface Step {
  kernel: tf.KernelConfig;
  /** Inputs as the op passed them: an array (Concat, AddN, ...) or named. */
  inputs: Ref[] | Record<string, Ref>;
  attrs: tf.NamedAttrMap | undefined;
  /** Slot of each output; -1 for outputs nothing reads (disposed at once). */
  out: number[];
  /** Slots whose last reader is this step: released after it. */
  free: number[];
}

interface Plan {
  steps: Step[];
  slots: number;
  output: number;
  /** Tensors from outside the pass (parameters, cached derived tensors, constants), held by a backend reference. */
  consts: TensorInfo[];
  /** The module's variables (and any other the pass read) and the data they held when traced: a new value retraces. */
  vars: { v: tf.Variable; dataId: unknown }[];
  backend: tf.KernelBackend;
}

/** Why a module's forward cannot be replayed as a plan (the runner then calls `forward`). */
class Untraceable extends Error {}

/**
 * Batch-1 (or any fixed-shape) inference without tfjs's per-op bookkeeping: the module's eval-mode forward is traced
 * once per input shape into the list of kernels it runs (their attributes, which tensor each reads), then replayed by
 * calling those kernels directly on the backend: no Tensor objects, scopes, tape checks or profiler hooks in between,
 * and each intermediate released right after its last reader. The outputs are those of `forward` bit for bit (the same
 * kernels on the same data in the same order), which the runner checks when it traces.
 *
 * A plan is rebuilt when any parameter or buffer of the module (or another variable the pass read) has changed: every
 * optimizer step, running-statistics update or `loadStateDict` assigns new data, so a runner stays valid across training
 * and batch-norm recalibration. Until then a plan holds a reference to the data it traced with (the parameters as they
 * were, and any constants of the pass): `dispose()` releases it. Passes it cannot replay faithfully run `forward` instead, with the
 * reason in `fallbackReason`: a forward that reads tensor data on the host (its control flow could depend on it), one
 * whose two runs on the same input differ (randomness in eval mode), an output that is not a kernel's, or a backend
 * other than wasm (the native backends already run whole ops in C++). Under a gradient tape it calls `forward` too.
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
  /** Traces made so far (one per input shape, plus one after each parameter change). */
  traces = 0;

  /** `ctx` is merged into every call's context (`training` is always false), e.g. `{ width: 0.5 }`. */
  constructor(readonly module: Module, private readonly ctx: Partial<Ctx> = {}) {}

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
    const raw: { kernel: tf.KernelConfig; inputs: Ref[] | Record<string, Ref>; attrs?: tf.NamedAttrMap; outs: tf.Tensor[] }[] = [];
    let slots = 0;
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
          for (const t of outs) slotOf.set(t, slots++);
          raw.push({ kernel, inputs: ins, attrs: attrs ? { ...attrs } : attrs, outs });
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
      // Build the plan: hold every outside tensor by a backend reference, then work out when each slot dies.
      // Every parameter and buffer of the module, read or not: a pass may read tensors derived from them (batch norm's
      // cached scale and shift), so a new running variance alone must retrace too.
      const watched = new Set<tf.Variable>([...this.module.namedParameters(), ...this.module.namedBuffers()].map(([, v]) => v));
      for (const t of consts) if (t instanceof tf.Variable) watched.add(t);
      const vars = [...watched].map((v) => ({ v, dataId: v.dataId }));
      const last = new Array<number>(slots).fill(-1);
      raw.forEach((st, i) => {
        for (const r of Object.values(st.inputs) as Ref[]) if (r.kind === 'slot') last[r.i] = i;
      });
      last[outSlot] = raw.length;
      const steps: Step[] = raw.map((st, i) => ({
        kernel: st.kernel, inputs: st.inputs, attrs: st.attrs,
        out: st.outs.map((t) => {
          const s = slotOf.get(t)!;
          return last[s] === -1 ? -1 : s;
        }),
        free: [],
      }));
      last.forEach((i, s) => {
        if (i >= 0 && i < raw.length) steps[i].free.push(s);
      });
      plan = { steps, slots, output: outSlot, consts: constInfos, vars, backend };
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
    const replayed = tf.engine().makeTensorFromTensorInfo(replay(plan, x));
    const a = output!.dataSync(), b = again.dataSync(), c = replayed.dataSync();
    const same = (p: ArrayLike<number>, q: ArrayLike<number>) => p.length === q.length && Array.prototype.every.call(p,
      (v: number, i: number) => Object.is(v, q[i]) || (Number.isNaN(v) && Number.isNaN(q[i])));
    drop(again);
    replayed.dispose();
    if (!same(a, b)) this.unsupported = 'two eval-mode forwards of the same input differ';
    else if (!same(a, c)) this.unsupported = 'the replayed pass differs from forward';
    if (this.unsupported) {
      release(plan);
      return { output: output! };
    }
    return { output: output!, plan };
  }
}

function replay(plan: Plan, x: tf.Tensor): TensorInfo {
  const backend = plan.backend;
  const xInfo: TensorInfo = { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  const slots: (TensorInfo | undefined)[] = new Array(plan.slots);
  const resolve = (r: Ref): TensorInfo => (r.kind === 'slot' ? slots[r.i]! : r.kind === 'input' ? xInfo : plan.consts[r.c]);
  for (const st of plan.steps) {
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

function release(plan: Plan): void {
  for (const c of plan.consts) plan.backend.disposeData(c.dataId);
  plan.consts.length = 0;
}
