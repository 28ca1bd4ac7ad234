/**
 * Readers for the DNS challenge layout (Reddy et al. 2020, arXiv 2005.13981):
 * - pairs on disk: `noisy/<anything>_fileid_<K>.wav` with `clean/clean_fileid_<K>.wav` (and optionally
 *   `noise/noise_fileid_<K>.wav`), as the synthesiser writes them and as the synthetic test set
 *   `test_set/synthetic/{no_reverb,with_reverb}/{clean,noisy}/` ships;
 * - recipes: a CSV `fileid, clean_path, noise_path, noise_offset, snr_db, target_level_db` from which
 *   {@link DnsRecipes} synthesises noisy speech on the fly, the way the DNS synthesiser does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BaseDataset } from './dataset';
import { byCodePoint, cellNumber, listDir, loadAudio, readTable, requireDir, within } from './files';

/** One enhancement example. */
export interface EnhancementItem {
  /** The DNS file id K. */
  fileid: number;
  /** Noisy speech, [time]. */
  noisy: Float32Array;
  /** The clean target, [time] (same length as noisy). */
  clean: Float32Array;
  /** The noise that was added, when known. */
  noise?: Float32Array;
  /** Samples per second. */
  sampleRate: number;
  /** Where the noisy audio came from: the noisy file, or the recipe's clean file. */
  path: string;
  /** SNR in dB (recipes only). */
  snrDb?: number;
}

/** Options of {@link dnsMix}. */
export interface DnsMixOptions {
  /** First noise sample used; the noise is repeated from its start if it runs out. Default: 0. */
  offset?: number;
  /** Ratio of clean to noise power after scaling, in dB. Required. */
  snrDb: number;
  /** RMS level of the scaled clean speech in dBFS. Default: -25. */
  targetLevelDb?: number;
  /** If the mixture's peak exceeds this, mixture, clean and noise are scaled down together. Default: 0.99. */
  clipLimit?: number;
}

function rms(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, x.length));
}

/**
 * DNS-style mixing: clean c scaled to RMS 10^(targetLevelDb/20); the noise segment n (from `offset`,
 * length of c) scaled by g = rms(c) / rms(n) / 10^(snrDb/20); noisy = c + g n; if max|noisy| exceeds
 * `clipLimit`, noisy, c and g n are all multiplied by clipLimit / max|noisy|. Computed in float64.
 * @returns noisy, clean (scaled target) and noise (scaled), each the clean signal's length.
 */
export function dnsMix(clean: Float32Array, noise: Float32Array, opts: DnsMixOptions): { noisy: Float32Array; clean: Float32Array; noise: Float32Array } {
  const { offset = 0, snrDb, targetLevelDb = -25, clipLimit = 0.99 } = opts;
  if (!Number.isFinite(snrDb)) throw new Error(`dnsMix: snrDb must be a finite number, got ${snrDb}`);
  if (noise.length === 0) throw new Error('dnsMix: the noise is empty');
  if (!Number.isInteger(offset) || offset < 0) throw new Error(`dnsMix: offset must be a non-negative integer, got ${offset}`);
  const n = clean.length;
  const seg = new Float64Array(n);
  for (let i = 0; i < n; i++) seg[i] = noise[(offset + i) % noise.length];
  const rc = rms(clean);
  const cGain = 10 ** (targetLevelDb / 20) / (rc + 1e-12);
  let sc = 0;
  let sn = 0;
  for (let i = 0; i < n; i++) { sc += (clean[i] * cGain) ** 2; sn += seg[i] ** 2; }
  const nGain = Math.sqrt(sc / n) / (Math.sqrt(sn / n) + 1e-12) / 10 ** (snrDb / 20);
  let peak = 0;
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(clean[i] * cGain + seg[i] * nGain));
  const k = peak > clipLimit ? clipLimit / peak : 1;
  const out = { noisy: new Float32Array(n), clean: new Float32Array(n), noise: new Float32Array(n) };
  for (let i = 0; i < n; i++) {
    const c = clean[i] * cGain * k;
    const z = seg[i] * nGain * k;
    out.clean[i] = c;
    out.noise[i] = z;
    out.noisy[i] = c + z;
  }
  return out;
}

