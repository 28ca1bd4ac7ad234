import { Rng } from '../util/rng';
import { checkWidth, normalizeWidths } from './channels';

/**
 * Where the random widths of the sandwich rule come from:
 * - 'list': drawn uniformly, with replacement, from the listed widths strictly between the smallest and the
 *   largest (from the whole list when there are none), so that every trained width has its own switchable
 *   batch-norm statistics;
 * - 'uniform': drawn uniformly from [min, max] (universally slimmable training, Yu & Huang, ICCV 2019);
 *   switchable batch norm then borrows the set of the next listed width above (see SwitchableBatchNorm).
 */
export type WidthSampling = 'list' | 'uniform';

/** Options of {@link sandwichWidths}. */
export interface SandwichOptions {
  /** The width list; min and max default to its extremes. Give either this or min and max. */
  widths?: readonly number[];
  /** Smallest width (without `widths`). */
  min?: number;
  /** Largest width (without `widths`). Default 1. */
  max?: number;
  /** Widths per step, >= 2. Default 4 (the reference's num_sample_training). */
  n?: number;
  /** The random source (in a training step: a fork of ctx.rng, so that the widths are seeded per step). */
  rng: Rng;
  /** See {@link WidthSampling}. Default 'list' with `widths`, 'uniform' without. */
  sample?: WidthSampling;
}

/**
 * The sandwich rule of universally slimmable networks (Yu & Huang, "Universally Slimmable Networks and
 * Improved Training Techniques", ICCV 2019), used by Akhtar et al. (arXiv 2304.12183) for KWS: the widths
 * one training step runs, [max, min, r_1, ..., r_{n-2}], the largest first (it is the in-place
 * distillation teacher), then the smallest, then n-2 random widths (see {@link WidthSampling}). The same
 * generator state gives the same widths.
 */
export function sandwichWidths(opts: SandwichOptions): number[] {
  const n = opts.n ?? 4;
  if (!Number.isInteger(n) || n < 2) throw new Error(`sandwichWidths: n must be an integer >= 2, got ${n}`);
  let min: number, max: number, list: number[] | undefined;
  if (opts.widths) {
    if (opts.min !== undefined || opts.max !== undefined) throw new Error('sandwichWidths: give either widths or min/max, not both');
    list = normalizeWidths(opts.widths, 'sandwichWidths');
    min = list[0];
    max = list[list.length - 1];
  } else {
    if (opts.min === undefined) throw new Error('sandwichWidths: give widths, or min (and max, default 1)');
    min = opts.min;
    max = opts.max ?? 1;
    checkWidth(min, 'sandwichWidths');
    checkWidth(max, 'sandwichWidths');
    if (min > max) throw new Error(`sandwichWidths: min ${min} is above max ${max}`);
  }
  const sample = opts.sample ?? (list ? 'list' : 'uniform');
  if (sample !== 'list' && sample !== 'uniform') throw new Error(`sandwichWidths: sample must be 'list' or 'uniform', got '${sample as string}'`);
  if (sample === 'list' && !list) throw new Error("sandwichWidths: sample 'list' needs widths");
  const interior = list ? list.filter((w) => w > min && w < max) : [];
  const pool = interior.length ? interior : list ?? [];
  const random: number[] = [];
  for (let i = 0; i < n - 2; i++) random.push(sample === 'list' ? pool[opts.rng.int(pool.length)] : opts.rng.uniform(min, max));
  return [max, min, ...random];
}
