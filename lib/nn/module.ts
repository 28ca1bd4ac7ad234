import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng';
import { EvalCache } from './eval_cache';

/**
 * Per-call context. Everything that changes how one forward pass behaves travels here, never in globals
 * or layer attributes: training mode, the slimmable width, taps on intermediate features, the random
 * source for dropout and gate sampling.
 */
export interface Ctx {
  /** Batch statistics in batch norm, dropout and gate sampling active. */
  training: boolean;
  /** Width multiplier in (0, 1] for slimmable layers; other layers ignore it. Default 1. */
  width?: number;
  /**
   * When present, modules record their outputs here under their path names. Recorded tensors are kept
   * clones (they outlive the model's tidy scopes and stay differentiable): whoever passes the map disposes
   * them, e.g. `tf.dispose([...taps.values()])`. Default: absent.
   */
  taps?: Map<string, tf.Tensor>;
  /** Which paths to record into `taps`. Default: every module except the root. */
  tapFilter?: (path: string) => boolean;
  /** Random source for dropout, gate sampling and noise layers. Default: the global generator. */
  rng?: Rng;
  /** Sample stochastic gates (HardConcrete) instead of using their deterministic value. Default: `training`. */
  sampleGates?: boolean;
  /** When present, modules add their multiply-accumulates for this call here (see metrics.countMacs). */
  macs?: { total: number };
  /**
   * Which items of the batch adapters (distill.Adapter) act on: every item ('on'), none ('off'), or the items from
   * index `from` on ({from}: OS-KDFT's one-step batch, a distillation half without adapters and a fine-tuning half
   * with them). Models without adapters ignore it. Default 'on'.
   */
  adapters?: 'on' | 'off' | { from: number };
}

/** A module's serialisable description: its registered type name and constructor arguments. */
export interface ModuleSpec {
  type: string;
  config: Record<string, unknown>;
}

type Factory = (config: Record<string, unknown>) => Module;
const factories = new Map<string, Factory>();
const names = new Map<Function, string>();

/**
 * Registers a Module class under a type name so that {@link loadModel} can rebuild it from its config.
 * By default the class is rebuilt with `new Ctor(config)`; pass `factory` when its constructor takes
 * something other than its config (e.g. child modules).
 */
export function registerModule<T extends Module>(
  type: string,
  ctor: new (...args: never[]) => T,
  factory?: (config: Record<string, unknown>) => T,
): void {
  const existing = names.get(ctor);
  if (existing && existing !== type) throw new Error(`registerModule: class already registered as '${existing}'`);
  factories.set(type, factory ?? ((c) => new (ctor as unknown as new (c: unknown) => T)(c)));
  names.set(ctor, type);
}

/** Rebuilds a module from a {@link ModuleSpec} (fresh parameters; weights are loaded separately). */
export function buildModule(spec: ModuleSpec): Module {
  const f = factories.get(spec.type);
  if (!f) {
    throw new Error(`buildModule: unknown module type '${spec.type}'. Known: ${[...factories.keys()].sort().join(', ')}. ` +
      'A custom Module class must be registered with registerModule() before loading.');
  }
  return f(spec.config);
}

let initRng = new Rng(0);

/** Seeds the generator used to initialise parameters (like torch.manual_seed for weights). */
export function manualSeed(seed: number): void {
  initRng = new Rng(seed);
}

/** The generator new parameters are initialised from. */
export function parameterRng(): Rng {
  return initRng;
}

/** Runs `fn` with parameter initialisation drawn from `rng`, then restores the previous generator. */
export function withParameterRng<T>(rng: Rng, fn: () => T): T {
  const prev = initRng;
  initRng = rng;
  try {
    return fn();
  } finally {
    initRng = prev;
  }
}

/**
 * Records `t` in `ctx.taps` under `name` if taps are on and `ctx.tapFilter` accepts the name: a kept
 * clone, so that it survives the tidy scopes of the modules around it (the caller disposes it). A second
 * record under the same name replaces and disposes the first.
 */
export function recordTap(ctx: Ctx, name: string, t: tf.Tensor): void {
  if (!ctx.taps || (ctx.tapFilter && !ctx.tapFilter(name))) return;
  const prev = ctx.taps.get(name);
  ctx.taps.set(name, tf.keep(t.clone()));
  if (prev) prev.dispose();
}

