// Tables of records: columns in first-seen order, escaping, number formatting, display in tslab and
// the console.table fallback elsewhere.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { table, tableColumns, tableHtml } from '../../lib/plot/table';
import { count } from './chromium';
import { startFakeTslab } from './fake_tslab';

const rows = [
  { split: 'train', items: 402, acc: 0.123456 },
  { split: 'test <b>', items: 102, extra: 'x & y' },
];

test('tableColumns: every key in the order first seen; non-object rows are an error', () => {
  assert.deepEqual(tableColumns(rows), ['split', 'items', 'acc', 'extra']);
  assert.deepEqual(tableColumns([]), []);
  assert.throws(() => tableColumns([rows[0], 3 as unknown as object]), /row 1 is not an object/);
  assert.throws(() => tableColumns('rows' as unknown as []), /expected an array of row objects/);
});

test('tableHtml: a header and one row per record; missing cells empty, text escaped, numbers right-aligned', () => {
  const html = tableHtml(rows, { title: 'kws & co' });
  assert.match(html, /^<table class="slimspeech-table"[^>]*><caption[^>]*>kws &amp; co<\/caption><thead><tr>(<th[^>]*>[a-z]+<\/th>){4}<\/tr><\/thead><tbody>/);
  assert.equal(count(html, '<tr>'), 3);
  assert.equal(count(html, '<td'), 8);
  assert.match(html, /text-align:right">0\.1235<\/td>/);
  assert.match(html, /text-align:right">402<\/td>/);
  assert.match(html, /text-align:left">test &lt;b&gt;<\/td>/);
  assert.match(html, /x &amp; y/);
  assert.match(html, /0\.1235<\/td><td[^>]*><\/td><\/tr>/, 'the first row has no extra: an empty cell');
  assert.match(html, /102<\/td><td[^>]*><\/td><td[^>]*>x &amp; y<\/td><\/tr><\/tbody><\/table>$/, 'the second row has no acc');
  assert.equal(count(html, '<td'), count(html, '</td>'));
  assert.match(tableHtml(rows, { precision: 2 }), />0\.12</);
  assert.match(tableHtml([{ a: [1, 2], b: null, c: true }]), />\[1,2\]<\/td><td[^>]*><\/td><td[^>]*>true</, 'arrays as JSON, null empty');
  assert.throws(() => tableHtml(rows, { precision: 0 }), /precision must be an integer from 1 to 17/);
});

test('table: inline HTML in a tslab kernel, console.table elsewhere; returns nothing', () => {
  const logged: unknown[] = [];
  const original = { log: console.log, table: console.table };
  console.log = (...a: unknown[]) => { logged.push(a.join(' ')); };
  console.table = (d: unknown) => { logged.push(d); };
  try {
    assert.equal(table(rows, { title: 'outside' }), undefined);
  } finally {
    Object.assign(console, original);
  }
  assert.deepEqual(logged, ['outside', rows]);
  const kernel = startFakeTslab();
  kernel.setReady(true);
  assert.equal(table(rows), undefined);
  assert.equal(kernel.outputs.length, 1);
  assert.equal(kernel.outputs[0], tableHtml(rows));
});
