import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from '../nn/module';

/** Arguments of {@link AssignmentMemory}. */
export interface AssignmentMemoryArgs {
  /** Number of training samples N; sample ids are 0..N-1. */
  numSamples: number;
  /** Number of sources S. */
  numSources: number;
}

/** Options of {@link AssignmentMemory.update}. */
export interface AssignmentUpdateOptions {
  /**
   * [batch] bool (or 0/1): the samples dynamic sample dropout flagged in this step, counted in the epoch's
   * dropped share. Default: none flagged.
   */
  flagged?: tf.Tensor;
  /**
   * The epoch (1-based, `StepInfo.epoch` in a training step) of this update: when it differs from the epoch the
   * counters belong to, the epoch counters restart from zero first. Kept in a buffer, so a run resumed from a
   * checkpoint in the middle of an epoch keeps counting that epoch. Default: counters are only reset by
   * {@link AssignmentMemory.startEpoch}.
   */
  epoch?: number;
}

/** What {@link AssignmentMemory.statistics} reports for the current epoch. */
export interface AssignmentStatistics {
  /** The epoch the counters belong to (0 before any update with an epoch, or after startEpoch() without one). */
  epoch: number;
  /** Distinct samples seen this epoch. */
  seen: number;
  /** Of those, samples that had been seen before (their last assignment was known). */
  revisited: number;
  /** Of those, samples whose best assignment differed from the one they had the last time they were seen. */
  switched: number;
  /** Samples flagged by dynamic sample dropout (dropped or reordered) at least once this epoch. */
  flagged: number;
  /** Label-switch rate: switched / revisited (NaN when no sample was revisited, as in the first epoch). */
  switchRate: number;
  /** Dropped (or reordered) share: flagged / seen (NaN when no sample was seen). */
  flaggedShare: number;
}

/**
 * Per-sample memory of PIT label assignments for dynamic sample dropout (Gao et al. 2023, "Dynamic sample
 * dropout and layer-wise optimization for speech separation", arXiv 2311.12199; PAPERS.md section 5). For each of
 * N training samples and S sources it keeps, in buffers (saved by saveModel and by train.fit's checkpoints, so the
 * memory survives a kill and resume when it is one of fit's `modules`):
 * - `bestPerm` int32 [N, S] and `bestMetric` float32 [N]: the best assignment so far and its metric (higher is
 *   better: the mean SI-SNR in dB of the best permutation with the default pair loss). "Best so far" is the
 *   assignment of the highest metric ever seen: when a sample gets worse, the best is kept, not overwritten;
 * - `lastPerm` int32 [N, S] and `lastMetric` float32 [N]: the assignment and metric of the last visit;
 * - `seen` int32 [N]: visits so far;
 * - epoch counters, int32 0/1 flags [N] (`epochSeen`, `epochRevisited`, `epochSwitched`, `epochFlagged`) and the
 *   epoch they belong to (`epoch` [1]), for the label-switch statistics.
 * Assignments use pitLoss's convention (perm[i] the reference of estimate i); never-seen samples hold -1.
 * {@link update} runs on the device (scatter and select over N: O(N * S) per call, no read back), so it can
 * run inside a training step; {@link statistics} reads back and belongs in validate or onEpoch.
 */
export class AssignmentMemory extends Module {
  readonly numSamples: number;
  readonly numSources: number;
  readonly bestPerm: tf.Variable;
  readonly bestMetric: tf.Variable;
  readonly lastPerm: tf.Variable;
  readonly lastMetric: tf.Variable;
  readonly seen: tf.Variable;
  readonly epoch: tf.Variable;
  readonly epochSeen: tf.Variable;
  readonly epochRevisited: tf.Variable;
  readonly epochSwitched: tf.Variable;
  readonly epochFlagged: tf.Variable;

