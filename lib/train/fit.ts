import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { Ctx, Module } from '../nn/module';
import { Rng } from '../util/rng';
import { Optimizer, OptimizerOptions, ParamGroup } from './optimizers';
import { lrFactor, ScheduleOptions } from './schedule';
import { clipByGlobalNorm } from './clip';
import { Progress, ProgressMode } from './progress';
import { EpochRecord, History, StepRecord } from './history';
import { readCheckpoint, writeCheckpoint } from './checkpoint';
import { batchSizeOf, MicroBatch, microBatchRanges, planMicroBatch, sliceBatch, slicedTensors, WASM_HEAP_BYTES } from './micro_batch';

/** What a step function returns: the loss to minimise, and optionally named terms to log. */
export interface StepOutput {
  loss: tf.Scalar;
  terms?: Record<string, tf.Scalar>;
}

/** Where a step is. */
export interface StepInfo {
  /** Epoch, 1-based. */
  epoch: number;
  /** Optimizer steps taken before this one (0-based global step). */
  step: number;
  /** Index of the batch within its epoch. */
  batchIndex: number;
}

/** Computes the loss of one batch; runs inside the gradient tape (use only tf ops on tensors). */
export type StepFn<B> = (batch: B, ctx: Ctx, info: StepInfo) => tf.Scalar | StepOutput;

/** Checkpointing of {@link fit}. */
export interface CheckpointOptions {
  /** Folder of the run's checkpoint (checkpoint.ckpt). */
  dir: string;
  /** Also write every this many optimizer steps. Default: only at the end of each epoch. */
  everySteps?: number;
  /** Continue from the checkpoint in `dir` if there is one. Default true. */
  resume?: boolean;
}

/** Options of {@link fit}. */
export interface FitOptions<B> {
  /** The modules whose parameters train by default and whose weights and buffers checkpoints hold. */
  modules: Module | Record<string, Module>;
  /** The loss of one batch. */
  step: StepFn<B>;
  /** The batches of an epoch (1-based), from a generator seeded for that epoch. */
  batches: (epoch: number, rng: Rng) => Iterable<B> | AsyncIterable<B>;
  /** Epochs to run. */
  epochs: number;
  /** An optimizer, or its options with optional parameter groups. Default Adam, lr 1e-3, all parameters. */
  optimizer?: Optimizer | (OptimizerOptions & { groups?: ParamGroup[] });
  /** Learning-rate schedule over optimizer steps. Default constant. */
  schedule?: ScheduleOptions;
  /** Clip gradients to this global L2 norm. Default: no clipping. */
  clipNorm?: number;
  /** Accumulate gradients over this many batches per optimizer step (their mean). Default 1. */
  accumulate?: number;
  /** Seed of the data order (per epoch) and of dropout and other randomness (per step). Default 0. */
  seed?: number;
  /** Stop after this many optimizer steps in total. Default: no limit. */
  maxSteps?: number;
  /** Batches per epoch, for the progress bar's ETA. Default: unknown (or counted in the first epoch). */
  stepsPerEpoch?: number;
  /** Write checkpoints and resume from them. Default: none. */
  checkpoint?: CheckpointOptions;
  /** Called after each epoch; its numbers join the epoch's record. Default: none. */
  validate?: (epoch: number) => Promise<Record<string, number>> | Record<string, number>;
  /** Called after each optimizer step; returning 'stop' ends training. */
  onStep?: (rec: StepRecord) => void | 'stop';
  /** Called after each epoch; returning 'stop' ends training. */
  onEpoch?: (rec: EpochRecord) => void | 'stop' | Promise<void | 'stop'>;
  /** Progress display. Default 'auto' (bar in a terminal or notebook, a line per epoch in logs). */
  progress?: ProgressMode;
  /** Label of the progress line. Default 'train'. */
  label?: string;
  /** Dispose each batch's tensors after its step. Default true. */
  disposeBatches?: boolean;
  /**
   * Run each batch as micro-batches of at most this many items, accumulating their gradients into one
   * optimizer step: the step's loss on items [s, e) of a batch of n is weighted by (e - s) / n, so for a
   * loss that is a mean over items the step equals the whole batch's exactly, except that batch norm then
   * normalises over each micro-batch instead of the batch. Every micro-batch of a batch gets the same
   * `ctx.rng` (so a sandwich rule draws the same widths for all of them; dropout masks repeat). 'auto':
   * on the wasm backend, whose heap stops at 4 GB, the largest micro-batch the heap is estimated to hold
   * (two small probe steps on the first batch measure the step's own peak memory per item; see
   * train.planMicroBatch), with a line saying so when the batch is cut; the whole batch on other backends.
   * The choice is stored in checkpoints and kept on resume. The probes call the step function twice more:
   * a step that keeps state outside tensors (an assignment memory, a controller) should use a fixed size.
   * Default: the whole batch.
   */
  microBatch?: MicroBatch;
  /** The memory budget of microBatch 'auto', in bytes. Default 90% of the wasm heap's 4 GB. */
  memoryBudget?: number;
  /** Items [start, end) of a batch, for micro-batches. Default train.sliceBatch (tensors sliced on axis 0). */
  sliceBatch?: (batch: B, size: number, start: number, end: number) => B;
  /**
   * Plain text lines for a log file: where training resumed, the micro-batch chosen, one line per epoch.
   * They are written whatever the progress display. Default: none.
   */
  log?: (line: string) => void;
  /** Called once, before training continues, when a checkpoint was found and loaded. */
  onResume?: (info: ResumeInfo) => void;
}

