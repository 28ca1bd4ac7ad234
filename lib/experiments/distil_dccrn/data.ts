import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { DnsPairs, dnsMix, EnhancementItem } from '../../data/dns';
import { embedded, embeddedDataDir, embeddedManifest } from '../../data/embedded';
import { listDir, loadAudio, requireDir } from '../../data/files';
import { Rng } from '../../util/rng';
import type { Dataset } from '../../data/dataset';
import type { DistilDccrnConfig } from './config';

/** One enhancement pair: noisy input and clean target of one length, and where it came from. */
export interface EnhPair {
  noisy: Float32Array;
  clean: Float32Array;
  /** e.g. the recipe's clean file, or the mixture's description. */
  name: string;
  snrDb?: number;
}

/** What the data step prepares. */
export interface EnhData {
  sampleRate: number;
  /** Training pairs (whole items; crops are drawn per epoch). */
  train: EnhPair[];
  /** Validation pairs (held-out speakers), scored every epoch. */
  valid: EnhPair[];
  /** The test mixtures the claims are judged on. */
  test: EnhPair[];
  /** A second, stored test set reported apart (the embedded set's 20 DNS-style pairs), or empty. */
  stored: EnhPair[];
  /** Where they came from, for the report. */
  sources: { train: string; test: string; stored: string };
  seconds: number;
}

async function readAll(ds: Dataset<EnhancementItem>, what: string): Promise<EnhPair[]> {
  const out: EnhPair[] = [];
  for (let i = 0; i < ds.length; i++) {
    const it = await ds.get(i);
    out.push({ noisy: it.noisy, clean: it.clean, name: it.path, snrDb: it.snrDb });
  }
  if (!out.length) throw new Error(`distil-dccrn: ${what} holds no pairs`);
  return out;
}

/**
 * The embedded set's test mixtures: clean utterances of its held-out test speakers (the recorded voices
 * of data/sv's test split, at least 1 s long) mixed with its test noises (data/noise/test.lst, unseen in
 * training) at SNRs cycling through `snrs`, at -25 dBFS, with noise offsets drawn from a generator seeded
 * by `seed`: item k takes utterance k mod U, noise (k * 7 + floor(k / U)) mod N. The same seed gives the
 * same mixtures.
 */
