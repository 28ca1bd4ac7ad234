// Pareto plots: cost (parameters, latency) against a metric, with the non-dominated front drawn.
import {
  Figure, FigureOptions, Trace, Vector, axis, baseLayout, checkFinite, color, describe, isArrayOrTensor, named, toVector,
} from './figure';

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
  /** Text drawn next to each point, e.g. '0.5×'. Default: none. */
  labels?: string[];
}

/** Options of `pareto`. */
export interface ParetoOptions extends FigureOptions, ParetoFrontOptions {
  /** x-axis title. Default: 'parameters'. */
  xTitle?: string;
  /** y-axis title. Default: 'accuracy'. */
  yTitle?: string;
  /** Logarithmic x axis, for costs spanning decades. Default: false. */
  logX?: boolean;
  /**
   * Which front to draw: 'all' one front over the points of every series, 'each' one per series in its
   * colour, 'none' no front. Default: 'all'.
   */
  front?: 'all' | 'each' | 'none';
}

function isPoints(v: unknown): v is ParetoPoints {
  return typeof v === 'object' && v !== null && isArrayOrTensor((v as ParetoPoints).x) && isArrayOrTensor((v as ParetoPoints).y);
}

/** A staircase through front points: the best metric reachable at each cost. */
function frontTrace(name: string, x: number[], y: number[], lineColor: string, showlegend = true): Trace {
  return { type: 'scatter', mode: 'lines', name, x, y, showlegend, hoverinfo: 'skip',
    line: { shape: 'hv', dash: 'dash', color: lineColor, width: 1.5 } };
}

/**
 * Pareto plot: points of cost (parameters or latency) against a metric, one marker colour per series,
 * e.g. `pareto({slimmable: {x: params, y: acc, labels: ['0.25×', ...]}, independent: {...}})`, with the
 * Pareto front (see `paretoFront`) drawn as a dashed staircase: the best metric reachable at each cost.
 * A single ParetoPoints is drawn as one series named 'models'.
 */
export async function pareto(series: ParetoPoints | Record<string, ParetoPoints>,
  opts: ParetoOptions = {}): Promise<Figure> {
  const { xTitle = 'parameters', yTitle = 'accuracy', logX = false, front = 'all', maximize = true } = opts;
  if (front !== 'all' && front !== 'each' && front !== 'none') {
    throw new Error(`pareto: options.front must be 'all', 'each' or 'none', received ${describe(front)}`);
  }
  const entries = named<ParetoPoints>(series, isPoints, 'models', 'series');
  const data: Trace[] = [];
  const allX: number[] = [];
  const allY: number[] = [];
  for (let i = 0; i < entries.length; i++) {
    const { name, value, arg } = entries[i];
    if (!isPoints(value)) throw new Error(`${arg}: expected {x, y, labels?}, received ${describe(value)}`);
    const x = await toVector(value.x, `${arg}.x`);
    const y = await toVector(value.y, `${arg}.y`);
    if (x.length !== y.length) throw new Error(`${arg}: x has ${x.length} values but y has ${y.length}`);
    checkFinite(x, `${arg}.x`);
    checkFinite(y, `${arg}.y`);
    const trace: Trace = { type: 'scatter', mode: 'markers', name, x, y, legendgroup: name,
      marker: { color: color(i), size: 9 } };
    if (value.labels !== undefined) {
      if (value.labels.length !== x.length) {
        throw new Error(`${arg}.labels has ${value.labels.length} entries but there are ${x.length} points`);
      }
      Object.assign(trace, { mode: 'markers+text', text: value.labels, textposition: 'top center' });
    }
    data.push(trace);
    if (front === 'each') {
      const f = paretoFront(x, y, { maximize });
      data.push({ ...frontTrace(`${name} front`, f.map((k) => x[k]), f.map((k) => y[k]), color(i), false),
        legendgroup: name });
    }
    allX.push(...x);
    allY.push(...y);
  }
  if (front === 'all') {
    const f = paretoFront(allX, allY, { maximize });
    data.push(frontTrace('Pareto front', f.map((k) => allX[k]), f.map((k) => allY[k]), '#444'));
  }
  const layout = baseLayout(opts);
  layout.xaxis = axis(xTitle, logX ? { type: 'log' } : {});
  layout.yaxis = axis(yTitle);
  return { data, layout };
}
