// Heatmaps (masks, attention maps, per-layer remaining heads or units), one or several side by side.
import {
  Axis, Figure, FigureOptions, Layout, Matrix, Trace, axis, baseLayout, isArrayOrTensor, named, toMatrix,
} from './figure';
import { integerTicks } from './ticks';

/** Colour options shared by the heatmap-like helpers. */
export interface ColorOptions {
  /** Plotly colorscale name ('Viridis', 'Blues', 'RdBu', ...) or [[0, colour], ..., [1, colour]]. Default: 'Viridis'. */
  colorscale?: string | Array<[number, string]>;
  /** Value at the bottom of the colour scale, shared by all panels. Default: the smallest finite value. */
  zmin?: number;
  /** Value at the top of the colour scale, shared by all panels. Default: the largest finite value. */
  zmax?: number;
  /**
   * Title of the colour bar: what the colours measure, with its unit ('attention weight', 'log-mel energy',
   * 'dB'). Default: 'value' for heatmap; spectrogram and confusionMatrix name their own.
   */
  colorbarTitle?: string;
  /**
   * Panels per row when there are several: the rest wrap onto further rows (give `height` for them).
   * Default: all in one row.
   */
  columns?: number;
}

/** Options of `heatmap`. */
export interface HeatmapOptions extends FigureOptions, ColorOptions {
  /** x-axis title. Default: 'column'. */
  xTitle?: string;
  /** y-axis title. Default: 'row'. */
  yTitle?: string;
  /** Names of the columns (e.g. head indices, key positions). Default: 0, 1, 2, ... */
  xLabels?: Array<string | number>;
  /** Names of the rows (e.g. 'layer 1', ...). Default: 0, 1, 2, ... */
  yLabels?: Array<string | number>;
  /** Row 0 at the top, as a matrix is printed; false puts it at the bottom. Default: true. */
  reverseY?: boolean;
  /** Print each cell's value on it. Default: false. */
  annotate?: boolean;
  /** d3-format of printed and hovered values. Default: '.3g'. */
  valueFormat?: string;
}

/** One panel of a heatmap figure: the z matrix (z[row][column]) and its cell coordinates. */
export interface HeatmapPanel {
  name: string;
  z: number[][];
  /** Column labels, or a regular grid from x0 in steps of dx. */
  x?: Array<string | number>;
  x0?: number;
  dx?: number;
  /** Row labels, or a regular grid from y0 in steps of dy. */
  y?: Array<string | number>;
  y0?: number;
  dy?: number;
}

/** Layout choices of `heatmapFigure`. */
export interface HeatmapFigureOptions extends FigureOptions, ColorOptions {
  xTitle: string;
  yTitle: string;
  reverseY: boolean;
  annotate: boolean;
  valueFormat: string;
}

