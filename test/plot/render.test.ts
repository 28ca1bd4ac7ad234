// Renders figures in headless Chromium, offline, and checks that Plotly really drew them. Fails (does
// not skip) without Chromium: see chromium.ts.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as plot from '../../lib/plot';
import { figureHtml } from '../../lib/plot/html';
import { count, renderDom, renderedPlots } from './chromium';
import { startFakeTslab } from './fake_tslab';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slimspeech-plot-render-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const SCATTER = /class="trace scatter/;
const BARS = /class="trace bars"/;
const HEATMAP = /class="hm"/;
const trials = { scores: [0.1, 0.4, 0.35, 0.8, 0.7, 0.2, 0.9, 0.05], labels: [0, 0, 1, 1, 1, 0, 1, 0] };

/** Asserts a rendered plot has Plotly's SVG, `n` trace groups of a kind, and the given texts. */
function assertDrawn(html: string, label: string, kind: RegExp, n: number, texts: string[]): void {
  assert.ok(html.includes('class="main-svg"'), `${label}: no svg.main-svg, Plotly did not draw:\n${html.slice(0, 500)}`);
  assert.equal(count(html, kind), n, `${label}: ${count(html, kind)} traces matching ${kind}, expected ${n}`);
  for (const t of texts) assert.ok(html.includes(`>${t}<`), `${label}: text "${t}" not drawn`);
  assert.ok(!html.includes('failed to draw') && !html.includes('is not loaded'), `${label}: error message shown`);
}

test('a plot saved with savePlot opens offline in Chromium and draws its traces, legend and axis titles', async () => {
  const fig = await plot.trainingCurves({ train: [3, 2, 1.5, 1.2], valid: { x: [2, 4], y: [2.5, 1.6] } },
    { title: 'KD loss', yTitle: 'loss', logY: true });
  const file = await plot.savePlot(fig, path.join(tmp, 'inline', 'loss.html'));
  const plots = renderedPlots(renderDom(file));
  assert.equal(plots.length, 1);
  assertDrawn(plots[0].html, 'trainingCurves', SCATTER, 2, ['KD loss', 'step', 'loss', 'train', 'valid']);
});

test('every figure helper renders (one page of all of them, plotly.js written once beside it)', async () => {
  const cases: Array<[string, plot.Figure, RegExp, number, string[]]> = [
    ['trainingCurves', await plot.trainingCurves({ a: [1, 2], b: [2, 1] }, { smoothing: 0.3 }), SCATTER, 4, ['a', 'b', 'step']],
    ['perWidthBars', await plot.perWidthBars([0.25, 1], { slimmable: [0.8, 0.9], independent: [0.7, 0.85] }), BARS, 2,
      ['0.25×', '1×', 'slimmable', '0.850']],
    ['pareto', await plot.pareto({ s: { x: [1, 2, 3], y: [0.5, 0.7, 0.6], labels: ['¼', '½', '1'] }, i: { x: [1.5], y: [0.65] } }),
      SCATTER, 3, ['Pareto front', 'parameters', '½']],
    ['confusionMatrix', await plot.confusionMatrix([[5, 1], [2, 7]], { labels: ['yes', 'no'], normalize: 'true' }), HEATMAP, 1,
      ['0.83', '0.78', 'predicted', 'true', 'yes']],
    ['waveform', await plot.waveform({ noisy: Array.from({ length: 5000 }, (_, i) => Math.sin(i / 7)), clean: [0, 1, 0, -1] },
      { maxPoints: 1000 }), SCATTER, 2, ['noisy', 'clean', 'time (s)']],
    ['spectrogram', await plot.spectrogram({ before: [[1, 2, 3], [2, 3, 4]], after: [[1, 1, 1], [2, 2, 2]] }, { db: true }),
      HEATMAP, 2, ['before', 'after', 'dB', 'frame']],
    ['heatmap', await plot.heatmap([[12, 10], [6, 3]], { annotate: true, valueFormat: 'd', yLabels: ['layer 1', 'layer 2'] }),
      HEATMAP, 1, ['12', 'layer 2']],
    ['detCurve', await plot.detCurve({ student: trials }), SCATTER, 2, ['student', 'miss rate (%)', '10']],
    ['rocCurve', await plot.rocCurve(trials), SCATTER, 2, ['false positive rate', 'system (AUC 0.938)']],
    ['labelSwitchRate', await plot.labelSwitchRate({ pit: [0.3, 0.2], dsd: [0.2, 0.1] }), SCATTER, 2, ['epoch', '20%']],
    ['sparsityVsTarget', await plot.sparsityVsTarget([0, 0.2, 0.5], [0, 0.3, 0.5]), SCATTER, 2, ['target', 'sparsity']],
    ['scoreDistributions', await plot.scoreDistributions(trials, { bins: 10, threshold: 0.5 }), BARS, 2,
      ['target (4)', 'non-target (4)', 'threshold']],
  ];
  const file = await plot.savePlot(cases.map((c) => c[1]), path.join(tmp, 'all', 'all.html'), { plotlyJs: 'sibling' });
  const plots = renderedPlots(renderDom(file));
  assert.equal(plots.length, cases.length);
  cases.forEach(([label, , kind, n, texts], i) => assertDrawn(plots[i].html, label, kind, n, texts));
  assert.equal(count(plots[3].html, /class="heatmap-label"/), 4, 'one number per confusion-matrix cell');
});

