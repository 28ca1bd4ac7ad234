import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Figure } from '../../lib/plot/figure';
import { figureHtml, figureJson, plotlyLoader, plotlyScript, savePlot, toHtml } from '../../lib/plot/html';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slimspeech-plot-html-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const fig = (title: string): Figure => ({ data: [{ type: 'scatter', y: [1, 2] }], layout: { title: { text: title } } });
const PLOTLY_VERSION = JSON.parse(fs.readFileSync(require.resolve('plotly.js-dist-min/package.json'), 'utf8')).version as string;

test('figureJson rounds non-integers to `precision` digits, keeps integers, turns typed arrays into arrays', () => {
  const f: Figure = { data: [{ type: 'scatter', x: [1, 2], y: Float32Array.of(0.5, 0.25) as unknown as number[], z: [[1 / 3]] }], layout: {} };
  const parsed = JSON.parse(figureJson(f, { precision: 3 }));
  assert.deepEqual(parsed.data[0].z, [[0.333]]);
  assert.deepEqual(parsed.data[0].x, [1, 2]);
  assert.deepEqual(parsed.data[0].y, [0.5, 0.25]);
  assert.deepEqual(parsed.config, { responsive: true, displaylogo: false });
  assert.throws(() => figureJson(f, { precision: 0 }), /precision must be an integer from 1 to 17, received 0/);
});

test('figureJson is safe inside <script>: a name with </script> cannot end the element', () => {
  const f: Figure = { data: [{ type: 'bar', name: '</script><b>x' }], layout: {} };
  const json = figureJson(f);
  assert.ok(!json.includes('<'), json);
  assert.equal(JSON.parse(json).data[0].name, '</script><b>x');
});

test('figureHtml gives every figure its own div id and draws with the page\'s Plotly, or waits for it', () => {
  const a = figureHtml(fig('a'));
  const b = figureHtml(fig('a'));
  const id = (s: string) => /<div id="(slimspeech-plot-[0-9a-f-]+)"/.exec(s)?.[1];
  assert.ok(id(a) && id(b) && id(a) !== id(b));
  assert.match(a, /window\.Plotly\.newPlot\(el, fig\.data, fig\.layout, fig\.config\)/);
  assert.match(a, /addEventListener\("slimspeech:plotly-ready", draw/);
  assert.ok(!a.includes('* plotly.js v'), 'a figure fragment does not carry plotly.js');
  assert.throws(() => figureHtml(Promise.resolve(fig('p')) as unknown as Figure), /received a Promise; the plot helpers are async, so await them/);
  assert.throws(() => figureHtml({ data: 1 } as unknown as Figure), /fig: expected a Figure \{data: Trace\[\], layout\}/);
});

test('plotlyScript wraps the whole plotly.js-dist-min bundle so it sets window.Plotly under require.js', () => {
  const bundle = fs.readFileSync(require.resolve('plotly.js-dist-min/plotly.min.js'), 'utf8');
  const s = plotlyScript();
  assert.ok(s.length > bundle.length);
  assert.equal(plotlyLoader().version, PLOTLY_VERSION);
  assert.match(s, /^<script>\/\* plotly\.js \d+\.\d+\.\d+/);
  assert.ok(s.includes('(function (define, exports, module) {\nif (window.Plotly && window.Plotly.newPlot) return;\n'));
  assert.ok(s.includes('}).call(window);\nwindow.dispatchEvent(new Event("slimspeech:plotly-ready"));'));
  assert.equal(s.toLowerCase().indexOf('</script'), s.length - '</script>'.length, 'only the closing tag');
  assert.ok(!/https?:\/\/cdn/i.test(s.slice(0, 300)), 'no CDN');
});

test('toHtml: one page, plotly.js once however many figures, title escaped', () => {
  const page = toHtml([fig('A & <B>'), fig('b'), fig('c')]);
  assert.match(page, /^<!DOCTYPE html>/);
  assert.ok(page.includes('<title>A &amp; &lt;B&gt;</title>'));
  assert.equal(page.split('* plotly.js v').length - 1, 1);
  assert.equal(page.split('class="slimspeech-plot"').length - 1, 3);
  const linked = toHtml(fig('x'), { plotlyJs: { src: 'plotly-x.js' } });
  assert.ok(linked.includes('<script src="plotly-x.js"></script>'));
  assert.ok(linked.length < 10000);
});

test("savePlot 'inline' writes one standalone file (creating folders) and returns its absolute path", async () => {
  const file = path.join(tmp, 'nested', 'dir', 'loss.html');
  const out = await savePlot(fig('loss'), path.relative(process.cwd(), file));
  assert.equal(out, file);
  const page = fs.readFileSync(file, 'utf8');
  assert.ok(page.includes('* plotly.js v'), 'bundle embedded');
  assert.ok(page.includes('<title>loss</title>'));
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['loss.html'], 'nothing else written');
});

test("savePlot 'sibling' writes plotly.js once per folder and small pages that reference it", async () => {
  const dir = path.join(tmp, 'many');
  await savePlot(fig('one'), path.join(dir, 'one.html'), { plotlyJs: 'sibling' });
  const lib = path.join(dir, `plotly-${PLOTLY_VERSION}.js`);
  const first = fs.statSync(lib);
  await savePlot([fig('two'), fig('three')], path.join(dir, 'two.html'), { plotlyJs: 'sibling' });
  assert.deepEqual(fs.readdirSync(dir).sort(), ['one.html', `plotly-${PLOTLY_VERSION}.js`, 'two.html']);
  assert.equal(fs.statSync(lib).mtimeMs, first.mtimeMs, 'the bundle is not rewritten');
  assert.equal(fs.readFileSync(lib, 'utf8'), plotlyLoader().js);
  for (const name of ['one.html', 'two.html']) {
    const page = fs.readFileSync(path.join(dir, name), 'utf8');
    assert.ok(page.includes(`<script src="plotly-${PLOTLY_VERSION}.js"></script>`));
    assert.ok(page.length < 20000, `${name} is ${page.length} bytes`);
  }
});

test('savePlot rejects a missing await, a bad file and a bad plotlyJs option', async () => {
  await assert.rejects(savePlot(Promise.resolve(fig('x')) as unknown as Figure, path.join(tmp, 'p.html')), /await them/);
  await assert.rejects(savePlot(fig('x'), ''), /savePlot: file must be a path, received string ""/);
  await assert.rejects(savePlot(fig('x'), path.join(tmp, 'q.html'), { plotlyJs: 'cdn' as 'inline' }),
    /plotlyJs must be 'inline' or 'sibling', received string "cdn"/);
});
