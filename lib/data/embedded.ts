/**
 * The small datasets that ship in slimspeech's data/ folder (built by data/build/build.py from recorded
 * speech and noise in Debian's archive plus espeak-ng voices; see data/README.md and data/SOURCES.md),
 * opened with the same readers that serve the full public datasets.
 *
 * | name    | layout                                   | task                                   |
 * |---------|------------------------------------------|----------------------------------------|
 * | 'kws'   | Speech Commands v2, 16 kHz               | keyword spotting (10 words + unknown + silence) |
 * | 'sv'    | VoxCeleb1 + veri_test2.txt, 16 kHz        | speaker verification / identification   |
 * | 'sep'   | LibriSpeech-like sources + Libri2Mix metadata, 8 kHz, min mode | two-speaker separation |
 * | 'enh'   | DNS recipes + synthetic test set, 16 kHz | speech enhancement                      |
 * | 'noise' | MUSAN noise, 16 kHz                       | augmentation                            |
 * | 'ssl'   | fairseq manifests over kws and sv audio   | self-supervised pre-training            |
 *
 * Every set's splits are disjoint by speaker, and every test split holds recorded human voices.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../util/package_root';
import { requireDir, requireFile } from './files';
import { SpeechCommands } from './speech_commands';
import { readTrials, Trial, VoxCeleb1 } from './voxceleb';
import { Libri2MixRecipe, MixMode, MixtureType } from './librimix';
import { DnsPairs, DnsRecipes } from './dns';
import { MusanNoise } from './musan';
import { AudioList } from './audio_list';

/** Names of the embedded sets. */
export type EmbeddedName = 'kws' | 'sv' | 'sep' | 'enh' | 'noise' | 'ssl';

/** Every embedded set name. */
export const EMBEDDED_NAMES: readonly EmbeddedName[] = ['kws', 'sv', 'sep', 'enh', 'noise', 'ssl'];

/** Options of {@link embedded}. */
export interface EmbeddedOptions {
  /** The folder holding the sets. Default: `<package root>/data`. */
  dataDir?: string;
  /** Rate of the returned audio. Default: the set's own rate (8000 for 'sep', else 16000). */
  sampleRate?: number;
}

/** Options of `embedded('kws')`, passed on to {@link SpeechCommands}. */
export interface EmbeddedKwsOptions extends EmbeddedOptions {
  /** '_silence_' items per word item. Default: 0.1. */
  silence?: number;
  /** Keep non-keywords as '_unknown_'. Default: true. */
  unknown?: boolean;
  /** Seed of the silence crops. Default: 0. */
  seed?: number | string;
}

/** Options of `embedded('sep')`, passed on to {@link Libri2MixRecipe}. */
export interface EmbeddedSepOptions extends EmbeddedOptions {
  /** Mixture type. Default: 'mix_clean'. */
  mixture?: MixtureType;
  /** Length rule. Default: 'min'. */
  mode?: MixMode;
}

/** The embedded keyword-spotting set. */
export interface EmbeddedKws {
  name: 'kws';
  /** Speech Commands root. */
  root: string;
  /** The ten keywords. */
  keywords: string[];
  /** Class names: keywords, '_unknown_', '_silence_'. */
  labels: string[];
  train: SpeechCommands;
  validation: SpeechCommands;
  test: SpeechCommands;
}

/** The embedded speaker-verification set. */
export interface EmbeddedSv {
  name: 'sv';
  /** VoxCeleb1 root. */
  root: string;
  /** Dev speakers (for training). */
  train: VoxCeleb1;
  /** Test speakers (the trials' utterances). */
  test: VoxCeleb1;
  /** veri_test2.txt: same-speaker and different-speaker pairs of test utterances. */
  trials: Trial[];
  /** VoxCeleb1-style identification split over the dev speakers. */
  identification: { train: VoxCeleb1; validation: VoxCeleb1; test: VoxCeleb1 };
}

/** The embedded separation set (mixtures built on the fly). */
export interface EmbeddedSep {
  name: 'sep';
  /** The sep folder. */
  root: string;
  /** LibriSpeech-like root of the source utterances. */
  librispeechRoot: string;
  /** MUSAN root the noise paths are relative to. */
  noiseRoot: string;
  train: Libri2MixRecipe;
  dev: Libri2MixRecipe;
  test: Libri2MixRecipe;
}

/** The embedded enhancement set. */
export interface EmbeddedEnh {
  name: 'enh';
  /** The enh folder. */
  root: string;
  /** Recipes over the sv dev speakers and the training noises. */
  train: DnsRecipes;
  /** Recipes over held-out speakers and the training noises. */
  valid: DnsRecipes;
  /** The fixed synthetic test set (test speakers, test noises), stored as noisy/clean pairs. */
  test: DnsPairs;
}

/** The embedded noise set. */
export interface EmbeddedNoise {
  name: 'noise';
  /** MUSAN root. */
  root: string;
  train: MusanNoise;
  test: MusanNoise;
}

/** The embedded self-supervised pre-training lists. */
export interface EmbeddedSsl {
  name: 'ssl';
  /** The ssl folder. */
  root: string;
  train: AudioList;
  valid: AudioList;
}

/** Any embedded set. */
export type EmbeddedSet = EmbeddedKws | EmbeddedSv | EmbeddedSep | EmbeddedEnh | EmbeddedNoise | EmbeddedSsl;

