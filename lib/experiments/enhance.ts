import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { resampleArray } from '../audio/resample';
import { readWavFile, writeWav } from '../audio/wav';
import type { Module } from '../nn/module';
import { loadModel } from '../nn/serialize';
import { Progress, ProgressMode } from '../train/progress';

/** Options of {@link enhanceFiles}. */
export interface EnhanceFilesOptions {
  /** Folder the enhanced files are written to (created), under the input files' names. Required. */
  outDir: string;
  /** Audio is enhanced in chunks of this many seconds (memory stays bounded on long files). Default 10. */
  chunkSeconds?: number;
  /** Overlap between chunks, cross-faded linearly, seconds. Default 0.5. */
  overlapSeconds?: number;
  /** The model's sample rate when its metadata does not say. Default: from the model's metadata (`sampleRate`). */
  sampleRate?: number;
  /** Progress display. Default 'auto'. */
  progress?: ProgressMode;
}

/** What {@link enhanceFiles} did with one file. */
export interface EnhancedFile {
  input: string;
  output: string;
  /** The file's duration and the wall time its enhancement took, seconds (their ratio is the real-time factor). */
  seconds: number;
  wallSeconds: number;
}

/** The sample rate a saved enhancement model works at: its metadata's `sampleRate`, else `fallback`. */
export function modelSampleRate(modelDir: string, fallback?: number): number {
  const file = path.join(modelDir, 'model.json');
  if (!fs.existsSync(file)) throw new Error(`enhance: ${modelDir} is not a saved slimspeech model (no model.json)`);
  const meta = (JSON.parse(fs.readFileSync(file, 'utf8')) as { metadata?: { sampleRate?: unknown } }).metadata;
  const rate = typeof meta?.sampleRate === 'number' ? meta.sampleRate : fallback;
  if (!rate) {
    throw new Error(`enhance: ${file} does not say the model's sample rate (metadata.sampleRate); pass --sample-rate HZ ` +
      '(or save the model with saveModel(model, dir, {metadata: {sampleRate}}))');
  }
  return rate;
}

/**
 * Runs an enhancement model (waveform in, waveform out: [batch, time] -> [batch, time] or [batch, 1, time])
 * over a signal in chunks of `chunk` samples overlapping by `overlap`, the overlaps cross-faded linearly.
 */
export function enhanceSignal(model: Module, x: Float32Array, chunk: number, overlap: number, onChunk?: (done: number, total: number) => void): Float32Array {
  if (x.length <= chunk) return runChunk(model, x);
  const hop = chunk - overlap;
  const starts: number[] = [];
  for (let s = 0; s + overlap < x.length; s += hop) starts.push(s);
  const out = new Float32Array(x.length);
  const weight = new Float32Array(x.length);
  starts.forEach((s, k) => {
    const y = runChunk(model, x.subarray(s, Math.min(s + chunk, x.length)));
    for (let i = 0; i < y.length; i++) {
      const rampIn = k > 0 && i < overlap ? (i + 1) / (overlap + 1) : 1;
      const rampOut = s + chunk < x.length && i >= y.length - overlap ? (y.length - i) / (overlap + 1) : 1;
      const w = Math.min(rampIn, rampOut);
      out[s + i] += w * y[i];
      weight[s + i] += w;
    }
    onChunk?.(k + 1, starts.length);
  });
  for (let i = 0; i < out.length; i++) out[i] /= weight[i] || 1;
  return out;
}

function runChunk(model: Module, x: Float32Array): Float32Array {
  const y = tf.tidy(() => {
    const out = model.forward(tf.tensor2d(x, [1, x.length]), { training: false });
    if (out.size !== x.length) throw new Error(`enhance: the model returned [${out.shape}] for [1, ${x.length}]: not an enhancement model`);
    return tf.clipByValue(tf.reshape(out, [x.length]), -1, 1);
  });
  const data = y.dataSync() as Float32Array;
  y.dispose();
  return data;
}

/**
 * `slimspeech enhance MODEL_DIR in.wav ...`: enhances WAV files with a saved enhancement model (any
 * slimspeech model that maps a waveform to a waveform, e.g. the Distil-DCCRN recipe's models/). Each file is
 * read at any sample rate and sample format, resampled to the model's rate, enhanced channel by channel in
 * chunks, resampled back to its own rate, clipped to [-1, 1] and written as 16-bit PCM to `outDir` under its
 * own name. Errors name the file.
 */
export async function enhanceFiles(modelDir: string, files: string[], options: EnhanceFilesOptions): Promise<EnhancedFile[]> {
  if (!files.length) throw new Error('enhance: no input files');
  const rate = modelSampleRate(modelDir, options.sampleRate);
  const chunk = Math.round((options.chunkSeconds ?? 10) * rate);
  const overlap = Math.round((options.overlapSeconds ?? 0.5) * rate);
  if (!(chunk > 0) || !(overlap >= 0) || overlap >= chunk) {
    throw new Error(`enhance: need chunkSeconds > overlapSeconds >= 0; got ${options.chunkSeconds ?? 10} and ${options.overlapSeconds ?? 0.5}`);
  }
  const model = await loadModel(modelDir);
  fs.mkdirSync(options.outDir, { recursive: true });
  const progress = new Progress('enhance', files.length, options.progress ?? 'auto');
  const out: EnhancedFile[] = [];
  try {
    for (const [k, file] of files.entries()) {
      const t0 = Date.now();
      const wav = await readWavFile(file);
      const channels = wav.channelData.map((ch) => {
        const x = resampleArray(ch, wav.sampleRate, rate);
        const y = enhanceSignal(model, x, chunk, overlap, (done, total) => progress.update(k + 1, done, total, {}));
        const back = resampleArray(y, rate, wav.sampleRate);
        return back.length === ch.length ? back : fit(back, ch.length);
      });
      const target = path.join(options.outDir, path.basename(file));
      if (path.resolve(target) === path.resolve(file)) throw new Error(`enhance: ${file} would be overwritten; choose another --out`);
      writeWav(target, channels.length === 1 ? channels[0] : channels, wav.sampleRate);
      const seconds = wav.channelData[0].length / wav.sampleRate;
      out.push({ input: file, output: target, seconds, wallSeconds: (Date.now() - t0) / 1000 });
      progress.endEpoch(k + 1, { seconds, rtf: (Date.now() - t0) / 1000 / Math.max(seconds, 1e-9) });
    }
  } finally {
    model.dispose();
  }
  return out;
}

function fit(x: Float32Array, n: number): Float32Array {
  const y = new Float32Array(n);
  y.set(x.subarray(0, n));
  return y;
}
