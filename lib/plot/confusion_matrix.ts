// Confusion matrix as an annotated heatmap, with sklearn's normalisations.
import { Axis, Figure, FigureOptions, Matrix, describe, toMatrix } from './figure';
import { heatmapFigure } from './heatmap';
import { textWidth } from './labels';

/**
 * How a confusion matrix is normalised, as sklearn's `confusion_matrix(normalize=...)`: 'none' counts,
 * 'true' each row (true class) sums to 1, 'pred' each column (predicted class) sums to 1, 'all' the whole
 * matrix sums to 1.
 */
export type ConfusionNormalization = 'none' | 'true' | 'pred' | 'all';

/**
 * Normalises a confusion matrix m[true][predicted] (see ConfusionNormalization). A row or column whose
 * sum is 0 stays 0 (sklearn gives NaN there, then replaces it by 0).
 */
export function normalizeConfusion(m: number[][], mode: ConfusionNormalization): number[][] {
  const n = m.length;
  if (mode === 'none') return m.map((row) => row.slice());
  if (mode === 'all') {
    const total = m.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
    return m.map((row) => row.map((v) => (total > 0 ? v / total : 0)));
  }
  if (mode === 'true') {
    return m.map((row) => {
      const s = row.reduce((a, b) => a + b, 0);
      return row.map((v) => (s > 0 ? v / s : 0));
    });
  }
  if (mode === 'pred') {
    const colSums = Array.from({ length: n }, (_, c) => m.reduce((s, row) => s + row[c], 0));
    return m.map((row) => row.map((v, c) => (colSums[c] > 0 ? v / colSums[c] : 0)));
  }
  throw new Error(`normalizeConfusion: mode must be 'none', 'true', 'pred' or 'all', received ${describe(mode)}`);
}

/**
 * White to dark blue (ColorBrewer Blues end points). Plotly's own 'Blues' runs the other way, dark for
 * small values, which reads wrongly for counts.
 */
const BLUES: Array<[number, string]> = [[0, '#f7fbff'], [0.5, '#6baed6'], [1, '#08306b']];

/** Options of `confusionMatrix`. */
export interface ConfusionMatrixOptions extends FigureOptions {
  /** Class names, in the order of the matrix rows and columns. Default: '0', '1', ... */
  labels?: string[];
  /** Normalisation (see ConfusionNormalization). Default: 'none'. */
  normalize?: ConfusionNormalization;
  /** d3-format of the numbers in the cells. Default: ',d' for counts, '.2f' when normalised. */
  valueFormat?: string;
  /** Plotly colorscale. Default: white through light blue to dark blue (BLUES), darker for larger values. */
  colorscale?: string | Array<[number, string]>;
  /** x-axis title. Default: 'predicted'. */
  xTitle?: string;
  /** y-axis title. Default: 'true'. */
  yTitle?: string;
  /**
   * Title of the colour bar. Default: 'count', or with normalisation 'share of true class',
   * 'share of predicted class', 'share of all'.
   */
  colorbarTitle?: string;
  /**
   * Height of one row of cells in pixels; the figure's height follows from it, the number of classes and
   * the length of the class names (unless options.height is given). Default: 480 / classes, within 22 to 60.
   */
  cellHeight?: number;
}

const COLORBAR_TITLES: Record<ConfusionNormalization, string> = {
  none: 'count', true: 'share of true class', pred: 'share of predicted class', all: 'share of all',
};

/** Tick label font size (Plotly's default) and the space between tick labels and axis titles, in pixels. */
const TICK_FONT = 12;
const STANDOFF = 12;
/** Figure width assumed when the caller gives none, to guess whether class names fit side by side. */
const ASSUMED_WIDTH = 1100;