/** The folder the embedded sets live in: `<package root>/data`. */
export function embeddedDataDir(): string {
  return path.join(packageRoot(), 'data');
}

/** data/manifest.json: per set and split, counts of files, classes, speakers (recorded and synthetic). */
export function embeddedManifest(dataDir = embeddedDataDir()): Record<string, any> {
  const file = requireFile(path.join(dataDir, 'manifest.json'), 'embeddedManifest', 'written by data/build/build.py');
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/**
 * Opens an embedded set by name (see the table above); splits are readers from this module, so they
 * index paths now and read audio on demand.
 * @throws Error for an unknown name or when data/ lacks the set (a package installed without data/).
 */
export function embedded(name: 'kws', opts?: EmbeddedKwsOptions): EmbeddedKws;
export function embedded(name: 'sv', opts?: EmbeddedOptions): EmbeddedSv;
export function embedded(name: 'sep', opts?: EmbeddedSepOptions): EmbeddedSep;
export function embedded(name: 'enh', opts?: EmbeddedOptions): EmbeddedEnh;
export function embedded(name: 'noise', opts?: EmbeddedOptions): EmbeddedNoise;
export function embedded(name: 'ssl', opts?: EmbeddedOptions): EmbeddedSsl;
export function embedded(name: EmbeddedName, opts?: EmbeddedOptions & EmbeddedKwsOptions & EmbeddedSepOptions): EmbeddedSet;
export function embedded(name: EmbeddedName, opts: EmbeddedOptions & EmbeddedKwsOptions & EmbeddedSepOptions = {}): EmbeddedSet {
  const dataDir = opts.dataDir ?? embeddedDataDir();
  const what = `embedded('${name}')`;
  const dir = (...p: string[]): string => requireDir(path.join(dataDir, ...p), what, 'built by data/build/build.py');
  switch (name) {
    case 'kws': {
      const root = dir('kws');
      const keywords: string[] = embeddedManifest(dataDir).kws.keywords;
      const o = { keywords, sampleRate: opts.sampleRate ?? 16000, fileRate: 16000, silence: opts.silence, unknown: opts.unknown, seed: opts.seed };
      const train = new SpeechCommands(root, { ...o, split: 'train' });
      return {
        name, root, keywords, labels: train.labels, train,
        validation: new SpeechCommands(root, { ...o, split: 'validation' }),
        test: new SpeechCommands(root, { ...o, split: 'test' }),
      };
    }
    case 'sv': {
      const root = dir('sv');
      const o = { sampleRate: opts.sampleRate ?? 16000, fileRate: 16000 };
      return {
        name, root,
        train: new VoxCeleb1(root, { ...o, split: 'dev' }),
        test: new VoxCeleb1(root, { ...o, split: 'test' }),
        trials: readTrials(path.join(root, 'veri_test2.txt')),
        identification: {
          train: new VoxCeleb1(root, { ...o, split: 'dev', identification: 1 }),
          validation: new VoxCeleb1(root, { ...o, split: 'dev', identification: 2 }),
          test: new VoxCeleb1(root, { ...o, split: 'dev', identification: 3 }),
        },
      };
    }
    case 'sep': {
      const root = dir('sep');
      const librispeechRoot = dir('sep', 'LibriSpeech');
      const noiseRoot = dir('noise', 'musan');
      const o = { librispeechRoot, noiseRoot, sampleRate: opts.sampleRate ?? 8000, sourceRate: 8000, mixture: opts.mixture, mode: opts.mode };
      const md = (s: string): string => path.join(root, 'metadata', 'Libri2Mix', `libri2mix_${s}.csv`);
      return {
        name, root, librispeechRoot, noiseRoot,
        train: new Libri2MixRecipe(md('train-clean-100'), o),
        dev: new Libri2MixRecipe(md('dev-clean'), o),
        test: new Libri2MixRecipe(md('test-clean'), o),
      };
    }
    case 'enh': {
      const root = dir('enh');
      const o = { cleanRoot: dir('sv', 'wav'), noiseRoot: dir('noise', 'musan'), sampleRate: opts.sampleRate ?? 16000 };
      return {
        name, root,
        train: new DnsRecipes(path.join(root, 'train.csv'), o),
        valid: new DnsRecipes(path.join(root, 'valid.csv'), o),
        test: new DnsPairs(path.join(root, 'test_set', 'synthetic', 'no_reverb'), { sampleRate: o.sampleRate, fileRate: 16000 }),
      };
    }
    case 'noise': {
      const root = dir('noise', 'musan');
      const o = { sampleRate: opts.sampleRate ?? 16000 };
      return {
        name, root,
        train: new MusanNoise(root, { ...o, list: path.join(dataDir, 'noise', 'train.lst') }),
        test: new MusanNoise(root, { ...o, list: path.join(dataDir, 'noise', 'test.lst') }),
      };
    }
    case 'ssl': {
      const root = dir('ssl');
      const o = { sampleRate: opts.sampleRate ?? 16000 };
      return { name, root, train: new AudioList(path.join(root, 'train.tsv'), o), valid: new AudioList(path.join(root, 'valid.tsv'), o) };
    }
    default:
      throw new Error(`embedded: unknown set '${name as string}' (expected one of ${EMBEDDED_NAMES.join(', ')})`);
  }
}
