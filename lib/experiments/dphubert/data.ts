import * as fs from 'fs';
import * as path from 'path';
import { AudioList } from '../../data/audio_list';
import { embedded } from '../../data/embedded';
import { SpeechCommands } from '../../data/speech_commands';
import { VoxCeleb1 } from '../../data/voxceleb';
import type { BaseDataset } from '../../data/dataset';
import type { DphubertConfig, DphubertProbeTask } from './config';

/** Speech Commands' ten keywords (SUPERB's KS task: these, '_unknown_' and '_silence_'). */
export const SPEECH_COMMANDS_KEYWORDS = ['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go'];

/** Waveforms of a probe task's split with class indices. */
export interface ProbeSplit {
  audio: Float32Array[];
  labels: Int32Array;
}

/** A probe task's data: clips of equal length (samples), class names, train and test splits. */
export interface ProbeData {
  task: DphubertProbeTask;
  classes: string[];
  samples: number;
  train: ProbeSplit;
  test: ProbeSplit;
  /** Where it came from, in words. */
  source: string;
}

/** What the recipe trains and probes on. */
export interface DphubertData {
  sampleRate: number;
  /** Training and validation crops (clipSeconds each) for pre-training and distillation. */
  train: Float32Array[];
  valid: Float32Array[];
  probes: Partial<Record<DphubertProbeTask, ProbeData>>;
  /** Where each part came from. */
  sources: Record<string, string>;
}

const SR = 16000;

/**
 * The audio of `list`, read in order, joined and cut into crops of `length` samples (the remainder dropped), at
 * most `max` crops. Crops may span two utterances; none is padded.
 */
export async function contiguousCrops(list: BaseDataset<{ audio: Float32Array }>, length: number, max: number | null): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  let cur = new Float32Array(length), fill = 0;
  for (let i = 0; i < list.length && (max === null || out.length < max); i++) {
    const a = (await list.get(i)).audio;
    let k = 0;
    while (k < a.length && (max === null || out.length < max)) {
      const n = Math.min(length - fill, a.length - k);
      cur.set(a.subarray(k, k + n), fill);
      fill += n;
      k += n;
      if (fill === length) {
        out.push(cur);
        cur = new Float32Array(length);
        fill = 0;
      }
    }
  }
  return out;
}

/** A clip cut to `n` samples, or repeated until it has `n` (speaker clips) / zero-padded (`pad`, keyword clips). */
export function fitLength(x: Float32Array, n: number, pad: 'repeat' | 'zeros'): Float32Array {
  if (x.length >= n) return x.slice(0, n);
  const out = new Float32Array(n);
  if (pad === 'zeros' || x.length === 0) {
    out.set(x);
    return out;
  }
  for (let k = 0; k < n; k += x.length) out.set(x.subarray(0, Math.min(x.length, n - k)), k);
  return out;
}

/** The unlabelled lists of `dataRoot`: the embedded ssl set, or `train.tsv` and `valid.tsv` manifests in a folder. */
export function unlabelledLists(dataRoot: string): { train: AudioList; valid: AudioList; source: string } {
  if (dataRoot === 'embedded') {
    const s = embedded('ssl');
    return { train: s.train, valid: s.valid, source: `embedded ssl set (${s.root})` };
  }
  if (!dataRoot) throw new Error("dphubert: dataRoot is empty; give 'embedded' or a folder with train.tsv and valid.tsv (--set dataRoot=...)");
  const manifest = (name: string) => {
    const f = path.join(dataRoot, name);
    if (!fs.existsSync(f)) {
      throw new Error(`dphubert: ${f} does not exist; dataRoot must hold fairseq manifests train.tsv and valid.tsv ` +
        '(first line the audio root, then path<TAB>samples per line)');
    }
    return new AudioList(f, { sampleRate: SR });
  };
  return { train: manifest('train.tsv'), valid: manifest('valid.tsv'), source: `manifests in ${dataRoot}` };
}

async function readSplit<T extends { audio: Float32Array }>(ds: BaseDataset<T>, label: (it: T) => number, n: number, pad: 'repeat' | 'zeros'):
Promise<ProbeSplit> {
  const audio: Float32Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < ds.length; i++) {
    const it = await ds.get(i);
    audio.push(fitLength(it.audio, n, pad));
    labels.push(label(it));
  }
  return { audio, labels: Int32Array.from(labels) };
}

