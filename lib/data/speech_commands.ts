/**
 * Reader for the Speech Commands v2 layout (Warden 2018, arXiv 1804.03209):
 * `<root>/<word>/<speaker>_nohash_<n>.wav`, `validation_list.txt` and `testing_list.txt` (paths relative
 * to root; training is every other file) and `_background_noise_/*.wav` (long noise recordings from
 * which '_silence_' items are cut).
 */
import * as path from 'node:path';
import { BaseDataset } from './dataset';
import { byCodePoint, listDir, loadAudio, readLines, requireDir, requireFile } from './files';
import { Rng } from '../util/rng';

/** The three Speech Commands splits. */
export type SpeechCommandsSplit = 'train' | 'validation' | 'test';

/** Label of non-keyword words when keywords are given. */
export const UNKNOWN_LABEL = '_unknown_';
/** Label of background-noise-only items. */
export const SILENCE_LABEL = '_silence_';

/** Options of {@link SpeechCommands}. */
export interface SpeechCommandsOptions {
  /** Which split to read. Default: 'train'. */
  split?: SpeechCommandsSplit;
  /**
   * The classes: these words, then '_unknown_' (if `unknown`) and '_silence_' (if `silence` > 0).
   * Default: undefined, every word folder is a class of its own (and no unknown or silence class).
   */
  keywords?: string[];
  /** With `keywords`: keep the other words, labelled '_unknown_'. Default: true. */
  unknown?: boolean;
  /**
   * With `keywords` and `unknown`: keep at most this many unknown items per keyword item (a seeded
   * choice). Default: undefined (keep all).
   */
  unknownRatio?: number;
  /**
   * With `keywords`: number of '_silence_' items as a fraction of the word items, each a crop of a
   * `_background_noise_` file at a seeded offset and volume in [0, 1). Default: 0.1 with keywords, else 0.
   */
  silence?: number;
  /** Length of '_silence_' items in seconds. Default: 1. */
  silenceSeconds?: number;
  /** Rate the audio is returned at (resampled when a file differs). Default: 16000. */
  sampleRate?: number;
  /** If set, a word file stored at another rate is an error naming the file (Speech Commands is 16000). Default: undefined. */
  fileRate?: number;
  /** Seed of the unknown subsampling and of the silence crops. Default: 0. */
  seed?: number | string;
}

/** One keyword-spotting example. */
export interface KwsItem {
  /** Mono samples at `sampleRate`. */
  audio: Float32Array;
  /** Samples per second. */
  sampleRate: number;
  /** Class name: a word, '_unknown_' or '_silence_'. */
  label: string;
  /** Index of `label` in {@link SpeechCommands.labels}. */
  labelIndex: number;
  /** Speaker id (file name part before '_nohash_'); '' for silence. */
  speaker: string;
  /** File relative to the root; for silence `_background_noise_/<file>@<start sample>`. */
  path: string;
}

interface Entry {
  rel: string;
  labelIndex: number;
  speaker: string;
  silence?: { file: string; offset: number; volume: number };
}

/** The speaker id of a Speech Commands file name ('<speaker>_nohash_<n>.wav'). */
export function speechCommandsSpeaker(fileName: string): string {
  const base = path.basename(fileName, '.wav');
  const k = base.indexOf('_nohash_');
  return k >= 0 ? base.slice(0, k) : base;
}

/**
 * A split of a Speech Commands v2 tree. Indexes file names at construction (no audio); `get` reads
 * and resamples one file. Items are ordered by label, then path; silence items come last.
 *
 * Errors name the root and the problem: a missing root, a missing `validation_list.txt` or
 * `testing_list.txt`, a tree without `<word>/*.wav` files, a keyword without a folder, silence asked
 * for without `_background_noise_/*.wav`; a bad WAV file names the file.
 */
export class SpeechCommands extends BaseDataset<KwsItem> {
  /** The dataset root. */
  readonly root: string;
  /** The split this dataset reads. */
  readonly split: SpeechCommandsSplit;
  /** Class names, indexed by `labelIndex`. */
  readonly labels: string[];
  /** Output sample rate. */
  readonly sampleRate: number;
  private readonly entries: Entry[];
  private readonly background = new Map<string, Promise<Float32Array>>();
  private readonly silenceSamples: number;
  private readonly fileRate?: number;