/** Options of {@link DnsPairs}. */
export interface DnsPairsOptions {
  /** Rate of the returned audio. Default: 16000. */
  sampleRate?: number;
  /** Also read `noise/noise_fileid_<K>.wav` (required to exist then). Default: false. */
  withNoise?: boolean;
  /** If set, a file stored at another rate is an error naming the file. Default: undefined. */
  fileRate?: number;
}

const FILEID = /_fileid_(\d+)\.wav$/;

/**
 * Noisy/clean pairs on disk, matched by file id. Indexes names at construction; items are sorted by id.
 *
 * Errors name the folder or file: a missing root, `noisy/` or `clean/`; no `*_fileid_<K>.wav` in
 * `noisy/`; a noisy file without its clean partner (or noise file, with `withNoise`); two noisy files
 * with one id; a pair whose lengths differ; a bad WAV file.
 */
export class DnsPairs extends BaseDataset<EnhancementItem> {
  /** Folder holding noisy/ and clean/. */
  readonly root: string;
  /** Output sample rate. */
  readonly sampleRate: number;
  private readonly items: { id: number; noisy: string }[];
  private readonly withNoise: boolean;
  private readonly fileRate?: number;

  constructor(root: string, opts: DnsPairsOptions = {}) {
    super();
    const what = `DnsPairs(${root})`;
    this.root = requireDir(root, what);
    this.sampleRate = opts.sampleRate ?? 16000;
    this.withNoise = opts.withNoise ?? false;
    this.fileRate = opts.fileRate;
    const noisyDir = requireDir(path.join(root, 'noisy'), what, 'DNS keeps noisy speech in noisy/<...>_fileid_<K>.wav');
    const cleanDir = requireDir(path.join(root, 'clean'), what, 'DNS keeps targets in clean/clean_fileid_<K>.wav');
    const clean = new Set(listDir(cleanDir, (e) => e.isFile()));
    const noise = this.withNoise
      ? new Set(listDir(requireDir(path.join(root, 'noise'), what, 'withNoise reads noise/noise_fileid_<K>.wav'), (e) => e.isFile()))
      : undefined;
    const seen = new Map<number, string>();
    for (const f of listDir(noisyDir, (e) => e.isFile() && e.name.endsWith('.wav'))) {
      const m = FILEID.exec(f);
      if (!m) continue;
      const id = Number(m[1]);
      if (seen.has(id)) throw new Error(`${what}: noisy/${seen.get(id)} and noisy/${f} share fileid ${id}`);
      if (!clean.has(`clean_fileid_${id}.wav`)) throw new Error(`${what}: noisy/${f} has no partner clean/clean_fileid_${id}.wav`);
      if (noise && !noise.has(`noise_fileid_${id}.wav`)) throw new Error(`${what}: noisy/${f} has no noise/noise_fileid_${id}.wav`);
      seen.set(id, f);
    }
    if (seen.size === 0) throw new Error(`${what}: ${noisyDir} holds no <...>_fileid_<K>.wav files`);
    this.items = [...seen].sort((a, b) => a[0] - b[0]).map(([id, f]) => ({ id, noisy: f }));
  }

  get length(): number {
    return this.items.length;
  }

  /** File ids, without reading audio. */
  fileids(): number[] {
    return this.items.map((i) => i.id);
  }

  async get(index: number): Promise<EnhancementItem> {
    const it = this.items[this.checkIndex(index, 'DnsPairs')];
    const load = async (rel: string): Promise<Float32Array> =>
      (await loadAudio(path.join(this.root, rel), { sampleRate: this.sampleRate, expectedRate: this.fileRate })).samples;
    const noisyRel = `noisy/${it.noisy}`;
    const cleanRel = `clean/clean_fileid_${it.id}.wav`;
    const [noisy, clean] = await Promise.all([load(noisyRel), load(cleanRel)]);
    if (noisy.length !== clean.length) {
      throw new Error(`DnsPairs(${this.root}): ${noisyRel} has ${noisy.length} samples but ${cleanRel} has ${clean.length}`);
    }
    const noise = this.withNoise ? await load(`noise/noise_fileid_${it.id}.wav`) : undefined;
    return { fileid: it.id, noisy, clean, noise, sampleRate: this.sampleRate, path: noisyRel };
  }
}

