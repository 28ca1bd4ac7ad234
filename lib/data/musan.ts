/**
 * Reader for MUSAN's noise part (Snyder et al. 2015, arXiv 1510.08484):
 * `<root>/noise/<source>/noise-<source>-<nnnn>.wav` (sources 'free-sound' and 'sound-bible' in MUSAN).
 */
import * as path from 'node:path';
import { BaseDataset } from './dataset';
import { listDir, loadAudio, readLines, requireDir, within } from './files';

/** Options of {@link MusanNoise}. */
export interface MusanNoiseOptions {
  /** Keep only these source folders. Default: undefined (all). */
  sources?: string[];
  /** A list file of paths relative to root (e.g. 'noise/free-sound/noise-free-sound-0000.wav'); only these are read. Default: undefined (all files). */
  list?: string;
  /** Rate of the returned audio. Default: 16000. */
  sampleRate?: number;
}

/** One noise recording. */
export interface NoiseItem {
  /** Mono samples at `sampleRate`. */
  audio: Float32Array;
  /** Samples per second. */
  sampleRate: number;
  /** Source folder name. */
  source: string;
  /** Path relative to root. */
  path: string;
}

/**
 * MUSAN noise files, indexed at construction and read on demand; sorted by path.
 *
 * Errors name the root and the problem: a missing root or `noise/` folder, an unknown source, a list
 * file that is missing or names a file outside `noise/<source>/`, no files at all; a bad WAV names the file.
 */
export class MusanNoise extends BaseDataset<NoiseItem> {
  /** The MUSAN root (holding noise/). */
  readonly root: string;
  /** Output sample rate. */
  readonly sampleRate: number;
  private readonly files: string[];

  constructor(root: string, opts: MusanNoiseOptions = {}) {
    super();
    const what = `MusanNoise(${root})`;
    this.root = requireDir(root, what);
    this.sampleRate = opts.sampleRate ?? 16000;
    const noiseDir = requireDir(path.join(root, 'noise'), what, 'MUSAN keeps noise in noise/<source>/noise-<source>-<nnnn>.wav');
    const all = listDir(noiseDir, (e) => e.isDirectory());
    const sources = opts.sources ?? all;
    for (const s of sources) if (!all.includes(s)) throw new Error(`${what}: no source folder noise/${s} (found: ${all.join(', ') || 'none'})`);
    let files: string[];
    if (opts.list !== undefined) {
      files = readLines(opts.list, what).map((rel) => {
        const p = rel.split('/');
        if (p.length !== 3 || p[0] !== 'noise') throw new Error(`${what}: ${opts.list} names '${rel}', expected noise/<source>/<file>.wav`);
        within(root, rel, what);
        return rel;
      }).filter((rel) => sources.includes(rel.split('/')[1]));
    } else {
      files = sources.flatMap((s) => listDir(path.join(noiseDir, s), (e) => e.isFile() && e.name.endsWith('.wav')).map((f) => `noise/${s}/${f}`));
    }
    if (files.length === 0) throw new Error(`${what}: no noise files found (expected noise/<source>/*.wav)`);
    this.files = files.sort();
  }

  get length(): number {
    return this.files.length;
  }

  /** Relative paths, without reading audio. */
  paths(): string[] {
    return this.files.slice();
  }

  async get(index: number): Promise<NoiseItem> {
    const rel = this.files[this.checkIndex(index, 'MusanNoise')];
    const { samples } = await loadAudio(path.join(this.root, rel), { sampleRate: this.sampleRate });
    return { audio: samples, sampleRate: this.sampleRate, source: rel.split('/')[1], path: rel };
  }
}
