// The sandwich rule: [max, min, n-2 random], random widths from the list's interior or uniform in [min, max],
// the same seed gives the same widths.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Rng } from '../../lib/util/rng';
import { sandwichWidths } from '../../lib/slim';

test('the sandwich is the largest, the smallest, then n-2 widths from the interior of the list', () => {
  const widths = [0.5, 1, 0.25, 0.75];
  const seen = new Set<number>();
  for (let s = 0; s < 50; s++) {
    const ws = sandwichWidths({ widths, n: 4, rng: new Rng(s) });
    assert.equal(ws.length, 4);
    assert.deepEqual(ws.slice(0, 2), [1, 0.25]);
    for (const w of ws.slice(2)) {
      assert.ok(w === 0.5 || w === 0.75, `random width ${w} from the interior`);
      seen.add(w);
    }
  }
  assert.deepEqual([...seen].sort(), [0.5, 0.75], 'both interior widths are drawn');
  assert.deepEqual(sandwichWidths({ widths, n: 2, rng: new Rng(0) }), [1, 0.25]);
  const two = sandwichWidths({ widths: [0.5, 1], n: 5, rng: new Rng(1) });
  assert.ok(two.slice(2).every((w) => w === 0.5 || w === 1), 'a two-width list draws from the whole list');
});

test('uniform sampling draws from [min, max]; with widths, from the list extremes', () => {
  const ws = sandwichWidths({ min: 0.3, n: 200, rng: new Rng(2) });
  assert.deepEqual(ws.slice(0, 2), [1, 0.3]);
  const r = ws.slice(2);
  assert.ok(r.every((w) => w >= 0.3 && w < 1));
  const mean = r.reduce((a, b) => a + b, 0) / r.length;
  assert.ok(Math.abs(mean - 0.65) < 0.05, `mean ${mean} near the middle of [0.3, 1]`);
  const u = sandwichWidths({ widths: [0.25, 1], n: 3, sample: 'uniform', rng: new Rng(3) });
  assert.ok(u[2] > 0.25 && u[2] < 1 && u[2] !== 0.5);
});

test('the same seed gives the same widths, another seed other widths', () => {
  const draw = (seed: number) => sandwichWidths({ min: 0.25, max: 1, n: 6, rng: new Rng(seed) });
  assert.deepEqual(draw(7), draw(7));
  assert.notDeepEqual(draw(7), draw(8));
  const listDraw = (seed: number) => sandwichWidths({ widths: [0.25, 0.4, 0.5, 0.75, 1], n: 8, rng: new Rng(seed) });
  assert.deepEqual(listDraw(9), listDraw(9));
});

test('bad options are refused with the reason', () => {
  const rng = new Rng(0);
  assert.throws(() => sandwichWidths({ widths: [0.5, 1], n: 1, rng }), /n must be an integer >= 2, got 1/);
  assert.throws(() => sandwichWidths({ widths: [0.5, 1], min: 0.5, rng }), /either widths or min\/max/);
  assert.throws(() => sandwichWidths({ rng }), /give widths, or min/);
  assert.throws(() => sandwichWidths({ min: 0.8, max: 0.5, rng }), /min 0.8 is above max 0.5/);
  assert.throws(() => sandwichWidths({ min: 0.5, sample: 'list', rng }), /'list' needs widths/);
  assert.throws(() => sandwichWidths({ widths: [0, 1], rng }), /width must be in \(0, 1\], got 0/);
});