/** Options of {@link DnsRecipes}. */
export interface DnsRecipesOptions {
  /** Folder the clean paths are relative to. Required. */
  cleanRoot: string;
  /** Folder the noise paths are relative to. Required. */
  noiseRoot: string;
  /** Rate of the returned audio (clean and noise are resampled to it). Default: 16000. */
  sampleRate?: number;
}

interface Recipe {
  fileid: number;
  clean: string;
  noise: string;
  offset: number;
  snrDb: number;
  targetLevelDb: number;
}

/** Columns a DNS recipe CSV must have. */
export const DNS_RECIPE_COLUMNS = ['fileid', 'clean_path', 'noise_path', 'noise_offset', 'snr_db', 'target_level_db'];

/**
 * Noisy speech synthesised on the fly from a recipe CSV (columns {@link DNS_RECIPE_COLUMNS}; noise_offset
 * in seconds): item i is {@link dnsMix} of its clean file and its noise file from that offset.
 *
 * Errors name the file and the problem: a missing CSV, column or root; a cell that is not a number;
 * a path outside its root; a bad WAV file.
 */
export class DnsRecipes extends BaseDataset<EnhancementItem> {
  /** The recipe file. */
  readonly recipes: string;
  /** Output sample rate. */
  readonly sampleRate: number;
  private readonly rows: Recipe[];
  private readonly cleanRoot: string;
  private readonly noiseRoot: string;

  constructor(recipesCsv: string, opts: DnsRecipesOptions) {
    super();
    const what = `DnsRecipes(${recipesCsv})`;
    if (!opts || typeof opts.cleanRoot !== 'string' || typeof opts.noiseRoot !== 'string') {
      throw new Error(`${what}: options.cleanRoot and options.noiseRoot are required`);
    }
    this.cleanRoot = requireDir(opts.cleanRoot, what, 'the folder clean_path is relative to');
    this.noiseRoot = requireDir(opts.noiseRoot, what, 'the folder noise_path is relative to');
    this.recipes = recipesCsv;
    this.sampleRate = opts.sampleRate ?? 16000;
    const t = readTable(recipesCsv, what, DNS_RECIPE_COLUMNS);
    this.rows = t.rows.map((r, i) => ({
      fileid: cellNumber(t, i, 'fileid', what),
      clean: r['clean_path'],
      noise: r['noise_path'],
      offset: cellNumber(t, i, 'noise_offset', what),
      snrDb: cellNumber(t, i, 'snr_db', what),
      targetLevelDb: cellNumber(t, i, 'target_level_db', what),
    }));
  }

  get length(): number {
    return this.rows.length;
  }

  /** Clean paths (relative to cleanRoot) of every item, without reading audio. */
  cleanPaths(): string[] {
    return this.rows.map((r) => r.clean);
  }

  async get(index: number): Promise<EnhancementItem> {
    const r = this.rows[this.checkIndex(index, 'DnsRecipes')];
    const what = `DnsRecipes(${this.recipes})`;
    const rate = this.sampleRate;
    const [clean, noise] = await Promise.all([
      loadAudio(within(this.cleanRoot, r.clean, what), { sampleRate: rate }),
      loadAudio(within(this.noiseRoot, r.noise, what), { sampleRate: rate }),
    ]);
    const m = dnsMix(clean.samples, noise.samples, {
      offset: Math.round(r.offset * rate), snrDb: r.snrDb, targetLevelDb: r.targetLevelDb,
    });
    return { fileid: r.fileid, noisy: m.noisy, clean: m.clean, noise: m.noise, sampleRate: rate, path: r.clean, snrDb: r.snrDb };
  }
}

/** The folders of a DNS synthetic test set that hold noisy/clean pairs ('no_reverb', 'with_reverb'). */
export function dnsTestSets(syntheticDir: string): string[] {
  requireDir(syntheticDir, `dnsTestSets(${syntheticDir})`);
  return listDir(syntheticDir, (e) => e.isDirectory())
    .filter((d) => fs.existsSync(path.join(syntheticDir, d, 'noisy')) && fs.existsSync(path.join(syntheticDir, d, 'clean')))
    .sort(byCodePoint);
}