/** Keyword spotting: the embedded kws set, or a Speech Commands root with SUPERB's 12 classes; clips padded to 1 s. */
export async function kwsProbeData(root: string): Promise<ProbeData> {
  const sets = root === 'embedded' ? (() => { const k = embedded('kws'); return { train: k.train, test: k.test, source: `embedded kws set (${k.root})` }; })()
    : { train: new SpeechCommands(root, { split: 'train', keywords: SPEECH_COMMANDS_KEYWORDS, sampleRate: SR }),
      test: new SpeechCommands(root, { split: 'test', keywords: SPEECH_COMMANDS_KEYWORDS, sampleRate: SR }), source: `Speech Commands at ${root}` };
  const train = await readSplit(sets.train, (it) => it.labelIndex, SR, 'zeros');
  const test = await readSplit(sets.test, (it) => it.labelIndex, SR, 'zeros');
  return { task: 'kws', classes: sets.train.labels, samples: SR, train, test, source: sets.source };
}

/**
 * Speaker identification over the speakers of a VoxCeleb1 root, clips cut or repeated to `seconds`. A real root
 * uses its iden_split.txt (parts 1 and 3: train and test). The embedded set's iden split keeps one test utterance
 * per speaker (30 in all, too few for an interval), so there every speaker's utterances, in file order, go one in
 * three to test and the others to train, over all its speakers.
 */
export async function sidProbeData(root: string, seconds: number): Promise<ProbeData> {
  const n = Math.round(seconds * SR);
  if (root !== 'embedded') {
    const train = new VoxCeleb1(root, { identification: 1, sampleRate: SR });
    const test = new VoxCeleb1(root, { identification: 3, sampleRate: SR });
    const ids = train.speakerIds;
    const index = (s: string) => {
      const k = ids.indexOf(s);
      if (k < 0) throw new Error(`dphubert: speaker ${s} of ${root}'s identification test part has no training utterance`);
      return k;
    };
    return { task: 'sid', classes: ids, samples: n, train: await readSplit(train, (it) => index(it.speaker), n, 'repeat'),
      test: await readSplit(test, (it) => index(it.speaker), n, 'repeat'), source: `VoxCeleb1 identification split at ${root}` };
  }
  const sv = embedded('sv');
  const all = new VoxCeleb1(sv.root, { split: 'all', sampleRate: SR, fileRate: 16000 });
  const seen = new Map<string, number>();
  const train: ProbeSplit = { audio: [], labels: new Int32Array(0) }, test: ProbeSplit = { audio: [], labels: new Int32Array(0) };
  const trainLabels: number[] = [], testLabels: number[] = [];
  for (let i = 0; i < all.length; i++) {
    const it = await all.get(i);
    const k = seen.get(it.speaker) ?? 0;
    seen.set(it.speaker, k + 1);
    const dst = k % 3 === 2 ? test : train;
    dst.audio.push(fitLength(it.audio, n, 'repeat'));
    (k % 3 === 2 ? testLabels : trainLabels).push(it.speakerIndex);
  }
  train.labels = Int32Array.from(trainLabels);
  test.labels = Int32Array.from(testLabels);
  return { task: 'sid', classes: all.speakerIds, samples: n, train, test, source: `embedded sv set, all ${all.speakerIds.length} speakers, ` +
    'one utterance in three held out per speaker' };
}

/** Step 'data': the training and validation crops and the probe tasks' clips. */
export async function prepareDphubertData(config: DphubertConfig, log: (line: string) => void = () => undefined): Promise<DphubertData> {
  const lists = unlabelledLists(config.dataRoot);
  const length = Math.round(config.clipSeconds * SR);
  const train = await contiguousCrops(lists.train, length, config.maxItems.train);
  const valid = await contiguousCrops(lists.valid, length, config.maxItems.valid);
  if (train.length < config.batchSize) {
    throw new Error(`dphubert: ${train.length} training crops of ${config.clipSeconds} s in ${lists.source}, fewer than one batch of ${config.batchSize}`);
  }
  const probes: DphubertData['probes'] = {};
  const sources: Record<string, string> = { unlabelled: lists.source };
  for (const task of config.probes.tasks) {
    probes[task] = task === 'kws' ? await kwsProbeData(config.probes.kwsRoot) : await sidProbeData(config.probes.sidRoot, config.probes.sidSeconds);
    sources[task] = probes[task]!.source;
  }
  log(`data: ${train.length} training and ${valid.length} validation crops of ${config.clipSeconds} s from ${lists.source}; ` +
    Object.values(probes).map((p) => `${p!.task} probe ${p!.train.audio.length} train / ${p!.test.audio.length} test clips, ${p!.classes.length} classes`).join('; '));
  return { sampleRate: SR, train, valid, probes, sources };
}
