import type { MicroBatch } from '../train/micro_batch';
import type { Presets } from './presets';
import type { Run } from './run';

/** Fields every recipe's config has. */
export interface RecipeConfig {
  /** Seed of data order, augmentation, initialisation and every other random draw. */
  seed: number;
  /**
   * Items per micro-batch of every training (gradients accumulated into one optimizer step per batch, see
   * train.fit): a number, 'auto' (on wasm, cut a batch that would not fit the 4 GB heap), or null (whole
   * batches). With batch norm, statistics then come from the micro-batches.
   */
  microBatch: MicroBatch | null;
}

/**
 * One named step of a recipe: a function of the run (its config and state). `npx slimspeech run` walks the
 * steps in order; a notebook calls them by name (Run.step), so the order lives in the recipe only.
 *
 * A step that defines `save` and `load` is cached: after it runs, `save` writes its outputs into a folder
 * of the run directory with the step's key, a hash of its inputs (`inputs(config)`, the seed, and the keys
 * of the steps in `after`, whose outputs it consumes). A later run whose key is unchanged calls `load`
 * instead of `run`: a teacher trained once serves every student and every rerun. Other steps always run
 * (data preparation, evaluation, reports: cheap and deterministic, or timing).
 */
export interface StepDef<C extends RecipeConfig, S> {
  /** 'data', 'teacher', 'train:<variant>', 'evaluate', 'report', ... ('group:item' steps run together as 'group'). */
  name: string;
  /** What the step does, in a few words (progress lines). */
  title: string;
  /** The part of the config this step reads. Default: the whole config. */
  inputs?: (config: C) => unknown;
  /** Steps whose outputs this step consumes (their keys are part of its key). Default none. */
  after?: string[];
  /** Does the work, reading and writing `run.state`. */
  run(run: Run<C, S>): Promise<void>;
  /** Writes the step's outputs (from run.state) into `dir`. */
  save?(run: Run<C, S>, dir: string): Promise<void>;
  /** Restores the step's outputs into run.state from `dir`. */
  load?(run: Run<C, S>, dir: string): Promise<void>;
}

/** A paper's experiment as the kit runs it: typed config with presets, and its steps. */
export interface Recipe<C extends RecipeConfig, S> {
  /** The CLI name, e.g. 'slimmable-kws'. */
  name: string;
  /** One line for `slimspeech list`. */
  description: string;
  presets: Presets<C>;
  /** Throws a clear error for a config the recipe cannot run. */
  check?(config: C): void;
  /** The ordered steps for this config. */
  steps(config: C): StepDef<C, S>[];
  /** A fresh run state. */
  initialState(): S;
  /** Frees what the state holds (models, tensors). */
  dispose(state: S): void;
  /** Fields that identify a results row across seeds (--seeds N pools rows with equal values of these). */
  rowKey: string[];
}
