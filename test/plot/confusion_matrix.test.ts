import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, setupBackend } from '../helpers';
import { confusionMatrix, normalizeConfusion } from '../../lib/plot/confusion_matrix';
import { Figure } from '../../lib/plot/figure';

// m[true][predicted]
const M = [[5, 1, 0], [2, 7, 1], [0, 0, 0]];

test("normalizeConfusion matches sklearn's normalize modes (a zero row or column stays 0)", () => {
  // sklearn.metrics.confusion_matrix(..., normalize=...) on labels giving M, by hand:
  assertClose(normalizeConfusion(M, 'true').flat(), [5 / 6, 1 / 6, 0, 0.2, 0.7, 0.1, 0, 0, 0], { label: 'true' });
  assertClose(normalizeConfusion(M, 'pred').flat(), [5 / 7, 1 / 8, 0, 2 / 7, 7 / 8, 1, 0, 0, 0], { label: 'pred' });
  assertClose(normalizeConfusion(M, 'all').flat(), M.flat().map((v) => v / 16), { label: 'all' });
  assert.deepEqual(normalizeConfusion(M, 'none'), M);
  assert.throws(() => normalizeConfusion(M, 'rows' as 'true'), /mode must be 'none', 'true', 'pred' or 'all', received string "rows"/);
});

test('confusionMatrix: one annotated heatmap, class names on both axes, first class at the top', async () => {
  await setupBackend();
  const t = tf.tensor2d(M);
  const fig = await confusionMatrix(t, { labels: ['yes', 'no', 'maybe'], normalize: 'true' });
  t.dispose();
  assert.equal(fig.data.length, 1);
  const hm = fig.data[0];
  assert.equal(hm.type, 'heatmap');
  assert.deepEqual(hm.x, ['yes', 'no', 'maybe']);
  assert.deepEqual(hm.y, ['yes', 'no', 'maybe']);
  assertClose(hm.z!.flat() as number[], normalizeConfusion(M, 'true').flat());
  assert.deepEqual(hm.customdata, M);
  assert.equal(hm.texttemplate, '%{z:.2f}');
  assert.equal(fig.layout.yaxis?.autorange, 'reversed');
  assert.equal(fig.layout.xaxis?.title?.text, 'predicted');
  assert.equal(fig.layout.yaxis?.title?.text, 'true');
  assert.deepEqual([(fig.layout.coloraxis as { cmin: number }).cmin, (fig.layout.coloraxis as { cmax: number }).cmax], [0, 1]);
});

test('confusionMatrix: counts print as integers; bad shapes, counts and labels are errors', async () => {
  const fig = await confusionMatrix([[3, 1], [0, 4]]);
  assert.equal(fig.data[0].texttemplate, '%{z:,d}');
  assert.deepEqual(fig.data[0].x, ['0', '1']);
  assert.equal((fig.layout.coloraxis as { cmax: number }).cmax, 4);
  await assert.rejects(confusionMatrix([[1, 2, 3], [4, 5, 6]]), /matrix must be square and non-empty, received 2 rows of 3/);
  await assert.rejects(confusionMatrix([[1, -1], [0, 1]]), /matrix\[0\]\[1\] is -1, expected a count >= 0/);
  await assert.rejects(confusionMatrix([[1, 0], [0, 1]], { labels: ['a'] }), /labels has 1 entries but the matrix has 2 classes/);
});

test('confusionMatrix: height follows the classes, margins the longest name; every name, a titled colour bar', async () => {
  const eye = (n: number) => Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => (r === c ? 5 : 1)));
  const short = await confusionMatrix(eye(3), { labels: ['a', 'b', 'c'] });
  const twelve = await confusionMatrix(eye(12), { normalize: 'true',
    labels: ['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go', '_unknown_', '_silence_'] });
  const margin = (f: Figure) => f.layout.margin as { l: number; b: number; t: number };
  assert.ok(twelve.layout.height! > short.layout.height!, 'more classes, a taller figure');
  assert.equal(twelve.layout.height, margin(twelve).t + margin(twelve).b + 12 * 40, '40 px rows for 12 classes');
  assert.ok(margin(twelve).l > margin(short).l, 'room for _unknown_');
  assert.equal(twelve.layout.yaxis?.scaleanchor, undefined, 'cells are not forced square, so the matrix spans the width');
  for (const ax of [twelve.layout.xaxis!, twelve.layout.yaxis!]) {
    assert.deepEqual([ax.tickmode, ax.dtick, ax.automargin], ['linear', 1, true]);
    assert.ok(ax.title!.standoff! > 0);
  }
  assert.deepEqual(twelve.layout.xaxis?.autotickangles, [0, 90]);
  const title = (f: Figure) => (f.layout.coloraxis as { colorbar: { title: { text: string } } }).colorbar.title.text;
  assert.equal(title(short), 'count');
  assert.equal(title(twelve), 'share of true class');
  assert.equal(title(await confusionMatrix(eye(2), { colorbarTitle: 'clips' })), 'clips');
  assert.equal((await confusionMatrix(eye(3), { cellHeight: 50, height: 999 })).layout.height, 999);
  await assert.rejects(confusionMatrix(eye(2), { cellHeight: 0 }), /cellHeight must be a positive number of pixels, received 0/);
});
