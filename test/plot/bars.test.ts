import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { perWidthBars } from '../../lib/plot/bars';
import { PALETTE } from '../../lib/plot/figure';
import { palette } from '../../lib/plot/palette';

test('perWidthBars: one bar trace per series over width categories, grouped, values printed', async () => {
  const fig = await perWidthBars([0.25, 0.5, 1], { slimmable: [0.8, 0.85, 0.9], independent: [0.78, 0.86, 0.88] },
    { yTickFormat: '.0%' });
  assert.equal(fig.data.length, 2);
  assert.ok(fig.data.every((t) => t.type === 'bar'));
  assert.deepEqual(fig.data[0].x, ['0.25×', '0.5×', '1×']);
  assert.deepEqual(fig.data[1].y, [0.78, 0.86, 0.88]);
  assert.equal(fig.data[0].texttemplate, '%{y:.3g}');
  assert.equal(fig.layout.barmode, 'group');
  assert.equal(fig.layout.xaxis?.type, 'category');
  assert.equal(fig.layout.xaxis?.title?.text, 'width');
  assert.equal(fig.layout.yaxis?.title?.text, 'accuracy');
  assert.equal(fig.layout.yaxis?.tickformat, '.0%');
});

test('perWidthBars: string widths are kept, labels can be turned off, mismatches are errors', async () => {
  const fig = await perWidthBars(['S', 'L'], { params: [1e4, 2e5] }, { valueFormat: null, yTitle: 'parameters' });
  assert.deepEqual(fig.data[0].x, ['S', 'L']);
  assert.equal(fig.data[0].texttemplate, undefined);
  await assert.rejects(perWidthBars([0.5, 1], { a: [1] }), /series\.a has 1 values but there are 2 widths/);
  await assert.rejects(perWidthBars([0.5, 1], [1, 2] as unknown as Record<string, number[]>), /series must be a record/);
  await assert.rejects(perWidthBars([], { a: [] }), /widths must be a non-empty array/);
});

test('perWidthBars: paired colours: a method keeps its colour, the baseline variant is hatched', async () => {
  const pal = palette(['DS-CNN', 'KWT'], { variants: ['slimmable', 'independent'] });
  const fig = await perWidthBars([0.5, 1], { slimmable: [0.8, 0.9], independent: [0.82, 0.9] },
    { palette: pal, keys: { slimmable: { group: 'KWT', variant: 'slimmable' }, independent: { group: 'KWT', variant: 'independent' } } });
  const marker = (i: number) => fig.data[i].marker as { color: string; pattern?: { shape: string } };
  assert.deepEqual([marker(0).color, marker(1).color], [PALETTE[1], PALETTE[1]]);
  assert.equal(marker(0).pattern, undefined);
  assert.equal(marker(1).pattern?.shape, '/');
  const byName = await perWidthBars([1], { independent: [0.9], slimmable: [0.8] }, { palette: palette(['slimmable', 'independent']) });
  assert.deepEqual(byName.data.map((t) => (t.marker as { color: string }).color), [PALETTE[1], PALETTE[0]],
    'with a palette alone, a series name is its group');
});
