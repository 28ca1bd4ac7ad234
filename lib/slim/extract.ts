import * as tf from '@tensorflow/tfjs';
import { buildModule, Module, withParameterRng } from '../nn/module';
import { ModuleList, Sequential } from '../nn/sequential';
import { Rng } from '../util/rng';
import { checkWidth } from './channels';

/**
 * A module that can cut out its subnet at a width: every slimmable layer and supernet of slimspeech.
 * `extract(width)` returns a NEW module of the same registered type whose config holds the absolute,
 * smaller sizes (the active sizes at `width`) and whose weights are copies of the active slices, such that
 * its output at width 1 equals this module's output at `width`, in evaluation (and, batch statistics
 * aside, in training). The original is not modified.
 */
export interface Slimmable {
  extract(width: number): Module;
}

/** True when `m` implements {@link Slimmable}. */
export function isSlimmable(m: Module): m is Module & Slimmable {
  return typeof (m as Partial<Slimmable>).extract === 'function';
}

/**
 * Runs a module-building function inside a tidy scope and returns what it built: temporary tensors of the
 * constructors are freed, while parameters and buffers (tf.Variables, which tidy never disposes) stay.
 * Every slimspeech module keeps its state in parameters and buffers; a module that kept a plain tensor
 * made in its constructor would lose it here.
 */
export function buildTidy<T>(fn: () => T): T {
  let out: T | undefined;
  tf.tidy(() => {
    out = fn();
  });
  return out as T;
}

/**
 * Builds a module (see {@link buildTidy}) without drawing from the global parameter generator, so that
 * extraction and cloning leave a user's `manualSeed` sequence alone (the fresh weights are overwritten).
 */
export function buildQuietly<T>(fn: () => T): T {
  return withParameterRng(new Rng(0), () => buildTidy(fn));
}

function hasSlimmable(m: Module): boolean {
  return m.namedModules().some(([, c]) => isSlimmable(c));
}

/**
 * Cuts the subnet of width `width` out of a slimmable model (PAPERS.md section 1, after Yu et al.,
 * "Slimmable Neural Networks", ICLR 2019): a standalone, smaller model whose evaluation outputs equal the
 * supernet's at that width (`model.forward(x, {training: false, width})`), and which saveModel/loadModel
 * store and rebuild at its smaller size. Generic over the module tree:
 * - a {@link Slimmable} module (slimmable layers, SwitchableBatchNorm, the KWS supernets, user supernets
 *   built with {@link extractChildrenInto}) produces its own extracted version;
 * - Sequential and ModuleList are rebuilt from their extracted items;
 * - a module with no slimmable descendant (activations, pooling, dropout, a fixed plain layer) is copied;
 * - inside a supernet's own `extract`, blocks without an `extract` are walked by {@link extractChildrenInto}.
 * The extracted layers are slimmable layers at the smaller size (run at the default width 1; switchable
 * batch norm keeps one set of statistics, the one of `width`), so `recalibrateBatchNorm` works on them
 * too. The model is not modified. Throws for a composite module that contains slimmable layers but does
 * not implement {@link Slimmable}: slimspeech cannot know how its own sizes change.
 *
 * @param width in (0, 1]; need not be in a width list (switchable batch norm then uses the set of the
 *   next listed width above it, see SwitchableBatchNorm)
 */
export function extractSubnet(model: Module, width: number): Module {
  checkWidth(width, 'extractSubnet');
  if (isSlimmable(model)) return model.extract(width);
  if (model instanceof Sequential) return new Sequential(model.layers.map((m) => extractSubnet(m, width)));
  if (model instanceof ModuleList) return new ModuleList(model.items.map((m) => extractSubnet(m, width)));
  if (hasSlimmable(model)) {
    throw new Error(`extractSubnet: '${model.path || model.typeName()}' (${model.typeName()}) contains slimmable layers ` +
      'but does not implement extract(width); implement it (see slim.extractChildrenInto)');
  }
  return cloneModule(model);
}

/** A copy of a module: rebuilt from its registered type and config, with copies of its weights and buffers. */
export function cloneModule<T extends Module>(m: T): T {
  const copy = buildQuietly(() => buildModule(m.spec())) as T;
  copy.loadStateDict(m.stateDict());
  return copy;
}

/**
 * Completes a composite supernet's `extract`: `target` is a new instance built from the smaller config;
 * this fills it from `source`, child by child (by name):
 * - a {@link Slimmable} child is extracted at `width` and its weights loaded into the target's child;
 * - a child without slimmable descendants is copied as it is (its shapes do not depend on the width);
 * - any other child (a block without an `extract` of its own) is walked the same way, its own
 *   parameters and buffers copied unchanged, on the assumption that the smaller config built it right.
 * Parameters the composite owns itself (a class token, a positional embedding) are the caller's to slice.
 * Throws naming the child when shapes disagree, i.e. when the smaller config does not describe the
 * extracted children.
 */
export function extractChildrenInto(source: Module, target: Module, width: number): void {
  const targets = new Map(target.children());
  for (const [name, child] of source.children()) {
    const dst = targets.get(name);
    if (!dst) throw new Error(`extractChildrenInto: the extracted ${target.typeName()} has no child '${name}'`);
    const where = `child '${child.path || name}' of ${source.typeName()}`;
    try {
      if (isSlimmable(child)) {
        const sub = child.extract(width);
        try {
          dst.loadStateDict(sub.stateDict());
        } finally {
          sub.dispose();
        }
      } else if (!hasSlimmable(child)) {
        dst.loadStateDict(child.stateDict());
      } else {
        const own = new Map([...child.stateDict()].filter(([k]) => !k.includes('.')));
        const dstOwn = new Map([...dst.stateDict()].filter(([k]) => !k.includes('.')));
        dst.loadStateDict(own, false);
        if (own.size !== dstOwn.size) throw new Error(`own parameters differ (${[...own.keys()]} vs ${[...dstOwn.keys()]})`);
        extractChildrenInto(child, dst, width);
      }
    } catch (e) {
      if ((e as Error).message.startsWith('extractChildrenInto:')) throw e;
      throw new Error(`extractChildrenInto: ${where}: ${(e as Error).message}`);
    }
  }
}

/** Assigns the tensor `value()` computes (e.g. a slice of another variable) to `v`, inside a tidy scope. */
export function assignFrom(v: tf.Variable, value: () => tf.Tensor): void {
  tf.tidy(() => {
    v.assign(value());
  });
}
