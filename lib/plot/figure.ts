// The Figure type every plot helper returns, and the input conversion they share.
import type { Tensor } from '@tensorflow/tfjs';

/**
 * One Plotly trace as plain JSON (https://plotly.com/javascript/reference/). The common fields are
 * typed; any other Plotly attribute may be set through the index signature.
 */
export interface Trace {
  /** Plotly trace type: 'scatter', 'bar', 'heatmap', ... */
  type: string;
  /** Legend entry. */
  name?: string;
  x?: Array<number | string | null>;
  y?: Array<number | string | null>;
  /** Heatmap values, z[row][column]. */
  z?: Array<Array<number | null>>;
  [attribute: string]: unknown;
}

/** One Plotly axis (layout.xaxis, layout.yaxis2, ...) as plain JSON. */
export interface Axis {
  /** The title; `standoff` is its distance in pixels from the tick labels. */
  title?: { text: string; standoff?: number };
  type?: 'linear' | 'log' | 'category';
  range?: [number, number];
  autorange?: boolean | 'reversed';
  tickvals?: number[];
  ticktext?: string[];
  tickformat?: string;
  [attribute: string]: unknown;
}

/** A Plotly layout as plain JSON; `xaxis2`, `yaxis2`, ... are reached through the index signature. */
export interface Layout {
  title?: { text: string };
  xaxis?: Axis;
  yaxis?: Axis;
  width?: number;
  height?: number;
  [attribute: string]: unknown;
}

/**
 * A figure: plain Plotly JSON, `Plotly.newPlot(div, fig.data, fig.layout, fig.config)`. Every helper in
 * `plot` returns one; `display` shows it in tslab and `savePlot` writes it as HTML. It is plain data, so
 * it can be edited before it is shown (`fig.layout.yaxis.range = [0, 1]`) or saved as JSON.
 */
export interface Figure {
  data: Trace[];
  layout: Layout;
  /** Plotly config (modebar, responsiveness); `display` and `savePlot` add sensible defaults. */
  config?: Record<string, unknown>;
}

/**
 * Numbers in one dimension: a plain array, a typed array, or a tf.Tensor of rank 1 (size-1 leading
 * dimensions, as in [1, time], are accepted). Tensors are read with `await t.data()` and left undisposed.
 */
export type Vector = ArrayLike<number> | Tensor;

/**
 * Numbers in two dimensions: an array of equally long rows (plain or typed arrays), or a tf.Tensor of
 * rank 2 (size-1 leading dimensions accepted). Row r is `m[r]`.
 */
export type Matrix = ArrayLike<ArrayLike<number>> | Tensor;

/** Options every figure helper takes. */
export interface FigureOptions {
  /** Title above the plot. Default: none (a helper-specific title where noted). */
  title?: string;
  /** Width in pixels. Default: the width of the notebook cell or page (responsive). */
  width?: number;
  /** Height in pixels. Default: 450 (Plotly's default), or as noted by the helper. */
  height?: number;
}

/** Duck-typed tf.Tensor check, so tensors from another copy of tfjs are recognised as well. */
export function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && Array.isArray((x as Tensor).shape) &&
    typeof (x as Tensor).data === 'function' && typeof (x as Tensor).dtype === 'string';
}

