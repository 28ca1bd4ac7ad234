// Figures as HTML: a fragment per figure, the plotly.js loader, standalone pages and savePlot.
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Figure, describe } from './figure';

/** Options of the HTML a figure becomes (display, toHtml, savePlot). */
export interface HtmlOptions {
  /** Significant digits kept of non-integer numbers in the figure's JSON (smaller pages). Default: 6. */
  precision?: number;
}

/** Plotly config added to every figure (fig.config overrides it): resize with the page, no Plotly logo. */
const DEFAULT_CONFIG = { responsive: true, displaylogo: false };

/** Event the plotly.js loader fires on window once Plotly is defined; figures drawn before wait for it. */
const READY_EVENT = 'slimspeech:plotly-ready';

let loaderCache: { js: string; version: string } | undefined;

/**
 * The minified plotly.js bundle of the plotly.js-dist-min package (offline, never a CDN) wrapped so that it always
 * sets window.Plotly: plotly's UMD header registers an anonymous AMD module instead when a global
 * `define` exists (Jupyter's require.js), so the wrapper shadows `define`, `exports` and `module` with
 * undefined. It leaves an already loaded Plotly in place, then fires READY_EVENT on window.
 */
export function plotlyLoader(): { js: string; version: string } {
  if (loaderCache) return loaderCache;
  const pkg = require.resolve('plotly.js-dist-min/package.json');
  const version = String(JSON.parse(fs.readFileSync(pkg, 'utf8')).version);
  const bundle = fs.readFileSync(path.join(path.dirname(pkg), 'plotly.min.js'), 'utf8');
  const js = `/* plotly.js ${version} (MIT, Plotly, Inc.), wrapped by slimspeech to set window.Plotly under AMD loaders */\n` +
    '(function (define, exports, module) {\n' +
    'if (window.Plotly && window.Plotly.newPlot) return;\n' +
    `${bundle}\n}).call(window);\n` +
    `window.dispatchEvent(new Event(${JSON.stringify(READY_EVENT)}));\n`;
  loaderCache = { js, version };
  return loaderCache;
}

/** The plotly.js loader as an inline <script> element (about 4.6 MB). */
export function plotlyScript(): string {
  // '</script' inside the bundle would end the element early; '<\/script' is the same JavaScript.
  return `<script>${plotlyLoader().js.replace(/<\/script/gi, '<\\/script')}</script>`;
}

/** Throws a clear error unless `fig` looks like a Figure; `arg` names it. */
export function checkFigure(fig: unknown, arg: string): asserts fig is Figure {
  if (fig && typeof (fig as Promise<unknown>).then === 'function') {
    throw new Error(`${arg}: received a Promise; the plot helpers are async, so await them: display(await plot.pareto(...))`);
  }
  if (typeof fig !== 'object' || fig === null || !Array.isArray((fig as Figure).data) ||
    typeof (fig as Figure).layout !== 'object' || (fig as Figure).layout === null) {
    throw new Error(`${arg}: expected a Figure {data: Trace[], layout}, received ${describe(fig)}`);
  }
}

/** The figure's {data, layout, config} as JSON that is safe inside a <script> element. */
export function figureJson(fig: Figure, opts: HtmlOptions = {}): string {
  const { precision = 6 } = opts;
  if (!(Number.isInteger(precision) && precision >= 1 && precision <= 17)) {
    throw new Error(`options.precision must be an integer from 1 to 17, received ${precision}`);
  }
  const json = JSON.stringify({ data: fig.data, layout: fig.layout, config: { ...DEFAULT_CONFIG, ...fig.config } },
    (_key, v: unknown) => {
      if (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v)) return Number(v.toPrecision(precision));
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
      return v;
    });
  return json.replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * One figure as an HTML fragment: a <div> with a unique id and a <script> that draws into it with the
 * page's Plotly. If Plotly is not there yet, the div says so and the figure is drawn as soon as the
 * plotly.js loader (plotlyScript) runs.
 */
