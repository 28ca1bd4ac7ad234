/**
 * Reader for the VoxCeleb1 layout (Nagrani et al. 2017, arXiv 1706.08612): `<root>/wav/<speaker>/<video>/
 * <nnnnn>.wav`, verification trials `veri_test2.txt` (lines `label enrol test`, 1 = same speaker), the
 * identification split `iden_split.txt` (lines `<1|2|3> <path>`: train, validation, test) and the speaker
 * table `vox1_meta.csv` (tab-separated; column 'Set' is 'dev' or 'test').
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import { BaseDataset } from './dataset';
import { listDir, loadAudio, readLines, readTable, requireDir, requireFile, within } from './files';

/** Which speakers a {@link VoxCeleb1} dataset holds. */
export type VoxCelebSplit = 'dev' | 'test' | 'all';

/** Parts of VoxCeleb1's identification split (iden_split.txt): 1 train, 2 validation, 3 test. */
export type IdentificationPart = 1 | 2 | 3;

/** Options of {@link VoxCeleb1}. */
export interface VoxCelebOptions {
  /**
   * Speakers to keep: 'dev' or 'test' as the meta file's 'Set' column says (or, without a meta file,
   * test = the speakers of the trial file), or 'all'. Default: 'all'.
   */
  split?: VoxCelebSplit;
  /** Speaker table. Default: `<root>/vox1_meta.csv` when it exists. */
  metaFile?: string;
  /** Trial list used to find test speakers when there is no meta file. Default: `<root>/veri_test2.txt`. */
  trialsFile?: string;
  /** Keep only the utterances of this identification part (reads `<root>/iden_split.txt`). Default: undefined (all). */
  identification?: IdentificationPart;
  /** Rate the audio is returned at. Default: 16000. */
  sampleRate?: number;
  /** If set, a file stored at another rate is an error naming the file (VoxCeleb1 is 16000). Default: undefined. */
  fileRate?: number;
}

/** One speaker-labelled utterance. */
export interface SpeakerItem {
  /** Mono samples at `sampleRate`. */
  audio: Float32Array;
  /** Samples per second. */
  sampleRate: number;
  /** Speaker id, e.g. 'id10270'. */
  speaker: string;
  /** Index of `speaker` in {@link VoxCeleb1.speakerIds}. */
  speakerIndex: number;
  /** Path relative to `<root>/wav`, e.g. 'id10270/x6uYqmx31kE/00001.wav' (as trial lists name it). */
  path: string;
}

/** One verification trial. */
export interface Trial {
  /** 1: both utterances come from the same speaker; 0: from different speakers. */
  label: 0 | 1;
  /** Enrolment utterance, relative to `<root>/wav`. */
  enrol: string;
  /** Test utterance, relative to `<root>/wav`. */
  test: string;
}

/**
 * Reads a veri_test-style trial list: lines `label enrol test`.
 * @throws Error naming the file and line for a malformed line.
 */
export function readTrials(file: string): Trial[] {
  const what = `readTrials(${file})`;
  return readLines(file, what).map((line, i) => {
    const p = line.split(/\s+/);
    if (p.length !== 3 || (p[0] !== '0' && p[0] !== '1')) {
      throw new Error(`${what}: line ${i + 1} is '${line}', expected 'label enrol test' with label 0 or 1`);
    }
    return { label: Number(p[0]) as 0 | 1, enrol: p[1], test: p[2] };
  });
}

/**
 * Utterances of a VoxCeleb1 tree. Indexes paths at construction (no audio); `get` reads one file.
 * Items are sorted by path, speakers by id.
 *
 * Errors name the root and the problem: no `wav/` folder, no `<speaker>/<video>/*.wav` files, a split
 * asked for without a meta or trial file, a missing `iden_split.txt`; a bad WAV file names the file.
 */
export class VoxCeleb1 extends BaseDataset<SpeakerItem> {
  /** The dataset root (holding wav/). */
  readonly root: string;
  /** Speaker ids present in this dataset, sorted; `speakerIndex` indexes this list. */
  readonly speakerIds: string[];
  /** Output sample rate. */
  readonly sampleRate: number;
  private readonly files: string[];
  private readonly speakerOf: number[];
  private readonly fileRate?: number;

