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
