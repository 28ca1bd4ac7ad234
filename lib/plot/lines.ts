// Line charts over training time: training curves, label-switch rate per epoch, sparsity against target.
import {
  Figure, FigureOptions, Trace, Vector, axis, baseLayout, color, describe, isTensor, isArrayOrTensor, named, oneBased,
  toVector,
} from './figure';
import { PairedOptions, seriesStyles } from './palette';
import { integerTicks } from './ticks';

/** A series with explicit x values (steps or epochs at which y was logged). */
export interface Curve {
  /** Logged values. */
  y: Vector;
  /** Step or epoch of each value; same length as y. Default: 1, 2, ..., n. */
  x?: Vector;
}

/** Options of `trainingCurves`. */
export interface TrainingCurvesOptions extends FigureOptions, PairedOptions {
  /** x-axis title. Default: 'step'. When every x is a whole number (epochs, steps) the ticks are too. */
  xTitle?: string;
  /** y-axis title. Default: 'value'. */
  yTitle?: string;
  /** Logarithmic y axis (values <= 0 are then not drawn). Default: false. */
  logY?: boolean;
  /** Draw a marker at every point. Default: false. */
  markers?: boolean;
  /**
   * Exponential-moving-average weight in [0, 1) (TensorBoard's smoothing): when > 0 each series is drawn
   * smoothed, s_t = w s_{t-1} + (1 - w) y_t with s_0 = y_0, over its raw values in a faint line. Default: 0.
   */
  smoothing?: number;
}

function isCurve(x: unknown): x is Curve {
  return typeof x === 'object' && x !== null && !isTensor(x) && 'y' in x && isArrayOrTensor((x as Curve).y);
}

async function readCurve(c: Vector | Curve, arg: string): Promise<{ x: number[]; y: number[] }> {
  if (!isArrayOrTensor(c) && !isCurve(c)) {
    throw new Error(`${arg}: expected numbers, a tf.Tensor or {x?, y}, received ${describe(c)}`);
  }
  const curve: Curve = isCurve(c) ? c : { y: c as Vector };
  const y = await toVector(curve.y, isCurve(c) ? `${arg}.y` : arg);
  if (curve.x === undefined) return { x: oneBased(y.length), y };
  const x = await toVector(curve.x, `${arg}.x`);
  if (x.length !== y.length) {
    throw new Error(`${arg}: x has ${x.length} values but y has ${y.length}`);
  }
  return { x, y };
}

/** s_t = w s_{t-1} + (1 - w) y_t, s_0 = y_0; NaN values are skipped (carried over). */
export function emaSmooth(y: number[], weight: number): number[] {
  const out: number[] = [];
  let s = NaN;
  for (const v of y) {
    if (Number.isFinite(v)) s = Number.isFinite(s) ? weight * s + (1 - weight) * v : v;
    out.push(Number.isFinite(v) ? s : NaN);
  }
  return out;
}

/**
 * Training curves: several named series against step or epoch, e.g.
 * `trainingCurves({train: history.loss, valid: {x: validSteps, y: validLoss}}, {logY: true})`.
 * A single Vector is drawn as one series named 'value'. Tensors are read with `await t.data()`. With
 * options.palette and options.keys the series take paired colours: one colour per group (a width), one
 * dash and marker per variant (slimmable solid, independent dashed), the same in every figure drawn with
 * that palette (see `palette`).
 */
export async function trainingCurves(series: Vector | Curve | Record<string, Vector | Curve>,
  opts: TrainingCurvesOptions = {}): Promise<Figure> {
  const { xTitle = 'step', yTitle = 'value', logY = false, markers = false, smoothing = 0 } = opts;
  if (!(smoothing >= 0 && smoothing < 1)) {
    throw new Error(`trainingCurves: options.smoothing must be in [0, 1), received ${smoothing}`);
  }
  const entries = named<Vector | Curve>(series, (s) => isArrayOrTensor(s) || isCurve(s), 'value', 'series');
  const styles = seriesStyles(entries.map((e) => e.name), opts, 'trainingCurves');
  const data: Trace[] = [];
  const allX: number[] = [];
  for (let i = 0; i < entries.length; i++) {
    const { name, value, arg } = entries[i];
    const { x, y } = await readCurve(value, arg);
    allX.push(...x);
    const c = styles ? styles[i].color : color(i);
    const variant = styles?.[i].variant;
    const line = { color: c, width: 2, ...(variant ? { dash: variant.dash } : {}) };
    const mode = markers ? 'lines+markers' : 'lines';
    const style: Partial<Trace> = variant
      ? { opacity: variant.opacity, marker: { symbol: variant.symbol, size: 7, color: c } }
      : {};
    if (smoothing > 0) {
      data.push({ type: 'scatter', mode: 'lines', name: `${name} (raw)`, x, y, showlegend: false, opacity: 0.3,
        line: { color: c, width: 1 }, legendgroup: name, hoverinfo: 'skip' });
      data.push({ type: 'scatter', mode, name, x, y: emaSmooth(y, smoothing), line, legendgroup: name, ...style });
    } else {
      data.push({ type: 'scatter', mode, name, x, y, line, ...style });
    }
  }
  const layout = baseLayout(opts);
  layout.xaxis = axis(xTitle, integerTicks(allX));
  layout.yaxis = axis(yTitle, logY ? { type: 'log' } : {});
  layout.hovermode = 'x unified';
  return { data, layout };
}