/** Where {@link fit} resumed from, when it found a checkpoint (see FitOptions.onResume). */
export interface ResumeInfo {
  file: string;
  /** The epoch (1-based) and batch index within it where training continued. */
  epoch: number;
  batchIndex: number;
  /** Optimizer steps already taken. */
  step: number;
}

/** Raised when a loss or gradient is NaN or infinite; training stops and the last checkpoint stays intact. */
export class NonFiniteLossError extends Error {
  constructor(message: string, readonly epoch: number, readonly step: number, readonly values: Record<string, number>) {
    super(message);
    this.name = 'NonFiniteLossError';
  }
}

function moduleMap(m: Module | Record<string, Module>): Record<string, Module> {
  return m instanceof Module ? { model: m } : m;
}

async function* iterate<B>(it: Iterable<B> | AsyncIterable<B>): AsyncGenerator<B> {
  if (Symbol.asyncIterator in it) {
    for await (const b of it as AsyncIterable<B>) yield b;
  } else {
    for (const b of it as Iterable<B>) yield b;
  }
}

const CKPT = 'checkpoint.ckpt';

/**
 * The training loop every recipe uses. For each epoch it draws the batches from `batches(epoch, rng)`,
 * computes the step function's loss and its gradients, accumulates them over `accumulate` batches, clips
 * them, and takes an optimizer step with the scheduled learning rate; it shows progress, records a
 * {@link History}, validates, and writes atomic checkpoints. A NaN or infinite loss or gradient norm
 * throws {@link NonFiniteLossError} naming the step and the loss terms, before anything is written.
 *
 * Determinism and resume: the data order of epoch e comes from Rng(`${seed}/epoch/${e}`) and the
 * randomness of step s (dropout, gate sampling: `ctx.rng`) from Rng(`${seed}/step/${s}`), so a run resumed
 * from a checkpoint (weights, buffers, optimizer state, history and position) continues exactly as the
 * uninterrupted run would have, on the same backend.
 */