test('display outputs render in a page with require.js (as in Jupyter and its HTML export), in any order', async () => {
  const kernel = startFakeTslab();
  plot.display(await plot.perWidthBars([0.5, 1], { slimmable: [0.8, 0.9] }));
  plot.display([await plot.heatmap([[0, 1], [1, 0]]), await plot.rocCurve(trials)]);
  assert.equal(kernel.outputs.length, 2);
  // A global AMD define, as Jupyter's require.js provides: plotly's UMD header would register with it
  // and leave window.Plotly undefined, had slimspeech not shadowed it.
  const amd = '<script>window.amdCalls = 0; window.define = function () { window.amdCalls++; }; window.define.amd = {};</script>';
  // A figure whose output comes before the one carrying plotly.js (a re-run cell above it) waits for it.
  const early = figureHtml(await plot.sparsityVsTarget([0, 0.5], [0, 0.5]));
  const report = '<script>document.title = "amd calls: " + window.amdCalls;</script>';
  const page = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title>${amd}</head><body>` +
    `<div class="output">${early}</div>${kernel.outputs.map((o) => `<div class="output">${o}</div>`).join('')}${report}</body></html>`;
  const file = path.join(tmp, 'notebook.html');
  fs.writeFileSync(file, page);
  const dom = renderDom(file);
  assert.ok(dom.includes('<title>amd calls: 0</title>'), 'plotly.js must not register through define()');
  const plots = renderedPlots(dom);
  assert.equal(plots.length, 4);
  assertDrawn(plots[0].html, 'early sparsityVsTarget', SCATTER, 2, ['target']);
  assertDrawn(plots[1].html, 'perWidthBars', BARS, 1, ['0.5×', '1×']);
  assertDrawn(plots[2].html, 'heatmap', HEATMAP, 1, []);
  assertDrawn(plots[3].html, 'rocCurve', SCATTER, 2, ['false positive rate']);
});

test('a figure on a page without plotly.js says how to load it instead of failing silently', async () => {
  const file = path.join(tmp, 'missing.html');
  fs.writeFileSync(file, `<!DOCTYPE html><html><body>${figureHtml(await plot.heatmap([[1]]))}</body></html>`);
  const plots = renderedPlots(renderDom(file, 3000));
  assert.equal(plots.length, 1);
  assert.ok(!plots[0].html.includes('main-svg'));
  assert.match(plots[0].html, /Plotly\.js is not loaded on this page yet.*ss\.plot\.injectPlotly\(\)/);
});
