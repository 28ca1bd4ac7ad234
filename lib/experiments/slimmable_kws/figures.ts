import { Figure, PALETTE } from '../../plot/figure';
import { palette, Palette, SeriesKey } from '../../plot/palette';
import { trainingCurves } from '../../plot/lines';
import { perWidthBars } from '../../plot/bars';
import { pareto } from '../../plot/pareto';
import { confusionMatrix as confusionFigure } from '../../plot/confusion_matrix';
import { spectrogram } from '../../plot/spectrogram';
import { normalizeWidths } from '../../slim/channels';
import { ARCH_NAME, KwsArch, KwsFeatureConfig, SlimmableKwsConfig, widthTag } from './config';
import type { KwsData } from './data';
import type { KwsRow, RecalibrationRecord } from './evaluate';
import type { SlimmableKwsResults } from './report';
import { validationKey } from './train';

function widthsOf(results: SlimmableKwsResults): number[] {
  return normalizeWidths(results.config.widths, 'slimmable-kws plots');
}

// Ten more colours after Plotly's ten (d3's category20 lighter shades), for configs with many widths.
const MORE_COLORS = ['#aec7e8', '#ffbb78', '#98df8a', '#ff9896', '#c5b0d5', '#c49c94', '#f7b6d2', '#c7c7c7', '#dbdb8d', '#9edae5'];

/**
 * The one palette of the recipe's figures, so that a colour means one thing across all of them: every width
 * (training curves), each architecture (per-width bars, Pareto, latency), recorded and synthetic voices, and
 * before and after recalibration; variants: slimmable solid, trained alone dashed (hatched bars, open
 * markers), the supernet's distillation term dotted.
 */
export function kwsPalette(config: SlimmableKwsConfig): Palette {
  const groups = [...normalizeWidths(config.widths, 'slimmable-kws plots'), ...config.archs.map((a) => ARCH_NAME[a]),
    'recorded voices', 'synthetic voices', 'before recalibration', 'after recalibration'];
  return palette(groups, { variants: ['slimmable', 'alone', 'distillation'], colors: [...PALETTE, ...MORE_COLORS] });
}

/** The variant of a series from its name: 'alone ...', '... distillation ...', else slimmable. */
function variantOf(name: string): string {
  return name.includes('distillation') ? 'distillation' : name.startsWith('alone') || name.includes('alone') ? 'alone' : 'slimmable';
}

function perWidth(results: SlimmableKwsResults, arch: KwsArch, variant: string, f: (r: KwsRow) => number | null): number[] {
  return widthsOf(results).map((w) => {
    const r = results.rows.find((x) => x.arch === arch && x.variant === variant && x.width === w);
    const v = r ? f(r) : null;
    return v === null ? NaN : v;
  });
}

/**
 * Draws the results' baselines (chance, majority class) on an accuracy figure as labelled dashed
 * horizontal lines, so that no accuracy is read without them.
 */