  constructor(root: string, opts: SpeechCommandsOptions = {}) {
    super();
    const what = `SpeechCommands(${root})`;
    this.root = requireDir(root, what);
    this.split = opts.split ?? 'train';
    if (!['train', 'validation', 'test'].includes(this.split)) {
      throw new Error(`${what}: split must be 'train', 'validation' or 'test', got '${this.split as string}'`);
    }
    this.sampleRate = opts.sampleRate ?? 16000;
    this.fileRate = opts.fileRate;
    const lists = {
      validation: new Set(readLines(requireFile(path.join(root, 'validation_list.txt'), what, 'Speech Commands v2 lists its validation files there'), what)),
      test: new Set(readLines(requireFile(path.join(root, 'testing_list.txt'), what, 'Speech Commands v2 lists its test files there'), what)),
    };
    const words = listDir(root, (e) => e.isDirectory() && !e.name.startsWith('_') && !e.name.startsWith('.'));
    const files = new Map<string, string[]>();
    let total = 0;
    for (const w of words) {
      const fs = listDir(path.join(root, w), (e) => e.isFile() && e.name.endsWith('.wav'));
      if (fs.length) files.set(w, fs);
      total += fs.length;
    }
    if (total === 0) {
      throw new Error(`${what}: no <word>/<file>.wav files found; expected the Speech Commands layout <root>/<word>/<speaker>_nohash_<n>.wav`);
    }
    const keywords = opts.keywords;
    const useUnknown = keywords !== undefined && (opts.unknown ?? true);
    const silenceFraction = keywords === undefined ? (opts.silence ?? 0) : (opts.silence ?? 0.1);
    if (keywords === undefined && silenceFraction > 0) throw new Error(`${what}: silence items need keywords`);
    if (keywords) {
      for (const k of keywords) if (!files.has(k)) throw new Error(`${what}: keyword '${k}' has no folder ${path.join(root, k)} with .wav files`);
      if (new Set(keywords).size !== keywords.length) throw new Error(`${what}: keywords repeat: ${keywords.join(', ')}`);
    }
    this.labels = keywords
      ? [...keywords, ...(useUnknown ? [UNKNOWN_LABEL] : []), ...(silenceFraction > 0 ? [SILENCE_LABEL] : [])]
      : [...files.keys()];
    const inSplit = (rel: string): boolean =>
      this.split === 'validation' ? lists.validation.has(rel) : this.split === 'test' ? lists.test.has(rel) : !lists.validation.has(rel) && !lists.test.has(rel);
    const known: Entry[] = [];
    const unknown: Entry[] = [];
    for (const [w, fs] of files) {
      const k = this.labels.indexOf(w);
      if (k < 0 && !useUnknown) continue;
      for (const f of fs) {
        const rel = `${w}/${f}`;
        if (!inSplit(rel)) continue;
        const e = { rel, labelIndex: k >= 0 ? k : this.labels.indexOf(UNKNOWN_LABEL), speaker: speechCommandsSpeaker(f) };
        (k >= 0 ? known : unknown).push(e);
      }
    }
    const seed = opts.seed ?? 0;
    let kept = unknown;
    if (opts.unknownRatio !== undefined) {
      if (!(opts.unknownRatio >= 0)) throw new Error(`${what}: unknownRatio must be >= 0, got ${opts.unknownRatio}`);
      const n = Math.min(unknown.length, Math.round(opts.unknownRatio * known.length));
      kept = new Rng(`${seed}/${this.split}/unknown`).shuffle(unknown.slice()).slice(0, n)
        .sort((a, b) => byCodePoint(a.rel, b.rel));
    }
    this.entries = [...known, ...kept].sort((a, b) => a.labelIndex - b.labelIndex || byCodePoint(a.rel, b.rel));
    this.silenceSamples = Math.round((opts.silenceSeconds ?? 1) * this.sampleRate);
    if (silenceFraction > 0) {
      const bgDir = path.join(root, '_background_noise_');
      const bg = requireDir(bgDir, what, 'silence items are cut from _background_noise_/*.wav');
      const noises = listDir(bg, (e) => e.isFile() && e.name.endsWith('.wav'));
      if (noises.length === 0) throw new Error(`${what}: ${bgDir} holds no .wav files to cut silence items from`);
      const n = Math.round(silenceFraction * this.entries.length);
      const r = new Rng(`${seed}/${this.split}/silence`);
      const silenceIndex = this.labels.indexOf(SILENCE_LABEL);
      for (let i = 0; i < n; i++) {
        const file = noises[r.int(noises.length)];
        this.entries.push({ rel: `_background_noise_/${file}`, labelIndex: silenceIndex, speaker: '', silence: { file, offset: r.next(), volume: r.next() } });
      }
    }
  }

  get length(): number {
    return this.entries.length;
  }

  /** Label index of every item, without reading audio (for class counts and balanced sampling). */
  labelIndices(): number[] {
    return this.entries.map((e) => e.labelIndex);
  }

  /** Speaker of every item ('' for silence), without reading audio. */
  speakers(): string[] {
    return this.entries.map((e) => e.speaker);
  }

  /** Relative path of every item, without reading audio. */
  paths(): string[] {
    return this.entries.map((e) => e.rel);
  }

  async get(index: number): Promise<KwsItem> {
    const e = this.entries[this.checkIndex(index, 'SpeechCommands')];
    const base = { sampleRate: this.sampleRate, label: this.labels[e.labelIndex], labelIndex: e.labelIndex, speaker: e.speaker };
    if (!e.silence) {
      const { samples } = await loadAudio(path.join(this.root, e.rel), { sampleRate: this.sampleRate, expectedRate: this.fileRate });
      return { ...base, audio: samples, path: e.rel };
    }
    const { file, offset, volume } = e.silence;
    let pending = this.background.get(file);
    if (!pending) {
      pending = loadAudio(path.join(this.root, '_background_noise_', file), { sampleRate: this.sampleRate }).then((a) => a.samples);
      this.background.set(file, pending);
    }
    const noise = await pending;
    const n = this.silenceSamples;
    const start = Math.floor(offset * Math.max(0, noise.length - n + 1));
    const audio = new Float32Array(n);
    const m = Math.min(n, noise.length - start);
    for (let i = 0; i < m; i++) audio[i] = noise[start + i] * volume;
    return { ...base, audio, path: `${e.rel}@${start}` };
  }
}
