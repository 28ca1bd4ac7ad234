// Results writers: CSV, the text table with intervals, Student-t intervals, pooling rows over seeds.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { aggregateSeeds, formatTable, resultsCsv, tInterval, writeResults, RecipeResults } from '../../lib/experiments/results';

test('resultsCsv: a header of every key in first-seen order, quoting commas and quotes, empty for null', () => {
  const csv = resultsCsv([{ a: 1, b: 'x,y' }, { a: null, c: 'say "hi"' }]);
  assert.equal(csv, 'a,b,c\n1,"x,y",\n,,"say ""hi"""\n');
});

test('formatTable: chosen columns and formats; a value with Lo/Hi companions shows its interval', () => {
  const t = formatTable([{ arch: 'kwt', acc: 0.5, accLo: 0.4, accHi: 0.6, params: 12345 }],
    [{ key: 'arch' }, { key: 'acc', title: 'acc %', format: 'pct' }, { key: 'params', format: 'int' }]);
  const lines = t.split('\n');
  assert.match(lines[0], /arch\s+acc %\s+params/);
  assert.match(lines[2], /kwt\s+50\.0 \[40\.0, 60\.0\]\s+12,345/);
});

test('tInterval equals mean -/+ t(0.975, n-1) sd / sqrt(n) (scipy.stats.t.ppf(0.975, 2) = 4.303)', () => {
  const { mean, lo, hi } = tInterval([1, 2, 3]);
  assert.equal(mean, 2);
  assert.ok(Math.abs(hi - (2 + 4.303 * 1 / Math.sqrt(3))) < 1e-9);
  assert.ok(Math.abs(lo - (2 - 4.303 / Math.sqrt(3))) < 1e-9);
  assert.deepEqual(tInterval([5]), { mean: 5, lo: 5, hi: 5 });
});

test('aggregateSeeds pools rows by key: means with intervals for numbers, the rest from the first seed', () => {
  const rows = aggregateSeeds([
    [{ arch: 'a', width: 1, acc: 0.5, model: 'm1' }, { arch: 'b', width: 1, acc: 0.2, model: 'm2' }],
    [{ arch: 'b', width: 1, acc: 0.4, model: 'x' }, { arch: 'a', width: 1, acc: 0.7, model: 'y' }],
  ], ['arch', 'width']);
  assert.equal(rows.length, 2);
  assert.ok(Math.abs((rows[0].acc as number) - 0.6) < 1e-12);
  assert.ok((rows[0].accLo as number) < 0.6 && (rows[0].accHi as number) > 0.6);
  assert.equal(rows[0].width, 1, 'key fields are not averaged');
  assert.equal(rows[0].model, 'm1');
  assert.throws(() => aggregateSeeds([[{ arch: 'a', acc: 1 }], [{ arch: 'c', acc: 1 }]], ['arch']), /seed 1 has no row/);
});

test('writeResults writes results.json and results.csv atomically', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-results-'));
  const r: RecipeResults = { experiment: 'x', preset: 'quick', overrides: [], backend: 'cpu', version: '0', seeds: [0],
    rows: [{ a: 1 }], claims: [], baselines: { chance: 0.5 } };
  const out = writeResults(dir, r);
  assert.deepEqual(JSON.parse(fs.readFileSync(out.json, 'utf8')), r);
  assert.equal(fs.readFileSync(out.csv, 'utf8'), 'a\n1\n');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['results.csv', 'results.json'], 'no temporary file left');
});
