import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { munkres } from 'munkres';
import { resampleArray } from '../audio/resample';
import { readWavFile, writeWav } from '../audio/wav';
import type { Module } from '../nn/module';
import { loadModel } from '../nn/serialize';
import { Progress, ProgressMode } from '../train/progress';
import { modelSampleRate } from './enhance';

/** Options of {@link separateFiles}. */
export interface SeparateFilesOptions {
  /** Folder the sources are written to (created), as `<name>_s1.wav`, `<name>_s2.wav`, ... Required. */
  outDir: string;
  /** Audio is separated in chunks of this many seconds. Default 10. */
  chunkSeconds?: number;
  /** Overlap between chunks, seconds: the sources of consecutive chunks are matched on it, then cross-faded. Default 1. */
  overlapSeconds?: number;
  /** The model's sample rate when its metadata does not say. Default: from the model's metadata. */
  sampleRate?: number;
  /** Progress display. Default 'auto'. */
  progress?: ProgressMode;
}

/** What {@link separateFiles} did with one file. */
export interface SeparatedFile {
  input: string;
  outputs: string[];
  seconds: number;
  wallSeconds: number;
}

function runChunk(model: Module, x: Float32Array): Float32Array[] {
  const y = tf.tidy(() => {
    const out = model.forward(tf.tensor2d(x, [1, x.length]), { training: false });
    if (out.rank !== 3 || out.shape[0] !== 1 || out.shape[2] !== x.length) {
      throw new Error(`separate: the model returned [${out.shape}] for [1, ${x.length}]: not a separation model ([batch, sources, time])`);
    }
    return tf.squeeze(out, [0]);
  });
  const data = y.dataSync() as Float32Array;
  const [S, T] = y.shape;
  y.dispose();
  return Array.from({ length: S }, (_, s) => data.slice(s * T, (s + 1) * T));
}

function dot(a: Float32Array, b: Float32Array, from: number, n: number, offsetB: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[from + i] * b[offsetB + i];
  return s;
}

/**
 * The order of the new chunk's sources that best continues the previous chunk's on their overlap: the
 * assignment maximising the summed normalised correlation (cosine) between matched sources over the `n`
 * overlapping samples (the previous chunk's from `prevFrom`, the new chunk's from 0), by the Hungarian
 * algorithm (munkres). order[k] is the new chunk's source that continues source k.
 */
export function matchSources(prev: Float32Array[], prevFrom: number, next: Float32Array[], n: number): number[] {
  const S = prev.length;
  const norm = (x: Float32Array, from: number) => Math.sqrt(dot(x, x, from, n, from)) + 1e-9;
  const cost = prev.map((p) => next.map((q) => -dot(p, q, prevFrom, n, 0) / (norm(p, prevFrom) * norm(q, 0))));
  const order = new Array<number>(S);
  for (const [k, j] of munkres(cost)) order[k] = j;
  return order;
}

/**
 * Runs a separation model ([batch, time] -> [batch, sources, time]) over a long signal in overlapping
 * chunks: each chunk's sources are put in the order that continues the previous chunk's (matched on the
 * overlap, {@link matchSources}, as PIT would), then the overlaps are cross-faded linearly.
 */
export function separateSignal(model: Module, x: Float32Array, chunk: number, overlap: number,
  onChunk?: (done: number, total: number) => void): Float32Array[] {
  if (x.length <= chunk) return runChunk(model, x);
  const hop = chunk - overlap;
  const starts: number[] = [];
  for (let s = 0; s + overlap < x.length; s += hop) starts.push(s);
  let out: Float32Array[] = [];
  let weight = new Float32Array(0);
  let prev: Float32Array[] = [];
  starts.forEach((s, k) => {
    let y = runChunk(model, x.subarray(s, Math.min(s + chunk, x.length)));
    if (k === 0) {
      out = y.map(() => new Float32Array(x.length));
      weight = new Float32Array(x.length);
    } else {
      const order = matchSources(prev, hop, y, Math.min(overlap, y[0].length));
      y = order.map((j) => y[j]);
    }
    for (let i = 0; i < y[0].length; i++) {
      const rampIn = k > 0 && i < overlap ? (i + 1) / (overlap + 1) : 1;
      const rampOut = s + chunk < x.length && i >= y[0].length - overlap ? (y[0].length - i) / (overlap + 1) : 1;
      const w = Math.min(rampIn, rampOut);
      for (let c = 0; c < y.length; c++) out[c][s + i] += w * y[c][i];
      weight[s + i] += w;
    }
    prev = y;
    onChunk?.(k + 1, starts.length);
  });
  for (const o of out) for (let i = 0; i < o.length; i++) o[i] /= weight[i] || 1;
  return out;
}

/**
 * `slimspeech separate MODEL_DIR mix.wav ...`: separates WAV mixtures with a saved separation model (e.g.
 * the dsd-lo recipe's models/). Each file is read at any rate (its first channel, or the mean of its
 * channels), resampled to the model's rate, separated in overlapping chunks whose sources are aligned on the
 * overlaps, resampled back to its own rate, and written as `<name>_s<k>.wav` (16-bit PCM) per source.
 */
export async function separateFiles(modelDir: string, files: string[], options: SeparateFilesOptions): Promise<SeparatedFile[]> {
  if (!files.length) throw new Error('separate: no input files');
  const rate = modelSampleRate(modelDir, options.sampleRate);
  const chunk = Math.round((options.chunkSeconds ?? 10) * rate);
  const overlap = Math.round((options.overlapSeconds ?? 1) * rate);
  if (!(chunk > 0) || !(overlap > 0) || overlap >= chunk) {
    throw new Error(`separate: need chunkSeconds > overlapSeconds > 0; got ${options.chunkSeconds ?? 10} and ${options.overlapSeconds ?? 1}`);
  }
  const model = await loadModel(modelDir);
  fs.mkdirSync(options.outDir, { recursive: true });
  const progress = new Progress('separate', files.length, options.progress ?? 'auto');
  const out: SeparatedFile[] = [];
  try {
    for (const [k, file] of files.entries()) {
      const t0 = Date.now();
      const wav = await readWavFile(file);
      const n = wav.channelData[0].length;
      const mono = new Float32Array(n);
      for (const ch of wav.channelData) for (let i = 0; i < n; i++) mono[i] += ch[i] / wav.channelData.length;
      const sources = separateSignal(model, resampleArray(mono, wav.sampleRate, rate), chunk, overlap,
        (done, total) => progress.update(k + 1, done, total, {}));
      const base = path.basename(file, path.extname(file));
      const outputs = sources.map((src, s) => {
        const back = resampleArray(src, rate, wav.sampleRate);
        const y = new Float32Array(n);
        y.set(back.subarray(0, n));
        for (let i = 0; i < n; i++) y[i] = Math.max(-1, Math.min(1, y[i]));
        const target = path.join(options.outDir, `${base}_s${s + 1}.wav`);
        writeWav(target, y, wav.sampleRate);
        return target;
      });
      const seconds = n / wav.sampleRate;
      out.push({ input: file, outputs, seconds, wallSeconds: (Date.now() - t0) / 1000 });
      progress.endEpoch(k + 1, { seconds, sources: outputs.length });
    }
  } finally {
    model.dispose();
  }
  return out;
}
