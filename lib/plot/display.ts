// Inline display in a tslab notebook, sending plotly.js to the page once per kernel session.
import * as path from 'path';
import { Figure } from './figure';
import { HtmlOptions, checkFigure, figureHtml, plotlyLoader, plotlyScript } from './html';

/** Set on globalThis once plotly.js went out in this process (one process = one kernel session). */
const INJECTED = Symbol.for('slimspeech.plot.plotlyInjected');

/** The part of tslab's `display` object slimspeech uses. */
interface HtmlSink {
  html(s: string): void;
}

/**
 * tslab's display, when this process is a tslab kernel executing a cell; else undefined.
 * It looks among loaded modules for tslab's jupyter.js with a live `lastWriteDisplayData` (set while the
 * kernel runs a cell) and uses the public.js beside it, so it finds the kernel's own copy of tslab even
 * when another copy is installed, and never loads tslab (heavy) outside a kernel.
 */
function tslabDisplay(): HtmlSink | undefined {
  for (const [file, mod] of Object.entries(require.cache)) {
    if (!mod || !/[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(file)) continue;
    if (!(mod.exports as { lastWriteDisplayData?: unknown }).lastWriteDisplayData) continue;
    const pub = require(path.join(path.dirname(file), 'public.js')) as { display?: Partial<HtmlSink> };
    if (pub.display && typeof pub.display.html === 'function') return pub.display as HtmlSink;
  }
  return undefined;
}

function injected(): boolean {
  return (globalThis as Record<symbol, unknown>)[INJECTED] === true;
}

function markInjected(): void {
  (globalThis as Record<symbol, unknown>)[INJECTED] = true;
}

function note(message: string): void {
  if (process.env.SLIMSPEECH_QUIET !== '1') console.warn(message);
}

/**
 * Sends an HTML fragment to the notebook when this process is a tslab kernel running a cell, and returns
 * true; elsewhere returns false, after a note naming `what` if given (silenced by SLIMSPEECH_QUIET=1).
 * The shared path of `audio` and `table`.
 */
export function displayHtml(html: string, what?: string): boolean {
  const sink = tslabDisplay();
  if (!sink) {
    if (what !== undefined) note(`${what}: not running inside a tslab kernel, so nothing is shown.`);
    return false;
  }
  sink.html(html);
  return true;
}

/** Options of `display`. */
export type DisplayOptions = HtmlOptions;

/**
 * Shows one or several figures inline in a tslab notebook: `plot.display(await plot.pareto(...))`.
 * The first call in a kernel session also sends plotly.js (about 4.6 MB minified, from the plotly.js-dist-min package,
 * offline) in the same output; later figures use the Plotly already loaded on the page, so only that
 * first output is heavy. An exported notebook (nbconvert --to html) renders offline, since the bundle is
 * in its first plot's output. Outside a tslab kernel it shows nothing and prints a note (silenced by
 * SLIMSPEECH_QUIET=1): use `savePlot` to write HTML there. Returns nothing, so a cell ending in a
 * display call prints no value.
 */
export function display(figs: Figure | Figure[], opts: DisplayOptions = {}): void {
  const list = Array.isArray(figs) ? figs : [figs];
  list.forEach((f, i) => checkFigure(f, Array.isArray(figs) ? `figs[${i}]` : 'fig'));
  const sink = tslabDisplay();
  if (!sink) {
    note('plot.display: not running inside a tslab kernel, so nothing is shown; plot.savePlot(fig, file) writes HTML.');
    return;
  }
  let html = list.map((f) => figureHtml(f, opts)).join('\n');
  const first = !injected();
  if (first) html = `${plotlyScript()}\n${html}`;
  sink.html(html);
  if (first) markInjected();
}

/**
 * Sends plotly.js to the notebook page now, whether or not it was sent before: the fix when the output
 * that carried it was cleared or re-run (a figure then says that Plotly.js is not loaded) and the page
 * was reloaded. Figures waiting on the page draw as soon as it arrives. Outside a tslab kernel it prints
 * a note and does nothing.
 */
export function injectPlotly(): void {
  const sink = tslabDisplay();
  if (!sink) {
    note('plot.injectPlotly: not running inside a tslab kernel; nothing to do.');
    return;
  }
  sink.html(`${plotlyScript()}\n<div>plotly.js ${plotlyLoader().version} loaded for slimspeech plots.</div>`);
  markInjected();
}
