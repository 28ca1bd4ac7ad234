/**
 * The common Dataset interface of slimspeech's readers: a fixed number of items, each loaded on demand,
 * plus deterministic shuffling and batching from a seed.
 *
 * Readers index file paths when they are constructed and read audio only in `get`, so a dataset of
 * 100k files costs its path strings in memory, not its audio.
 */
import { Rng } from '../util/rng';

/** Options of {@link Dataset.batches} and {@link batchIndices}. */
export interface BatchOptions {
  /** Items per batch. Default: 16. */
  batchSize?: number;
  /** Visit items in a random order drawn from `seed`. Default: false (index order). */
  shuffle?: boolean;
  /** Seed of the shuffle; the same seed gives the same order on every run and backend. Default: 0. */
  seed?: number | string;
  /** Drop a last batch smaller than `batchSize`. Default: false. */
  dropLast?: boolean;
  /** Batches loaded ahead while the current one is consumed (0 loads strictly on demand). Default: 1. */
  prefetch?: number;
}

/** A lazily loaded, indexable collection of items. */
export interface Dataset<T> {
  /** Number of items. */
  readonly length: number;
  /** Loads item `index` (0 <= index < length). */
  get(index: number): Promise<T>;
  /** Iterates over batches of items in index order or in a seeded random order. */
  batches(opts?: BatchOptions): AsyncIterable<T[]>;
}

/**
 * The item indices of each batch, as {@link Dataset.batches} visits them: 0..length-1 in order, or
 * shuffled (Fisher-Yates with {@link Rng}(seed)), cut into runs of `batchSize`.
 * @throws Error if batchSize is not a positive integer or length is negative.
 */
export function batchIndices(length: number, opts: BatchOptions = {}): number[][] {
  const { batchSize = 16, shuffle = false, seed = 0, dropLast = false } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batches: batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(length) || length < 0) throw new Error(`batches: dataset length must be a non-negative integer, got ${length}`);
  const order = Array.from({ length }, (_, i) => i);
  if (shuffle) new Rng(seed).shuffle(order);
  const out: number[][] = [];
  for (let i = 0; i < length; i += batchSize) {
    const b = order.slice(i, i + batchSize);
    if (b.length < batchSize && dropLast) break;
    out.push(b);
  }
  return out;
}

/**
 * Base class of the readers: subclasses give `length` and `get`; batching, `map` and `subset` come
 * from here.
 */
export abstract class BaseDataset<T> implements Dataset<T> {
  /** Number of items. */
  abstract readonly length: number;
  /** Loads item `index`; rejects with a RangeError naming the dataset for an index out of range. */
  abstract get(index: number): Promise<T>;

  /** See {@link Dataset.batches}; batches are loaded with their items in parallel. */
  async *batches(opts: BatchOptions = {}): AsyncIterable<T[]> {
    const prefetch = opts.prefetch ?? 1;
    if (!Number.isInteger(prefetch) || prefetch < 0) throw new Error(`batches: prefetch must be a non-negative integer, got ${prefetch}`);
    const plan = batchIndices(this.length, opts);
    const load = (b: number[]): Promise<T[]> => Promise.all(b.map((i) => this.get(i)));
    const pending: Promise<T[]>[] = [];
    let next = 0;
    try {
      while (next < plan.length || pending.length) {
        while (next < plan.length && pending.length <= prefetch) {
          const p = load(plan[next++]);
          p.catch(() => undefined); // rejections surface when awaited below
          pending.push(p);
        }
        yield await (pending.shift() as Promise<T[]>);
      }
    } finally {
      pending.length = 0;
    }
  }

  /** A dataset whose item i is `fn(this.get(i), i)`, computed on demand. */
  map<U>(fn: (item: T, index: number) => U | Promise<U>): BaseDataset<U> {
    return new MappedDataset(this, fn);
  }

  /** The items at `indices` (in that order), as a dataset. */
  subset(indices: number[]): BaseDataset<T> {
    return new SubsetDataset(this, indices);
  }

  /** Checks an index and returns it; the error names the dataset. */
  protected checkIndex(index: number, name = this.constructor.name): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`${name}: index ${index} is out of range [0, ${this.length})`);
    }
    return index;
  }
}

class MappedDataset<T, U> extends BaseDataset<U> {
  constructor(private readonly base: Dataset<T>, private readonly fn: (item: T, index: number) => U | Promise<U>) {
    super();
  }

  get length(): number {
    return this.base.length;
  }

  async get(index: number): Promise<U> {
    return this.fn(await this.base.get(index), index);
  }
}

class SubsetDataset<T> extends BaseDataset<T> {
  private readonly indices: number[];

  constructor(private readonly base: Dataset<T>, indices: number[]) {
    super();
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= base.length) {
        throw new RangeError(`subset: index ${i} is out of range [0, ${base.length})`);
      }
    }
    this.indices = indices.slice();
  }

  get length(): number {
    return this.indices.length;
  }

  get(index: number): Promise<T> {
    return this.base.get(this.indices[this.checkIndex(index, 'subset')]);
  }
}

/** A dataset over items already in memory (small lists, tests). */
export class ArrayDataset<T> extends BaseDataset<T> {
  private readonly items: T[];

  constructor(items: T[]) {
    super();
    this.items = items.slice();
  }

  get length(): number {
    return this.items.length;
  }

  async get(index: number): Promise<T> {
    return this.items[this.checkIndex(index, 'ArrayDataset')];
  }
}

/** Collects every item of a dataset (for small datasets: evaluation lists, trials). */
export async function toArray<T>(ds: Dataset<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ds.length; i++) out.push(await ds.get(i));
  return out;
}
