// Headless Chromium for the plot rendering tests: open an HTML file offline, let its scripts run, and
// return the DOM as it is afterwards.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/**
 * The Chromium (or Chrome) binary: $SLIMSPEECH_CHROMIUM, else the first of chromium, chromium-browser,
 * google-chrome, google-chrome-stable on PATH. Throws when there is none: the rendering tests must fail,
 * not skip, on a machine without a browser.
 */
export function chromiumPath(): string {
  const explicit = process.env.SLIMSPEECH_CHROMIUM;
  if (explicit) {
    if (!fs.existsSync(explicit)) throw new Error(`SLIMSPEECH_CHROMIUM=${explicit} does not exist`);
    return explicit;
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const name of NAMES) {
      const file = path.join(dir, name);
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return file;
      } catch {
        // not here: keep looking
      }
    }
  }
  throw new Error('chromium not found: the plot rendering tests need a headless browser. Install it ' +
    `(Debian: apt-get install chromium) or set SLIMSPEECH_CHROMIUM to a Chrome/Chromium binary. Searched ${NAMES.join(', ')} on PATH.`);
}

/**
 * Opens `file` in headless Chromium with no network use beyond file://, in a window `width` pixels wide
 * (the width of the teacher's exported notebook), runs its scripts for up to `budgetMs` of virtual time,
 * and returns the serialised DOM.
 */
export function renderDom(file: string, budgetMs = 15000, width = 1200): string {
  const bin = chromiumPath();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'slimspeech-chromium-'));
  try {
    const res = spawnSync(bin, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-extensions', `--user-data-dir=${profile}`,
      `--virtual-time-budget=${budgetMs}`, `--window-size=${width},900`, '--hide-scrollbars', '--dump-dom', `file://${path.resolve(file)}`,
    ], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: 180_000 });
    if (res.error) throw new Error(`chromium (${bin}) failed to run: ${res.error.message}`);
    if (res.status !== 0 || !res.stdout) {
      throw new Error(`chromium (${bin}) exited with ${res.status}; stderr:\n${res.stderr.slice(-2000)}`);
    }
    return res.stdout;
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** A plot's container as found in a rendered DOM: its id and its inner HTML (up to its own script). */
export interface RenderedPlot {
  id: string;
  html: string;
}

/** The slimspeech plot containers of a rendered DOM, in page order. */
export function renderedPlots(dom: string): RenderedPlot[] {
  const out: RenderedPlot[] = [];
  const re = /<div id="(slimspeech-plot-[0-9a-f-]+)"[^>]*>/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(dom)) !== null) {
    const start = m.index + m[0].length;
    const end = dom.indexOf('<script', start);
    out.push({ id: m[1], html: dom.slice(start, end < 0 ? undefined : end) });
  }
  return out;
}

/** Number of non-overlapping occurrences of `needle` in `haystack`. */
export function count(haystack: string, needle: string | RegExp): number {
  if (typeof needle === 'string') return haystack.split(needle).length - 1;
  return (haystack.match(new RegExp(needle.source, needle.flags.includes('g') ? needle.flags : `${needle.flags}g`)) ?? []).length;
}

/** A box in CSS pixels of the page, as getBoundingClientRect gives it. */
export interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** A drawn SVG element: its box, its text (text elements) and its computed stroke and dash (lines). */
export interface Drawn extends Box {
  text: string;
  stroke: string;
  dash: string;
  fill: string;
}

/** What a rendered plot drew, by kind of element (see GEOMETRY_SCRIPT for the Plotly classes read). */
export interface PlotGeometry {
  id: string;
  /** The whole figure (svg.main-svg). */
  figure: Box;
  /** Plot areas, one per subplot (rect.nsewdrag). */
  plotAreas: Box[];
  /** Tick labels of all x axes and of all y axes, and of the colour bars. */
  xTicks: Drawn[];
  yTicks: Drawn[];
  colorbarTicks: Drawn[];
  /** Axis titles (text.xtitle, text.x2title, ...). */
  xTitles: Drawn[];
  yTitles: Drawn[];
  /** Colour bars (rect.cbbg) and their titles. */
  colorbars: Box[];
  colorbarTitles: Drawn[];
  /** Texts beside scatter points, and the point markers. */
  pointLabels: Drawn[];
  markers: Drawn[];
  /** Scatter lines, in trace order (not the legend's samples). */
  lines: Drawn[];
  /** Bars, in trace order. */
  bars: Drawn[];
  /** Heatmap images, in trace order. */
  heatmaps: Drawn[];
  /** Each axis's range as drawn (log axes in decades) and its length in pixels, by layout name (xaxis, yaxis2, ...). */
  ranges: Record<string, { range: [number, number]; length: number }>;
  legendTexts: Drawn[];
}