export async function embeddedTestMixtures(count: number, snrs: number[], sampleRate: number, seed: number): Promise<EnhPair[]> {
  const dir = embeddedDataDir();
  const speakers = Object.values(embeddedManifest(dir).sv.speakers as Record<string, { id: string; split: string; kind: string }>)
    .filter((s) => s.split === 'test' && s.kind === 'recorded').map((s) => s.id).sort();
  const wavRoot = path.join(dir, 'sv', 'wav');
  const utterances: { rel: string; audio: Float32Array }[] = [];
  for (const spk of speakers) {
    for (const video of listDir(requireDir(path.join(wavRoot, spk), 'distil-dccrn test speakers'), (e) => e.isDirectory())) {
      for (const f of listDir(path.join(wavRoot, spk, video), (e) => e.isFile() && e.name.endsWith('.wav'))) {
        const rel = path.join(spk, video, f);
        const a = (await loadAudio(path.join(wavRoot, rel), { sampleRate })).samples;
        if (a.length >= sampleRate) utterances.push({ rel, audio: a });
      }
    }
  }
  const noiseList = fs.readFileSync(path.join(dir, 'noise', 'test.lst'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  const noises = await Promise.all(noiseList.map(async (rel) => ({ rel, audio: (await loadAudio(path.join(dir, 'noise', 'musan', rel), { sampleRate })).samples })));
  if (!utterances.length || !noises.length) throw new Error('distil-dccrn: the embedded set has no test utterances or noises');
  const rng = new Rng(`${seed}/enh-test-mixtures`);
  const out: EnhPair[] = [];
  for (let k = 0; k < count; k++) {
    const u = utterances[k % utterances.length];
    const z = noises[(k * 7 + Math.floor(k / utterances.length)) % noises.length];
    const snrDb = snrs[k % snrs.length];
    const m = dnsMix(u.audio, z.audio, { snrDb, targetLevelDb: -25, offset: rng.int(z.audio.length) });
    out.push({ noisy: m.noisy, clean: m.clean, snrDb, name: `${u.rel} + ${path.basename(z.rel)} at ${snrDb} dB` });
  }
  return out;
}

/**
 * Step 'data': the embedded set (its training and validation recipes mixed as DNS does, the test
 * mixtures of {@link embeddedTestMixtures} and the 20 stored test pairs), or a DNS training folder
 * (`dataRoot`, 10% of its pairs held out for validation) with its synthetic test folder (`testRoot`).
 */
export async function prepareEnhData(config: DistilDccrnConfig, log: (l: string) => void = () => undefined): Promise<EnhData> {
  const t0 = Date.now();
  const sr = 16000;
  let data: EnhData;
  if (config.dataRoot === 'embedded') {
    const enh = embedded('enh', { sampleRate: sr });
    data = {
      sampleRate: sr, train: await readAll(enh.train, 'data/enh/train.csv'), valid: await readAll(enh.valid, 'data/enh/valid.csv'),
      test: await embeddedTestMixtures(config.testMixtures, config.testSnrs, sr, config.seed),
      stored: await readAll(enh.test, 'data/enh/test_set'), seconds: 0,
      sources: { train: enh.train.recipes, test: `${config.testMixtures} mixtures of held-out speakers and noises`, stored: enh.test.root },
    };
  } else {
    if (!config.dataRoot || !config.testRoot) {
      throw new Error('distil-dccrn: the paper preset needs a DNS training folder and its test folder: --set dataRoot=/data/dns/training ' +
        '--set testRoot=/data/dns/test_set/synthetic/no_reverb (each holding noisy/ and clean/), or dataRoot=embedded');
    }
    const all = await readAll(new DnsPairs(path.resolve(config.dataRoot), { sampleRate: sr }), config.dataRoot);
    const rng = new Rng(`${config.seed}/enh-valid`);
    const order = rng.shuffle(all.map((_, i) => i));
    const nValid = Math.max(1, Math.round(0.1 * all.length));
    data = {
      sampleRate: sr, train: order.slice(nValid).map((i) => all[i]), valid: order.slice(0, nValid).map((i) => all[i]),
      test: await readAll(new DnsPairs(path.resolve(config.testRoot), { sampleRate: sr }), config.testRoot), stored: [], seconds: 0,
      sources: { train: config.dataRoot, test: config.testRoot, stored: '' },
    };
  }
  const cut = (p: EnhPair[], n: number | null) => (n === null ? p : p.slice(0, n));
  data.train = cut(data.train, config.maxItems.train);
  data.valid = cut(data.valid, config.maxItems.valid);
  data.stored = cut(data.stored, config.maxItems.stored);
  data.seconds = (Date.now() - t0) / 1000;
  const dur = (p: EnhPair[]) => p.reduce((s, x) => s + x.noisy.length, 0) / sr;
  log(`data: train ${data.train.length} pairs (${dur(data.train).toFixed(0)} s), valid ${data.valid.length}, ` +
    `test ${data.test.length} mixtures (${dur(data.test).toFixed(0)} s)${data.stored.length ? `, stored test ${data.stored.length} pairs` : ''}; ` +
    `${data.seconds.toFixed(1)} s`);
  return data;
}

/** A training batch: noisy and clean crops [batch, samples]. */
export interface EnhBatch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

/**
 * The training batches of one epoch: the pairs in an order shuffled by `rng` (fit's generator for the
 * epoch), each cut to `segmentSeconds` at an offset drawn by `rng` (zero-padded when shorter). The same
 * epoch and seed give the same batches, so every variant sees the same data.
 */
export function enhTrainBatches(data: EnhData, config: DistilDccrnConfig, rng: Rng): Iterable<EnhBatch> {
  const seg = Math.round(config.segmentSeconds * data.sampleRate);
  const order = rng.shuffle(data.train.map((_, i) => i));
  const bs = config.batchSize;
  return (function* () {
    for (let s = 0; s < order.length; s += bs) {
      const idx = order.slice(s, s + bs);
      const x = new Float32Array(idx.length * seg);
      const y = new Float32Array(idx.length * seg);
      idx.forEach((i, k) => {
        const p = data.train[i];
        const off = p.noisy.length > seg ? rng.int(p.noisy.length - seg + 1) : 0;
        x.set(p.noisy.subarray(off, off + seg), k * seg);
        y.set(p.clean.subarray(off, off + seg), k * seg);
      });
      yield { x: tf.tensor2d(x, [idx.length, seg]), y: tf.tensor2d(y, [idx.length, seg]) };
    }
  })();
}
