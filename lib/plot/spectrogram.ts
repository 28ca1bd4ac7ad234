// Spectrograms: a [frames, bins] magnitude or log-mel matrix as a time-frequency heatmap; several side by
// side (noisy, enhanced, clean) on one colour scale.
import { Figure, FigureOptions, Matrix, isArrayOrTensor, named, toMatrix } from './figure';
import { ColorOptions, HeatmapPanel, heatmapFigure } from './heatmap';

/** Options of `spectrogram`. */
export interface SpectrogramOptions extends FigureOptions, ColorOptions {
  /** Seconds between frames (hopLength / sampleRate): the x axis is then in seconds. Default: none (frame index). */
  frameSeconds?: number;
  /** Hz between linear-frequency bins (sampleRate / nFft): the y axis is then in Hz. Default: none (bin index). */
  binHz?: number;
  /**
   * Convert magnitudes to decibels, 20 log10(max(|x|, 1e-10)), and floor them at `dbRange` below the
   * largest value over all panels. Leave false for input that is already logarithmic (log-mel). Default: false.
   */
  db?: boolean;
  /** Dynamic range kept by `db`, in dB (librosa's top_db). Default: 80. */
  dbRange?: number;
  /** x-axis title. Default: 'time (s)' with frameSeconds, else 'frame'. */
  xTitle?: string;
  /** y-axis title. Default: 'frequency (Hz)' with binHz, else 'bin'. */
  yTitle?: string;
  /**
   * Title of the colour bar, naming what the input holds: 'log-mel energy', 'magnitude', ... Default: 'dB'
   * with `db`, else 'value' (the helper cannot tell magnitudes from log-mels).
   */
  colorbarTitle?: string;
}

function positive(v: number | undefined, name: string): void {
  if (v !== undefined && !(Number.isFinite(v) && v > 0)) {
    throw new Error(`spectrogram: options.${name} must be a positive number, received ${v}`);
  }
}

/**
 * Spectrogram of a [frames, bins] matrix (the layout of `audio.stft` magnitudes and log-mel features),
 * drawn with time on x and frequency on y, low frequencies at the bottom. Several named matrices, e.g.
 * `spectrogram({noisy, enhanced, clean}, {db: true, frameSeconds: 128 / 16000, binHz: 16000 / 512})`, are
 * drawn side by side on one colour scale with linked zoom (before/after enhancement). Tensors (rank 2,
 * or [1, frames, bins]) are read with `await t.data()`.
 */
export async function spectrogram(specs: Matrix | Record<string, Matrix>,
  opts: SpectrogramOptions = {}): Promise<Figure> {
  const { frameSeconds, binHz, db = false, dbRange = 80 } = opts;
  positive(frameSeconds, 'frameSeconds');
  positive(binHz, 'binHz');
  positive(dbRange, 'dbRange');
  const entries = named(specs, isArrayOrTensor, '', 'specs');
  const panels: HeatmapPanel[] = [];
  for (const { name, value, arg } of entries) {
    const m = await toMatrix(value, arg); // [frames, bins]
    if (m.length === 0 || m[0].length === 0) throw new Error(`spectrogram: ${arg} is empty ([${m.length}, ${m[0]?.length ?? 0}])`);
    const bins = m[0].length;
    // z[bin][frame]: Plotly's z rows run along y.
    let z = Array.from({ length: bins }, (_, b) => m.map((frame) => frame[b]));
    if (db) z = z.map((row) => row.map((v) => 20 * Math.log10(Math.max(Math.abs(v), 1e-10))));
    panels.push({ name, z, x0: 0, dx: frameSeconds ?? 1, y0: 0, dy: binHz ?? 1 });
  }
  if (db) {
    let top = -Infinity;
    for (const p of panels) for (const row of p.z) for (const v of row) if (v > top) top = v;
    for (const p of panels) p.z = p.z.map((row) => row.map((v) => Math.max(v, top - dbRange)));
  }
  return heatmapFigure(panels, {
    ...opts,
    xTitle: opts.xTitle ?? (frameSeconds === undefined ? 'frame' : 'time (s)'),
    yTitle: opts.yTitle ?? (binHz === undefined ? 'bin' : 'frequency (Hz)'),
    colorbarTitle: opts.colorbarTitle ?? (db ? 'dB' : 'value'),
    reverseY: false, annotate: false, valueFormat: '.3g',
  });
}