/**
 * A <script> to put at the end of a page: once every slimspeech plot has drawn (and Plotly's margin
 * adjustments have settled), it writes each plot's PlotGeometry, measured with getBoundingClientRect, as
 * JSON into <pre id="slimspeech-geometry">, which `renderDom` then carries out with the DOM.
 */
export const GEOMETRY_SCRIPT = `<script>
(function () {
  function box(el) {
    var r = el.getBoundingClientRect();
    var cs = getComputedStyle(el);
    return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, text: el.textContent || '',
      stroke: cs.stroke || '', dash: cs.strokeDasharray || '', fill: cs.fill || '' };
  }
  function all(root, sel, inColorbar) {
    return Array.prototype.slice.call(root.querySelectorAll(sel)).filter(function (el) {
      return getComputedStyle(el).display !== 'none' && (el.textContent !== '' || el.tagName !== 'text') &&
        (inColorbar === undefined || Boolean(el.closest('.colorbar')) === inColorbar);
    }).map(box);
  }
  function ranges(gd) {
    var out = {};
    Object.keys(gd._fullLayout || {}).filter(function (k) { return /^[xy]axis[0-9]*$/.test(k); }).forEach(function (k) {
      out[k] = { range: gd._fullLayout[k].range.slice(), length: gd._fullLayout[k]._length };
    });
    return out;
  }
  function measure() {
    var plots = Array.prototype.slice.call(document.querySelectorAll('.slimspeech-plot'));
    var out = plots.map(function (p) {
      return { id: p.id, figure: box(p.querySelector('svg.main-svg')), plotAreas: all(p, 'rect.nsewdrag'),
        xTicks: all(p, 'g[class^="x"][class$="tick"] > text', false),
        yTicks: all(p, 'g[class^="y"][class$="tick"] > text', false),
        colorbarTicks: all(p, 'g[class$="tick"] > text', true),
        xTitles: all(p, 'text[class^="x"][class$="title"]'), yTitles: all(p, 'text[class^="y"][class$="title"]'),
        colorbars: all(p, 'rect.cbbg'), colorbarTitles: all(p, '.cbtitle text'),
        pointLabels: all(p, '.textpoint text'), markers: all(p, '.scatterlayer path.point'),
        lines: all(p, '.scatterlayer path.js-line'),
        bars: all(p, '.barlayer .point path'), heatmaps: all(p, '.hm image'), ranges: ranges(p), legendTexts: all(p, 'text.legendtext') };
    });
    var pre = document.createElement('pre');
    pre.id = 'slimspeech-geometry';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  function poll() {
    var plots = document.querySelectorAll('.slimspeech-plot');
    var drawn = document.querySelectorAll('.slimspeech-plot svg.main-svg');
    if (plots.length > 0 && drawn.length >= plots.length) setTimeout(measure, 1000); else setTimeout(poll, 100);
  }
  poll();
})();
</script>`;

/** The geometry GEOMETRY_SCRIPT wrote into a rendered DOM; throws if it never ran. */
export function readGeometry(dom: string): PlotGeometry[] {
  const m = /<pre id="slimspeech-geometry">([\s\S]*?)<\/pre>/.exec(dom);
  if (!m) throw new Error('no geometry in the rendered page: the plots did not all draw within the time budget');
  const json = m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  return JSON.parse(json) as PlotGeometry[];
}

/** True when two boxes overlap by more than `tolerance` pixels in both directions. */
export function overlaps(a: Box, b: Box, tolerance = 0.5): boolean {
  return Math.min(a.right, b.right) - Math.max(a.left, b.left) > tolerance &&
    Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > tolerance;
}

/** True when `inner` lies within `outer` (to `tolerance` pixels). */
export function inside(inner: Box, outer: Box, tolerance = 0.5): boolean {
  return inner.left >= outer.left - tolerance && inner.right <= outer.right + tolerance &&
    inner.top >= outer.top - tolerance && inner.bottom <= outer.bottom + tolerance;
}
