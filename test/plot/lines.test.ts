import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';
import { PALETTE, Trace } from '../../lib/plot/figure';
import { emaSmooth, labelSwitchRate, sparsityVsTarget, trainingCurves } from '../../lib/plot/lines';
import { palette } from '../../lib/plot/palette';

test('trainingCurves: one trace per named series, x from 1 or as given, axis titles and log y', async () => {
  await setupBackend();
  const loss = tf.tensor1d([2, 1, 0.5]);
  const fig = await trainingCurves({ train: loss, valid: { x: [2, 4], y: [1.5, 0.7] } },
    { logY: true, yTitle: 'loss', title: 'KD' });
  loss.dispose();
  assert.equal(fig.data.length, 2);
  assert.deepEqual(fig.data.map((t) => t.name), ['train', 'valid']);
  assert.deepEqual(fig.data[0].x, [1, 2, 3]);
  assert.deepEqual(fig.data[0].y, [2, 1, 0.5]);
  assert.deepEqual(fig.data[1].x, [2, 4]);
  assert.equal(fig.layout.xaxis?.title?.text, 'step');
  assert.equal(fig.layout.yaxis?.title?.text, 'loss');
  assert.equal(fig.layout.yaxis?.type, 'log');
  assert.deepEqual(fig.layout.title, { text: 'KD' });
});

test('trainingCurves: a single array is one series; smoothing adds a faint raw trace under the EMA', async () => {
  const one = await trainingCurves([3, 2, 1]);
  assert.equal(one.data.length, 1);
  assert.equal(one.data[0].name, 'value');
  const sm = await trainingCurves({ loss: [1, 0, 1] }, { smoothing: 0.5 });
  assert.equal(sm.data.length, 2);
  assert.equal(sm.data[0].showlegend, false);
  assert.deepEqual(sm.data[0].y, [1, 0, 1]);
  assert.deepEqual(sm.data[1].y, [1, 0.5, 0.75]);
});

test('emaSmooth follows s_t = w s_(t-1) + (1 - w) y_t and carries over NaN', () => {
  assert.deepEqual(emaSmooth([4, 0, 2], 0.75), [4, 3, 2.75]);
  const s = emaSmooth([1, NaN, 3], 0.5);
  assert.equal(s[0], 1);
  assert.ok(Number.isNaN(s[1]));
  assert.equal(s[2], 2);
});

test('trainingCurves: mismatched x and y and bad smoothing are errors naming the series', async () => {
  await assert.rejects(trainingCurves({ valid: { x: [1, 2, 3], y: [1, 2] } }), /series\.valid: x has 3 values but y has 2/);
  await assert.rejects(trainingCurves([1, 2], { smoothing: 1 }), /smoothing must be in \[0, 1\), received 1/);
  await assert.rejects(trainingCurves({ loss: 'abc' as unknown as number[] }), /series\.loss: expected numbers/);
});

test('labelSwitchRate: one line per run over epochs 1..n with a percent axis', async () => {
  const fig = await labelSwitchRate({ pit: [0.3, 0.2, 0.1], 'pit+dsd': [0.2, 0.1, 0.05] });
  assert.equal(fig.data.length, 2);
  assert.deepEqual(fig.data[1].x, [1, 2, 3]);
  assert.equal(fig.layout.xaxis?.title?.text, 'epoch');
  assert.equal(fig.layout.yaxis?.title?.text, 'label-switch rate');
  assert.equal(fig.layout.yaxis?.tickformat, '.0%');
  const counts = await labelSwitchRate([3, 1], { percent: false, yTitle: 'samples dropped' });
  assert.equal(counts.layout.yaxis?.tickformat, undefined);
  assert.equal(counts.layout.yaxis?.title?.text, 'samples dropped');
});

test('sparsityVsTarget: a solid sparsity line and a dashed target line on the same steps', async () => {
  const fig = await sparsityVsTarget([0, 0.3, 0.7], [0.1, 0.4, 0.75], { steps: [100, 200, 300] });
  assert.equal(fig.data.length, 2);
  assert.deepEqual(fig.data.map((t) => t.name), ['expected sparsity', 'target']);
  assert.deepEqual(fig.data[1].x, [100, 200, 300]);
  assert.equal((fig.data[1].line as { dash: string }).dash, 'dash');
  assert.equal(fig.layout.yaxis?.title?.text, 'sparsity');
  await assert.rejects(sparsityVsTarget([0, 1], [0]), /sparsity has 2 values but target has 1/);
  await assert.rejects(sparsityVsTarget([0, 1], [0, 1], { steps: [1] }), /options\.steps has 1 values/);
});

test('trainingCurves: whole-number epochs get whole-number ticks; fractional x keeps Plotly ticks', async () => {
  const three = await trainingCurves([1, 0.5, 0.3], { xTitle: 'epoch' });
  assert.equal(three.layout.xaxis?.dtick, 1);
  assert.equal(three.layout.xaxis?.tickformat, 'd');
  const twenty = await trainingCurves({ a: Array.from({ length: 20 }, (_, i) => 1 / (i + 1)) });
  assert.equal(twenty.layout.xaxis?.dtick, 2);
  const fractional = await trainingCurves({ a: { x: [0.5, 1, 1.5], y: [3, 2, 1] } });
  assert.equal(fractional.layout.xaxis?.dtick, undefined);
  const rates = await labelSwitchRate(Array.from({ length: 100 }, () => 0.1));
  assert.equal(rates.layout.xaxis?.dtick, undefined, 'no label per epoch over 100 epochs');
  assert.equal(rates.layout.xaxis?.tickformat, 'd');
});

test('trainingCurves: paired colours: a width keeps its colour in two figures drawn in other orders, variants dash', async () => {
  const pal = palette([0.25, 0.5, 'all widths'], { variants: ['slimmable', 'independent'] });
  const keys = (name: string) => (name === 'sum'
    ? { group: 'all widths' } : { group: Number(name.split(' ')[1]), variant: name.split(' ')[0] });
  const val = await trainingCurves({ 'slimmable 0.25': [1, 2], 'slimmable 0.5': [1, 2], 'independent 0.25': [1, 2] },
    { palette: pal, keys, markers: true });
  const loss = await trainingCurves({ sum: [2, 1], 'independent 0.5': [2, 1], 'independent 0.25': [2, 1] }, { palette: pal, keys });
  const line = (t: Trace) => t.line as { color: string; dash: string };
  assert.deepEqual(val.data.map((t) => line(t).color), [PALETTE[0], PALETTE[1], PALETTE[0]]);
  assert.deepEqual(loss.data.map((t) => line(t).color), [PALETTE[2], PALETTE[1], PALETTE[0]]);
  assert.deepEqual(val.data.map((t) => line(t).dash), ['solid', 'solid', 'dash']);
  assert.equal((val.data[2].marker as { symbol: string }).symbol, 'circle-open');
  const plain = await trainingCurves({ a: [1], b: [2] });
  assert.equal(line(plain.data[1]).color, PALETTE[1], 'without a palette: one colour per series, as before');
  await assert.rejects(trainingCurves({ 'slimmable 2': [1] }, { palette: pal, keys }), /trainingCurves: series 'slimmable 2': palette: group '2'/);
});
