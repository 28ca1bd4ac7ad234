import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../../data/dataset';
import { embedded } from '../../data/embedded';
import { Libri2Mix, SeparationItem } from '../../data/librimix';
import { Rng } from '../../util/rng';
import type { DsdLoConfig } from './config';

/** One mixture with its sources, cut to a fixed segment. */
export interface SepItem {
  id: string;
  mixture: Float32Array;
  /** [sources][time]. */
  sources: Float32Array[];
}

/** What the data step prepares. */
export interface SepData {
  sampleRate: number;
  numSources: number;
  /** Training items, each a fixed segment (the same every epoch, so that assignments compare across epochs). */
  train: SepItem[];
  valid: SepItem[];
  /** Test mixtures, whole. */
  test: SepItem[];
  sources: { train: string; test: string };
  seconds: number;
}

function fitTo(x: Float32Array, n: number): Float32Array {
  if (x.length === n) return x;
  const y = new Float32Array(n);
  y.set(x.subarray(0, n));
  return y;
}

/** An item cut (or zero-padded) to `length` samples; whole when length is null. */
function cut(it: SeparationItem, length: number | null): SepItem {
  if (length === null) return { id: it.id, mixture: it.mixture, sources: it.sources };
  return { id: it.id, mixture: fitTo(it.mixture, length), sources: it.sources.map((s) => fitTo(s, length)) };
}

async function readAll(ds: Dataset<SeparationItem>, limit: number | null, length: number | null): Promise<SepItem[]> {
  const n = limit === null ? ds.length : Math.min(limit, ds.length);
  const out: SepItem[] = [];
  for (let i = 0; i < n; i++) out.push(cut(await ds.get(i), length));
  return out;
}

/**
 * Step 'data': the embedded separation set (Libri2Mix-style recipes over recorded utterances, 8 kHz, min mode,
 * speakers disjoint between train, dev and test; mixtures built on the fly) or a generated Libri2Mix tree at
 * `dataRoot` (wav8k/min, mix_clean). Training and validation items are cut to their first `segmentSeconds`
 * (zero-padded when shorter): a fixed segment per mixture, so that a mixture's best assignment can be compared
 * from one epoch to the next, which is what dynamic sample dropout keeps track of. Test mixtures stay whole.
 */
export async function prepareSepData(config: DsdLoConfig, log: (l: string) => void = () => undefined): Promise<SepData> {
  const t0 = Date.now();
  const seg = Math.round(config.segmentSeconds * 8000);
  let data: SepData;
  if (config.dataRoot === 'embedded') {
    const sep = embedded('sep');
    data = {
      sampleRate: 8000, numSources: 2, train: await readAll(sep.train, config.maxItems.train, seg),
      valid: await readAll(sep.dev, config.maxItems.valid, seg), test: await readAll(sep.test, config.maxItems.test, null), seconds: 0,
      sources: { train: 'data/sep train recipes', test: 'data/sep test recipes' },
    };
  } else {
    if (!config.dataRoot) {
      throw new Error('dsd-lo: the paper preset needs a generated Libri2Mix tree: --set dataRoot=/data/Libri2Mix (holding wav8k/min/...), ' +
        'or dataRoot=embedded');
    }
    const root = path.resolve(config.dataRoot);
    const open = (split: string) => new Libri2Mix(root, { split, sampleRate: 8000, mode: 'min', mixture: 'mix_clean' });
    data = {
      sampleRate: 8000, numSources: 2, train: await readAll(open('train-100'), config.maxItems.train, seg),
      valid: await readAll(open('dev'), config.maxItems.valid, seg), test: await readAll(open('test'), config.maxItems.test, null), seconds: 0,
      sources: { train: `${root} train-100`, test: `${root} test` },
    };
  }
  data.seconds = (Date.now() - t0) / 1000;
  log(`data: train ${data.train.length} mixtures (${config.segmentSeconds} s segments), valid ${data.valid.length}, test ${data.test.length} ` +
    `(whole); ${data.seconds.toFixed(1)} s`);
  return data;
}

/** A training batch: mixtures [batch, time], sources [batch, sources, time], the items' indices (the memory's sample ids). */
export interface SepBatch {
  x: tf.Tensor2D;
  y: tf.Tensor3D;
  ids: tf.Tensor1D;
}

/** The batches of one epoch, in an order shuffled by `rng`: the same epoch and seed give the same batches for every variant. */
export function sepTrainBatches(data: SepData, batchSize: number, rng: Rng): Iterable<SepBatch> {
  const order = rng.shuffle(data.train.map((_, i) => i));
  const T = data.train[0].mixture.length;
  const S = data.numSources;
  return (function* () {
    for (let s = 0; s < order.length; s += batchSize) {
      const idx = order.slice(s, s + batchSize);
      const x = new Float32Array(idx.length * T);
      const y = new Float32Array(idx.length * S * T);
      idx.forEach((i, k) => {
        x.set(data.train[i].mixture, k * T);
        data.train[i].sources.forEach((src, j) => y.set(src, (k * S + j) * T));
      });
      yield { x: tf.tensor2d(x, [idx.length, T]), y: tf.tensor3d(y, [idx.length, S, T]), ids: tf.tensor1d(idx, 'int32') };
    }
  })();
}
