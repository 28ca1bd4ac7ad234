/**
 * Readers for LibriMix (Cosentino et al. 2020, arXiv 2005.11262), in both forms users have:
 * - the recipe metadata `libri2mix_<subset>.csv` (`mixture_ID, source_1_path, source_1_gain,
 *   source_2_path, source_2_gain, noise_path, noise_gain`; sources relative to the LibriSpeech root,
 *   noise relative to the noise root), from which {@link Libri2MixRecipe} builds mixtures on the fly;
 * - the generated tree `Libri2Mix/wav{8k,16k}/{min,max}/<split>/{s1,s2,mix_clean,mix_both,mix_single,noise}/
 *   <mixture_ID>.wav` with `wav*k/<mode>/metadata/mixture_<split>_<type>.csv`, whose absolute paths
 *   {@link Libri2Mix} re-roots onto wherever the tree is now.
 * Both work for any number of sources (LibriNMix): columns source_<k>_path for k = 1, 2, ...
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BaseDataset } from './dataset';
import { cellNumber, listDir, loadAudio, readTable, requireDir, Table, within } from './files';

/** Mixture types of LibriMix: sources only, sources + noise, first source + noise. */
export type MixtureType = 'mix_clean' | 'mix_both' | 'mix_single';

/** 'min': the mixture ends with the shortest source; 'max': shorter sources are zero-padded to the longest. */
export type MixMode = 'min' | 'max';

/** One separation example. */
export interface SeparationItem {
  /** The mixture_ID. */
  id: string;
  /** The mixture, [time]. */
  mixture: Float32Array;
  /** The scaled sources that sum (with the noise for mix_both / mix_single) to the mixture; each [time]. */
  sources: Float32Array[];
  /** The scaled noise, for mix_both and mix_single. */
  noise?: Float32Array;
  /** Samples per second. */
  sampleRate: number;
}

/** Options of {@link mixSignals}. */
export interface MixSignalsOptions {
  /** Length rule. Default: 'min'. */
  mode?: MixMode;
}

/**
 * The LibriMix mixing rule: every signal times its gain, fitted to one length (min: the shortest
 * source, max: the longest, zero-padded), summed. A noise shorter than that length is repeated.
 * @param sources source signals, each [time].
 * @param gains one gain per source.
 * @param noise optional noise with its gain, added to the mixture.
 * @returns the scaled, fitted sources, the scaled noise and their sum.
 */
export function mixSignals(
  sources: Float32Array[], gains: number[], noise?: { signal: Float32Array; gain: number }, opts: MixSignalsOptions = {},
): { mixture: Float32Array; sources: Float32Array[]; noise?: Float32Array } {
  if (sources.length === 0) throw new Error('mixSignals: no sources');
  if (gains.length !== sources.length) throw new Error(`mixSignals: ${sources.length} sources but ${gains.length} gains`);
  const mode = opts.mode ?? 'min';
  if (mode !== 'min' && mode !== 'max') throw new Error(`mixSignals: mode must be 'min' or 'max', got '${mode as string}'`);
  const n = mode === 'min' ? Math.min(...sources.map((s) => s.length)) : Math.max(...sources.map((s) => s.length));
  const mixture = new Float32Array(n);
  const scaled = sources.map((s, k) => {
    const out = new Float32Array(n);
    const m = Math.min(n, s.length);
    for (let i = 0; i < m; i++) {
      out[i] = s[i] * gains[k];
      mixture[i] += out[i];
    }
    return out;
  });
  let scaledNoise: Float32Array | undefined;
  if (noise) {
    if (noise.signal.length === 0) throw new Error('mixSignals: the noise is empty');
    scaledNoise = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      scaledNoise[i] = noise.signal[i % noise.signal.length] * noise.gain;
      mixture[i] += scaledNoise[i];
    }
  }
  return { mixture, sources: scaled, noise: scaledNoise };
}

