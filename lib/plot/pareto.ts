// Pareto plots: cost (parameters, latency) against a metric, with the non-dominated front drawn.
import {
  Figure, FigureOptions, Trace, Vector, axis, baseLayout, checkFinite, color, describe, isArrayOrTensor, named, toVector,
} from './figure';
import { TextPosition, placeLabels, textWidth } from './labels';
import { PairedOptions, seriesStyles } from './palette';
import { logTicks } from './ticks';

/** Options of `paretoFront`. */
export interface ParetoFrontOptions {
  /** The metric is better when higher (accuracy, SI-SNR) rather than lower (EER, WER). Default: true. */
  maximize?: boolean;
}

/**
 * Indices of the Pareto-optimal points of (cost x, metric y), where lower cost is better and the metric
 * is better when higher (or lower with `maximize: false`), sorted by increasing cost. A point is on the
 * front when no other point has cost <= its cost and a metric at least as good, one of them strictly
 * better. Of identical points only the first is returned.
 */
export function paretoFront(x: ArrayLike<number>, y: ArrayLike<number>, opts: ParetoFrontOptions = {}): number[] {
  const { maximize = true } = opts;
  if (x.length !== y.length) throw new Error(`paretoFront: x has ${x.length} values but y has ${y.length}`);
  checkFinite(Array.from(x), 'paretoFront: x');
  checkFinite(Array.from(y), 'paretoFront: y');
  const better = (a: number, b: number) => (maximize ? a > b : a < b);
  // By cost, then best metric first, then index: a sweep keeps each point that beats every cheaper one.
  const order = Array.from({ length: x.length }, (_, i) => i).sort((i, j) =>
    x[i] - x[j] || (better(y[i], y[j]) ? -1 : better(y[j], y[i]) ? 1 : i - j));
  const front: number[] = [];
  for (const i of order) {
    if (front.length === 0 || better(y[i], y[front[front.length - 1]])) front.push(i);
  }
  return front;
}

/** One series of points: costs, metrics and optional per-point labels (e.g. the width). */
export interface ParetoPoints {
  /** Cost of each point: parameters, latency, MACs. */
  x: Vector;
  /** Metric of each point. */
  y: Vector;
  /** Text beside each point, e.g. '0.5×', and in its hover. Default: none. */
  labels?: string[];
}

/** Options of `pareto`. */
export interface ParetoOptions extends FigureOptions, ParetoFrontOptions, PairedOptions {
  /** x-axis title. Default: 'parameters'. */
  xTitle?: string;
  /** y-axis title. Default: 'accuracy'. */
  yTitle?: string;
  /**
   * Logarithmic x axis, for costs spanning decades, with ticks that read as numbers: 1-2-5 steps
   * (5k, 10k, 20k, ...) up to about three decades, decades beyond (see logTicks). Default: false.
   */
  logX?: boolean;
  /**
   * Which front to draw: 'all' one front over the points of every series, 'each' one per series in its
   * colour, 'none' no front. Default: 'all'.
   */
  front?: 'all' | 'each' | 'none';
  /**
   * Where point labels show: 'placed' beside their point where they collide with no other label or marker
   * (front points first; a label that fits nowhere, or repeats the same text next to it, shows on hover
   * only), 'hover' on hover only. Default: 'placed'.
   */
  labelMode?: 'placed' | 'hover';
  /**
   * Metric values the y axis must show besides the points, e.g. baselines the caller draws as lines
   * (chance level): the y range is then fixed to take them in at its edge, as Plotly's autorange does
   * for such lines, and labels are placed for it. Without it, lines drawn outside the points' range
   * widen the axis after labels were placed, and labels may collide. Default: none.
   */
  yInclude?: number[];
}

function isPoints(v: unknown): v is ParetoPoints {
  return typeof v === 'object' && v !== null && isArrayOrTensor((v as ParetoPoints).x) && isArrayOrTensor((v as ParetoPoints).y);
}

/** A staircase through front points: the best metric reachable at each cost. */
function frontTrace(name: string, x: number[], y: number[], lineColor: string, showlegend = true, dash = 'dash'): Trace {
  return { type: 'scatter', mode: 'lines', name, x, y, showlegend, hoverinfo: 'skip',
    line: { shape: 'hv', dash, color: lineColor, width: 1.5 } };
}

/** A value an axis must show, and the pixels it needs beyond it (half a marker for a point). */
interface Extreme { val: number; pad: number }

