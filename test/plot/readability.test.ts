// Renders realistic figures in headless Chromium at the width of an exported notebook (1200 px) and
// measures what Plotly drew (getBoundingClientRect through GEOMETRY_SCRIPT): class names in full and
// clear of each other and of the axis titles, Pareto labels that do not collide, readable log ticks,
// whole-number epoch ticks, paired colours and titled colour bars. Fails (does not skip) without Chromium.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as plot from '../../lib/plot';
import { autorangeOf } from '../../lib/plot/pareto';
import { assertClose } from '../helpers';
import { Box, Drawn, GEOMETRY_SCRIPT, PlotGeometry, count, inside, overlaps, readGeometry, renderDom } from './chromium';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slimspeech-plot-readability-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const SPEECH_COMMANDS = ['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go', '_unknown_', '_silence_'];
/** The embedded set's keywords (data/manifest.json) with its two extra classes. */
const EMBEDDED = ['amazing', 'brilliant', 'fire', 'grenade', 'hello', 'hurry', 'incoming', 'kamikaze', 'melon', 'oops',
  '_unknown_', '_silence_'];
const WIDTHS = [0.25, 0.5, 0.75, 1];
const VARIANTS = ['slimmable', 'independent'];

/** A deterministic confusion matrix of n classes: a strong diagonal, scattered confusions. */
function confusion(n: number): number[][] {
  let seed = n;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  return Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) =>
    (r === c ? 80 + Math.floor(rand() * 40) : rand() < 0.4 ? Math.floor(rand() * 12) : 0)));
}

/** One notebook's palette: every width and every method, slimmable solid and independent dashed. */
const PALETTE = plot.palette([...WIDTHS, 'all widths', 'DS-CNN', 'KWT'], { variants: VARIANTS });

/** 'independent 0.5×' -> width 0.5, variant 'independent'; 'slimmable (sandwich sum)' -> group 'all widths'. */
function curveKey(name: string): plot.SeriesKey {
  const [variant, width] = name.split(' ');
  return width.startsWith('(') ? { group: 'all widths', variant } : { group: Number(width.replace('×', '')), variant };
}

async function trainingFigures(): Promise<plot.Figure[]> {
  const curve = (start: number, end: number, tau: number) =>
    Array.from({ length: 20 }, (_, e) => end + (start - end) * Math.exp(-(e + 1) / tau));
  const loss: Record<string, number[]> = { 'slimmable (sandwich sum)': curve(9, 1.5, 4) };
  const val: Record<string, number[]> = {};
  for (const v of VARIANTS) {
    for (const w of WIDTHS) {
      val[`${v} ${w}×`] = curve(0.1, 0.6 + 0.3 * w + (v === 'independent' ? 0.01 : 0), 5);
      if (v === 'independent') loss[`${v} ${w}×`] = curve(2.4, 0.6 - 0.3 * w, 4);
    }
  }
  const opts = { xTitle: 'epoch', markers: true, palette: PALETTE, keys: curveKey };
  return [await plot.trainingCurves(loss, { ...opts, title: 'DS-CNN: training loss', yTitle: 'loss' }),
    await plot.trainingCurves(val, { ...opts, title: 'DS-CNN: validation accuracy', yTitle: 'accuracy' })];
}

/**
 * 2 architectures x 2 variants x 4 widths, about 3k to 200k parameters; variants of a width share their
 * cost. `baselines` are drawn as the experiment recipes do, dotted lines across the plot, and passed as yInclude.
 */
async function paretoFigure(baselines: number[] = []): Promise<plot.Figure> {
  const params: Record<string, number[]> = { 'DS-CNN': [3100, 9800, 20500, 35200], KWT: [14000, 52000, 115000, 203000] };
  const accuracy: Record<string, number[]> = { 'DS-CNN': [0.81, 0.878, 0.905, 0.915], KWT: [0.78, 0.861, 0.9, 0.912] };
  const series: Record<string, plot.ParetoPoints> = {};
  for (const arch of ['DS-CNN', 'KWT']) {
    for (const v of VARIANTS) {
      series[`${arch} ${v}`] = { x: params[arch], y: accuracy[arch].map((a) => a + (v === 'independent' ? 0.005 : 0)),
        labels: WIDTHS.map((w) => `${w}×`) };
    }
  }
  const fig = await plot.pareto(series, { title: 'Parameters against test accuracy', logX: true, palette: PALETTE,
    keys: (name) => ({ group: name.split(' ')[0], variant: name.split(' ')[1] }), yInclude: baselines });
  fig.layout.shapes = baselines.map((v) => ({ type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y', y0: v, y1: v,
    line: { color: '#555', width: 1, dash: 'dot' } }));
  return fig;
}

/** Renders figures on one saved page at `width` pixels and returns what each plot drew. */
async function render(figs: plot.Figure[], name: string, width = 1200): Promise<PlotGeometry[]> {
  const file = await plot.savePlot(figs, path.join(tmp, `${name}.html`));
  const page = fs.readFileSync(file, 'utf8');
  assert.equal(count(page, '* plotly.js v'), 1, 'plotly.js once per page');
  fs.writeFileSync(file, page.replace('</body>', `${GEOMETRY_SCRIPT}\n</body>`));
  const geometry = readGeometry(renderDom(file, 20000, width));
  assert.equal(geometry.length, figs.length);
  return geometry;
}