/** A short description of a value for error messages. */
export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (isTensor(x)) return `a ${x.dtype} tensor of shape [${x.shape.join(', ')}]`;
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name} of length ${(x as unknown as ArrayLike<number>).length}`;
  if (typeof x === 'object') return `an object with keys [${Object.keys(x).slice(0, 5).join(', ')}]`;
  if (typeof x === 'number') return `number ${x}`;
  return `${typeof x} ${JSON.stringify(x)}`;
}

function checkTensor(t: Tensor, rank: number, name: string): number[] {
  if (t.dtype === 'string' || t.dtype === 'complex64') {
    throw new Error(`${name}: expected a numeric tensor, received ${describe(t)}`);
  }
  const shape = t.shape;
  const lead = shape.slice(0, Math.max(0, shape.length - rank));
  if (shape.length < rank || lead.some((d) => d !== 1)) {
    throw new Error(`${name}: expected a rank-${rank} tensor (size-1 leading dimensions allowed), ` +
      `received ${describe(t)}`);
  }
  return shape.slice(shape.length - rank);
}

function isArrayLike(x: unknown): x is ArrayLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as ArrayLike<unknown>).length === 'number';
}

/** Reads a Vector into a plain number array; `name` is the argument named in errors. */
export async function toVector(x: Vector, name: string): Promise<number[]> {
  if (isTensor(x)) {
    checkTensor(x, 1, name);
    return Array.from(await x.data() as ArrayLike<number>);
  }
  if (!isArrayLike(x)) throw new Error(`${name}: expected an array of numbers or a tf.Tensor, received ${describe(x)}`);
  const out = new Array<number>(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (typeof v !== 'number') {
      throw new Error(`${name}: element ${i} is ${describe(v)}, expected a number`);
    }
    out[i] = v;
  }
  return out;
}

/** Reads a Matrix into rows of plain numbers; `name` is the argument named in errors. */
export async function toMatrix(m: Matrix, name: string): Promise<number[][]> {
  if (isTensor(m)) {
    const [rows, cols] = checkTensor(m, 2, name);
    const flat = await m.data() as ArrayLike<number>;
    return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => flat[r * cols + c]));
  }
  if (!isArrayLike(m)) throw new Error(`${name}: expected an array of rows or a rank-2 tf.Tensor, received ${describe(m)}`);
  const rows: number[][] = [];
  for (let r = 0; r < m.length; r++) {
    const row = m[r];
    if (!isArrayLike(row)) throw new Error(`${name}: row ${r} is ${describe(row)}, expected an array of numbers`);
    if (r > 0 && row.length !== rows[0].length) {
      throw new Error(`${name}: row ${r} has ${row.length} values but row 0 has ${rows[0].length} (rows must be equally long)`);
    }
    rows.push(await toVector(row, `${name}[${r}]`));
  }
  return rows;
}

/** Throws unless every value is finite, naming the argument and the first bad element. */
export function checkFinite(values: number[], name: string): void {
  const i = values.findIndex((v) => !Number.isFinite(v));
  if (i >= 0) throw new Error(`${name}: element ${i} is ${values[i]}, expected a finite number`);
}

/** One entry of a "one series or a record of named series" argument. */
export interface Named<T> {
  name: string;
  value: T;
  /** How errors refer to it: `series` for a single one, `series.train` for a named one. */
  arg: string;
}

/**
 * Normalises "one thing or several named things" to a list of entries. `isSingle` tells a single thing
 * from a record of them; `defaultName` names a single thing; `argName` is the argument named in errors.
 */
export function named<T>(input: T | Record<string, T>, isSingle: (x: unknown) => boolean, defaultName: string,
  argName: string): Array<Named<T>> {
  if (isSingle(input)) return [{ name: defaultName, value: input as T, arg: argName }];
  if (typeof input !== 'object' || input === null || isTensor(input)) {
    throw new Error(`${argName}: expected one series or a record of named series, received ${describe(input)}`);
  }
  const entries = Object.entries(input as Record<string, T>);
  if (entries.length === 0) throw new Error(`${argName}: received an empty record, expected at least one named series`);
  return entries.map(([name, value]) => ({ name, value, arg: `${argName}.${name}` }));
}

/** True for a Vector or Matrix (array-like or tensor), false for a record of them. */
export function isArrayOrTensor(x: unknown): boolean {
  return isTensor(x) || isArrayLike(x);
}

/** The layout fields every helper sets: title, size, margins (`topSpace` more pixels above the plot for labels). */
export function baseLayout(opts: FigureOptions, defaults: { height?: number; topSpace?: number } = {}): Layout {
  const { title } = opts;
  const top = (title === undefined ? 30 : 60) + (defaults.topSpace ?? 0);
  const layout: Layout = { margin: { l: 70, r: 30, t: top, b: 60 } };
  if (title !== undefined) layout.title = { text: title };
  if (opts.width !== undefined) layout.width = checkSize(opts.width, 'width');
  const height = opts.height ?? defaults.height;
  if (height !== undefined) layout.height = checkSize(height, 'height');
  return layout;
}

function checkSize(v: number, name: string): number {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`options.${name}: expected a positive number of pixels, received ${v}`);
  return v;
}

/**
 * An axis with a title. Margins grow to fit its tick labels and title (automargin), so long class names
 * or tick texts are neither clipped nor overprinted by the title.
 */
export function axis(title: string, extra: Axis = {}): Axis {
  return { title: { text: title }, automargin: true, ...extra };
}

/** Plotly's default colour sequence, used where two traces must share a series' colour. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
  '#bcbd22', '#17becf'];

/** The colour of series number `i`. */
export function color(i: number): string {
  return PALETTE[i % PALETTE.length];
}

/** 1, 2, ..., n: the default x of a series given by its y values only (steps or epochs count from 1). */
export function oneBased(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}