function sourceCount(t: Table, what: string): number {
  let k = 0;
  while (t.header.includes(`source_${k + 1}_path`)) k++;
  if (k === 0) throw new Error(`${what}: ${t.file} has no source_1_path column (header: ${t.header.join(',')})`);
  return k;
}

/** Options of {@link Libri2MixRecipe}. */
export interface Libri2MixRecipeOptions {
  /** Folder the source paths are relative to (the LibriSpeech root). Required. */
  librispeechRoot: string;
  /** Folder the noise paths are relative to (wham_noise, or the embedded MUSAN root). Needed for mix_both and mix_single. */
  noiseRoot?: string;
  /** Which mixture to build. Default: 'mix_clean'. */
  mixture?: MixtureType;
  /** Length rule. Default: 'min'. */
  mode?: MixMode;
  /** Rate of the returned audio; sources and noise are resampled to it. Default: 8000. */
  sampleRate?: number;
  /** If set, a source file stored at another rate is an error naming the file (LibriSpeech is 16000). Default: undefined. */
  sourceRate?: number;
}

interface RecipeRow {
  id: string;
  sources: string[];
  gains: number[];
  noise?: string;
  noiseGain?: number;
}

/**
 * Mixtures built on the fly from LibriMix recipe metadata: sources and noise are read, resampled to
 * `sampleRate`, multiplied by their gains and fitted to one length by {@link mixSignals}. (LibriMix
 * applies the gains before resampling; both are linear, so the result is the same up to rounding.)
 *
 * Errors name the file and the problem: a missing metadata file or column, a gain that is not a number,
 * a missing root, a noisy mixture type without a noise root; a missing or bad source WAV names the file.
 */
export class Libri2MixRecipe extends BaseDataset<SeparationItem> {
  /** The metadata file. */
  readonly metadata: string;
  /** Sources per mixture. */
  readonly numSources: number;
  /** Output sample rate. */
  readonly sampleRate: number;
  private readonly rows: RecipeRow[];
  private readonly opts: Required<Omit<Libri2MixRecipeOptions, 'noiseRoot' | 'sourceRate'>> & { noiseRoot?: string; sourceRate?: number };

  constructor(metadataCsv: string, opts: Libri2MixRecipeOptions) {
    super();
    const what = `Libri2MixRecipe(${metadataCsv})`;
    if (!opts || typeof opts.librispeechRoot !== 'string') throw new Error(`${what}: options.librispeechRoot is required`);
    requireDir(opts.librispeechRoot, what, 'the LibriSpeech root the source paths are relative to');
    const mixture = opts.mixture ?? 'mix_clean';
    if (!['mix_clean', 'mix_both', 'mix_single'].includes(mixture)) {
      throw new Error(`${what}: mixture must be 'mix_clean', 'mix_both' or 'mix_single', got '${mixture as string}'`);
    }
    const noisy = mixture !== 'mix_clean';
    if (noisy) {
      if (opts.noiseRoot === undefined) throw new Error(`${what}: mixture '${mixture}' needs options.noiseRoot`);
      requireDir(opts.noiseRoot, what, 'the noise root the noise paths are relative to');
    }
    this.metadata = metadataCsv;
    this.opts = { mixture, mode: opts.mode ?? 'min', sampleRate: opts.sampleRate ?? 8000, librispeechRoot: opts.librispeechRoot, noiseRoot: opts.noiseRoot, sourceRate: opts.sourceRate };
    this.sampleRate = this.opts.sampleRate;
    const t = readTable(metadataCsv, what, ['mixture_ID', ...(noisy ? ['noise_path', 'noise_gain'] : [])]);
    const k = sourceCount(t, what);
    this.numSources = mixture === 'mix_single' ? 1 : k;
    for (let s = 1; s <= k; s++) if (!t.header.includes(`source_${s}_gain`)) throw new Error(`${what}: ${metadataCsv} lacks column source_${s}_gain`);
    this.rows = t.rows.map((r, i) => ({
      id: r['mixture_ID'],
      sources: Array.from({ length: this.numSources }, (_, s) => r[`source_${s + 1}_path`]),
      gains: Array.from({ length: this.numSources }, (_, s) => cellNumber(t, i, `source_${s + 1}_gain`, what)),
      noise: noisy ? r['noise_path'] : undefined,
      noiseGain: noisy ? cellNumber(t, i, 'noise_gain', what) : undefined,
    }));
  }

