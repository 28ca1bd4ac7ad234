// Waveforms against time, long signals drawn as their min/max envelope.
import { Axis, Figure, FigureOptions, Trace, Vector, axis, baseLayout, color, isArrayOrTensor, named, toVector } from './figure';

/** Options of `waveform`. */
export interface WaveformOptions extends FigureOptions {
  /** Samples per second; the x axis is in seconds. Default: 16000. */
  sampleRate?: number;
  /**
   * Most points drawn per signal: a longer signal is drawn as the minimum and maximum of each of
   * maxPoints / 2 equal chunks, which keeps its envelope and peaks. Default: 20000.
   */
  maxPoints?: number;
  /** Several signals: 'stack' one panel each, top to bottom, with linked time axes; 'overlay' one panel. Default: 'stack'. */
  arrange?: 'stack' | 'overlay';
  /** x-axis title. Default: 'time (s)'. */
  xTitle?: string;
  /** y-axis title (with 'stack', each panel is titled by its signal's name instead). Default: 'amplitude'. */
  yTitle?: string;
}

/**
 * The indices of at most `maxPoints` samples that keep the signal's envelope: all of them when the
 * signal is short enough, else the minimum and maximum of each of floor(maxPoints / 2) chunks, in time order.
 */
export function envelopeIndices(samples: ArrayLike<number>, maxPoints: number): number[] {
  const n = samples.length;
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const chunks = Math.floor(maxPoints / 2);
  const out: number[] = [];
  for (let c = 0; c < chunks; c++) {
    const start = Math.floor((c * n) / chunks);
    const end = Math.floor(((c + 1) * n) / chunks);
    let lo = start;
    let hi = start;
    for (let i = start + 1; i < end; i++) {
      if (samples[i] < samples[lo]) lo = i;
      if (samples[i] > samples[hi]) hi = i;
    }
    if (lo === hi) out.push(lo);
    else out.push(Math.min(lo, hi), Math.max(lo, hi));
  }
  return out;
}

/**
 * Waveform of a signal against time, or of several named signals (noisy, enhanced, clean) stacked with
 * linked time axes or overlaid. Signals longer than `maxPoints` are drawn as their envelope (see
 * `envelopeIndices`). Tensors ([time] or [1, time]) are read with `await t.data()`.
 */
export async function waveform(signals: Vector | Record<string, Vector>, opts: WaveformOptions = {}): Promise<Figure> {
  const { sampleRate = 16000, maxPoints = 20000, arrange = 'stack', xTitle = 'time (s)', yTitle = 'amplitude' } = opts;
  if (!(Number.isFinite(sampleRate) && sampleRate > 0)) {
    throw new Error(`waveform: options.sampleRate must be a positive number, received ${sampleRate}`);
  }
  if (!(Number.isInteger(maxPoints) && maxPoints >= 2)) {
    throw new Error(`waveform: options.maxPoints must be an integer >= 2, received ${maxPoints}`);
  }
  if (arrange !== 'stack' && arrange !== 'overlay') {
    throw new Error(`waveform: options.arrange must be 'stack' or 'overlay', received ${String(arrange)}`);
  }
  const entries = named(signals, isArrayOrTensor, 'signal', 'signals');
  const stacked = arrange === 'stack' && entries.length > 1;
  const n = entries.length;
  const layout = baseLayout(opts, { height: stacked ? Math.max(450, 180 * n) : undefined });
  const data: Trace[] = [];
  for (let i = 0; i < n; i++) {
    const { name, value, arg } = entries[i];
    const x = await toVector(value, arg);
    const keep = envelopeIndices(x, maxPoints);
    const trace: Trace = {
      type: 'scatter', mode: 'lines', name, x: keep.map((k) => k / sampleRate), y: keep.map((k) => x[k]),
      line: { color: color(i), width: 1 },
    };
    if (stacked) {
      const suffix = i === 0 ? '' : String(i + 1);
      trace.xaxis = `x${suffix}`;
      trace.yaxis = `y${suffix}`;
      const gap = 0.04;
      const h = (1 - gap * (n - 1)) / n;
      const top = 1 - i * (h + gap);
      const xaxis: Axis = axis(i === n - 1 ? xTitle : '', { anchor: `y${suffix}`, showticklabels: i === n - 1 });
      if (i > 0) xaxis.matches = 'x';
      layout[`xaxis${suffix}`] = xaxis;
      layout[`yaxis${suffix}`] = axis(name, { domain: [top - h, top], anchor: `x${suffix}` });
    }
    data.push(trace);
  }
  if (!stacked) {
    layout.xaxis = axis(xTitle);
    layout.yaxis = axis(yTitle);
  }
  layout.showlegend = !stacked && n > 1;
  return { data, layout };
}
