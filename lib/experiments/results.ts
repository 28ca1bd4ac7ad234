import * as fs from 'fs';
import * as path from 'path';
import type { ClaimResult } from './claims';
import type { PresetName } from './presets';

/** One row of a results table: plain numbers, strings, booleans, null. */
export type ResultRow = Record<string, number | string | boolean | null>;

/** What every recipe's results.json holds; recipes add their own fields. */
export interface RecipeResults {
  experiment: string;
  preset: PresetName;
  /** The `key=value` overrides on top of the preset. */
  overrides: string[];
  backend: string;
  /** slimspeech's version. */
  version: string;
  /** The seeds this run's numbers come from (one, or several with --seeds). */
  seeds: number[];
  rows: ResultRow[];
  claims: ClaimResult[];
  /** Reference points every number is read against (chance level, majority class, the unprocessed input). */
  baselines: Record<string, number>;
  [extra: string]: unknown;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The rows as CSV: a header of every key (in the order first seen), one line per row. */
export function resultsCsv(rows: ResultRow[]): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return [cols.join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n';
}

/**
 * Writes `results.json` (the whole object) and `results.csv` (its rows) into `dir`, each atomically (a
 * temporary file renamed over the old one); resolves to their paths.
 */
export function writeResults(dir: string, results: RecipeResults): { json: string; csv: string } {
  fs.mkdirSync(dir, { recursive: true });
  const json = path.join(dir, 'results.json');
  const csv = path.join(dir, 'results.csv');
  writeFileAtomic(json, JSON.stringify(results, null, 1));
  writeFileAtomic(csv, resultsCsv(results.rows));
  return { json, csv };
}

/** Writes a file through a temporary sibling and a rename, so readers never see half of it. */
export function writeFileAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** How {@link formatTable} shows a column. */
export interface TableColumn {
  key: string;
  /** Header. Default the key. */
  title?: string;
  /** 'pct': a [0, 1] value in % with one decimal; 'int': thousands grouped; 'fixed:N': N decimals; 'text'. Default: numbers as they are. */
  format?: 'pct' | 'int' | 'text' | `fixed:${number}`;
}

function cell(v: unknown, format: TableColumn['format']): string {
  if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) return '-';
  if (typeof v !== 'number') return String(v);
  if (format === 'pct') return (100 * v).toFixed(1);
  if (format === 'int') return Math.round(v).toLocaleString('en-US');
  if (format?.startsWith('fixed:')) return v.toFixed(Number(format.slice(6)));
  return String(v);
}

/**
 * The rows as a fixed-width text table for logs and notebooks; with `columns` only those, formatted.
 * A column `k` with companions `kLo` and `kHi` (intervals over seeds, see {@link aggregateSeeds}) shows
 * as `value [lo, hi]`.
 */
export function formatTable(rows: ResultRow[], columns?: TableColumn[]): string {
  const cols: TableColumn[] = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))]
    .filter((k) => !/(Lo|Hi)$/.test(k)).map((key) => ({ key }));
  const head = cols.map((c) => c.title ?? c.key);
  const body = rows.map((r) => cols.map((c) => {
    const v = cell(r[c.key], c.format);
    const lo = r[`${c.key}Lo`], hi = r[`${c.key}Hi`];
    return typeof lo === 'number' && typeof hi === 'number' ? `${v} [${cell(lo, c.format)}, ${cell(hi, c.format)}]` : v;
  }));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const numeric = cols.map((c) => rows.some((r) => typeof r[c.key] === 'number'));
  const line = (cells: string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

// Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom.
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/**
 * Mean and 95% Student-t interval of a few values (seeds): mean -/+ t(0.975, n - 1) * sd / sqrt(n), with
 * the sample standard deviation; one value gives an interval of zero width.
 */
export function tInterval(values: number[]): { mean: number; lo: number; hi: number } {
  const n = values.length;
  if (!n) throw new Error('tInterval: no values');
  const m = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean: m, lo: m, hi: m };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (n - 1));
  const t = n - 1 <= T975.length ? T975[n - 2] : 1.96;
  const h = (t * sd) / Math.sqrt(n);
  return { mean: m, lo: m - h, hi: m + h };
}

/**
 * Rows of several seeds combined into one row per identity: rows match when every field named in `key`
 * is equal; each numeric field (but the key fields and `exclude`) becomes its mean over the seeds, with
 * `<field>Lo` and `<field>Hi` holding its 95% t-interval ({@link tInterval}); other fields are taken
 * from the first seed. Every seed must hold the same identities.
 */
export function aggregateSeeds(perSeed: ResultRow[][], key: string[], exclude: string[] = []): ResultRow[] {
  if (!perSeed.length) throw new Error('aggregateSeeds: no seeds');
  const id = (r: ResultRow) => JSON.stringify(key.map((k) => r[k]));
  return perSeed[0].map((first) => {
    const same = perSeed.map((rows, s) => {
      const r = rows.find((x) => id(x) === id(first));
      if (!r) throw new Error(`aggregateSeeds: seed ${s} has no row ${id(first)}`);
      return r;
    });
    const out: ResultRow = { ...first };
    for (const [k, v] of Object.entries(first)) {
      if (typeof v !== 'number' || key.includes(k) || exclude.includes(k)) continue;
      const vals = same.map((r) => r[k]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
      if (vals.length !== same.length) continue;
      const { mean, lo, hi } = tInterval(vals);
      Object.assign(out, { [k]: mean, [`${k}Lo`]: lo, [`${k}Hi`]: hi });
    }
    return out;
  });
}
