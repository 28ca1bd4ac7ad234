/**
 * File helpers shared by the dataset readers: checks whose errors name the reader, the file and the
 * problem; list and CSV parsing; loading a WAV file as mono at a requested sample rate.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readWavFile } from '../audio/wav';
import { resampleArray } from '../audio/resample';

/**
 * Throws unless `dir` is an existing folder.
 * @param what names the reader, e.g. 'SpeechCommands(/data/sc)'.
 * @param hint says what the folder should hold, appended in parentheses.
 */
export function requireDir(dir: string, what: string, hint?: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new Error(`${what}: folder ${dir} does not exist${hint ? ` (${hint})` : ''}`);
  }
  if (!st.isDirectory()) throw new Error(`${what}: ${dir} is not a folder${hint ? ` (${hint})` : ''}`);
  return dir;
}

/** Throws unless `file` is an existing file; arguments as {@link requireDir}. */
export function requireFile(file: string, what: string, hint?: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new Error(`${what}: file ${file} does not exist${hint ? ` (${hint})` : ''}`);
  }
  if (!st.isFile()) throw new Error(`${what}: ${file} is not a file${hint ? ` (${hint})` : ''}`);
  return file;
}

/** Sorted names of the entries of `dir` that satisfy `keep` (dirent based, no stat per entry). */
export function listDir(dir: string, keep: (e: fs.Dirent) => boolean = () => true): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).filter(keep).map((e) => e.name).sort(byCodePoint);
}

/** Compares strings by code points (locale independent, so every machine sorts alike). */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Non-empty, trimmed lines of a text file. */
export function readLines(file: string, what: string): string[] {
  requireFile(file, what);
  return fs.readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
}

/** A parsed CSV (or TSV) file. */
export interface Table {
  /** The file it came from (for error messages). */
  file: string;
  /** Column names from the header line. */
  header: string[];
  /** One record per data line, keyed by column name. */
  rows: Record<string, string>[];
}

function splitCsvLine(line: string, delimiter: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"' && cur.length === 0) quoted = true;
    else if (ch === delimiter) { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * Reads a CSV file with a header line (double-quoted fields allowed) and checks that `columns` are
 * present.
 * @param delimiter field separator; default ','.
 * @throws Error naming the file for a missing file, a missing column or a line with too few fields.
 */
export function readTable(file: string, what: string, columns: string[] = [], delimiter = ','): Table {
  const lines = readLines(file, what);
  if (lines.length === 0) throw new Error(`${what}: ${file} is empty (expected a header line)`);
  const header = splitCsvLine(lines[0], delimiter).map((h) => h.trim());
  const missing = columns.filter((c) => !header.includes(c));
  if (missing.length) {
    throw new Error(`${what}: ${file} lacks column(s) ${missing.join(', ')} (header: ${header.join(delimiter)})`);
  }
  const rows = lines.slice(1).map((line, i) => {
    const f = splitCsvLine(line, delimiter);
    if (f.length < header.length) {
      throw new Error(`${what}: ${file} line ${i + 2} has ${f.length} fields, the header has ${header.length}`);
    }
    const r: Record<string, string> = {};
    header.forEach((h, k) => { r[h] = f[k].trim(); });
    return r;
  });
  return { file, header, rows };
}

/** A number from a table cell; the error names the file, line and column. */
export function cellNumber(t: Table, row: number, column: string, what: string): number {
  const v = Number(t.rows[row][column]);
  if (t.rows[row][column] === '' || !Number.isFinite(v)) {
    throw new Error(`${what}: ${t.file} line ${row + 2}: ${column} is '${t.rows[row][column]}', not a number`);
  }
  return v;
}

/** How multi-channel files become mono. */
export type MonoMode = 'mean' | 'first';

/** Options of {@link loadAudio}. */
export interface LoadAudioOptions {
  /** Resample to this rate (Hz) when the file has another. Default: undefined (keep the file's rate). */
  sampleRate?: number;
  /** Channel mixing for multi-channel files. Default: 'mean'. */
  mono?: MonoMode;
  /** If set, a file stored at another rate is an error (WavError 'sample-rate' naming the file). Default: undefined. */
  expectedRate?: number;
}

/** Mono audio loaded by {@link loadAudio}. */
export interface MonoAudio {
  /** Samples in [-1, 1]. */
  samples: Float32Array;
  /** Rate of `samples` (the requested one, or the file's). */
  sampleRate: number;
}

/**
 * Reads a WAV file as mono float samples, resampled (windowed sinc, {@link resampleArray}) to
 * `sampleRate` if given. A bad file throws the WAV reader's error, which names the file and the problem.
 */
export async function loadAudio(file: string, opts: LoadAudioOptions = {}): Promise<MonoAudio> {
  const wav = await readWavFile(file, { expectedSampleRate: opts.expectedRate });
  let x: Float32Array;
  if (wav.channelData.length === 1 || opts.mono === 'first') {
    x = wav.channelData[0];
  } else {
    const n = wav.numFrames;
    x = new Float32Array(n);
    for (const ch of wav.channelData) for (let i = 0; i < n; i++) x[i] += ch[i];
    const c = wav.channelData.length;
    for (let i = 0; i < n; i++) x[i] /= c;
  }
  const rate = opts.sampleRate ?? wav.sampleRate;
  if (rate !== wav.sampleRate) x = resampleArray(x, wav.sampleRate, rate);
  return { samples: x, sampleRate: rate };
}

/** `rel` joined to `root`, refusing paths that climb out of it (a corrupt list must not read elsewhere). */
export function within(root: string, rel: string, what: string): string {
  const full = path.resolve(root, rel);
  const r = path.resolve(root);
  if (full !== r && !full.startsWith(r + path.sep)) throw new Error(`${what}: path '${rel}' points outside ${root}`);
  return full;
}
