import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LabelPoint, labelBox, placeLabels, textWidth } from '../../lib/plot/labels';

test('textWidth errs wide of DejaVu Sans and Verdana and grows with wide letters', () => {
  // DejaVu Sans advance widths (em): _ 0.500, s 0.521, i 0.278, l 0.278, e 0.615, n 0.634, c 0.550: '_silence_' = 4.49 em.
  assert.ok(textWidth('_silence_', 12) >= 4.49 * 12 && textWidth('_silence_', 12) < 5 * 12, String(textWidth('_silence_')));
  assert.ok(textWidth('mmm') > textWidth('nnn') && textWidth('nnn') > textWidth('iii'));
  assert.equal(textWidth('ab', 24), 2 * textWidth('ab', 12));
  assert.equal(textWidth(''), 0);
});

test('labelBox: above, below or beside the marker, clear of it', () => {
  const top = labelBox(100, 100, 30, 'top center', 11, 9);
  assert.ok(top.y1 < 100 - 4.5 && top.x0 === 85 && top.x1 === 115);
  const bottom = labelBox(100, 100, 30, 'bottom center', 11, 9);
  assert.ok(bottom.y0 > 100 + 4);
  const right = labelBox(100, 100, 30, 'middle right', 11, 9);
  assert.ok(right.x0 > 104.5 && right.y0 < 100 && right.y1 > 100);
  assert.ok(labelBox(100, 100, 30, 'bottom left', 11, 9).x1 < 95.5);
});

test('placeLabels: above by default, below when the point above is in the way, null when nothing fits', () => {
  const area = { width: 400, height: 300 };
  assert.deepEqual(placeLabels([{ x: 50, y: 100, text: 'a' }, { x: 300, y: 100, text: 'b' }], area), ['top center', 'top center']);
  // Two points 10 px apart vertically: the upper one keeps the top, the lower goes below its marker.
  assert.deepEqual(placeLabels([{ x: 100, y: 110, text: '0.5×' }, { x: 100, y: 100, text: '0.75×' }], area),
    ['bottom center', 'top center']);
  // At the top edge there is no room above.
  assert.deepEqual(placeLabels([{ x: 100, y: 3, text: 'a' }], area), ['bottom center']);
  // The same text right next to a placed one is redundant.
  assert.deepEqual(placeLabels([{ x: 100, y: 100, text: '1×' }, { x: 100, y: 108, text: '1×' }], area), ['top center', null]);
  // A point hemmed in by markers on every side gets no label.
  const ring: LabelPoint[] = [];
  for (let dx = -24; dx <= 24; dx += 6) for (let dy = -24; dy <= 24; dy += 6) ring.push({ x: 200 + dx, y: 150 + dy, text: '' });
  assert.equal(placeLabels([{ x: 200, y: 150, text: 'inside' }, ...ring], area)[0], null);
});

test('placeLabels: higher priority first; placed labels never overlap each other, a marker or the edge', () => {
  assert.deepEqual(placeLabels([{ x: 100, y: 110, text: 'low' }, { x: 100, y: 100, text: 'high', priority: 1 }],
    { width: 400, height: 300 }).reverse(), ['top center', 'bottom center']);
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let trial = 0; trial < 20; trial++) {
    const points = Array.from({ length: 30 }, (_, i) => ({ x: rand() * 300, y: rand() * 200, text: `${i % 7}.25×` }));
    const pos = placeLabels(points, { width: 300, height: 200, fontSize: 11, markerSize: 9 });
    const owner = points.flatMap((_, i) => (pos[i] === null ? [] : [i]));
    const boxes = owner.map((i) => labelBox(points[i].x, points[i].y, textWidth(points[i].text, 11), pos[i]!, 11, 9));
    assert.ok(boxes.length > 0);
    for (const [i, b] of boxes.entries()) {
      assert.ok(b.x0 >= 0 && b.y0 >= 0 && b.x1 <= 300 && b.y1 <= 200, `label ${i} leaves the area`);
      for (const c of boxes.slice(i + 1)) assert.ok(b.x1 <= c.x0 || c.x1 <= b.x0 || b.y1 <= c.y0 || c.y1 <= b.y0, 'labels overlap');
      for (const p of points.filter((_, j) => j !== owner[i])) {
        assert.ok(b.x1 <= p.x - 5.5 || p.x + 5.5 <= b.x0 || b.y1 <= p.y - 5.5 || p.y + 5.5 <= b.y0, 'a label covers another marker');
      }
    }
  }
});
