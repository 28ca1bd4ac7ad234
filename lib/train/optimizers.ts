import * as tf from '@tensorflow/tfjs';
import { FUSED, hasKernel } from '../backend/fused_names';

/** A set of variables optimised with their own hyper-parameters. */
export interface ParamGroup {
  /** The variables of this group. */
  params: tf.Variable[];
  /**
   * Base learning rate, scaled each step by the schedule. May be negative: the group then does gradient
   * ascent (Lagrange multipliers in DPHuBERT). Default: the optimizer's `lr`.
   */
  lr?: number;
  /** Weight decay of this group (Adam, SGD: L2 added to the gradient; AdamW: decoupled). Default: the optimizer's. */
  weightDecay?: number;
  /** A name for logs and checkpoints. Default 'group<i>'. */
  name?: string;
  /**
   * This group's own factor on its rate at optimizer step t (0-based, the optimizer's own count, which checkpoints
   * keep), on top of the schedule's: e.g. OS-KDFT's distillation parameters, warmed up and then decayed per epoch
   * while the rest stays at its rate. Default: 1.
   */
  lrScale?: (step: number) => number;
}

/** Which optimizer, as PyTorch defines it. */
export type OptimizerKind = 'adam' | 'adamw' | 'sgd';

/** Options of {@link Optimizer}. */
export interface OptimizerOptions {
  /** 'adam' (torch.optim.Adam), 'adamw' (torch.optim.AdamW) or 'sgd' (torch.optim.SGD). */
  kind: OptimizerKind;
  /** Default learning rate of the groups. Default 1e-3. */
  lr?: number;
  /** Adam betas. Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Adam epsilon, added to sqrt(v_hat). Default 1e-8. */
  eps?: number;
  /** Default weight decay. Default 0 for adam and sgd, 0.01 for adamw (PyTorch's defaults). */
  weightDecay?: number;
  /** SGD momentum. Default 0. */
  momentum?: number;
  /** SGD Nesterov momentum. Default false. */
  nesterov?: boolean;
}

interface Slot {
  m?: tf.Variable;
  v?: tf.Variable;
  buf?: tf.Variable;
}

/**
 * Adam, AdamW and SGD with momentum over parameter groups, each with its own learning rate (negative
 * allowed) and weight decay, following PyTorch's update rules exactly:
 * - Adam: g += wd * p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * - AdamW: p *= 1 - lr * wd, then the Adam step without L2
 * - SGD: g += wd * p; buf = momentum * buf + g (buf = g at the first step); g = nesterov ? g + momentum * buf : buf;
 *   p -= lr * g
 * `lrScale` (from the schedule) multiplies every group's rate. State (moments, step count) is
 * checkpointable through {@link getState} / {@link setState}.
 */
export class Optimizer {
  readonly opts: Required<OptimizerOptions>;
  readonly groups: (Required<Omit<ParamGroup, 'lrScale'>> & Pick<ParamGroup, 'lrScale'>)[];
  private slots = new Map<tf.Variable, Slot>();
  /** Variables updated at least once (SGD's momentum buffer starts as the first gradient). */
  private started = new Set<tf.Variable>();
  private t = 0;

  constructor(groups: ParamGroup[] | tf.Variable[], opts: OptimizerOptions) {
    this.opts = {
      kind: opts.kind, lr: opts.lr ?? 1e-3, betas: opts.betas ?? [0.9, 0.999], eps: opts.eps ?? 1e-8,
      weightDecay: opts.weightDecay ?? (opts.kind === 'adamw' ? 0.01 : 0), momentum: opts.momentum ?? 0,
      nesterov: opts.nesterov ?? false,
    };
    if (!['adam', 'adamw', 'sgd'].includes(this.opts.kind)) throw new Error(`Optimizer: unknown kind '${opts.kind}'`);
    const list: ParamGroup[] = groups.length && groups[0] instanceof tf.Variable
      ? [{ params: groups as tf.Variable[] }] : groups as ParamGroup[];
    const seen = new Set<tf.Variable>();
    this.groups = list.map((g, i) => {
      for (const p of g.params) {
        if (seen.has(p)) throw new Error(`Optimizer: a variable appears in more than one group (group ${i})`);
        seen.add(p);
      }
      return { params: g.params, lr: g.lr ?? this.opts.lr, weightDecay: g.weightDecay ?? this.opts.weightDecay, name: g.name ?? `group${i}`,
        lrScale: g.lrScale };
    });
  }

  /** Every optimised variable, in group order. */
  variables(): tf.Variable[] {
    return this.groups.flatMap((g) => g.params);
  }

  /** Number of steps taken. */
  get steps(): number {
    return this.t;
  }

