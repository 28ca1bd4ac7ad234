/**
 * Reader for fairseq-style audio manifests, as wav2vec 2.0 and HuBERT pre-training use them: the first
 * line is the root folder, every other line `<path relative to root>\t<number of samples>`.
 */
import * as path from 'node:path';
import { BaseDataset } from './dataset';
import { loadAudio, readLines, requireDir, within } from './files';

/** Options of {@link AudioList}. */
export interface AudioListOptions {
  /** Rate of the returned audio. Default: 16000. */
  sampleRate?: number;
}

/** One unlabelled utterance. */
export interface AudioListItem {
  /** Mono samples at `sampleRate`. */
  audio: Float32Array;
  /** Samples per second. */
  sampleRate: number;
  /** Path relative to the manifest's root. */
  path: string;
}

/**
 * Unlabelled audio listed in a manifest (a relative root is taken relative to the manifest's folder).
 * Indexes the list at construction; `get` reads one file.
 *
 * Errors name the manifest and line: a missing file or root, a line that is not `path<TAB>samples`,
 * a path outside the root; a bad WAV file names the file.
 */
export class AudioList extends BaseDataset<AudioListItem> {
  /** The manifest file. */
  readonly manifest: string;
  /** The folder the listed paths are relative to. */
  readonly root: string;
  /** Output sample rate. */
  readonly sampleRate: number;
  private readonly files: string[];
  private readonly sizes: number[];

  constructor(manifest: string, opts: AudioListOptions = {}) {
    super();
    const what = `AudioList(${manifest})`;
    const lines = readLines(manifest, what);
    if (lines.length === 0) throw new Error(`${what}: empty manifest (expected a root line, then path<TAB>samples lines)`);
    this.manifest = manifest;
    this.root = requireDir(path.resolve(path.dirname(manifest), lines[0]), what, 'the root named on the first line');
    this.sampleRate = opts.sampleRate ?? 16000;
    this.files = [];
    this.sizes = [];
    lines.slice(1).forEach((line, i) => {
      const p = line.split('\t');
      const n = Number(p[1]);
      if (p.length !== 2 || !Number.isInteger(n) || n < 0) {
        throw new Error(`${what}: line ${i + 2} is '${line}', expected '<path>\\t<number of samples>'`);
      }
      within(this.root, p[0], what);
      this.files.push(p[0]);
      this.sizes.push(n);
    });
  }

  get length(): number {
    return this.files.length;
  }

  /** Samples per file as the manifest states them (at the files' own rate), without reading audio. */
  lengths(): number[] {
    return this.sizes.slice();
  }

  /** Listed paths, without reading audio. */
  paths(): string[] {
    return this.files.slice();
  }

  async get(index: number): Promise<AudioListItem> {
    const rel = this.files[this.checkIndex(index, 'AudioList')];
    const { samples } = await loadAudio(path.join(this.root, rel), { sampleRate: this.sampleRate });
    return { audio: samples, sampleRate: this.sampleRate, path: rel };
  }
}