  get length(): number {
    return this.rows.length;
  }

  /** Mixture ids, without reading audio. */
  ids(): string[] {
    return this.rows.map((r) => r.id);
  }

  async get(index: number): Promise<SeparationItem> {
    const r = this.rows[this.checkIndex(index, 'Libri2MixRecipe')];
    const what = `Libri2MixRecipe(${this.metadata})`;
    const rate = this.sampleRate;
    const sources = await Promise.all(r.sources.map(async (p) =>
      (await loadAudio(within(this.opts.librispeechRoot, p, what), { sampleRate: rate, expectedRate: this.opts.sourceRate })).samples));
    let noise: { signal: Float32Array; gain: number } | undefined;
    if (r.noise !== undefined) {
      const signal = (await loadAudio(within(this.opts.noiseRoot as string, r.noise, what), { sampleRate: rate })).samples;
      noise = { signal, gain: r.noiseGain as number };
    }
    const m = mixSignals(sources, r.gains, noise, { mode: this.opts.mode });
    return { id: r.id, mixture: m.mixture, sources: m.sources, noise: m.noise, sampleRate: rate };
  }
}

/** Options of {@link Libri2Mix}. */
export interface Libri2MixOptions {
  /** Subset folder: 'train-100', 'train-360', 'dev' or 'test'. Default: 'test'. */
  split?: string;
  /** Which of the generated rates to read: 8000 (wav8k) or 16000 (wav16k). Default: 8000. */
  sampleRate?: number;
  /** Which mode folder to read. Default: 'min'. */
  mode?: MixMode;
  /** Which mixture folder to read. Default: 'mix_clean'. */
  mixture?: MixtureType;
  /** Rate of the returned audio (resampled if it differs from the files'). Default: `sampleRate`. */
  resampleTo?: number;
}

interface TreeRow {
  id: string;
  mixture: string;
  sources: string[];
  noise?: string;
}

/**
 * A generated LibriMix tree (every file must be at the rate its wav<r>k folder names). Reads `wav<r>k/<mode>/metadata/mixture_<split>_<mixture>.csv` when present
 * and re-roots its absolute paths (everything after `wav<r>k/` is kept and joined to `root`); without
 * it, lists `<split>/<mixture>/*.wav` and takes sources of the same name from `s1/`, `s2/`, ....
 *
 * Errors name the path and the problem: a missing root or rate/mode folder, neither metadata nor
 * mixture folder, a mixture without its source files; a bad WAV file names the file.
 */
export class Libri2Mix extends BaseDataset<SeparationItem> {
  /** The Libri2Mix folder (holding wav8k/ and/or wav16k/). */
  readonly root: string;
  /** Sources per mixture. */
  readonly numSources: number;
  /** Output sample rate. */
  readonly sampleRate: number;
  private readonly rows: TreeRow[];
  private readonly fileRate: number;