/**
 * The range Plotly's autorange gives an axis `length` pixels long (plots/cartesian/autorange.js): of all
 * pairs of a low and a high extreme, the one needing the most data units per pixel, where a scatter
 * point's pad is its marker size / 1.6 plus 5% of the length; equal extremes get +-1.
 */
export function autorangeOf(extremes: Extreme[], length: number): [number, number] {
  const extra = 0.05 * length;
  let best: [number, number] | undefined;
  let bestScale = -Infinity;
  for (const lo of extremes) {
    for (const hi of extremes) {
      const padLo = lo.pad > 0 ? lo.pad + extra : 0;
      const padHi = hi.pad > 0 ? hi.pad + extra : 0;
      const pixels = length - padLo - padHi;
      if (hi.val <= lo.val || pixels <= length / 10) continue;
      const scale = (hi.val - lo.val) / pixels;
      if (scale > bestScale) {
        bestScale = scale;
        best = [lo.val - scale * padLo, hi.val + scale * padHi];
      }
    }
  }
  if (best) return best;
  const v = extremes[0]?.val ?? 0;
  return [v - 1, v + 1];
}

/** Label font size and marker diameter of Pareto plots, in pixels. */
const LABEL_FONT = 11;
const MARKER = 9;
/** Figure width assumed for label placement when the caller gives none (a notebook cell at 1200 px, less its prompt). */
const ASSUMED_WIDTH = 900;

interface Series { name: string; x: number[]; y: number[]; labels?: string[] }

/**
 * Pareto plot: points of cost (parameters or latency) against a metric, one marker colour per series,
 * e.g. `pareto({slimmable: {x: params, y: acc, labels: ['0.25×', ...]}, independent: {...}})`, with the
 * Pareto front (see `paretoFront`) drawn as a dashed staircase: the best metric reachable at each cost.
 * Labels are placed so that none overprints another label or a marker (see options.labelMode); hover
 * shows every point's series, label, cost and metric. With options.palette and options.keys, series
 * take paired colours: e.g. one colour per method, filled markers for slimmable and open ones for
 * independent (see `palette`). A single ParetoPoints is drawn as one series named 'models'.
 */
export async function pareto(series: ParetoPoints | Record<string, ParetoPoints>,
  opts: ParetoOptions = {}): Promise<Figure> {
  const { xTitle = 'parameters', yTitle = 'accuracy', logX = false, front = 'all', maximize = true, labelMode = 'placed' } = opts;
  if (front !== 'all' && front !== 'each' && front !== 'none') {
    throw new Error(`pareto: options.front must be 'all', 'each' or 'none', received ${describe(front)}`);
  }
  if (labelMode !== 'placed' && labelMode !== 'hover') {
    throw new Error(`pareto: options.labelMode must be 'placed' or 'hover', received ${describe(labelMode)}`);
  }
  const entries = named<ParetoPoints>(series, isPoints, 'models', 'series');
  const all: Series[] = [];
  for (const { name, value, arg } of entries) {
    if (!isPoints(value)) throw new Error(`${arg}: expected {x, y, labels?}, received ${describe(value)}`);
    const x = await toVector(value.x, `${arg}.x`);
    const y = await toVector(value.y, `${arg}.y`);
    if (x.length !== y.length) throw new Error(`${arg}: x has ${x.length} values but y has ${y.length}`);
    checkFinite(x, `${arg}.x`);
    checkFinite(y, `${arg}.y`);
    if (logX) {
      const bad = x.findIndex((v) => v <= 0);
      if (bad >= 0) throw new Error(`${arg}.x: element ${bad} is ${x[bad]}, but a log axis needs costs > 0`);
    }
    if (value.labels !== undefined && value.labels.length !== x.length) {
      throw new Error(`${arg}.labels has ${value.labels.length} entries but there are ${x.length} points`);
    }
    all.push({ name, x, y, labels: value.labels });
  }
  const styles = seriesStyles(all.map((s) => s.name), opts, 'pareto');
  const allX = all.flatMap((s) => s.x);
  const allY = all.flatMap((s) => s.y);
  const layout = baseLayout(opts);
  const yInclude = opts.yInclude === undefined ? [] : await toVector(opts.yInclude, 'options.yInclude');
  checkFinite(yInclude, 'options.yInclude');
  const positions = labelMode === 'placed' && allX.length
    ? labelPositions(all, opts, layout.margin, logX, yInclude, maximize)
    : all.map((s) => s.x.map(() => null));
  const data: Trace[] = [];
  all.forEach(({ name, x, y, labels }, i) => {
    const c = styles ? styles[i].color : color(i);
    const variant = styles?.[i].variant;
    const trace: Trace = {
      type: 'scatter', mode: 'markers', name, x, y, legendgroup: name,
      marker: { color: c, size: MARKER, symbol: variant?.symbol ?? 'circle', opacity: variant?.opacity ?? 1,
        line: { color: c, width: variant?.symbol.endsWith('-open') ? 2 : 0 } },
      hovertemplate: `${name}${labels ? ' %{customdata}' : ''}<br>${xTitle} %{x:,.4~r}<br>${yTitle} %{y:.4~r}<extra></extra>`,
    };
    if (labels !== undefined) {
      trace.customdata = labels;
      const shown = positions[i];
      if (shown.some((p) => p !== null)) {
        Object.assign(trace, {
          mode: 'markers+text', text: labels.map((l, k) => (shown[k] === null ? '' : l)),
          textposition: shown.map((p) => p ?? 'top center'), textfont: { size: LABEL_FONT, color: c },
        });
      }
    }
    data.push(trace);
    if (front === 'each') {
      const f = paretoFront(x, y, { maximize });
      data.push({ ...frontTrace(`${name} front`, f.map((k) => x[k]), f.map((k) => y[k]), c, false, variant?.dash ?? 'dash'),
        legendgroup: name });
    }
  });
  if (front === 'all') {
    const f = paretoFront(allX, allY, { maximize });
    data.push(frontTrace('Pareto front', f.map((k) => allX[k]), f.map((k) => allY[k]), '#444'));
  }
  layout.xaxis = axis(xTitle, logX ? { type: 'log' } : {});
  layout.yaxis = axis(yTitle);
  if (yInclude.length) layout.yaxis.range = yRangeOf(allY, yInclude, plotHeight(opts, layout.margin));
  if (logX && allX.length) {
    const t = logTicks(Math.min(...allX), Math.max(...allX));
    Object.assign(layout.xaxis, { tickmode: 'array', tickvals: t.tickvals, ticktext: t.ticktext, ticks: 'outside',
      minor: { tickmode: 'array', tickvals: t.minor, ticks: 'outside', ticklen: 3, showgrid: false } });
  }
  return { data, layout };
}

