// Grouped bars per width: one group per width, one bar per series (slimmable, independent, ...).
import { Figure, FigureOptions, Trace, Vector, axis, baseLayout, color, describe, isArrayOrTensor, named, toVector } from './figure';
import { PairedOptions, seriesStyles } from './palette';

/** Options of `perWidthBars`. */
export interface PerWidthBarsOptions extends FigureOptions, PairedOptions {
  /** x-axis title. Default: 'width'. */
  xTitle?: string;
  /** y-axis title. Default: 'accuracy'. */
  yTitle?: string;
  /** d3-format of the value printed on each bar, or null for no labels. Default: '.3g'. */
  valueFormat?: string | null;
  /** y-axis tick format (d3-format), e.g. '.0%' for fractions. Default: Plotly's automatic ticks. */
  yTickFormat?: string;
}

/** '0.25×' for a width multiplier; strings are used as given. */
function widthLabel(w: number | string): string {
  return typeof w === 'string' ? w : `${w}×`;
}

/**
 * Grouped bars per width (Akhtar et al., arXiv 2304.12183): for each width multiplier a group of bars,
 * one per named series, e.g. `perWidthBars([0.25, 0.5, 1], {slimmable: accS, independent: accI})`.
 * Numeric widths are labelled '0.25×', string widths as given. Every series has one value per width;
 * NaN leaves a gap (a width a series lacks). With options.palette (and options.keys) the bars take
 * paired colours: one colour per group (a method), a solid or hatched fill per variant (see `palette`).
 */
export async function perWidthBars(widths: ArrayLike<number | string>, series: Record<string, Vector>,
  opts: PerWidthBarsOptions = {}): Promise<Figure> {
  const { xTitle = 'width', yTitle = 'accuracy', valueFormat = '.3g' } = opts;
  if (widths === null || typeof widths !== 'object' || typeof widths.length !== 'number' || widths.length === 0) {
    throw new Error(`perWidthBars: widths must be a non-empty array of numbers or strings, received ${describe(widths)}`);
  }
  const labels = Array.from(widths, (w, i) => {
    if (typeof w !== 'number' && typeof w !== 'string') {
      throw new Error(`perWidthBars: widths[${i}] is ${describe(w)}, expected a number or a string`);
    }
    return widthLabel(w);
  });
  if (isArrayOrTensor(series)) {
    throw new Error(`perWidthBars: series must be a record of named series ({slimmable: [...], ...}), received ${describe(series)}`);
  }
  const entries = named<Vector>(series, () => false, '', 'series');
  const styles = seriesStyles(entries.map((e) => e.name), opts, 'perWidthBars');
  const data: Trace[] = [];
  for (let i = 0; i < entries.length; i++) {
    const { name, value, arg } = entries[i];
    const y = await toVector(value, arg);
    if (y.length !== labels.length) {
      throw new Error(`perWidthBars: ${arg} has ${y.length} values but there are ${labels.length} widths`);
    }
    const trace: Trace = { type: 'bar', name, x: labels, y, marker: { color: color(i) } };
    if (styles) {
      const { color: c, variant } = styles[i];
      trace.marker = { color: c, opacity: variant.opacity, line: { color: c, width: 1 },
        ...(variant.pattern ? { pattern: { shape: variant.pattern, fgcolor: c, bgcolor: 'white', solidity: 0.4 } } : {}) };
    }
    if (valueFormat !== null) {
      trace.texttemplate = `%{y:${valueFormat}}`;
      trace.textposition = 'outside';
    }
    data.push(trace);
  }
  const layout = baseLayout(opts);
  layout.barmode = 'group';
  layout.xaxis = axis(xTitle, { type: 'category' });
  layout.yaxis = axis(yTitle, opts.yTickFormat === undefined ? {} : { tickformat: opts.yTickFormat });
  return { data, layout };
}