export async function fit<B>(opts: FitOptions<B>): Promise<History> {
  const modules = moduleMap(opts.modules);
  const seed = opts.seed ?? 0;
  const accumulate = Math.max(1, opts.accumulate ?? 1);
  const ownOptimizer = !(opts.optimizer instanceof Optimizer);
  const optimizer = opts.optimizer instanceof Optimizer ? opts.optimizer : new Optimizer(
    opts.optimizer?.groups ?? Object.values(modules).flatMap((m) => m.parameters()),
    { kind: 'adam', ...(opts.optimizer ?? {}) });
  const vars = optimizer.variables();
  if (!vars.length) throw new Error('fit: nothing to train (no parameters)');
  let history = new History();
  let epoch = 1;
  let skipBatches = 0;
  let globalStep = 0;
  let resumedSums: { sums: Record<string, number>; counted: number } | undefined;
  let resumedMicroBatch: number | null | undefined;
  const ckptFile = opts.checkpoint ? path.join(opts.checkpoint.dir, CKPT) : undefined;
  const progress = new Progress(opts.label ?? 'train', opts.epochs, opts.progress ?? 'auto', undefined, opts.log);

  if (ckptFile && (opts.checkpoint!.resume ?? true) && fs.existsSync(ckptFile)) {
    const ck = readCheckpoint(ckptFile);
    try {
      for (const [key, m] of Object.entries(modules)) {
        const prefix = `module/${key}/`;
        m.loadStateDict(new Map([...ck.tensors].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v])));
      }
      optimizer.setState({ step: ck.meta.optimizerStep as number,
        tensors: new Map([...ck.tensors].filter(([k]) => k.startsWith('optimizer/')).map(([k, v]) => [k.slice(10), v])) });
    } finally {
      tf.dispose([...ck.tensors.values()]);
    }
    history = History.fromJSON(ck.meta.history as ReturnType<History['toJSON']>);
    epoch = ck.meta.epoch as number;
    skipBatches = ck.meta.batchIndex as number;
    globalStep = ck.meta.globalStep as number;
    resumedSums = ck.meta.epochSums as typeof resumedSums;
    resumedMicroBatch = ck.meta.microBatch as number | null | undefined;
    opts.onResume?.({ file: ckptFile, epoch, batchIndex: skipBatches, step: globalStep });
    progress.message(`${opts.label ?? 'train'}: resumed from ${ckptFile} at epoch ${epoch}, batch ${skipBatches}, ` +
      `after ${globalStep} optimizer step(s)`);
  }

  const save = async (batchIndex: number, ep: number, epochSums?: { sums: Record<string, number>; counted: number }) => {
    if (!ckptFile) return;
    const tensors = new Map<string, tf.Tensor>();
    for (const [key, m] of Object.entries(modules)) for (const [k, v] of m.stateDict()) tensors.set(`module/${key}/${k}`, v);
    const st = optimizer.getState();
    for (const [k, v] of st.tensors) tensors.set(`optimizer/${k}`, v);
    await writeCheckpoint(ckptFile, { meta: { epoch: ep, batchIndex, globalStep, optimizerStep: st.step, seed,
      history: history.toJSON(), microBatch: microLimit ?? null, ...(epochSums ? { epochSums } : {}) }, tensors });
    tf.dispose([...st.tensors.values()]);
  };

  let stepsPerEpoch = opts.stepsPerEpoch;
  let stopped = false;
  let lastYield = Date.now();
  const slice = opts.sliceBatch ?? sliceBatch;
  let microLimit: number | undefined = typeof opts.microBatch === 'number' ? Math.max(1, Math.floor(opts.microBatch)) : undefined;
  let planned = opts.microBatch !== 'auto';
  // A resumed run keeps the micro-batches it was running with (batch norm sees them: the same split, the same numbers).
  if (opts.microBatch === 'auto' && resumedMicroBatch !== undefined) {
    microLimit = resumedMicroBatch ?? undefined;
    planned = true;
  }

  // One forward and backward pass of the step on the items [0, n) of `batch`, returning the step's peak
  // tensor bytes; module buffers (batch-norm statistics) are restored afterwards. State a step function keeps
  // outside tensors (an assignment memory, a controller) is not: such steps should use a fixed microBatch.
  const probePeak = async (batch: B, size: number, n: number): Promise<number> => {
    const buffers = Object.values(modules).flatMap((m) => m.namedBuffers().map(([, v]) => v));
    const saved = buffers.map((v) => tf.clone(v));
    const part = slice(batch, size, 0, n);
    const resident = tf.memory().numBytes;
    try {
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => {
          const out = opts.step(part, { training: true, rng: new Rng(`${seed}/micro-batch-probe`) }, { epoch, step: globalStep, batchIndex: 0 });
          return out instanceof tf.Tensor ? out : out.loss;
        }, vars);
        tf.dispose([value, ...Object.values(grads)]);
      });
      // The step's own peak: what else the process holds (other models, a notebook's tensors) is left out,
      // so that the split, and with batch norm the numbers, do not depend on it.
      return info.peakBytes - resident;
    } finally {
      buffers.forEach((v, i) => v.assign(saved[i]));
      tf.dispose([...saved, ...slicedTensors(part, batch)]);
    }
  };
  const planFor = async (batch: B, size: number): Promise<void> => {
    planned = true;
    if (tf.getBackend() !== 'wasm' || size < 2) return;
    const [n1, n2] = size >= 8 ? [2, 4] : [1, 2];
    const p1 = await probePeak(batch, size, n1);
    const p2 = await probePeak(batch, size, n2);
    const plan = planMicroBatch(size, n1, p1, n2, p2, opts.memoryBudget ?? 0.9 * WASM_HEAP_BYTES);
    if (plan.microBatch < size) {
      microLimit = plan.microBatch;
      progress.message(`${opts.label ?? 'train'}: a batch of ${size} does not fit the wasm heap (about ` +
        `${((plan.fixedBytes + plan.bytesPerItem * size) / 1024 ** 3).toFixed(1)} GB at the peak of a step): running it as ` +
        `micro-batches of ${plan.microBatch} with accumulated gradients (same optimizer steps; batch norm sees the micro-batches)`);
    }
  };
  try {
  for (; epoch <= opts.epochs && !stopped; epoch++) {
    progress.startEpoch();
    const t0 = Date.now();
    const sums: Record<string, number> = { ...(resumedSums?.sums ?? {}) };
    let counted = resumedSums?.counted ?? 0;
    resumedSums = undefined;
    let batchIndex = 0;
    let micro = 0;
    let acc: Map<tf.Variable, tf.Tensor> | undefined;
    let accLoss = 0;
    const accTerms: Record<string, number> = {};

    const applyStep = async (): Promise<void> => {
      const scale = 1 / micro;
      let grads = [...acc!.entries()];
      if (scale !== 1) {
        const scaled = grads.map(([v, g]) => [v, tf.mul(g, scale)] as [tf.Variable, tf.Tensor]);
        tf.dispose(grads.map(([, g]) => g));
        grads = scaled;
      }
      const loss = accLoss / micro;
      const terms = Object.fromEntries(Object.entries(accTerms).map(([k, v]) => [k, v / micro]));
      let gradNorm: number | undefined;
      if (opts.clipNorm !== undefined) {
        const clipped = clipByGlobalNorm(grads.map(([, g]) => g), opts.clipNorm);
        gradNorm = (await clipped.norm.data())[0];
        clipped.norm.dispose();
        tf.dispose(grads.map(([, g]) => g));
        grads = grads.map(([v], i) => [v, clipped.grads[i]]);
        if (!Number.isFinite(gradNorm)) {
          tf.dispose(grads.map(([, g]) => g));
          throw new NonFiniteLossError(`training stopped at epoch ${epoch}, step ${globalStep + 1}: gradient norm is ${gradNorm} ` +
            `(loss ${loss}${Object.keys(terms).length ? `, ${Object.entries(terms).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}); ` +
            `${ckptFile ? `the last checkpoint in ${opts.checkpoint!.dir} is intact` : 'no checkpoint was written'}`,
          epoch, globalStep + 1, { loss, ...terms });
        }
      }
      const factor = lrFactor(globalStep, opts.schedule);
      optimizer.step(new Map(grads), factor);
      tf.dispose(grads.map(([, g]) => g));
      acc = undefined;
      globalStep += 1;
      const rec: StepRecord = { epoch, step: globalStep, loss, lr: optimizer.groups[0].lr * factor, ...terms,
        ...(gradNorm !== undefined ? { gradNorm } : {}) };
      history.steps.push(rec);
      sums.loss = (sums.loss ?? 0) + loss;
      for (const [k, v] of Object.entries(terms)) sums[k] = (sums[k] ?? 0) + v;
      counted += 1;
      micro = 0;
      accLoss = 0;
      for (const k of Object.keys(accTerms)) delete accTerms[k];
      progress.update(epoch, batchIndex, stepsPerEpoch, { loss, ...terms });
      // On wasm every await in a step resolves as a microtask, so without a macrotask now and then nothing
      // else runs until training ends: progress output in a notebook (sent by the kernel), log streams,
      // signal handlers. Yield to the event loop at most every 200 ms.
      if (Date.now() - lastYield > 200) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = Date.now();
      }
      if (opts.onStep?.(rec) === 'stop') stopped = true;
      if (opts.maxSteps !== undefined && globalStep >= opts.maxSteps) stopped = true;
      if (opts.checkpoint?.everySteps && globalStep % opts.checkpoint.everySteps === 0) {
        await save(batchIndex, epoch, { sums: { ...sums }, counted });
      }
    };

    let broke = false;
    for await (const batch of iterate(opts.batches(epoch, new Rng(`${seed}/epoch/${epoch}`)))) {
      if (stopped) {
        // Stopped on the previous batch and the epoch has more: it was cut short. (Had the iterator ended
        // instead, the epoch would have finished normally.)
        if (opts.disposeBatches ?? true) tf.dispose(batch as unknown as tf.TensorContainer);
        broke = true;
        break;
      }
      if (batchIndex < skipBatches) {
        batchIndex += 1;
        if (opts.disposeBatches ?? true) tf.dispose(batch as unknown as tf.TensorContainer);
        continue;
      }
      const info: StepInfo = { epoch, step: globalStep, batchIndex };
      const size = batchSizeOf(batch);
      if (!planned && size !== undefined) await planFor(batch, size);
      const ranges = size !== undefined && microLimit !== undefined && size > microLimit ? microBatchRanges(size, microLimit) : undefined;
      const rngKey = `${seed}/step/${globalStep}/${micro}`;
      let lossV = 0;
      const termV: Record<string, number> = {};
      const grads: Record<string, tf.Tensor> = {};
      for (const [start, end] of ranges ?? [[0, size ?? 1]]) {
        const part = ranges ? slice(batch, size!, start, end) : batch;
        const weight = ranges ? (end - start) / size! : 1;
        const ctx: Ctx = { training: true, rng: new Rng(rngKey) };
        const kept: Record<string, tf.Scalar> = {};
        const res = tf.variableGrads(() => {
          const out = opts.step(part, ctx, info);
          const o: StepOutput = out instanceof tf.Tensor ? { loss: out } : out;
          for (const [k, t] of Object.entries(o.terms ?? {})) kept[k] = tf.keep(weight === 1 ? t.clone() : tf.mul(t, weight));
          return weight === 1 ? o.loss : tf.mul(o.loss, weight) as tf.Scalar;
        }, vars);
        if (ranges) tf.dispose(slicedTensors(part, batch));
        // Loss and terms come back in one read (one synchronisation per step on asynchronous backends).
        const names = Object.keys(kept);
        const packed = tf.stack([res.value, ...names.map((k) => kept[k])]);
        const values = await packed.data();
        lossV += values[0];
        names.forEach((k, i) => { termV[k] = (termV[k] ?? 0) + values[i + 1]; });
        tf.dispose([packed, res.value, ...Object.values(kept)]);
        for (const [k, g] of Object.entries(res.grads)) {
          const prev = grads[k];
          grads[k] = prev ? tf.add(prev, g) : g;
          if (prev) tf.dispose([prev, g]);
        }
      }
      if (opts.disposeBatches ?? true) tf.dispose(batch as unknown as tf.TensorContainer);
      if (!Number.isFinite(lossV) || Object.values(termV).some((v) => !Number.isFinite(v))) {
        tf.dispose(Object.values(grads));
        if (acc) tf.dispose([...acc.values()]);
        throw new NonFiniteLossError(`training stopped at epoch ${epoch}, step ${globalStep + 1} (batch ${batchIndex}): ` +
          `loss is ${lossV}${Object.keys(termV).length ? ` (${Object.entries(termV).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}; ` +
          `${ckptFile ? `the last checkpoint in ${opts.checkpoint!.dir} is intact` : 'no checkpoint was written'}`,
        epoch, globalStep + 1, { loss: lossV, ...termV });
      }
      acc ??= new Map();
      for (const v of vars) {
        const g: tf.Tensor | undefined = grads[v.name];
        if (!g) continue;
        const prev = acc.get(v);
        if (prev) {
          acc.set(v, tf.add(prev, g));
          tf.dispose([prev, g]);
        } else {
          acc.set(v, g);
        }
      }
      accLoss += lossV;
      for (const [k, v] of Object.entries(termV)) accTerms[k] = (accTerms[k] ?? 0) + v;
      micro += 1;
      batchIndex += 1;
      if (micro === accumulate) await applyStep();
    }
    if (!broke && micro > 0) await applyStep();
    skipBatches = 0;
    if (!broke) stepsPerEpoch ??= batchIndex;
    if (broke) {
      // Stopped inside the epoch: remember the position and the epoch's partial sums.
      await save(batchIndex, epoch, { sums: { ...sums }, counted });
      break;
    }
    const rec: EpochRecord = { epoch, loss: counted ? sums.loss / counted : NaN, seconds: (Date.now() - t0) / 1000 };
    for (const [k, v] of Object.entries(sums)) if (k !== 'loss') rec[k] = v / Math.max(counted, 1);
    if (opts.validate) Object.assign(rec, await opts.validate(epoch));
    history.epochs.push(rec);
    progress.endEpoch(epoch, Object.fromEntries(Object.entries(rec).filter(([k]) => k !== 'epoch' && k !== 'seconds')));
    await save(0, epoch + 1);
    if ((await opts.onEpoch?.(rec)) === 'stop') stopped = true;
  }
  } finally {
    if (ownOptimizer) optimizer.dispose();
  }
  return history;
}
