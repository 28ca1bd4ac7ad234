// The channel rule shared by every slimmable layer, supernet and extraction.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { normalizeWidths, slimChannels, widthOf } from '../../lib/slim';

test('slimChannels is min(c, max(1, round half up(w * c)))', () => {
  assert.deepEqual([0.25, 0.5, 0.75, 1].map((w) => slimChannels(64, w)), [16, 32, 48, 64]);
  assert.equal(slimChannels(12, 0.6), 7);   // 7.2
  assert.equal(slimChannels(30, 0.75), 23); // 22.5 rounds up
  assert.equal(slimChannels(10, 0.35), 4);  // 3.4999999999999996 in floating point
  assert.equal(slimChannels(3, 0.1), 1);    // never zero
  assert.equal(slimChannels(5, 1), 5);
  for (const c of [1, 3, 7, 64, 172]) {
    for (const w of [0.1, 0.25, 0.33, 0.5, 0.6, 0.75, 0.9, 1]) {
      const a = slimChannels(c, w);
      assert.equal(slimChannels(a, 1), a, 'a subnet runs at width 1');
      assert.ok(a >= 1 && a <= c);
    }
  }
  assert.throws(() => slimChannels(8, 1.2), /width must be in \(0, 1\], got 1.2/);
});

test('widths default to 1, are checked, and lists are sorted without duplicates', () => {
  assert.equal(widthOf({ training: false }), 1);
  assert.equal(widthOf({ training: false, width: 0.5 }), 0.5);
  assert.throws(() => widthOf({ training: false, width: -1 }, 'layer x'), /layer x: width must be in \(0, 1\], got -1/);
  assert.deepEqual(normalizeWidths([1, 0.25, 0.5, 0.25], 'test'), [0.25, 0.5, 1]);
  assert.throws(() => normalizeWidths([], 'test'), /width list is empty/);
});
