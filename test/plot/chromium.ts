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
 * Opens `file` in headless Chromium with no network use beyond file://, runs its scripts for up to
 * `budgetMs` of virtual time, and returns the serialised DOM.
 */
export function renderDom(file: string, budgetMs = 15000): string {
  const bin = chromiumPath();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'slimspeech-chromium-'));
  try {
    const res = spawnSync(bin, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-extensions', `--user-data-dir=${profile}`,
      `--virtual-time-budget=${budgetMs}`, '--dump-dom', `file://${path.resolve(file)}`,
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