export function withBaselines(fig: Figure, baselines: Record<string, number>): Figure {
  const names: Record<string, string> = { chance: 'chance', majority: 'always the most frequent class' };
  const entries = Object.entries(baselines);
  fig.layout.shapes = [...((fig.layout.shapes as unknown[]) ?? []), ...entries.map(([, v]) => ({
    type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y', y0: v, y1: v, line: { color: '#555', width: 1, dash: 'dot' } }))];
  // Alternate sides, so that two baselines close in value do not print over each other.
  fig.layout.annotations = [...((fig.layout.annotations as unknown[]) ?? []), ...entries.map(([k, v], i) => ({
    xref: 'paper', x: i % 2 ? 0 : 1, xanchor: i % 2 ? 'left' : 'right', yref: 'y', y: v, yanchor: 'bottom', showarrow: false,
    text: `${names[k] ?? k} ${(100 * v).toFixed(1)}%`, font: { size: 11, color: '#555' }, bgcolor: 'rgba(255,255,255,0.85)' }))];
  return fig;
}

/** A training clip's normalised log-mels, clean and (with augmented copies) as its first augmented copy. */
export async function kwsExampleFigure(data: KwsData, features: KwsFeatureConfig): Promise<Figure> {
  const specs: Record<string, number[][]> = { clean: data.example.clean };
  if (data.example.augmented) specs.augmented = data.example.augmented;
  return spectrogram(specs, { title: `Normalised log-mels of '${data.example.label}' (${data.example.path})`,
    frameSeconds: features.hopLength / features.sampleRate, yTitle: 'mel band', colorbarTitle: 'normalised log energy' });
}

/**
 * Per architecture: training cross-entropy per epoch (the supernet's is its widest width's, on the labels,
 * the same quantity as a model trained alone; the distillation term of its other widths is drawn apart), and
 * validation accuracy per epoch of every width of both variants.
 */
export async function kwsTrainingFigures(results: SlimmableKwsResults): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const arch of results.config.archs) {
    const c = results.curves[arch];
    if (!c) continue;
    const epochs = c.slimmable.map((e) => e.epoch);
    const widest = widthsOf(results)[widthsOf(results).length - 1];
    const loss: Record<string, { x: number[]; y: number[] }> = {
      [`slimmable ${widest}×, cross-entropy`]: { x: epochs, y: c.slimmable.map((e) => e.ce) },
      'slimmable, other widths: distillation (sum)': { x: epochs, y: c.slimmable.map((e) => e.kd) },
    };
    const val: Record<string, { x: number[]; y: number[] }> = {};
    for (const w of widthsOf(results)) val[`slimmable ${w}×`] = { x: epochs, y: c.slimmable.map((e) => e[validationKey(w)]) };
    for (const w of widthsOf(results)) {
      const eps = c.independent[widthTag(w)];
      if (!eps) continue;
      loss[`alone ${w}×, cross-entropy`] = { x: eps.map((e) => e.epoch), y: eps.map((e) => e.loss) };
      val[`alone ${w}×`] = { x: eps.map((e) => e.epoch), y: eps.map((e) => e[validationKey(w)]) };
    }
    const pal = kwsPalette(results.config);
    const keys = (n: string): SeriesKey => {
      const m = /(\d*\.?\d+)×/.exec(n);
      return { group: m ? Number(m[1]) : widest, variant: variantOf(n) };
    };
    out.push(await trainingCurves(loss, { title: `${ARCH_NAME[arch]}: training loss per epoch`, xTitle: 'epoch', yTitle: 'loss',
      markers: true, palette: pal, keys }));
    out.push(await trainingCurves(val, { title: `${ARCH_NAME[arch]}: validation accuracy per epoch`, xTitle: 'epoch',
      yTitle: 'accuracy', markers: true, palette: pal, keys }));
  }
  return out;
}

/** Per architecture: test accuracy of every width, slimmable subnets next to the same widths trained alone, with the baselines. */
export async function kwsAccuracyFigures(results: SlimmableKwsResults): Promise<Figure[]> {
  return Promise.all(results.config.archs.map(async (arch) => withBaselines(await perWidthBars(results.config.widths, {
    slimmable: perWidth(results, arch, 'slimmable', (r) => r.accuracy), alone: perWidth(results, arch, 'independent', (r) => r.accuracy),
  }, { title: `${ARCH_NAME[arch]}: test accuracy per width`, yTickFormat: '.0%', valueFormat: '.1%', palette: kwsPalette(results.config),
    keys: (n) => ({ group: ARCH_NAME[arch], variant: variantOf(n) }) }), results.baselines)));
}

/** Per architecture: test accuracy on recorded human voices against synthetic (espeak-ng) ones, per width and variant. */
export async function kwsVoiceFigures(results: SlimmableKwsResults): Promise<Figure[]> {
  return Promise.all(results.config.archs.map(async (arch) => withBaselines(await perWidthBars(results.config.widths, {
    'slimmable, recorded voices': perWidth(results, arch, 'slimmable', (r) => r.accuracyRecorded),
    'alone, recorded voices': perWidth(results, arch, 'independent', (r) => r.accuracyRecorded),
    'slimmable, synthetic voices': perWidth(results, arch, 'slimmable', (r) => r.accuracySynthetic),
    'alone, synthetic voices': perWidth(results, arch, 'independent', (r) => r.accuracySynthetic),
  }, { title: `${ARCH_NAME[arch]}: test accuracy on recorded and on synthetic voices`, yTickFormat: '.0%', valueFormat: '.0%',
    palette: kwsPalette(results.config),
    keys: (n) => ({ group: n.includes('recorded') ? 'recorded voices' : 'synthetic voices', variant: variantOf(n) }) }),
  results.baselines)));
}

/** Per architecture with batch norm: validation accuracy per width before and after batch-norm recalibration. */
export async function kwsRecalibrationFigures(recalibration: RecalibrationRecord[], config: SlimmableKwsConfig): Promise<Figure[]> {
  const out: Figure[] = [];
  const widths = normalizeWidths(config.widths, 'slimmable-kws plots');
  for (const arch of config.archs) {
    const recs = recalibration.filter((r) => r.arch === arch);
    if (!recs.length) continue;
    const series: Record<string, number[]> = {};
    for (const variant of ['slimmable', 'independent'] as const) {
      const name = variant === 'slimmable' ? 'slimmable' : 'alone';
      const by = (w: number) => recs.find((r) => r.variant === variant && r.width === w);
      series[`${name}, before`] = widths.map((w) => by(w)?.before ?? NaN);
      series[`${name}, after`] = widths.map((w) => by(w)?.after ?? NaN);
    }
    out.push(await perWidthBars(config.widths, series, { title: `${ARCH_NAME[arch]}: validation accuracy before and after ` +
      'batch-norm recalibration', yTickFormat: '.0%', valueFormat: '.0%', palette: kwsPalette(config),
    keys: (n) => ({ group: n.endsWith('before') ? 'before recalibration' : 'after recalibration', variant: variantOf(n) }) }));
  }
  return out;
}

/** Parameters (log axis) against test accuracy for every architecture and variant, with the Pareto front. */
export async function kwsParetoFigure(results: SlimmableKwsResults): Promise<Figure> {
  const points: Record<string, { x: number[]; y: number[]; labels: string[] }> = {};
  for (const arch of results.config.archs) {
    for (const variant of ['slimmable', 'independent']) {
      const r = results.rows.filter((x) => x.arch === arch && x.variant === variant);
      if (r.length) points[`${ARCH_NAME[arch]} ${variant === 'slimmable' ? 'slimmable' : 'alone'}`] = { x: r.map((x) => x.params), y: r.map((x) => x.accuracy), labels: r.map((x) => `${x.width}×`) };
    }
  }
  return withBaselines(await pareto(points, { title: 'Parameters against test accuracy', logX: true, palette: kwsPalette(results.config),
    yInclude: Object.values(results.baselines),
    keys: (n) => { const i = n.lastIndexOf(' '); return { group: n.slice(0, i), variant: n.slice(i + 1) }; } }), results.baselines);
}

/** Per architecture: batch-1 latency (median) of every width and variant on this run's backend. */
export async function kwsLatencyFigures(results: SlimmableKwsResults): Promise<Figure[]> {
  return Promise.all(results.config.archs.map((arch) => perWidthBars(results.config.widths, {
    slimmable: perWidth(results, arch, 'slimmable', (r) => r.latencyMs), alone: perWidth(results, arch, 'independent', (r) => r.latencyMs),
  }, { title: `${ARCH_NAME[arch]}: latency per width (batch 1, median, ${results.backend})`, yTitle: 'latency (ms)', valueFormat: '.2f',
    palette: kwsPalette(results.config), keys: (n) => ({ group: ARCH_NAME[arch], variant: variantOf(n) }) })));
}

/** Per architecture: the confusion matrix of the widest slimmable subnet on the test split, rows normalised. */
export async function kwsConfusionFigures(results: SlimmableKwsResults): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const arch of results.config.archs) {
    const cm = results.confusion[arch];
    if (cm) out.push(await confusionFigure(cm, { labels: results.labels, normalize: 'true', title: `${ARCH_NAME[arch]}: widest slimmable subnet on the test split` }));
  }
  return out;
}

/** Every plot of the recipe, by file name (plots/<name>.html). */
export async function kwsFigures(results: SlimmableKwsResults, data?: KwsData): Promise<Record<string, Figure[]>> {
  return {
    'training-curves': await kwsTrainingFigures(results),
    'accuracy-per-width': await kwsAccuracyFigures(results),
    'accuracy-by-voice': await kwsVoiceFigures(results),
    recalibration: await kwsRecalibrationFigures(results.recalibration, results.config),
    pareto: [await kwsParetoFigure(results)],
    'latency-per-width': await kwsLatencyFigures(results),
    'confusion-matrix': await kwsConfusionFigures(results),
    ...(data ? { spectrogram: [await kwsExampleFigure(data, results.config.features)] } : {}),
  };
}