export function figureHtml(fig: Figure, opts: HtmlOptions = {}): string {
  checkFigure(fig, 'fig');
  const id = `slimspeech-plot-${randomUUID()}`;
  const missing = 'Plotly.js is not loaded on this page yet. slimspeech sends it with the first plot displayed ' +
    'in a kernel session; if that output was cleared, run ss.plot.injectPlotly() in a cell, or restart the kernel.';
  return `<div id="${id}" class="slimspeech-plot"></div>\n<script>\n(function () {\n` +
    `  var el = document.getElementById(${JSON.stringify(id)});\n` +
    `  var fig = ${figureJson(fig, opts)};\n` +
    '  function fail(e) { el.textContent = "slimspeech: the plot failed to draw: " + ((e && e.message) || e); }\n' +
    '  function draw() {\n' +
    '    el.textContent = "";\n' +
    '    try { window.Plotly.newPlot(el, fig.data, fig.layout, fig.config).then(null, fail); } catch (e) { fail(e); }\n' +
    '  }\n' +
    '  if (window.Plotly && window.Plotly.newPlot) { draw(); return; }\n' +
    `  el.textContent = ${JSON.stringify(missing)};\n` +
    `  window.addEventListener(${JSON.stringify(READY_EVENT)}, draw, { once: true });\n` +
    '})();\n</script>';
}

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Options of `toHtml`. */
export interface PageOptions extends HtmlOptions {
  /** Page title. Default: the first figure's title, else 'slimspeech plot'. */
  title?: string;
  /**
   * Where the page gets plotly.js: 'inline' embeds it (a standalone file of about 10 MB), or
   * {src: 'plotly-2.35.3.js'} loads that script (as written by `savePlot(..., {plotlyJs: 'sibling'})`).
   * Default: 'inline'.
   */
  plotlyJs?: 'inline' | { src: string };
}

/**
 * A complete HTML page showing one or several figures (stacked), which renders offline: plotly.js is
 * embedded (or referenced, see PageOptions.plotlyJs), never fetched from a CDN.
 */
export function toHtml(figs: Figure | Figure[], opts: PageOptions = {}): string {
  const list = Array.isArray(figs) ? figs : [figs];
  if (list.length === 0) throw new Error('toHtml: received no figures');
  list.forEach((f, i) => checkFigure(f, Array.isArray(figs) ? `figs[${i}]` : 'fig'));
  const { plotlyJs = 'inline' } = opts;
  const title = opts.title ?? list[0].layout.title?.text ?? 'slimspeech plot';
  const loader = plotlyJs === 'inline' ? plotlyScript() : `<script src="${escapeHtml(plotlyJs.src)}"></script>`;
  return '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<title>${escapeHtml(title)}</title>\n` +
    '<style>body { margin: 0; padding: 12px; font-family: sans-serif; } .slimspeech-plot { width: 100%; }</style>\n' +
    `${loader}\n</head>\n<body>\n${list.map((f) => figureHtml(f, opts)).join('\n')}\n</body>\n</html>\n`;
}

/** Options of `savePlot`. */
export interface SavePlotOptions extends HtmlOptions {
  /** Page title. Default: the first figure's title, else 'slimspeech plot'. */
  title?: string;
  /**
   * 'inline' embeds plotly.js in the file: one standalone file of about 10 MB that opens anywhere.
   * 'sibling' writes plotly.js once as plotly-<version>.js next to the file (kept if already there) and
   * references it relatively: the choice for many plots in one folder, which must then move together.
   * Default: 'inline'.
   */
  plotlyJs?: 'inline' | 'sibling';
}

/** Writes `text` to `file` through a temporary file and a rename, so no reader sees half a file. */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/**
 * Writes one or several figures as an HTML page that opens offline in any browser (see
 * SavePlotOptions.plotlyJs), creating the folder if needed; resolves to the absolute path written.
 * Several figures go into one page, stacked, and share one copy of plotly.js.
 */
export async function savePlot(figs: Figure | Figure[], file: string, opts: SavePlotOptions = {}): Promise<string> {
  if (typeof file !== 'string' || file === '') throw new Error(`savePlot: file must be a path, received ${describe(file)}`);
  const { plotlyJs = 'inline' } = opts;
  if (plotlyJs !== 'inline' && plotlyJs !== 'sibling') {
    throw new Error(`savePlot: options.plotlyJs must be 'inline' or 'sibling', received ${describe(plotlyJs)}`);
  }
  const out = path.resolve(file);
  await fs.promises.mkdir(path.dirname(out), { recursive: true });
  let page: string;
  if (plotlyJs === 'sibling') {
    const { js, version } = plotlyLoader();
    const name = `plotly-${version}.js`;
    const lib = path.join(path.dirname(out), name);
    const stat = await fs.promises.stat(lib).catch(() => undefined);
    if (!stat || stat.size !== Buffer.byteLength(js)) writeAtomic(lib, js);
    page = toHtml(figs, { ...opts, plotlyJs: { src: name } });
  } else {
    page = toHtml(figs, { ...opts, plotlyJs: 'inline' });
  }
  writeAtomic(out, page);
  return out;
}