  constructor(root: string, opts: VoxCelebOptions = {}) {
    super();
    const what = `VoxCeleb1(${root})`;
    this.root = requireDir(root, what);
    this.sampleRate = opts.sampleRate ?? 16000;
    this.fileRate = opts.fileRate;
    const wav = requireDir(path.join(root, 'wav'), what, 'VoxCeleb1 keeps audio in wav/<speaker>/<video>/<nnnnn>.wav');
    const split = opts.split ?? 'all';
    let keepSpeaker: (id: string) => boolean = () => true;
    if (split !== 'all') {
      if (split !== 'dev' && split !== 'test') throw new Error(`${what}: split must be 'dev', 'test' or 'all', got '${split as string}'`);
      const meta = opts.metaFile ?? path.join(root, 'vox1_meta.csv');
      let test: Set<string>;
      if (fs.existsSync(meta)) {
        const t = readTable(meta, what, ['VoxCeleb1 ID', 'Set'], '\t');
        test = new Set(t.rows.filter((r) => r['Set'] === 'test').map((r) => r['VoxCeleb1 ID']));
      } else {
        const trials = opts.trialsFile ?? path.join(root, 'veri_test2.txt');
        if (!fs.existsSync(trials)) {
          throw new Error(`${what}: split '${split}' needs ${meta} (column Set) or a trial list ${trials} to tell test speakers from dev speakers`);
        }
        test = new Set(readTrials(trials).flatMap((t) => [t.enrol.split('/')[0], t.test.split('/')[0]]));
      }
      keepSpeaker = split === 'test' ? (id) => test.has(id) : (id) => !test.has(id);
    }
    let keepFile: (rel: string) => boolean = () => true;
    if (opts.identification !== undefined) {
      const part = String(opts.identification);
      const idenFile = requireFile(path.join(root, 'iden_split.txt'), what, 'the identification split lists `<1|2|3> <path>`');
      const chosen = new Set(readLines(idenFile, what).map((l) => l.split(/\s+/)).filter((p) => p[0] === part).map((p) => p[1]));
      keepFile = (rel) => chosen.has(rel);
    }
    const files: string[] = [];
    for (const spk of listDir(wav, (e) => e.isDirectory())) {
      if (!keepSpeaker(spk)) continue;
      for (const vid of listDir(path.join(wav, spk), (e) => e.isDirectory())) {
        for (const f of listDir(path.join(wav, spk, vid), (e) => e.isFile() && e.name.endsWith('.wav'))) {
          const rel = `${spk}/${vid}/${f}`;
          if (keepFile(rel)) files.push(rel);
        }
      }
    }
    if (files.length === 0) {
      throw new Error(`${what}: no utterances found${split !== 'all' ? ` for split '${split}'` : ''}; expected wav/<speaker>/<video>/<nnnnn>.wav`);
    }
    this.files = files;
    this.speakerIds = [...new Set(files.map((f) => f.split('/')[0]))];
    const index = new Map(this.speakerIds.map((s, i) => [s, i]));
    this.speakerOf = files.map((f) => index.get(f.split('/')[0]) as number);
  }

  get length(): number {
    return this.files.length;
  }

  /** Relative path of every item (as trial lists name them), without reading audio. */
  paths(): string[] {
    return this.files.slice();
  }

  /** Speaker index of every item, without reading audio. */
  speakerIndices(): number[] {
    return this.speakerOf.slice();
  }

  async get(index: number): Promise<SpeakerItem> {
    const i = this.checkIndex(index, 'VoxCeleb1');
    return { ...(await this.load(this.files[i])), speakerIndex: this.speakerOf[i] };
  }

  /** Loads an utterance by its relative path (e.g. a trial's enrol or test file). */
  async load(rel: string): Promise<Omit<SpeakerItem, 'speakerIndex'>> {
    const { samples } = await loadAudio(within(path.join(this.root, 'wav'), rel, 'VoxCeleb1'), { sampleRate: this.sampleRate, expectedRate: this.fileRate });
    return { audio: samples, sampleRate: this.sampleRate, speaker: rel.split('/')[0], path: rel };
  }
}
