import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Figure } from '../../lib/plot/figure';
import { display, injectPlotly } from '../../lib/plot/display';
import { startFakeTslab } from './fake_tslab';

const fig: Figure = { data: [{ type: 'scatter', y: [1, 3, 2] }], layout: {} };
const BUNDLE_MARK = '* plotly.js v';

function captureWarnings(fn: () => void): string[] {
  const warnings: string[] = [];
  const original = console.warn;
  const quiet = process.env.SLIMSPEECH_QUIET;
  console.warn = (...args: unknown[]) => { warnings.push(args.join(' ')); };
  delete process.env.SLIMSPEECH_QUIET;
  try { fn(); } finally {
    console.warn = original;
    if (quiet !== undefined) process.env.SLIMSPEECH_QUIET = quiet;
  }
  return warnings;
}

// The tests share one process-wide "plotly.js sent" flag, as a kernel session does, so they run in order.
test('outside a tslab kernel display shows nothing, returns nothing and says what to do instead', () => {
  let result: unknown = 'unset';
  const warnings = captureWarnings(() => { result = display(fig); });
  assert.equal(result, undefined);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /not running inside a tslab kernel.*savePlot/);
});

test('in a kernel: plotly.js goes out with the first display only, every figure in its own div', () => {
  const kernel = startFakeTslab();
  kernel.setReady(false);
  const idle = captureWarnings(() => display(fig));
  assert.equal(kernel.outputs.length, 0, 'a tslab not executing a cell is not a kernel to display in');
  assert.equal(idle.length, 1);
  kernel.setReady(true);
  assert.equal(display(fig), undefined);
  display([fig, fig]);
  display(fig);
  assert.equal(kernel.outputs.length, 3);
  const [first, second, third] = kernel.outputs;
  assert.ok(first.includes(BUNDLE_MARK), 'first output carries plotly.js');
  assert.ok(first.indexOf(BUNDLE_MARK) < first.indexOf('class="slimspeech-plot"'), 'plotly.js comes before the figure');
  assert.ok(!second.includes(BUNDLE_MARK) && !third.includes(BUNDLE_MARK), 'later outputs do not');
  assert.ok(second.length < 10000);
  const ids = kernel.outputs.join('').match(/id="slimspeech-plot-[0-9a-f-]+"/g) ?? [];
  assert.equal(ids.length, 4);
  assert.equal(new Set(ids).size, 4, 'ids are unique');
  injectPlotly();
  assert.equal(kernel.outputs.length, 4);
  assert.ok(kernel.outputs[3].includes(BUNDLE_MARK), 'injectPlotly sends it again');
  assert.throws(() => display(Promise.resolve(fig) as unknown as Figure), /await them/);
});
