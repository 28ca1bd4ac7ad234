import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { formatSi, integerTicks, logTicks } from '../../lib/plot/ticks';

test('formatSi: SI suffixes, three significant digits, no trailing zeros', () => {
  const cases: Array<[number, string]> = [[20000, '20k'], [200000, '200k'], [1500000, '1.5M'], [1234, '1.23k'],
    [999, '999'], [2.5e9, '2.5G'], [0.05, '0.05'], [0.5, '0.5'], [1e-4, '1e-4'], [0, '0'], [-3000, '-3k']];
  for (const [v, s] of cases) assert.equal(formatSi(v), s, String(v));
});

test('logTicks: 1-2-5 steps over 3k to 200k parameters, the other digits as unlabelled minor ticks', () => {
  const t = logTicks(3100, 203000);
  assert.deepEqual(t.tickvals, [5000, 10000, 20000, 50000, 100000, 200000]);
  assert.deepEqual(t.ticktext, ['5k', '10k', '20k', '50k', '100k', '200k']);
  assert.deepEqual(t.minor.slice(0, 6), [4000, 6000, 7000, 8000, 9000, 30000]);
  assert.ok(t.minor.every((v) => v >= 3100 && v <= 203000 && !t.tickvals.includes(v)));
  assert.deepEqual(logTicks(0.3, 5).ticktext, ['0.5', '1', '2', '5'], 'latency in ms');
});

test('logTicks: every digit over a narrow range, decades only over a wide one', () => {
  assert.deepEqual(logTicks(2000, 9000).ticktext, ['2k', '3k', '4k', '5k', '6k', '7k', '8k', '9k']);
  assert.deepEqual(logTicks(10, 1e6).ticktext, ['10', '100', '1k', '10k', '100k', '1M']);
  assert.equal(logTicks(10, 1e6).minor.length, 5 * 8);
  assert.deepEqual(logTicks(1, 1e12).ticktext, ['1', '100', '10k', '1M', '100M', '10G', '1T'], 'every second decade past nine');
  assert.throws(() => logTicks(0, 10), /expected 0 < lo <= hi, received \[0, 10\]/);
});

test('integerTicks: whole-number steps of 1, 2 or 5 for integer values, nothing for fractional ones', () => {
  assert.deepEqual(integerTicks([1, 2, 3]), { tickmode: 'linear', tick0: 0, dtick: 1, tickformat: 'd' });
  assert.equal(integerTicks([1, 20]).dtick, 2);
  assert.equal(integerTicks([1, 30]).dtick, 5);
  assert.equal(integerTicks([5]).dtick, 1);
  assert.deepEqual(integerTicks([1, 100]), { tickformat: 'd' });
  assert.deepEqual(integerTicks([1, 1.5, 2]), {});
  assert.deepEqual(integerTicks([]), {});
});