  constructor(root: string, opts: Libri2MixOptions = {}) {
    super();
    const what = `Libri2Mix(${root})`;
    this.root = requireDir(root, what);
    const split = opts.split ?? 'test';
    const mode = opts.mode ?? 'min';
    const mixture = opts.mixture ?? 'mix_clean';
    this.fileRate = opts.sampleRate ?? 8000;
    if (this.fileRate % 1000 !== 0) throw new Error(`${what}: sampleRate must be a whole number of kHz (8000, 16000), got ${this.fileRate}`);
    this.sampleRate = opts.resampleTo ?? this.fileRate;
    const rateDir = `wav${this.fileRate / 1000}k`;
    const modeDir = requireDir(path.join(root, rateDir, mode), what, `LibriMix keeps ${mode}-mode audio at ${rateDir}/${mode}/<split>/`);
    // LibriMix writes metadata next to the audio (wav8k/min/metadata/); some copies keep it at the top
    const name = `mixture_${split}_${mixture}.csv`;
    const csv = [path.join(modeDir, 'metadata', name), path.join(root, 'metadata', name)].find((f) => fs.existsSync(f))
      ?? path.join(modeDir, 'metadata', name);
    if (fs.existsSync(csv)) {
      const t = readTable(csv, what, ['mixture_ID', 'mixture_path']);
      const k = sourceCount(t, what);
      const reroot = (p: string, line: number, col: string): string => {
        const norm = p.replace(/\\/g, '/');
        const at = norm.indexOf(`/${rateDir}/`);
        if (at < 0) throw new Error(`${what}: ${csv} line ${line}: ${col} '${p}' has no '/${rateDir}/' part to re-root`);
        return path.join(root, norm.slice(at + 1));
      };
      this.rows = t.rows.map((r, i) => ({
        id: r['mixture_ID'],
        mixture: reroot(r['mixture_path'], i + 2, 'mixture_path'),
        sources: Array.from({ length: k }, (_, s) => reroot(r[`source_${s + 1}_path`], i + 2, `source_${s + 1}_path`)),
        noise: r['noise_path'] ? reroot(r['noise_path'], i + 2, 'noise_path') : undefined,
      }));
      this.numSources = k;
    } else {
      const splitDir = path.join(modeDir, split);
      const mixDir = path.join(splitDir, mixture);
      if (!fs.existsSync(mixDir)) {
        throw new Error(`${what}: found neither ${csv} nor ${mixDir}/ (expected the LibriMix layout ${rateDir}/${mode}/<split>/${mixture}/<mixture_ID>.wav)`);
      }
      const srcDirs = listDir(splitDir, (e) => e.isDirectory() && /^s\d+$/.test(e.name)).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
      const k = mixture === 'mix_single' ? 1 : srcDirs.length;
      if (k === 0) throw new Error(`${what}: ${splitDir} has no s1/ folder with the sources`);
      const names = listDir(mixDir, (e) => e.isFile() && e.name.endsWith('.wav'));
      if (names.length === 0) throw new Error(`${what}: ${mixDir} holds no .wav mixtures`);
      this.rows = names.map((n) => {
        const sources = srcDirs.slice(0, k).map((d) => path.join(splitDir, d, n));
        for (const s of sources) if (!fs.existsSync(s)) throw new Error(`${what}: mixture ${path.join(mixDir, n)} has no source file ${s}`);
        const noise = path.join(splitDir, 'noise', n);
        return { id: n.slice(0, -4), mixture: path.join(mixDir, n), sources, noise: mixture !== 'mix_clean' && fs.existsSync(noise) ? noise : undefined };
      });
      this.numSources = k;
    }
  }

  get length(): number {
    return this.rows.length;
  }

  /** Mixture ids, without reading audio. */
  ids(): string[] {
    return this.rows.map((r) => r.id);
  }

  async get(index: number): Promise<SeparationItem> {
    const r = this.rows[this.checkIndex(index, 'Libri2Mix')];
    // the folder name states the files' rate, so a file at another rate is an error
    const load = async (f: string): Promise<Float32Array> =>
      (await loadAudio(f, { sampleRate: this.sampleRate, expectedRate: this.fileRate })).samples;
    const [mixture, ...sources] = await Promise.all([r.mixture, ...r.sources].map(load));
    for (const [k, s] of sources.entries()) {
      if (s.length !== mixture.length) {
        throw new Error(`Libri2Mix(${this.root}): ${r.sources[k]} has ${s.length} samples but its mixture ${r.mixture} has ${mixture.length}`);
      }
    }
    const noise = r.noise ? await load(r.noise) : undefined;
    return { id: r.id, mixture, sources, noise, sampleRate: this.sampleRate };
  }
}