  private slot(p: tf.Variable): Slot {
    let s = this.slots.get(p);
    if (!s) {
      s = {};
      if (this.opts.kind === 'sgd') {
        if (this.opts.momentum) s.buf = tf.variable(tf.zerosLike(p), false);
      } else {
        s.m = tf.variable(tf.zerosLike(p), false);
        s.v = tf.variable(tf.zerosLike(p), false);
      }
      this.slots.set(p, s);
    }
    return s;
  }

  /**
   * Applies one update from gradients keyed by variable (missing gradients leave a variable unchanged,
   * as PyTorch does for parameters without .grad). Does not dispose the gradients.
   */
  step(grads: Map<tf.Variable, tf.Tensor>, lrScale = 1): void {
    this.t += 1;
    const { betas: [b1, b2], eps, momentum, nesterov, kind } = this.opts;
    const bc1 = 1 - b1 ** this.t, bc2 = 1 - b2 ** this.t;
    tf.tidy(() => {
      for (const g of this.groups) {
        const lr = g.lr * lrScale * (g.lrScale ? g.lrScale(this.t - 1) : 1);
        for (const p of g.params) {
          let grad = grads.get(p);
          if (!grad) continue;
          const s = this.slot(p);
          const fusedAdam = kind !== 'sgd' && hasKernel(FUSED.adamStep);
          if (fusedAdam) {
            // Weight decay happens inside the fused step.
          } else if (kind === 'adamw') {
            if (g.weightDecay) p.assign(tf.mul(p, 1 - lr * g.weightDecay));
          } else if (g.weightDecay) {
            grad = tf.add(grad, tf.mul(p, g.weightDecay));
          }
          if (kind === 'sgd') {
            if (momentum) {
              const buf = this.started.has(p) ? tf.add(tf.mul(s.buf!, momentum), grad) : grad;
              s.buf!.assign(buf);
              grad = nesterov ? tf.add(grad, tf.mul(buf, momentum)) : buf;
            }
            p.assign(tf.sub(p, tf.mul(grad, lr)));
          } else if (hasKernel(FUSED.adamStep)) {
            // One fused kernel per parameter on wasm: the same update in one pass.
            const decoupled = kind === 'adamw';
            const [pn, mn, vn] = tf.engine().runKernel(FUSED.adamStep, { p, g: grads.get(p)!, m: s.m!, v: s.v! }, {
              b1, b2, step: lr / bc1, rbc2: 1 / Math.sqrt(bc2), eps, l2: decoupled ? 0 : g.weightDecay,
              decay: decoupled ? lr * g.weightDecay : 0 } as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
            p.assign(pn);
            s.m!.assign(mn);
            s.v!.assign(vn);
          } else {
            s.m!.assign(tf.add(tf.mul(s.m!, b1), tf.mul(grad, 1 - b1)));
            s.v!.assign(tf.add(tf.mul(s.v!, b2), tf.mul(tf.square(grad), 1 - b2)));
            const denom = tf.add(tf.div(tf.sqrt(s.v!), Math.sqrt(bc2)), eps);
            p.assign(tf.sub(p, tf.mul(tf.div(s.m!, denom), lr / bc1)));
          }
          this.started.add(p);
        }
      }
    });
  }

  /** The optimizer state as named tensors (copies) plus its step count, for checkpoints. */
  getState(): { step: number; tensors: Map<string, tf.Tensor> } {
    const tensors = new Map<string, tf.Tensor>();
    this.groups.forEach((g, gi) => g.params.forEach((p, pi) => {
      const s = this.slots.get(p);
      if (!s) return;
      for (const k of ['m', 'v', 'buf'] as const) if (s[k]) tensors.set(`${gi}.${pi}.${k}`, s[k]!.clone());
    }));
    return { step: this.t, tensors };
  }

  /** Restores a state from {@link getState} (the groups must hold the same variables in the same order). */
  setState(state: { step: number; tensors: Map<string, tf.Tensor> }): void {
    this.t = state.step;
    for (const [key, value] of state.tensors) {
      const [gi, pi, k] = key.split('.');
      const p = this.groups[Number(gi)]?.params[Number(pi)];
      if (!p) throw new Error(`Optimizer.setState: no parameter ${gi}.${pi} for state '${key}'`);
      if (value.shape.join() !== p.shape.join()) {
        throw new Error(`Optimizer.setState: '${key}' has shape [${value.shape}], the parameter has [${p.shape}]`);
      }
      const s = this.slot(p);
      const slotVar = s[k as 'm' | 'v' | 'buf'];
      if (!slotVar) throw new Error(`Optimizer.setState: '${key}' does not fit a ${this.opts.kind} optimizer`);
      slotVar.assign(value);
      this.started.add(p);
    }
  }

  /** Frees the optimizer's state. */
  dispose(): void {
    for (const s of this.slots.values()) [s.m, s.v, s.buf].forEach((v) => v?.dispose());
    this.slots.clear();
  }
}