function texts(items: Drawn[]): string[] {
  return items.map((t) => t.text);
}

/** Asserts that no two of `items` overlap, naming the first pair that does. */
function assertApart(items: Drawn[], label: string, tolerance = 0.5): void {
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      assert.ok(!overlaps(items[i], items[j], tolerance),
        `${label}: "${items[i].text}" ${JSON.stringify(items[i])} overlaps "${items[j].text}" ${JSON.stringify(items[j])}`);
    }
  }
}

/** Asserts that none of `items` overlaps any of `others`. */
function assertClear(items: Drawn[], others: Array<Box & { text?: string }>, label: string, tolerance = 0.5): void {
  for (const a of items) {
    for (const b of others) {
      assert.ok(!overlaps(a, b, tolerance), `${label}: "${a.text}" ${JSON.stringify(a)} overlaps ${JSON.stringify(b)}`);
    }
  }
}

/** The checks every confusion matrix must pass: full names, nothing overprinted or clipped, a wide matrix. */
function assertReadableConfusion(g: PlotGeometry, labels: string[], colorbarTitle: string, label: string): void {
  assert.deepEqual(texts(g.xTicks), labels, `${label}: every predicted class name in full`);
  assert.deepEqual(texts(g.yTicks).sort(), [...labels].sort(), `${label}: every true class name in full`);
  assertApart(g.xTicks, `${label} x tick labels`);
  assertApart(g.yTicks, `${label} y tick labels`);
  for (const t of [...g.xTicks, ...g.yTicks, ...g.xTitles, ...g.yTitles]) {
    assert.ok(inside(t, g.figure), `${label}: "${t.text}" is clipped: ${JSON.stringify(t)} outside ${JSON.stringify(g.figure)}`);
  }
  assertClear(g.xTitles, g.xTicks, `${label} x title`);
  assertClear(g.yTitles, g.yTicks, `${label} y title`);
  assertClear([...g.xTicks, ...g.yTicks], [...g.colorbars, ...g.colorbarTicks, ...g.colorbarTitles], `${label} tick labels and colour bar`);
  assert.equal(g.heatmaps.length, 1);
  const matrix = g.heatmaps[0];
  const share = (matrix.right - matrix.left) / (g.figure.right - g.figure.left);
  assert.ok(share > 0.6, `${label}: the matrix spans ${(100 * share).toFixed(0)}% of the figure's width`);
  assert.deepEqual(texts(g.colorbarTitles), [colorbarTitle]);
}

test('confusion matrices at 1200 px: full class names, none overprinted or clipped, the matrix across the width', async () => {
  const figs = [
    await plot.confusionMatrix(confusion(12), { labels: SPEECH_COMMANDS, normalize: 'true', title: 'DS-CNN: widest subnet' }),
    await plot.confusionMatrix(confusion(12), { labels: EMBEDDED, title: 'embedded set' }),
  ];
  const [sc, emb] = await render(figs, 'confusion');
  assertReadableConfusion(sc, SPEECH_COMMANDS, 'share of true class', 'Speech Commands');
  assertReadableConfusion(emb, EMBEDDED, 'count', 'embedded');
  const rows = (g: PlotGeometry) => (g.heatmaps[0].bottom - g.heatmaps[0].top) / 12;
  assert.ok(rows(sc) >= 30, `rows are ${rows(sc).toFixed(1)} px high`);
});

test('confusion matrices on a narrow page (700 px) and with 35 classes: names turn upright, never run together', async () => {
  const words = ['backward', 'bed', 'bird', 'cat', 'dog', 'down', 'eight', 'five', 'follow', 'forward', 'four', 'go', 'happy',
    'house', 'learn', 'left', 'marvin', 'nine', 'no', 'off', 'on', 'one', 'right', 'seven', 'sheila', 'six', 'stop', 'three',
    'tree', 'two', 'up', 'visual', 'wow', 'yes', 'zero'];
  const figs = [await plot.confusionMatrix(confusion(12), { labels: EMBEDDED, normalize: 'true' }),
    await plot.confusionMatrix(confusion(35), { labels: words, normalize: 'true' })];
  const [narrow, many] = await render(figs, 'confusion-narrow', 700);
  assertReadableConfusion(narrow, EMBEDDED, 'share of true class', '700 px');
  assertReadableConfusion(many, words, 'share of true class', '35 classes');
  const tall = (t: Drawn) => t.bottom - t.top > t.right - t.left;
  assert.ok(many.xTicks.filter((t) => t.text.length > 3).every(tall), '35 class names turned upright');
});

