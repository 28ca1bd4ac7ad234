import * as path from 'path';
import { embedded } from '../../data/embedded';
import { MusanNoise } from '../../data/musan';
import { readTrials, Trial, VoxCeleb1 } from '../../data/voxceleb';
import { Rng } from '../../util/rng';
import { contiguousCrops, fitLength, unlabelledLists } from '../dphubert/data';
import type { TeacherCrops } from '../dphubert/teacher';
import type { OsKdftConfig } from './config';

const SR = 16000;

/** A speaker-labelled utterance. */
export interface SpeakerUtterance { audio: Float32Array; speaker: number; path: string }

/** What the OS-KDFT steps train and score on. */
export interface OsKdftData {
  sampleRate: number;
  /** Training utterances of `speakers.length` speakers. */
  train: SpeakerUtterance[];
  speakers: string[];
  /** Test utterances (whole), their paths as the trials name them. */
  test: SpeakerUtterance[];
  /** The trial list, as indices into `test`. */
  trials: { enrol: number; test: number; label: number }[];
  /** Noise clips for the augmented copy. */
  noise: Float32Array[];
  /** The unlabelled crops the default teacher pre-trains on. */
  ssl: TeacherCrops;
  sources: Record<string, string>;
  /** The VoxCeleb1 root the utterance paths are relative to (under wav/). */
  root: string;
}

/** Every pair of distinct test utterances as trials (label 1 when the speakers agree). */
export function allPairs(test: SpeakerUtterance[]): { enrol: number; test: number; label: number }[] {
  const out: { enrol: number; test: number; label: number }[] = [];
  for (let i = 0; i < test.length; i++) for (let j = i + 1; j < test.length; j++) out.push({ enrol: i, test: j, label: test[i].speaker === test[j].speaker ? 1 : 0 });
  return out;
}

async function utterances(ds: VoxCeleb1, max: number | null): Promise<SpeakerUtterance[]> {
  const out: SpeakerUtterance[] = [];
  for (let i = 0; i < ds.length && (max === null || out.length < max); i++) {
    const it = await ds.get(i);
    out.push({ audio: it.audio, speaker: it.speakerIndex, path: it.path });
  }
  return out;
}

/** Step 'data': training and test utterances, the trials, the noise and the teacher's unlabelled crops. */
export async function prepareOsKdftData(config: OsKdftConfig, log: (line: string) => void = () => undefined): Promise<OsKdftData> {
  let train: VoxCeleb1, test: VoxCeleb1, trialList: Trial[], source: string, root: string;
  if (config.dataRoot === 'embedded') {
    const sv = embedded('sv');
    ({ train, test, root } = sv);
    trialList = sv.trials;
    source = `embedded sv set (${sv.root})`;
  } else {
    if (!config.dataRoot) throw new Error('os-kdft: dataRoot is empty; give \'embedded\' or a VoxCeleb1 root (--set dataRoot=...)');
    train = new VoxCeleb1(config.dataRoot, { split: 'dev', sampleRate: SR });
    test = new VoxCeleb1(config.dataRoot, { split: 'test', sampleRate: SR });
    trialList = readTrials(path.join(config.dataRoot, 'veri_test2.txt'));
    source = `VoxCeleb1 at ${config.dataRoot}`;
    root = config.dataRoot;
  }
  const trainUtts = await utterances(train, config.maxTrain);
  const testUtts = await utterances(test, null);
  const index = new Map(testUtts.map((u, i) => [u.path, i]));
  const trials = trialList.map((t) => {
    const e = index.get(t.enrol), s = index.get(t.test);
    if (e === undefined || s === undefined) throw new Error(`os-kdft: trial ${t.enrol} ${t.test} names an utterance that is not among the test speakers' files`);
    return { enrol: e, test: s, label: t.label };
  });
  const noiseSet = config.noiseRoot === 'embedded' ? embedded('noise').train : new MusanNoise(config.noiseRoot, { sampleRate: SR });
  const noise: Float32Array[] = [];
  for (let i = 0; i < noiseSet.length; i++) noise.push((await noiseSet.get(i)).audio);
  const lists = unlabelledLists(config.ssl.dataRoot);
  const clip = Math.round(config.ssl.clipSeconds * SR);
  const ssl = { train: await contiguousCrops(lists.train, clip, config.ssl.maxItems.train), valid: await contiguousCrops(lists.valid, clip, config.ssl.maxItems.valid) };
  log(`data: ${trainUtts.length} training utterances of ${train.speakerIds.length} speakers, ${testUtts.length} test utterances, ${trials.length} trials ` +
    `(${trials.filter((t) => t.label === 1).length} target) from ${source}; ${noise.length} noise clips`);
  return { sampleRate: SR, train: trainUtts, speakers: train.speakerIds, test: testUtts, trials, noise, ssl,
    sources: { speakers: source, noise: config.noiseRoot, unlabelled: lists.source }, root };
}

/** A training batch: the clean crops (the teacher's input), their augmented copies (the student's), speaker labels. */
export interface SpeakerBatch { clean: Float32Array[]; noisy: Float32Array[]; labels: number[] }

/**
 * One epoch's batches: utterances shuffled, a random crop of `clipSeconds` each (repeated when shorter), and with
 * probability `augment.prob` a noise clip added at a random offset and an SNR uniform in `augment.snr`.
 */
export function* speakerBatches(data: OsKdftData, config: OsKdftConfig, rng: Rng): Generator<SpeakerBatch> {
  const n = Math.round(config.clipSeconds * SR);
  const order = rng.shuffle([...data.train.keys()]);
  for (let b = 0; b + config.batchSize <= order.length; b += config.batchSize) {
    const batch: SpeakerBatch = { clean: [], noisy: [], labels: [] };
    for (const i of order.slice(b, b + config.batchSize)) {
      const u = data.train[i];
      const start = u.audio.length > n ? rng.int(u.audio.length - n + 1) : 0;
      const clean = fitLength(u.audio.subarray(start), n, 'repeat');
      let noisy = clean;
      if (data.noise.length && rng.uniform() < config.augment.prob) {
        const z = data.noise[rng.int(data.noise.length)];
        const off = z.length > n ? rng.int(z.length - n + 1) : 0;
        const seg = fitLength(z.subarray(off), n, 'repeat');
        const snr = config.augment.snr[0] + (config.augment.snr[1] - config.augment.snr[0]) * rng.uniform();
        let ps = 0, pn = 0;
        for (let k = 0; k < n; k++) { ps += clean[k] * clean[k]; pn += seg[k] * seg[k]; }
        const g = pn > 0 ? Math.sqrt(ps / (pn * 10 ** (snr / 10))) : 0;
        noisy = Float32Array.from(clean, (v, k) => v + g * seg[k]);
      }
      batch.clean.push(clean);
      batch.noisy.push(noisy);
      batch.labels.push(u.speaker);
    }
    yield batch;
  }
}

/** The first batch of the epoch-`seed` order (for notebooks and examples). */
export function exampleBatch(data: OsKdftData, config: OsKdftConfig, seed = 0): SpeakerBatch {
  return speakerBatches(data, config, new Rng(seed)).next().value as SpeakerBatch;
}