  constructor(args: AssignmentMemoryArgs) {
    super();
    const { numSamples: N, numSources: S } = args;
    if (!(Number.isInteger(N) && N >= 1 && Number.isInteger(S) && S >= 1)) {
      throw new Error(`AssignmentMemory: numSamples and numSources must be positive integers, got ${N} and ${S}`);
    }
    this.numSamples = N;
    this.numSources = S;
    const ints = (shape: number[], v: number) => tf.tidy(() => tf.fill(shape, v, 'int32'));
    const init = (name: string, t: tf.Tensor) => { const v = this.addBuffer(name, t); t.dispose(); return v; };
    this.bestPerm = init('bestPerm', ints([N, S], -1));
    this.bestMetric = init('bestMetric', tf.zeros([N]));
    this.lastPerm = init('lastPerm', ints([N, S], -1));
    this.lastMetric = init('lastMetric', tf.zeros([N]));
    this.seen = init('seen', ints([N], 0));
    this.epoch = init('epoch', ints([1], 0));
    this.epochSeen = init('epochSeen', ints([N], 0));
    this.epochRevisited = init('epochRevisited', ints([N], 0));
    this.epochSwitched = init('epochSwitched', ints([N], 0));
    this.epochFlagged = init('epochFlagged', ints([N], 0));
  }

  /** The memory transforms no signal; use {@link update}, {@link remembered} and {@link statistics}. */
  forward(_x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    throw new Error('AssignmentMemory holds state and has no forward pass: use update(), remembered() or statistics()');
  }

  getConfig(): Record<string, unknown> {
    return { numSamples: this.numSamples, numSources: this.numSources };
  }

  private checkIds(fn: string, ids: tf.Tensor): number {
    if (ids.rank !== 1 || ids.dtype !== 'int32') throw new Error(`AssignmentMemory.${fn}: ids must be an int32 [batch] tensor, got ${ids.dtype} [${ids.shape}]`);
    return ids.shape[0];
  }

  /**
   * What the memory holds for the samples `ids` (gathers on the device): `seen` bool [batch] (visited before),
   * `bestPerm` int32 [batch, S], `bestMetric` [batch], `lastPerm` int32 [batch, S].
   */
  remembered(ids: tf.Tensor): { seen: tf.Tensor1D; bestPerm: tf.Tensor2D; bestMetric: tf.Tensor1D; lastPerm: tf.Tensor2D } {
    this.checkIds('remembered', ids);
    return tf.tidy(() => ({
      seen: tf.greater(tf.gather(this.seen, ids), 0) as tf.Tensor1D,
      bestPerm: tf.gather(this.bestPerm, ids) as tf.Tensor2D,
      bestMetric: tf.gather(this.bestMetric, ids) as tf.Tensor1D,
      lastPerm: tf.gather(this.lastPerm, ids) as tf.Tensor2D,
    }));
  }