test('Pareto of 16 points: labels that collide with no label or marker, 1-2-5 log ticks, a legend per series', async () => {
  const figs = [await paretoFigure(), await paretoFigure([1 / 12, 0.1])];
  const drawn = await render(figs, 'pareto');
  drawn.forEach((g, i) => {
    const label = i === 0 ? 'Pareto' : 'Pareto with baselines';
    assert.deepEqual(texts(g.xTicks), ['5k', '10k', '20k', '50k', '100k', '200k'], label);
    assertApart(g.xTicks, `${label}: x tick labels`);
    assert.equal(g.markers.length, 16);
    assert.ok(g.pointLabels.length >= 8, `${label}: ${g.pointLabels.length} labels drawn: at least one per architecture and width`);
    assert.deepEqual(new Set(texts(g.pointLabels)), new Set(WIDTHS.map((w) => `${w}×`)), label);
    assertApart(g.pointLabels, `${label}: point labels`, 1);
    assertClear(g.pointLabels, g.markers, `${label}: point labels and markers`, 1);
    for (const t of g.pointLabels) assert.ok(inside(t, g.plotAreas[0]), `${label}: label "${t.text}" leaves the plot area`);
    assert.deepEqual(texts(g.legendTexts), ['DS-CNN slimmable', 'DS-CNN independent', 'KWT slimmable', 'KWT independent', 'Pareto front']);
  });
  // The labels were placed for the ranges autorangeOf predicts: Plotly's own, given the drawn axis lengths.
  const fig = figs[0];
  const xs = fig.data.slice(0, 4).flatMap((t) => t.x as number[]);
  const ys = fig.data.slice(0, 4).flatMap((t) => t.y as number[]);
  const { xaxis, yaxis } = drawn[0].ranges;
  assertClose(autorangeOf(xs.map((v) => ({ val: Math.log10(v), pad: 9 / 1.6 })), xaxis.length), xaxis.range, { rtol: 1e-3 });
  assertClose(autorangeOf(ys.map((v) => ({ val: v, pad: 9 / 1.6 })), yaxis.length), yaxis.range, { rtol: 1e-3 });
  assertClose(drawn[1].ranges.yaxis.range[0], 1 / 12, { label: 'the lowest baseline at the bottom edge' });
});

test('training curves in paired colours: a width keeps its colour across panels, its baseline dashed; whole epochs', async () => {
  const [loss, val] = await trainingFigures();
  const threeEpochs = await plot.trainingCurves({ loss: [1, 0.6, 0.4] }, { xTitle: 'epoch' });
  const [l, v, three] = await render([loss, val, threeEpochs], 'curves');
  const lossNames = loss.data.map((t) => t.name as string);
  const valNames = val.data.map((t) => t.name as string);
  const strokeOf = (g: PlotGeometry, names: string[], name: string) => g.lines[names.indexOf(name)];
  for (const w of WIDTHS) {
    const s = strokeOf(v, valNames, `slimmable ${w}×`);
    const i = strokeOf(v, valNames, `independent ${w}×`);
    assert.equal(s.stroke, i.stroke, `${w}×: slimmable and independent share a colour`);
    assert.equal(s.dash, 'none', `${w}×: slimmable solid`);
    assert.notEqual(i.dash, 'none', `${w}×: independent dashed`);
    assert.equal(strokeOf(l, lossNames, `independent ${w}×`).stroke, i.stroke, `${w}×: the same colour in both panels`);
  }
  assert.equal(new Set(WIDTHS.map((w) => strokeOf(v, valNames, `slimmable ${w}×`).stroke)).size, 4, 'one colour per width');
  for (const g of [l, v]) {
    assert.ok(g.xTicks.length >= 4 && g.xTicks.every((t) => /^\d+$/.test(t.text)), `epoch ticks ${texts(g.xTicks)}`);
  }
  assert.deepEqual(texts(three.xTicks), ['1', '2', '3']);
});

test('bars in paired colours, and titled colour bars on spectrograms and heatmaps', async () => {
  const bars = await plot.perWidthBars(WIDTHS, { slimmable: [0.81, 0.88, 0.9, 0.91], independent: [0.82, 0.88, 0.91, 0.92] },
    { palette: PALETTE, keys: { slimmable: { group: 'DS-CNN', variant: 'slimmable' }, independent: { group: 'DS-CNN', variant: 'independent' } } });
  const spec = [[0.1, 0.5, 0.2], [0.3, 0.9, 0.4]];
  const [b, logMel, db, hm] = await render([bars,
    await plot.spectrogram({ clean: spec, noisy: spec }, { colorbarTitle: 'log-mel energy' }),
    await plot.spectrogram(spec, { db: true }), await plot.heatmap([[1, 2], [3, 4]])], 'bars-colorbars');
  assert.equal(b.bars.length, 8);
  assert.equal(new Set(b.bars.slice(0, 4).map((r) => r.fill)).size, 1, 'slimmable bars in one solid colour');
  assert.ok(b.bars.slice(4).every((r) => r.fill.startsWith('url(')), 'independent bars hatched');
  assert.deepEqual(texts(logMel.colorbarTitles), ['log-mel energy']);
  assert.deepEqual(texts(db.colorbarTitles), ['dB']);
  assert.deepEqual(texts(hm.colorbarTitles), ['value']);
  assert.deepEqual(texts(hm.xTicks), ['0', '1'], 'cell indices, not 0.5 steps');
});