function finiteRange(panels: HeatmapPanel[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of panels) {
    for (const row of p.z) {
      for (const v of row) {
        if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
      }
    }
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/** Whole-number ticks on a grid of cells at start, start + step, ... (row and column indices), not 0.5 and 1.5. */
function gridTicks(start: number, step: number, cells: number): Partial<Axis> {
  return cells > 0 ? integerTicks([start, start + step, start + step * (cells - 1)]) : {};
}

/**
 * Builds a figure of heatmap panels side by side, sharing one colour scale (so panels compare), with
 * zoom linked across panels of equal shape and each panel's name above it when there are several.
 * Used by `heatmap`, `spectrogram` and `confusionMatrix`.
 */
export function heatmapFigure(panels: HeatmapPanel[], opts: HeatmapFigureOptions): Figure {
  const [lo, hi] = finiteRange(panels);
  const zmin = opts.zmin ?? lo;
  const zmax = opts.zmax ?? hi;
  if (!(zmin <= zmax)) throw new Error(`options.zmin (${zmin}) must not exceed options.zmax (${zmax})`);
  const n = panels.length;
  const cols = Math.max(1, Math.min(n, Math.floor(opts.columns ?? n)));
  const rows = Math.ceil(n / cols);
  const gap = cols > 1 ? 0.06 : 0;
  const width = (1 - gap * (cols - 1)) / cols;
  // Rows from the top, with room between them for the panel names.
  const vgap = rows > 1 ? 0.12 : 0;
  const rowHeight = (1 - vgap * (rows - 1)) / rows;
  const sameShape = panels.every((p) => p.z.length === panels[0].z.length &&
    (p.z[0]?.length ?? 0) === (panels[0].z[0]?.length ?? 0));
  const layout: Layout = baseLayout(opts, { topSpace: n > 1 ? 20 : 0 });
  layout.coloraxis = {
    colorscale: opts.colorscale ?? 'Viridis', cmin: zmin, cmax: zmax,
    colorbar: { title: { text: opts.colorbarTitle ?? 'value', side: 'right' } },
  };
  const annotations: Array<Record<string, unknown>> = [];
  const data: Trace[] = panels.map((p, i) => {
    const suffix = i === 0 ? '' : String(i + 1);
    const trace: Trace = {
      type: 'heatmap', name: p.name, z: p.z, coloraxis: 'coloraxis', xaxis: `x${suffix}`, yaxis: `y${suffix}`,
      hovertemplate: `x %{x}<br>y %{y}<br>value %{z:${opts.valueFormat}}<extra>${n > 1 ? p.name : ''}</extra>`,
    };
    if (p.x !== undefined) trace.x = p.x; else Object.assign(trace, { x0: p.x0 ?? 0, dx: p.dx ?? 1 });
    if (p.y !== undefined) trace.y = p.y; else Object.assign(trace, { y0: p.y0 ?? 0, dy: p.dy ?? 1 });
    if (opts.annotate) trace.texttemplate = `%{z:${opts.valueFormat}}`;
    const col = i % cols, row = Math.floor(i / cols);
    const domain = [col * (width + gap), col * (width + gap) + width];
    const top = 1 - row * (rowHeight + vgap);
    const yDomain = [top - rowHeight, top];
    const xaxis: Axis = axis(row === rows - 1 || i + cols >= n ? opts.xTitle : '', { domain, anchor: `y${suffix}` });
    const yaxis: Axis = axis(col === 0 ? opts.yTitle : '', { anchor: `x${suffix}`, domain: yDomain });
    if (p.x !== undefined) xaxis.type = 'category';
    else Object.assign(xaxis, gridTicks(p.x0 ?? 0, p.dx ?? 1, p.z[0]?.length ?? 0));
    if (p.y !== undefined) yaxis.type = 'category';
    else Object.assign(yaxis, gridTicks(p.y0 ?? 0, p.dy ?? 1, p.z.length));
    if (opts.reverseY) yaxis.autorange = 'reversed';
    if (i > 0 && sameShape) { xaxis.matches = 'x'; yaxis.matches = 'y'; }
    layout[`xaxis${suffix}`] = xaxis;
    layout[`yaxis${suffix}`] = yaxis;
    if (n > 1) {
      annotations.push({ text: p.name, showarrow: false, xref: 'paper', yref: 'paper', x: domain[0] + width / 2,
        y: top, xanchor: 'center', yanchor: 'bottom', font: { size: 14 } });
    }
    return trace;
  });
  if (annotations.length) layout.annotations = annotations;
  return { data, layout };
}

/**
 * Heatmap of a matrix, m[row][column] (masks, attention maps, per-layer remaining heads or FFN units), or
 * of several named matrices side by side on one shared colour scale, e.g.
 * `heatmap({teacher: attT, student: attS}, {xTitle: 'key', yTitle: 'query'})`.
 * Tensors (rank 2) are read with `await t.data()`.
 */
export async function heatmap(matrices: Matrix | Record<string, Matrix>, opts: HeatmapOptions = {}): Promise<Figure> {
  const { xTitle = 'column', yTitle = 'row', reverseY = true, annotate = false, valueFormat = '.3g' } = opts;
  const entries = named(matrices, isArrayOrTensor, '', 'matrices');
  const panels: HeatmapPanel[] = [];
  for (const { name, value, arg } of entries) {
    const z = await toMatrix(value, arg);
    const cols = z[0]?.length ?? 0;
    if (opts.xLabels !== undefined && opts.xLabels.length !== cols) {
      throw new Error(`heatmap: options.xLabels has ${opts.xLabels.length} entries but ${arg} has ${cols} columns`);
    }
    if (opts.yLabels !== undefined && opts.yLabels.length !== z.length) {
      throw new Error(`heatmap: options.yLabels has ${opts.yLabels.length} entries but ${arg} has ${z.length} rows`);
    }
    panels.push({ name, z, x: opts.xLabels, y: opts.yLabels });
  }
  return heatmapFigure(panels, { ...opts, xTitle, yTitle, reverseY, annotate, valueFormat });
}
