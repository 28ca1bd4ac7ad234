/**
 * Small labelled sets held in memory as tensors (the embedded sets, a quick experiment): load every item
 * once, turn it into features, then draw seeded minibatches from the tensors each epoch.
 */
import * as tf from '@tensorflow/tfjs';
import { BatchOptions, batchIndices, Dataset } from './dataset';
import { collateAudio, collateLabels, CropMode } from './collate';

/** An item with mono audio and a class index (KwsItem, or any reader's item mapped to this shape). */
export interface LabelledAudio {
  audio: Float32Array;
  labelIndex: number;
}

/** Options of {@link toTensors}. */
export interface ToTensorsOptions {
  /** Every clip is cropped or zero-padded to this many samples. */
  length: number;
  /** Which part of a longer clip is kept. Default: 'start'. */
  crop?: CropMode;
  /**
   * Features of the audio batch [items, length], e.g. `(a) => audio.logMelSpectrogram(a, {nMels: 40})`;
   * run inside tf.tidy. Default: none (x is the audio).
   */
  features?: (audio: tf.Tensor2D) => tf.Tensor;
}

/**
 * Loads every item of `dataset` (in parallel; for sets that fit in memory) into
 * `{x: features(audio) or audio [items, length], y: class indices int32 [items]}`. The caller disposes both.
 */
export async function toTensors(dataset: Dataset<LabelledAudio>, opts: ToTensorsOptions): Promise<{ x: tf.Tensor; y: tf.Tensor1D }> {
  if (!opts || !Number.isInteger(opts.length) || opts.length < 1) {
    throw new Error(`toTensors: options.length must be a positive integer (samples per clip), got ${opts?.length}`);
  }
  if (dataset.length === 0) throw new Error('toTensors: the dataset is empty');
  const items = await Promise.all(Array.from({ length: dataset.length }, (_, i) => dataset.get(i)));
  const { audio } = collateAudio(items.map((it) => it.audio), { length: opts.length, crop: opts.crop });
  const features = opts.features;
  const x = features ? tf.tidy(() => features(audio)) : audio;
  if (x !== audio) audio.dispose();
  return { x, y: collateLabels(items.map((it) => it.labelIndex)) };
}

/**
 * Minibatches of tensors that share their first axis (`{x, y}` from {@link toTensors}): for each batch of
 * {@link batchIndices}(n, opts), the rows at those indices of every tensor (tf.gather), under the same keys,
 * gathered as the iteration reaches it.
 * Fits `train.fit`'s batches: `(epoch, rng) => tensorBatches(train, {batchSize: 32, shuffle: true, seed: rng.seed()})`,
 * which disposes each batch after its step. The input tensors are not disposed.
 * @throws Error if the tensors differ in their first dimension or none are given.
 */
export function tensorBatches<T extends Record<string, tf.Tensor>>(tensors: T, opts: BatchOptions = {}): Iterable<T> {
  const entries = Object.entries(tensors);
  if (entries.length === 0) throw new Error('tensorBatches: received no tensors');
  const n = entries[0][1].shape[0];
  for (const [k, t] of entries) {
    if (t.rank === 0 || t.shape[0] !== n) {
      throw new Error(`tensorBatches: every tensor needs the same first dimension; ${entries[0][0]} is [${entries[0][1].shape}], ${k} is [${t.shape}]`);
    }
  }
  const plan = batchIndices(n, opts);
  // A generator, so that a run stopped mid-epoch leaves no gathered batches behind.
  return (function* () {
    for (const ix of plan) {
      yield tf.tidy(() => {
        const at = tf.tensor1d(ix, 'int32');
        return Object.fromEntries(entries.map(([k, t]) => [k, tf.gather(t, at)])) as T;
      });
    }
  })();
}