function joinPath(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

/**
 * Base class of every slimspeech model and layer.
 *
 * A module owns parameters (trainable variables), buffers (non-trainable state such as batch-norm
 * running statistics) and child modules, each under a name; its path in the model ('encoder.layers.0.fc')
 * names its taps and its weights. Subclasses implement `forward(x, ctx)` and `getConfig()` (the
 * JSON-serialisable constructor arguments), and are registered with {@link registerModule} to be
 * reloadable. `forward` is wrapped per instance so that every module, user-defined ones included, records
 * its output in `ctx.taps` and counts its multiply-accumulates in `ctx.macs` when asked.
 */
export abstract class Module {
  private _path = '';
  private readonly _params = new Map<string, tf.Variable>();
  private readonly _buffers = new Map<string, tf.Variable>();
  private readonly _children = new Map<string, Module>();
  private _evalCache?: EvalCache;

  /** Tensors this module derives from its own parameters for inference (see EvalCache); created on first use. */
  protected get evalCache(): EvalCache {
    return (this._evalCache ??= new EvalCache());
  }

  constructor() {
    const impl = this.forward;
    const wrapped = (x: tf.Tensor, ctx: Ctx): tf.Tensor => {
      const y = impl.call(this, x, ctx);
      if (ctx.macs) ctx.macs.total += this.macs(x.shape, y.shape, ctx);
      if (this._path) recordTap(ctx, this._path, y);
      return y;
    };
    Object.defineProperty(this, 'forward', { value: wrapped, writable: true, configurable: true, enumerable: false });
  }

  /** Computes the module's output. */
  abstract forward(x: tf.Tensor, ctx: Ctx): tf.Tensor;

  /** The constructor arguments that rebuild this module (JSON-serialisable). */
  abstract getConfig(): Record<string, unknown>;

  /**
   * Multiply-accumulates of one call of this module alone (children count themselves), given its input
   * and output shapes. Default 0 (parameter-free or composite modules).
   */
  macs(_inShape: number[], _outShape: number[], _ctx: Ctx): number {
    return 0;
  }

  /** The module's path inside the model ('' for the root). */
  get path(): string {
    return this._path;
  }

  /** The registered type name of this module's class. */
  typeName(): string {
    const n = names.get(this.constructor);
    if (!n) throw new Error(`${this.constructor.name} is not registered: call registerModule('${this.constructor.name}', ${this.constructor.name})`);
    return n;
  }

  /** `{type, config}`, enough to rebuild the architecture (weights apart). */
  spec(): ModuleSpec {
    return { type: this.typeName(), config: this.getConfig() };
  }

  /** Adds a trainable parameter initialised to a copy of `init` (which the caller keeps ownership of). */
  protected addParameter(name: string, init: tf.Tensor | Float32Array, shape?: number[]): tf.Variable {
    return this.addVariable(this._params, name, init, shape, true);
  }

  /** Adds a non-trainable buffer (saved and loaded with the weights, never optimised). */
  protected addBuffer(name: string, init: tf.Tensor | Float32Array, shape?: number[]): tf.Variable {
    return this.addVariable(this._buffers, name, init, shape, false);
  }

  private addVariable(map: Map<string, tf.Variable>, name: string, init: tf.Tensor | Float32Array,
    shape: number[] | undefined, trainable: boolean): tf.Variable {
    if (this._params.has(name) || this._buffers.has(name) || this._children.has(name)) {
      throw new Error(`${this.constructor.name}: '${name}' is already defined`);
    }
    const v = tf.tidy(() => tf.variable(init instanceof tf.Tensor ? init.clone() : tf.tensor(init, shape), trainable));
    map.set(name, v);
    return v;
  }

  /** Adds a child module under `name` and returns it. */
  protected addModule<M extends Module>(name: string, m: M): M {
    if (this._params.has(name) || this._buffers.has(name) || this._children.has(name)) {
      throw new Error(`${this.constructor.name}: '${name}' is already defined`);
    }
    this._children.set(name, m);
    m.setPath(joinPath(this._path, name));
    return m;
  }

  private setPath(p: string): void {
    this._path = p;
    for (const [n, c] of this._children) c.setPath(joinPath(p, n));
  }

  /** Direct children, in registration order. */
  children(): [string, Module][] {
    return [...this._children];
  }

  /** This module and every descendant with their paths relative to this module ('' for itself). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, c] of this._children) out.push(...c.namedModules(joinPath(prefix, n)));
    return out;
  }

  /** Trainable parameters with their paths relative to this module ('conv1.weight'). */
  namedParameters(prefix = ''): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = [];
    for (const [n, v] of this._params) out.push([joinPath(prefix, n), v]);
    for (const [n, c] of this._children) out.push(...c.namedParameters(joinPath(prefix, n)));
    return out;
  }

  /** Trainable parameters in a fixed order. */
  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, v]) => v);
  }

  /** Buffers with their paths relative to this module. */
  namedBuffers(prefix = ''): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = [];
    for (const [n, v] of this._buffers) out.push([joinPath(prefix, n), v]);
    for (const [n, c] of this._children) out.push(...c.namedBuffers(joinPath(prefix, n)));
    return out;
  }

  /** Parameters and buffers by path: what saveModel writes. */
  stateDict(): Map<string, tf.Variable> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values into this module's parameters and buffers by path. Every entry of the module must be
   * given, with its exact shape, unless `strict` is false (then missing entries keep their values).
   */
  loadStateDict(values: Map<string, tf.Tensor> | Record<string, tf.Tensor>, strict = true): void {
    const given = values instanceof Map ? values : new Map(Object.entries(values));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !given.has(k));
    const unexpected = [...given.keys()].filter((k) => !own.has(k));
    if (strict && (missing.length || unexpected.length)) {
      throw new Error(`loadStateDict: ${missing.length ? `missing ${missing.join(', ')}` : ''}` +
        `${missing.length && unexpected.length ? '; ' : ''}${unexpected.length ? `unexpected ${unexpected.join(', ')}` : ''}`);
    }
    for (const [k, v] of own) {
      const t = given.get(k);
      if (!t) continue;
      if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
        throw new Error(`loadStateDict: '${k}' has shape [${t.shape}], the module expects [${v.shape}]`);
      }
      tf.tidy(() => v.assign(t.dtype === v.dtype ? t : tf.cast(t, v.dtype)));
    }
  }

  /** Number of trainable parameters (scalars). */
  numParams(): number {
    return this.parameters().reduce((s, v) => s + v.size, 0);
  }

  /** Disposes the tensors this module and its descendants keep for inference (EvalCache); they are rebuilt on demand. */
  clearEvalCache(): void {
    this._evalCache?.clear();
    for (const c of this._children.values()) c.clearEvalCache();
  }

  /** Disposes every parameter and buffer of this module and its descendants. */
  dispose(): void {
    this._evalCache?.clear();
    for (const v of this._params.values()) v.dispose();
    for (const v of this._buffers.values()) v.dispose();
    for (const c of this._children.values()) c.dispose();
  }
}