/** Options of `labelSwitchRate`. */
export interface LabelSwitchRateOptions extends FigureOptions {
  /** x-axis title. Default: 'epoch'. */
  xTitle?: string;
  /** y-axis title. Default: 'label-switch rate'. */
  yTitle?: string;
  /** Rates are fractions in [0, 1], shown as percentages on the axis. Default: true. */
  percent?: boolean;
}

/**
 * Label-switch rate per epoch (Gao et al., arXiv 2311.12199): the share of training samples whose best
 * permutation changed since the previous epoch, one line per run, epochs counted from 1. Also fits any
 * other per-epoch share, such as the share of samples dynamic sample dropout removed
 * (`{yTitle: 'samples dropped'}`).
 */
export async function labelSwitchRate(rates: Vector | Record<string, Vector>,
  opts: LabelSwitchRateOptions = {}): Promise<Figure> {
  const { xTitle = 'epoch', yTitle = 'label-switch rate', percent = true } = opts;
  const entries = named(rates, isArrayOrTensor, 'rate', 'rates');
  const data: Trace[] = [];
  for (let i = 0; i < entries.length; i++) {
    const { name, value, arg } = entries[i];
    const y = await toVector(value, arg);
    data.push({ type: 'scatter', mode: 'lines+markers', name, x: oneBased(y.length), y, line: { color: color(i) } });
  }
  const layout = baseLayout(opts);
  layout.xaxis = axis(xTitle, integerTicks(data.flatMap((t) => t.x as number[])));
  layout.yaxis = axis(yTitle, { rangemode: 'tozero', ...(percent ? { tickformat: '.0%' } : {}) });
  return { data, layout };
}

/** Options of `sparsityVsTarget`. */
export interface SparsityVsTargetOptions extends FigureOptions {
  /** Step of each value; same length as the sparsities. Default: 1, 2, ..., n. */
  steps?: Vector;
  /** x-axis title. Default: 'step'. */
  xTitle?: string;
  /** y-axis title. Default: 'sparsity'. */
  yTitle?: string;
  /** Sparsities are fractions in [0, 1], shown as percentages on the axis. Default: true. */
  percent?: boolean;
}

/**
 * Sparsity against its target over training (DPHuBERT, Peng et al., arXiv 2305.17651): the expected
 * sparsity 1 - E[params] / params as a solid line and the (ramped) target as a dashed one.
 */
export async function sparsityVsTarget(sparsity: Vector, target: Vector,
  opts: SparsityVsTargetOptions = {}): Promise<Figure> {
  const { xTitle = 'step', yTitle = 'sparsity', percent = true } = opts;
  const s = await toVector(sparsity, 'sparsity');
  const t = await toVector(target, 'target');
  if (s.length !== t.length) {
    throw new Error(`sparsityVsTarget: sparsity has ${s.length} values but target has ${t.length}`);
  }
  const x = opts.steps === undefined ? oneBased(s.length) : await toVector(opts.steps, 'options.steps');
  if (x.length !== s.length) {
    throw new Error(`sparsityVsTarget: options.steps has ${x.length} values but sparsity has ${s.length}`);
  }
  const data: Trace[] = [
    { type: 'scatter', mode: 'lines', name: 'expected sparsity', x, y: s, line: { color: color(0), width: 2 } },
    { type: 'scatter', mode: 'lines', name: 'target', x, y: t, line: { color: color(3), width: 2, dash: 'dash' } },
  ];
  const layout = baseLayout(opts);
  layout.xaxis = axis(xTitle, integerTicks(x));
  layout.yaxis = axis(yTitle, percent ? { tickformat: '.0%' } : {});
  layout.hovermode = 'x unified';
  return { data, layout };
}
