import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';
import { heatmap } from '../../lib/plot/heatmap';

test('heatmap: one panel with labels, row 0 on top, colour range from the data', async () => {
  await setupBackend();
  const heads = tf.tensor2d([[12, 10, 8], [12, 6, 3]]); // [layers, ...] remaining heads
  const fig = await heatmap(heads, { yLabels: ['layer 1', 'layer 2'], xLabels: ['a', 'b', 'c'], xTitle: 'group',
    yTitle: 'layer', annotate: true, valueFormat: 'd' });
  heads.dispose();
  assert.equal(fig.data.length, 1);
  assert.deepEqual(fig.data[0].z, [[12, 10, 8], [12, 6, 3]]);
  assert.deepEqual(fig.data[0].y, ['layer 1', 'layer 2']);
  assert.equal(fig.data[0].texttemplate, '%{z:d}');
  assert.equal(fig.layout.yaxis?.autorange, 'reversed');
  assert.equal(fig.layout.xaxis?.title?.text, 'group');
  assert.equal(fig.layout.yaxis?.title?.text, 'layer');
  const ca = fig.layout.coloraxis as { cmin: number; cmax: number };
  assert.deepEqual([ca.cmin, ca.cmax], [3, 12]);
  assert.equal(fig.layout.annotations, undefined);
});

test('heatmap: named panels side by side on one colour scale, titled, zoom linked when shapes agree', async () => {
  const fig = await heatmap({ teacher: [[0, 1], [1, 0]], student: [[0.5, 0.5], [2, 0]] }, { zmin: 0 });
  assert.equal(fig.data.length, 2);
  assert.deepEqual(fig.data.map((t) => [t.xaxis, t.yaxis]), [['x', 'y'], ['x2', 'y2']]);
  assert.ok(fig.data.every((t) => t.coloraxis === 'coloraxis'));
  assert.equal((fig.layout.coloraxis as { cmax: number }).cmax, 2);
  const [d1, d2] = [fig.layout.xaxis?.domain as number[], (fig.layout.xaxis2 as { domain: number[] }).domain];
  assert.ok(d1[1] < d2[0], `panels overlap: ${d1} ${d2}`);
  assert.equal((fig.layout.xaxis2 as { matches: string }).matches, 'x');
  assert.deepEqual((fig.layout.annotations as Array<{ text: string }>).map((a) => a.text), ['teacher', 'student']);
  const unlinked = await heatmap({ a: [[1, 2]], b: [[1], [2]] });
  assert.equal((unlinked.layout.xaxis2 as { matches?: string }).matches, undefined);
});

test('heatmap: label counts must match the matrix; zmin above zmax is an error', async () => {
  await assert.rejects(heatmap([[1, 2]], { xLabels: ['a'] }), /xLabels has 1 entries but matrices has 2 columns/);
  await assert.rejects(heatmap([[1, 2]], { zmin: 3, zmax: 1 }), /zmin \(3\) must not exceed options.zmax \(1\)/);
});

test('heatmap: a titled colour bar (default "value") and whole-number ticks on row and column indices', async () => {
  const colorbar = (f: { layout: Record<string, unknown> }) =>
    (f.layout.coloraxis as { colorbar: { title: { text: string; side: string } } }).colorbar.title;
  const fig = await heatmap([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(colorbar(fig), { text: 'value', side: 'right' });
  assert.equal(colorbar(await heatmap([[1]], { colorbarTitle: 'attention weight' })).text, 'attention weight');
  assert.deepEqual([fig.layout.xaxis?.dtick, fig.layout.yaxis?.dtick], [1, 1]);
  const labelled = await heatmap([[1, 2]], { xLabels: ['a', 'b'] });
  assert.equal(labelled.layout.xaxis?.dtick, undefined, 'category axes keep their labels');
});

test('heatmap: with columns, panels wrap into rows that neither overlap nor repeat axis titles', async () => {
  const m = [[0, 1], [1, 0]];
  const fig = await heatmap({ a: m, b: m, c: m, d: m, e: m }, { columns: 2, xTitle: 'key', yTitle: 'query' });
  type Ax = { domain: number[]; title: { text: string } };
  const ax = (k: string) => fig.layout[k] as Ax;
  const xs = ['xaxis', 'xaxis2', 'xaxis3', 'xaxis4', 'xaxis5'].map(ax), ys = ['yaxis', 'yaxis2', 'yaxis3', 'yaxis4', 'yaxis5'].map(ax);
  assert.deepEqual(xs.map((a) => a.domain[0] < 0.5), [true, false, true, false, true], 'two columns');
  assert.deepEqual(ys.map((a) => a.domain), [ys[0].domain, ys[0].domain, ys[2].domain, ys[2].domain, ys[4].domain]);
  assert.ok(ys[2].domain[1] < ys[0].domain[0] && ys[4].domain[1] < ys[2].domain[0], 'rows from the top down, apart');
  assert.deepEqual(ys.map((a) => a.title.text), ['query', '', 'query', '', 'query'], 'y title in the first column');
  assert.deepEqual(xs.map((a) => a.title.text), ['', '', '', 'key', 'key'], 'x title on the lowest panel of each column');
  const names = fig.layout.annotations as Array<{ text: string; y: number }>;
  assert.deepEqual(names.map((a) => a.y), ys.map((a) => a.domain[1]), 'each name above its own panel');
});
