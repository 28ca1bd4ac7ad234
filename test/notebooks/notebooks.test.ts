// Executes every notebook in notebooks/ top to bottom through real Jupyter (nbconvert + nbclient, tslab
// kernel), as `npx slimspeech notebooks` does, at the quick preset (SLIMSPEECH_NOTEBOOK_PRESET=default
// runs the default preset, minutes per notebook). Checks: no cell error, every code cell ran and is
// numbered, code lines fit the exported page (at the source, and rendered at 1200 px in headless
// Chromium), every plot drew and every audio player loads, and the numbers the notebooks compute: a
// reload difference of 0, hand-written versions equal to the library, verdicts consistent with their
// intervals, and at the default preset accuracies above the majority-class baseline.
// Needs the built package (dist/, from npm install) because notebooks import 'slimspeech' by name.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../helpers';
import { renderDom } from '../plot/chromium';
import { runNotebooks } from '../../lib/experiments/notebooks';
import type { ClaimResult } from '../../lib/experiments/claims';

const PRESET = (process.env.SLIMSPEECH_NOTEBOOK_PRESET ?? 'quick') as 'quick' | 'default';
const notebooks = fs.readdirSync(path.join(ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort();

interface Output { output_type: string; text?: string | string[]; data?: Record<string, unknown>; ename?: string; evalue?: string }
interface Cell { cell_type: string; source: string | string[]; execution_count?: number | null; outputs?: Output[];
  metadata?: { execution?: Record<string, string> } }

const src = (c: Cell) => (Array.isArray(c.source) ? c.source.join('') : c.source);
const text = (cells: Cell[]) => cells.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === 'stream')
  .map((o) => [o.text ?? ''].flat().join('')).join('');

test('there are notebooks to run, committed without outputs, importing the package by name, with code lines of 100 characters at most', () => {
  assert.ok(notebooks.length >= 2, 'notebooks/ holds the quickstart and the paper notebooks');
  for (const nb of notebooks) {
    const json = JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', nb), 'utf8')) as { cells: Cell[] };
    const withOutputs = json.cells.filter((c) => (c.outputs ?? []).length > 0).length;
    assert.equal(withOutputs, 0, `${nb}: ${withOutputs} cell(s) committed with outputs (clear them; executed copies go to out/)`);
    const all = json.cells.map(src).join('\n');
    assert.doesNotMatch(all, /\.\.\/(lib|dist)\//, `${nb} imports the library by path; import 'slimspeech'`);
    const long = json.cells.filter((c) => c.cell_type === 'code').flatMap((c) => src(c).split('\n')).filter((l) => l.length > 100);
    assert.deepEqual(long, [], `${nb}: code lines over 100 characters are cut off in the exported HTML`);
  }
});

test('each notebook source in notebooks/src matches its committed .ipynb (scripts/notebook-json.py)', () => {
  for (const nb of notebooks) {
    const file = path.join(ROOT, 'notebooks', 'src', nb.replace(/\.ipynb$/, '.txt'));
    assert.ok(fs.existsSync(file), `${file} is the readable source of ${nb}`);
    const cells: { kind: string; body: string }[] = [];
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (line.startsWith('%% ')) cells.push({ kind: line.slice(3).trim(), body: '' });
      else cells[cells.length - 1].body += `${line}\n`;
    }
    const json = JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', nb), 'utf8')) as { cells: Cell[] };
    assert.deepEqual(json.cells.map((c) => [c.cell_type, src(c).trim()]), cells.map((c) => [c.kind, c.body.trim()]),
      `${nb} differs from ${file}: run python3 scripts/notebook-json.py ${path.relative(ROOT, file)}`);
  }
});

/**
 * Appended to an exported page: after the plots drew and the audio elements loaded their metadata (or
 * failed), writes what it found as JSON into <pre id="notebook-check">.
 */
const CHECK_SCRIPT = `<script>
(function () {
  var started = Date.now();
  function report() {
    var code = Array.prototype.slice.call(document.querySelectorAll('.jp-InputArea-editor .highlight pre'));
    var wide = code.filter(function (p) { return p.scrollWidth > p.clientWidth + 1; })
      .map(function (p) { return (p.textContent || '').split('\\n').reduce(function (a, b) { return b.length > a.length ? b : a; }, ''); });
    var plots = Array.prototype.slice.call(document.querySelectorAll('.slimspeech-plot'));
    var undrawn = plots.filter(function (p) { return !p.querySelector('svg.main-svg .trace, svg.main-svg .heatmaplayer image, svg.main-svg .barlayer path'); })
      .map(function (p) { return p.id; });
    var audio = Array.prototype.slice.call(document.querySelectorAll('audio'));
    var broken = audio.filter(function (a) { return a.error || !(a.duration > 0); }).map(function (a, i) { return (a.error ? 'error ' + a.error.code : 'no duration') + ' #' + i; });
    var pre = document.createElement('pre');
    pre.id = 'notebook-check';
    pre.textContent = JSON.stringify({ codeBlocks: code.length, wide: wide, plots: plots.length, undrawn: undrawn, audio: audio.length, broken: broken });
    document.body.appendChild(pre);
  }
  function poll() {
    var audio = Array.prototype.slice.call(document.querySelectorAll('audio'));
    var pending = audio.some(function (a) { return !a.error && a.readyState < 1; });
    var plots = document.querySelectorAll('.slimspeech-plot').length;
    var drawn = document.querySelectorAll('.slimspeech-plot svg.main-svg').length;
    if ((pending || drawn < plots) && Date.now() - started < 20000) setTimeout(poll, 200); else setTimeout(report, 500);
  }
  window.addEventListener('load', poll);
})();
</script>`;

function checkPage(html: string): { codeBlocks: number; wide: string[]; plots: number; undrawn: string[]; audio: number; broken: string[] } {
  const page = fs.readFileSync(html, 'utf8').replace(/<\/body>/i, `${CHECK_SCRIPT}</body>`);
  const tmp = path.join(path.dirname(html), `check-${path.basename(html)}`);
  fs.writeFileSync(tmp, page);
  try {
    const dom = renderDom(tmp, 60000, 1200);
    const m = /<pre id="notebook-check">([\s\S]*?)<\/pre>/.exec(dom);
    assert.ok(m, `${html}: the page's check never ran (scripts did not finish)`);
    return JSON.parse(m![1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Every claim line `... VERDICT (... 95% interval [lo points, hi points] ...)` is consistent with its interval. */
function checkVerdicts(claims: ClaimResult[]): void {
  for (const c of claims) {
    const [lo, hi] = c.interval;
    assert.ok(lo <= c.difference && c.difference <= hi, `${c.id}: difference inside its interval`);
    const failed = c.evidence.some((e) => e.precondition && !e.precondition.ok);
    const t = c.threshold, strict = c.strict === true;
    const beyond = c.direction === 'higher' ? (strict ? lo > t : lo >= t) : (strict ? hi < t : hi <= t);
    const short = c.direction === 'higher' ? (strict ? hi <= t : hi < t) : (strict ? lo >= t : lo > t);
    const expected = failed ? 'inconclusive' : beyond ? 'holds' : short ? 'does not hold' : 'inconclusive';
    assert.equal(c.verdict, expected, `${c.id}: verdict ${c.verdict} with interval [${lo}, ${hi}] and threshold ${c.threshold}`);
  }
}

for (const nb of notebooks) {
  test(`${nb} runs top to bottom through Jupyter at the ${PRESET} preset, and its page and numbers check out`,
    { timeout: 40 * 60 * 1000 }, () => {
      assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'index.js')), 'dist/ is missing: run npm install (it builds the package)');
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-nb-'));
      const [run] = runNotebooks({ notebooks: [path.join(ROOT, 'notebooks', nb)], outDir: out, preset: PRESET, html: true, log: () => undefined });
      assert.ok(run.ok, `${nb} failed:\n${run.error}`);
      const cells = (JSON.parse(fs.readFileSync(run.executed, 'utf8')) as { cells: Cell[] }).cells;
      const errors = cells.flatMap((c) => (c.outputs ?? []).filter((o) => o.output_type === 'error').map((o) => `${o.ename}: ${o.evalue}`));
      assert.deepEqual(errors, [], `${nb}: error outputs`);
      const code = cells.filter((c) => c.cell_type === 'code');
      assert.deepEqual(code.map((c) => c.execution_count), code.map((_, i) => i + 1), `${nb}: code cells numbered In [1], In [2], ...`);
      const printed = text(cells);
      assert.doesNotMatch(printed, /Error: /, `${nb}: an error was printed`);

      assert.ok(run.html && fs.existsSync(run.html), `${nb}: no HTML export`);
      const html = fs.readFileSync(run.html, 'utf8');
      assert.equal((html.match(/\* plotly\.js v\d/g) ?? []).length, 1, `${nb}: one plotly.js bundle in the page`);
      const page = checkPage(run.html);
      assert.ok(page.codeBlocks >= code.length, `${nb}: ${page.codeBlocks} code blocks found in the page`);
      assert.deepEqual(page.wide, [], `${nb}: code wider than its cell at 1200 px`);
      assert.ok(page.plots > 0, `${nb}: no plot in the page`);
      assert.deepEqual(page.undrawn, [], `${nb}: plots that did not draw`);
      assert.ok(page.audio > 0, `${nb}: no audio player`);
      assert.deepEqual(page.broken, [], `${nb}: audio players that do not load`);

      if (nb.startsWith('00_')) {
        assert.match(printed, /reload difference 0 \(identical\)/, `${nb}: the reloaded model equals the saved one`);
        assert.match(printed, /by hand \[101,40\], library \[101,40\], largest difference (0|\d(\.\d+)?e-\d)/);
        const m = /the model beats always answering the most frequent class: (HOLDS|DOES NOT HOLD|INCONCLUSIVE) \(difference ([+-][\d.]+) points, 95% interval \[([+-][\d.]+) points, ([+-][\d.]+) points\]/.exec(printed);
        assert.ok(m, `${nb}: the verdict line`);
        const [lo, hi] = [Number(m![3]), Number(m![4])];
        assert.equal(m![1], lo >= 0 ? 'HOLDS' : hi < 0 ? 'DOES NOT HOLD' : 'INCONCLUSIVE', `${nb}: verdict consistent with [${lo}, ${hi}]`);
        if (PRESET === 'default') assert.equal(m![1], 'HOLDS', `${nb}: at default the model beats the majority class`);
      }
      if (nb.startsWith('02_')) {
        const m = /AT-KL by hand ([\d.]+), library ([\d.]+), difference ([\d.e+-]+)/.exec(printed);
        assert.ok(m && Number(m[3]) < 1e-5, `${nb}: AT-KL by hand equals the library (${m?.[0]})`);
        const results = JSON.parse(fs.readFileSync(path.join(ROOT, 'out', 'notebooks', `02_distil_dccrn-${PRESET}`, 'results.json'), 'utf8'));
        checkVerdicts(results.claims);
        for (const c of results.claims as ClaimResult[]) {
          assert.ok(printed.includes(`verdict: ${c.verdict.toUpperCase()} (${c.reason})`), `${nb}: prints the verdict of ${c.id} as computed`);
        }
        assert.match(printed, /the student has \d+% of the full DCCRN's parameters/);
      }
      if (nb.startsWith('03_')) {
        const m = /agree with the hand-written memory: (true|false); largest SI-SNR difference ([\d.e+-]+) dB/.exec(printed);
        assert.ok(m && m[1] === 'true' && Number(m[2]) < 1e-3, `${nb}: the memory by hand equals the library (${m?.[0]})`);
        assert.match(printed, /epoch 2, mixture A: best assignment \[1,0\].*flagged true/, `${nb}: the worked example switches mixture A`);
        const results = JSON.parse(fs.readFileSync(path.join(ROOT, 'out', 'notebooks', `03_dsd_lo-${PRESET}`, 'results.json'), 'utf8'));
        checkVerdicts(results.claims);
        for (const c of results.claims as ClaimResult[]) {
          assert.ok(printed.includes(`verdict: ${c.verdict.toUpperCase()} (${c.reason})`), `${nb}: prints the verdict of ${c.id} as computed`);
        }
      }
      if (nb.startsWith('04_')) {
        const e = /expected parameters by hand ([\d.]+), library ([\d.]+), relative difference ([\d.e+-]+)/.exec(printed);
        assert.ok(e && Number(e[3]) < 1e-5, `${nb}: expected parameters by hand equal the library (${e?.[0]})`);
        const l = /Lagrangian at s = [\d.-]+: by hand ([\d.-]+), library ([\d.-]+), difference ([\d.e+-]+)/.exec(printed);
        assert.ok(l && Number(l[3]) < 1e-6, `${nb}: the Lagrangian by hand equals the library (${l?.[0]})`);
        const m = /materialised; largest output difference ([\d.e+-]+)/.exec(printed);
        assert.ok(m && Number(m[1]) <= 1e-5, `${nb}: materialize is exact (${m?.[0]})`);
        const r = /reload difference (\S+), DPHuBERT-format difference ([\d.e+-]+)/.exec(printed);
        assert.ok(r && Number(r[1]) === 0 && Number(r[2]) < 1e-5, `${nb}: the saved model reloads with the same outputs (${r?.[0]})`);
        const results = JSON.parse(fs.readFileSync(path.join(ROOT, 'out', 'notebooks', `04_dphubert-${PRESET}`, 'results.json'), 'utf8'));
        checkVerdicts(results.claims);
        for (const c of results.claims as ClaimResult[]) {
          assert.ok(printed.includes(`verdict: ${c.verdict.toUpperCase()} (${c.reason})`), `${nb}: prints the verdict of ${c.id} as computed`);
        }
      }
      if (nb.startsWith('05_')) {
        const m = /one-step loss by hand ([\d.]+), library ([\d.]+), difference ([\d.e+-]+)/.exec(printed);
        assert.ok(m && Number(m[3]) < 1e-4, `${nb}: the one-step loss by hand equals the library (${m?.[0]})`);
        assert.match(printed, /same speaker: score -?[\d.]+, threshold -?[\d.]+, decision: (same|different)/);
        const results = JSON.parse(fs.readFileSync(path.join(ROOT, 'out', 'notebooks', `05_os_kdft-${PRESET}`, 'results.json'), 'utf8'));
        checkVerdicts(results.claims);
        for (const c of results.claims as ClaimResult[]) {
          assert.ok(printed.includes(`verdict: ${c.verdict.toUpperCase()} (${c.reason})`), `${nb}: prints the verdict of ${c.id} as computed`);
        }
      }
      if (nb.startsWith('01_')) {
        assert.match(printed, /by hand \[2,3\], library \[2,3\], largest difference 0\b/);
        assert.match(printed, /loss by hand ([\d.]+), library \1, difference (0|\d(\.\d+)?e-\d+)\b/);
        const results = JSON.parse(fs.readFileSync(path.join(ROOT, 'out', 'notebooks', `01_slimmable_kws-${PRESET}`, 'results.json'), 'utf8'));
        checkVerdicts(results.claims);
        for (const c of results.claims as ClaimResult[]) {
          assert.ok(printed.includes(`verdict: ${c.verdict.toUpperCase()} (${c.reason})`), `${nb}: prints the verdict of ${c.id} as computed`);
        }
        for (const e of results.extraction) assert.ok(e.maxAbsDiff < 1e-4, `${nb}: subnet ${e.arch} ${e.width} equals the supernet`);
        if (PRESET === 'default') {
          for (const r of results.rows) {
            assert.ok(r.accuracy > results.baselines.majority, `${nb}: ${r.arch} ${r.variant} ${r.width} at ${r.accuracy} above the majority class`);
          }
        }
      }
    });
}
