/**
 * The plot namespace of slimspeech (DESIGN.md, "Plots"): figure helpers that return plain Plotly JSON
 * (`Figure`), `display` to show figures inline in a tslab notebook, and `savePlot` / `toHtml` for
 * standalone HTML. plotly.js comes from the plotly.js-dist-min package and is never fetched from a CDN.
 * Beside figures: `audio` players (WAV data URIs, playable offline) and `table`s of records. A `palette`
 * passed to trainingCurves, perWidthBars and pareto gives paired colours: a group (a width, a method)
 * keeps its colour across a notebook's figures, its variants (slimmable, independent) differ in dash,
 * marker or fill.
 *
 * Every figure helper is async: any numeric argument may be a tf.Tensor, read with `await t.data()` (and
 * not disposed), or a plain or typed array. In a notebook: `plot.display(await plot.trainingCurves(h))`.
 */
export type { Axis, Figure, FigureOptions, Layout, Matrix, Trace, Vector } from './figure';
export { palette, VARIANT_STYLES } from './palette';
export type { GroupKey, PairedOptions, Palette, PaletteOptions, SeriesKey, SeriesKeys, VariantStyle } from './palette';
export { trainingCurves, labelSwitchRate, sparsityVsTarget } from './lines';
export type { Curve, TrainingCurvesOptions, LabelSwitchRateOptions, SparsityVsTargetOptions } from './lines';
export { perWidthBars } from './bars';
export type { PerWidthBarsOptions } from './bars';
export { pareto, paretoFront } from './pareto';
export type { ParetoOptions, ParetoFrontOptions, ParetoPoints } from './pareto';
export { confusionMatrix, normalizeConfusion } from './confusion_matrix';
export type { ConfusionMatrixOptions, ConfusionNormalization } from './confusion_matrix';
export { heatmap } from './heatmap';
export type { ColorOptions, HeatmapOptions } from './heatmap';
export { spectrogram } from './spectrogram';
export type { SpectrogramOptions } from './spectrogram';
export { waveform } from './waveform';
export type { WaveformOptions } from './waveform';
export { detCurve, rocCurve, scoreDistributions } from './verification';
export type { DetCurveOptions, RocCurveOptions, ScoreDistributionsOptions, Trials } from './verification';
export { normalCdf, probit } from './normal';
export { savePlot, toHtml } from './html';
export type { HtmlOptions, PageOptions, SavePlotOptions } from './html';
export { display, displayHtml, injectPlotly } from './display';
export type { DisplayOptions } from './display';
export { audio, audioHtml, wavDataUri } from './audio';
export type { AudioOptions, AudioSamples } from './audio';
export { table, tableHtml, tableColumns } from './table';
export type { TableOptions, TableRow } from './table';
