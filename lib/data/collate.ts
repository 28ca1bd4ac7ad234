/**
 * Collate helpers: turn a batch of variable-length clips into padded or cropped tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng';

/** Where a clip longer than the target length is cut. */
export type CropMode = 'start' | 'center' | 'random';

/** Options of {@link fitLength}, {@link collateAudio} and {@link collateAligned}. */
export interface CollateOptions {
  /** Target length in samples. Default: the longest clip of the batch (so nothing is cropped). */
  length?: number;
  /** Which part of a longer clip is kept. Default: 'start'. */
  crop?: CropMode;
  /** Generator for 'random' crops (advanced once per cropped item). Default: a new Rng(0) per call. */
  rng?: Rng;
}

/** A padded batch of clips. */
export interface AudioBatch {
  /** [batch, length] float32, each clip cropped or zero-padded at the end. */
  audio: tf.Tensor2D;
  /** Samples of real audio in each row (min(clip length, length)). */
  lengths: number[];
}

/** A padded batch of groups of aligned signals (mixture and sources, noisy and clean). */
export interface AlignedBatch {
  /** [batch, signals, length] float32. */
  audio: tf.Tensor3D;
  /** Samples of real audio in each row. */
  lengths: number[];
}

function cropStart(n: number, length: number, crop: CropMode, rng: Rng): number {
  if (n <= length) return 0;
  if (crop === 'start') return 0;
  if (crop === 'center') return Math.floor((n - length) / 2);
  if (crop === 'random') return rng.int(n - length + 1);
  throw new Error(`collate: unknown crop mode '${crop as string}' (expected 'start', 'center' or 'random')`);
}

function checkLength(length: number): void {
  if (!Number.isInteger(length) || length < 1) throw new Error(`collate: length must be a positive integer, got ${length}`);
}

/**
 * Crops `x` to `length` samples (where `crop` says) or zero-pads it at the end.
 * @returns a new Float32Array of exactly `length` samples.
 */
export function fitLength(x: Float32Array, length: number, opts: Omit<CollateOptions, 'length'> = {}): Float32Array {
  checkLength(length);
  const start = cropStart(x.length, length, opts.crop ?? 'start', opts.rng ?? new Rng(0));
  const out = new Float32Array(length);
  out.set(x.subarray(start, start + Math.min(length, x.length - start)));
  return out;
}

/**
 * Stacks mono clips into a [batch, length] tensor: clips longer than `length` are cropped, shorter
 * ones zero-padded at the end.
 * @throws Error for an empty batch or a clip that is not a Float32Array.
 */
export function collateAudio(clips: Float32Array[], opts: CollateOptions = {}): AudioBatch {
  if (!Array.isArray(clips) || clips.length === 0) throw new Error('collateAudio: expected a non-empty array of Float32Array clips');
  clips.forEach((c, i) => {
    if (!(c instanceof Float32Array)) throw new Error(`collateAudio: clip ${i} is ${Object.prototype.toString.call(c)}, expected a Float32Array`);
  });
  const length = opts.length ?? Math.max(1, ...clips.map((c) => c.length));
  checkLength(length);
  const rng = opts.rng ?? new Rng(0);
  const data = new Float32Array(clips.length * length);
  const lengths = clips.map((c, b) => {
    data.set(fitLength(c, length, { crop: opts.crop, rng }), b * length);
    return Math.min(c.length, length);
  });
  return { audio: tf.tensor2d(data, [clips.length, length]), lengths };
}

/**
 * Stacks groups of signals that must stay aligned (e.g. [mixture, s1, s2] or [noisy, clean]) into a
 * [batch, signals, length] tensor; every signal of a group is cropped at the same offset.
 * @throws Error if groups differ in size, a group is empty, or its signals differ in length.
 */
export function collateAligned(groups: Float32Array[][], opts: CollateOptions = {}): AlignedBatch {
  if (!Array.isArray(groups) || groups.length === 0) throw new Error('collateAligned: expected a non-empty array of groups');
  const s = groups[0].length;
  if (s === 0) throw new Error('collateAligned: group 0 is empty');
  groups.forEach((g, b) => {
    if (g.length !== s) throw new Error(`collateAligned: group ${b} has ${g.length} signals, group 0 has ${s}`);
    g.forEach((x, k) => {
      if (!(x instanceof Float32Array)) throw new Error(`collateAligned: signal ${k} of group ${b} is not a Float32Array`);
      if (x.length !== g[0].length) throw new Error(`collateAligned: signal ${k} of group ${b} has ${x.length} samples, signal 0 has ${g[0].length}`);
    });
  });
  const length = opts.length ?? Math.max(1, ...groups.map((g) => g[0].length));
  checkLength(length);
  const rng = opts.rng ?? new Rng(0);
  const crop = opts.crop ?? 'start';
  const data = new Float32Array(groups.length * s * length);
  const lengths = groups.map((g, b) => {
    const n = g[0].length;
    const start = cropStart(n, length, crop, rng);
    const m = Math.min(length, n - start);
    g.forEach((x, k) => data.set(x.subarray(start, start + m), (b * s + k) * length));
    return m;
  });
  return { audio: tf.tensor3d(data, [groups.length, s, length]), lengths };
}

/** Class indices as an int32 tensor [batch]. */
export function collateLabels(labels: number[]): tf.Tensor1D {
  labels.forEach((l, i) => {
    if (!Number.isInteger(l) || l < 0) throw new Error(`collateLabels: label ${i} is ${l}, expected a non-negative integer`);
  });
  return tf.tensor1d(labels, 'int32');
}
