import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { PALETTE } from '../../lib/plot/figure';
import { VARIANT_STYLES, palette, seriesStyles } from '../../lib/plot/palette';

test('palette: a group has the colour of its place in the list, whatever is asked first; 0.5 and "0.5" are one group', () => {
  const p = palette([0.25, 0.5, 1, 'KWT']);
  assert.deepEqual(p.groups, ['0.25', '0.5', '1', 'KWT']);
  assert.equal(p.color('KWT'), PALETTE[3]);
  assert.equal(p.color(0.5), PALETTE[1]);
  assert.equal(p.color('0.5'), PALETTE[1]);
  assert.equal(palette([0.25, 0.5, 1, 'KWT']).color(1), p.color(1), 'the same list gives the same colours');
  assert.throws(() => p.color('0.5×'), /group '0.5×' is not one of the palette's groups \[0.25, 0.5, 1, KWT\]/);
  assert.equal(palette(['a', 'b'], { colors: ['#000', '#fff'] }).color('b'), '#fff');
});

test('palette: variants in style order (solid, then dashed and open), overridable; bad lists are errors', () => {
  const p = palette(['a'], { variants: ['slimmable', 'independent'], styles: { independent: { opacity: 0.6 } } });
  assert.deepEqual(p.style('slimmable'), VARIANT_STYLES[0]);
  assert.deepEqual(p.style(), VARIANT_STYLES[0]);
  assert.deepEqual(p.style('independent'), { ...VARIANT_STYLES[1], opacity: 0.6 });
  assert.equal(p.style('independent').dash, 'dash');
  assert.equal(p.style('independent').symbol, 'circle-open');
  assert.throws(() => p.style('baseline'), /variant 'baseline' is not one of the palette's variants \[slimmable, independent\]/);
  assert.throws(() => palette([]), /groups must be a non-empty array/);
  assert.throws(() => palette(['a', 'a']), /group 'a' is listed twice/);
  assert.throws(() => palette([0.5, '0.5']), /group '0.5' is listed twice/);
  assert.throws(() => palette(Array.from({ length: 11 }, (_, i) => i)), /11 groups but only 10 colours; pass options.colors/);
  assert.throws(() => palette(['a'], { variants: ['x'], styles: { y: {} } }), /options.styles names 'y'/);
  assert.throws(() => palette([NaN]), /groups\[0\]: a group key must be a string or a finite number, received number NaN/);
});

test('seriesStyles: none without options; a palette alone keys series by name; keys by record or function', () => {
  assert.equal(seriesStyles(['a'], {}, 'f'), undefined);
  const p = palette(['independent', 'slimmable']);
  assert.deepEqual(seriesStyles(['slimmable', 'independent'], { palette: p }, 'f')!.map((s) => s.color), [PALETTE[1], PALETTE[0]]);
  const w = palette([0.5, 1], { variants: ['slimmable', 'independent'] });
  const keys = (name: string) => ({ group: Number(name.split(' ')[1]), variant: name.split(' ')[0] });
  const styles = seriesStyles(['independent 1', 'slimmable 0.5', 'slimmable 1'], { palette: w, keys }, 'f')!;
  assert.deepEqual(styles.map((s) => s.color), [PALETTE[1], PALETTE[0], PALETTE[1]]);
  assert.deepEqual(styles.map((s) => s.variant.dash), ['dash', 'solid', 'solid']);
  assert.throws(() => seriesStyles(['a', 'b'], { palette: w, keys: { a: { group: 1 } } }, 'trainingCurves'),
    /trainingCurves: options.keys has no entry for series 'b' \(it has a\)/);
  assert.throws(() => seriesStyles(['a'], { palette: w, keys: { a: { group: 2 } } }, 'pareto'),
    /pareto: series 'a': palette: group '2' is not one of the palette's groups/);
});

test('seriesStyles without a palette: groups and variants in order of first appearance, within the figure', () => {
  const styles = seriesStyles(['s 1', 'i 1', 's 2'], { keys: (n) => ({ group: n.split(' ')[1], variant: n.split(' ')[0] }) }, 'f')!;
  assert.deepEqual(styles.map((s) => s.color), [PALETTE[0], PALETTE[0], PALETTE[1]]);
  assert.deepEqual(styles.map((s) => s.variant.dash), ['solid', 'dash', 'solid']);
});