/**
 * Confusion matrix m[true class][predicted class] (sklearn's layout) as a heatmap with each cell's value
 * printed on it, the first class at the top left. Counts must be non-negative; hover shows the raw count
 * next to the normalised value. The matrix spans the width of the cell or page; its height follows the
 * number of classes (options.cellHeight), and the margins the longest class name, which is printed in
 * full. A tensor (rank 2) is read with `await t.data()`.
 */
export async function confusionMatrix(matrix: Matrix, opts: ConfusionMatrixOptions = {}): Promise<Figure> {
  const { normalize = 'none', xTitle = 'predicted', yTitle = 'true', colorscale = BLUES } = opts;
  const counts = await toMatrix(matrix, 'matrix');
  const n = counts.length;
  if (n === 0 || counts.some((row) => row.length !== n)) {
    throw new Error(`confusionMatrix: matrix must be square and non-empty, received ${n} rows of ${counts[0]?.length ?? 0}`);
  }
  counts.forEach((row, r) => row.forEach((v, c) => {
    if (!(Number.isFinite(v) && v >= 0)) throw new Error(`confusionMatrix: matrix[${r}][${c}] is ${v}, expected a count >= 0`);
  }));
  const labels = opts.labels ?? counts.map((_, i) => String(i));
  if (labels.length !== n) {
    throw new Error(`confusionMatrix: options.labels has ${labels.length} entries but the matrix has ${n} classes`);
  }
  const z = normalizeConfusion(counts, normalize);
  const valueFormat = opts.valueFormat ?? (normalize === 'none' ? ',d' : '.2f');
  const rowPx = opts.cellHeight ?? Math.min(60, Math.max(22, Math.round(480 / n)));
  if (!(Number.isFinite(rowPx) && rowPx > 0)) {
    throw new Error(`confusionMatrix: options.cellHeight must be a positive number of pixels, received ${rowPx}`);
  }
  // Margins from the class names, so that no name is clipped and the axis titles stand clear of them;
  // the height from the rows, so that the matrix spans the cell's width at a readable row height.
  const longest = Math.max(...labels.map((l) => textWidth(l, TICK_FONT)));
  const titleSpace = STANDOFF + TICK_FONT * 1.6;
  const left = Math.ceil(longest + 10 + titleSpace);
  const columnPx = ((opts.width ?? ASSUMED_WIDTH) - left - 140) / n;
  const upright = longest + 8 <= columnPx;
  const bottom = Math.ceil((upright ? TICK_FONT * 1.4 : longest) + 10 + titleSpace);
  const fig = heatmapFigure([{ name: 'confusion', z, x: labels, y: labels }], {
    ...opts, xTitle, yTitle, colorscale, reverseY: true, annotate: true, valueFormat,
    zmin: 0, zmax: normalize === 'none' ? undefined : 1,
    colorbarTitle: opts.colorbarTitle ?? COLORBAR_TITLES[normalize],
  });
  Object.assign(fig.data[0], {
    customdata: counts,
    hovertemplate: `true %{y}<br>predicted %{x}<br>count %{customdata}` +
      (normalize === 'none' ? '' : `<br>${normalize}-normalised %{z:.3f}`) + '<extra></extra>',
  });
  const layout = fig.layout;
  const margin = layout.margin as { l: number; r: number; t: number; b: number };
  margin.l = Math.max(margin.l, left);
  margin.b = Math.max(margin.b, bottom);
  if (opts.height === undefined) layout.height = margin.t + margin.b + n * rowPx;
  // Every class named (Plotly would skip every other name when they crowd), upright when the names fit
  // side by side, else turned a quarter (never a slant, whose neighbours run together in narrow columns).
  const everyClass = { tickmode: 'linear', tick0: 0, dtick: 1 };
  Object.assign(layout.xaxis as Axis, everyClass,
    { tickangle: 'auto', autotickangles: [0, 90], title: { text: xTitle, standoff: STANDOFF } });
  Object.assign(layout.yaxis as Axis, everyClass, { title: { text: yTitle, standoff: STANDOFF } });
  return fig;
}