  /**
   * Records one visit of the samples `ids` with their current best assignment and its metric, on the device:
   * last := (perm, metric); best := (perm, metric) when the sample was never seen or metric > best metric (else
   * the best is kept); seen += 1; this epoch's flags: seen, revisited (seen before), switched (seen before and
   * perm differs from the last assignment), flagged (from `opts.flagged`). Ids must be distinct within a call (as
   * in a batch drawn from a dataset without replacement): a repeated id gets a sum of its updates.
   *
   * @param ids int32 [batch] sample ids in [0, N)
   * @param perm int32 [batch, S] best assignments (perm[b][i] the reference of estimate i)
   * @param metric [batch] their metric, higher is better (SI-SNR in dB)
   */
  update(ids: tf.Tensor, perm: tf.Tensor, metric: tf.Tensor, opts: AssignmentUpdateOptions = {}): void {
    const B = this.checkIds('update', ids);
    const S = this.numSources;
    if (perm.rank !== 2 || perm.shape[0] !== B || perm.shape[1] !== S || perm.dtype !== 'int32' || metric.rank !== 1 || metric.shape[0] !== B) {
      throw new Error(`AssignmentMemory.update: expected ids [B], an int32 perm [B, ${S}] and metric [B], got ids [${ids.shape}], ` +
        `perm ${perm.dtype} [${perm.shape}] and metric [${metric.shape}]`);
    }
    const { flagged, epoch } = opts;
    if (flagged && (flagged.rank !== 1 || flagged.shape[0] !== B)) {
      throw new Error(`AssignmentMemory.update: flagged must be [${B}], got [${flagged.shape}]`);
    }
    tf.tidy(() => {
      const N = this.numSamples;
      const idx = tf.reshape(ids, [B, 1]);
      const hit = tf.greater(tf.scatterND(idx, tf.ones([B], 'int32'), [N]), 0);                    // [N]
      // Writes per-sample values [B, ...] into rows ids of a buffer [N, ...], leaving the other rows.
      const put = (buf: tf.Variable, valuesB: tf.Tensor) => {
        const mask = buf.rank === 2 ? tf.expandDims(hit, 1) : hit;
        buf.assign(tf.where(mask, tf.scatterND(idx, tf.cast(valuesB, buf.dtype), buf.shape), buf));
      };
      const m = { ...this.remembered(ids), metric: tf.cast(metric, 'float32') };
      const better = tf.logicalOr(tf.logicalNot(m.seen), tf.greater(m.metric, m.bestMetric));       // [B]
      const switched = tf.logicalAnd(m.seen, tf.any(tf.notEqual(perm, m.lastPerm), 1));
      put(this.bestPerm, tf.where(tf.expandDims(better, 1), perm, m.bestPerm));
      put(this.bestMetric, tf.where(better, m.metric, m.bestMetric));
      put(this.lastPerm, perm);
      put(this.lastMetric, m.metric);
      put(this.seen, tf.add(tf.gather(this.seen, ids), 1));
      const counters: [tf.Variable, tf.Tensor][] = [[this.epochSeen, tf.onesLike(m.seen)], [this.epochRevisited, m.seen],
        [this.epochSwitched, switched], [this.epochFlagged, flagged ? tf.cast(flagged, 'bool') : tf.zerosLike(m.seen)]];
      if (epoch !== undefined) {
        const reset = tf.notEqual(this.epoch, tf.scalar(epoch, 'int32'));                            // [1]
        for (const [c] of counters) c.assign(tf.where(reset, tf.zerosLike(c), c));
        this.epoch.assign(tf.tensor1d([epoch], 'int32'));
      }
      for (const [c, v] of counters) put(c, tf.logicalOr(tf.greater(tf.gather(c, ids), 0), v));
    });
  }

  /** Restarts the epoch counters (label switches, flags) from zero, for the epoch `epoch` (default 0: unnamed). */
  startEpoch(epoch = 0): void {
    tf.tidy(() => {
      for (const c of [this.epochSeen, this.epochRevisited, this.epochSwitched, this.epochFlagged]) c.assign(tf.zerosLike(c));
      this.epoch.assign(tf.tensor1d([epoch], 'int32'));
    });
  }

  /**
   * The current epoch's label-switch statistics (see {@link AssignmentStatistics}), read back from the device:
   * for train.fit's `validate` or `onEpoch`, not for inside a step.
   */
  async statistics(): Promise<AssignmentStatistics> {
    const packed = tf.tidy(() => tf.concat([this.epoch, ...[this.epochSeen, this.epochRevisited, this.epochSwitched, this.epochFlagged]
      .map((c) => tf.reshape(tf.sum(c), [1]))]));
    const [epoch, seen, revisited, switched, flagged] = Array.from(await packed.data());
    packed.dispose();
    return { epoch, seen, revisited, switched, flagged, switchRate: revisited ? switched / revisited : NaN,
      flaggedShare: seen ? flagged / seen : NaN };
  }
}

registerModule('AssignmentMemory', AssignmentMemory,
  (c) => new AssignmentMemory({ numSamples: c.numSamples as number, numSources: c.numSources as number }));