/** Height in pixels of the plot area: the figure's (options.height, else Plotly's 450) less the margins. */
function plotHeight(opts: ParetoOptions, margin: unknown): number {
  const { t, b } = margin as { t: number; b: number };
  return (opts.height ?? 450) - t - b;
}

/** The y range autorange gives the points (padded by their markers) and the included values (at the edge). */
function yRangeOf(y: number[], include: number[], height: number): [number, number] {
  return autorangeOf([...y.map((v) => ({ val: v, pad: MARKER / 1.6 })), ...include.map((v) => ({ val: v, pad: 0 }))], height);
}

/**
 * Label positions (null: hover only) of every series' points, computed in the pixels of the plot area
 * the figure will have: options.width (else ASSUMED_WIDTH) less the margins and the legend, and the
 * height less the margins, on the ranges Plotly's autorange will give (autorangeOf). Points on the
 * front are labelled first.
 */
function labelPositions(all: Series[], opts: ParetoOptions, margin: unknown, logX: boolean,
  yInclude: number[], maximize: boolean): Array<Array<TextPosition | null>> {
  const legend = Math.max(...all.map((s) => textWidth(s.name, 12)), textWidth('Pareto front', 12)) + 50;
  const width = (opts.width ?? ASSUMED_WIDTH) - 70 - 30 - legend;
  const height = plotHeight(opts, margin);
  const allX = all.flatMap((s) => s.x);
  const allY = all.flatMap((s) => s.y);
  const tx = (v: number) => (logX ? Math.log10(v) : v);
  const xRange = autorangeOf(allX.map((v) => ({ val: tx(v), pad: MARKER / 1.6 })), width);
  const yRange = yRangeOf(allY, yInclude, height);
  const onFront = new Set(paretoFront(allX, allY, { maximize }));
  const points = all.flatMap((s) => s.x.map((x, k) => ({
    x: ((tx(x) - xRange[0]) / (xRange[1] - xRange[0])) * width,
    y: (1 - (s.y[k] - yRange[0]) / (yRange[1] - yRange[0])) * height,
    text: s.labels?.[k] ?? '',
    priority: 0,
  })));
  onFront.forEach((i) => { points[i].priority = 1; });
  const placed = placeLabels(points, { width, height, fontSize: LABEL_FONT, markerSize: MARKER });
  let next = 0;
  return all.map((s) => s.x.map(() => placed[next++]));
}
