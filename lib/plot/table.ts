// Tables of records (results, dataset counts) as HTML, inline in tslab or as plain text elsewhere.
import { displayHtml } from './display';
import { escapeHtml } from './html';

/**
 * A table row: any plain object, column name to value (SplitSummary, a results record). Missing,
 * undefined and null cells show empty; objects and arrays show as JSON.
 */
export type TableRow = object;

/** Options of `table` and `tableHtml`. */
export interface TableOptions {
  /** Caption above the table. Default: none. */
  title?: string;
  /** Significant digits shown of non-integer numbers. Default: 4. */
  precision?: number;
}


/** The columns of `rows`: every key, in the order first seen. */
export function tableColumns(rows: readonly TableRow[]): string[] {
  if (!Array.isArray(rows)) throw new Error(`table: expected an array of row objects, received ${typeof rows}`);
  const cols = new Set<string>();
  rows.forEach((r, i) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error(`table: row ${i} is not an object`);
    Object.keys(r).forEach((k) => cols.add(k));
  });
  return [...cols];
}

function cellText(v: unknown, precision: number): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v)) return String(Number(v.toPrecision(precision)));
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * An HTML <table> of `rows`, one column per key (in the order first seen), numbers right-aligned and
 * non-integers shown to `precision` significant digits. Text is escaped.
 */
export function tableHtml(rows: readonly TableRow[], opts: TableOptions = {}): string {
  const { precision = 4 } = opts;
  if (!(Number.isInteger(precision) && precision >= 1 && precision <= 17)) {
    throw new Error(`table: options.precision must be an integer from 1 to 17, received ${precision}`);
  }
  const cols = tableColumns(rows);
  const cell = 'padding:2px 10px;border-bottom:1px solid #ddd';
  const head = cols.map((c) => `<th style="${cell};text-align:left">${escapeHtml(c)}</th>`).join('');
  const body = rows.map((r) => `<tr>${cols.map((c) => {
    const v = (r as Record<string, unknown>)[c];
    const align = typeof v === 'number' ? 'right' : 'left';
    return `<td style="${cell};text-align:${align}">${escapeHtml(cellText(v, precision))}</td>`;
  }).join('')}</tr>`).join('');
  const caption = opts.title === undefined ? '' : `<caption style="text-align:left;font-weight:bold">${escapeHtml(opts.title)}</caption>`;
  return `<table class="slimspeech-table" style="border-collapse:collapse;font:13px sans-serif">${caption}` +
    `<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/**
 * Shows `rows` as a table: inline HTML in a tslab notebook, `console.table` elsewhere (a terminal, the
 * CLI). `plot.table(summary.splits, {title: 'kws'})`. Returns nothing.
 */
export function table(rows: readonly TableRow[], opts: TableOptions = {}): void {
  const html = tableHtml(rows, opts);
  if (displayHtml(html)) return;
  if (opts.title !== undefined) console.log(opts.title);
  console.table(rows);
}
