import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { PALETTE } from '../../lib/plot/figure';
import { palette } from '../../lib/plot/palette';
import { assertClose } from '../helpers';
import { autorangeOf, pareto, paretoFront } from '../../lib/plot/pareto';

// Points (cost, accuracy), worked out by hand:
//   0 (1, 0.50)  front: cheapest
//   1 (2, 0.70)  front
//   2 (3, 0.60)  dominated by 1 (cheaper and better)
//   3 (1.5, 0.65) front
//   4 (4, 0.80)  front
//   5 (4, 0.75)  dominated by 4 (same cost, worse)
//   6 (2, 0.70)  duplicate of 1: only the first is kept
//   7 (5, 0.80)  dominated by 4 (costlier, equal)
const X = [1, 2, 3, 1.5, 4, 4, 2, 5];
const Y = [0.5, 0.7, 0.6, 0.65, 0.8, 0.75, 0.7, 0.8];

test('paretoFront: the non-dominated points of a known set, by increasing cost', () => {
  assert.deepEqual(paretoFront(X, Y), [0, 3, 1, 4]);
});

test('paretoFront with maximize false (lower metric is better, e.g. EER)', () => {
  // (cost, EER): 0 (1, 0.3) front; 1 (2, 0.2) front; 2 (3, 0.25) dominated by 1; 3 (4, 0.1) front.
  assert.deepEqual(paretoFront([1, 2, 3, 4], [0.3, 0.2, 0.25, 0.1], { maximize: false }), [0, 1, 3]);
});

test('paretoFront: every front point is undominated and every other point is dominated (random sets)', () => {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let trial = 0; trial < 50; trial++) {
    const n = 1 + Math.floor(rand() * 30);
    const x = Array.from({ length: n }, () => Math.round(rand() * 10));
    const y = Array.from({ length: n }, () => Math.round(rand() * 10));
    const front = new Set(paretoFront(x, y));
    const dominates = (j: number, i: number) => x[j] <= x[i] && y[j] >= y[i] && (x[j] < x[i] || y[j] > y[i]);
    for (let i = 0; i < n; i++) {
      const dominated = x.some((_, j) => dominates(j, i));
      const duplicateOfEarlier = x.some((_, j) => j < i && x[j] === x[i] && y[j] === y[i]);
      assert.equal(front.has(i), !dominated && !duplicateOfEarlier, `point ${i} of ${JSON.stringify({ x, y })}`);
    }
  }
});

test('paretoFront rejects mismatched lengths and non-finite values', () => {
  assert.throws(() => paretoFront([1, 2], [1]), /x has 2 values but y has 1/);
  assert.throws(() => paretoFront([1, NaN], [1, 2]), /x: element 1 is NaN/);
});

test('pareto: a marker trace per series and one staircase front over all points', async () => {
  const fig = await pareto({
    slimmable: { x: X.slice(0, 4), y: Y.slice(0, 4), labels: ['a', 'b', 'c', 'd'] },
    independent: { x: X.slice(4), y: Y.slice(4) },
  }, { xTitle: 'parameters', yTitle: 'accuracy', logX: true });
  assert.equal(fig.data.length, 3);
  assert.deepEqual(fig.data.map((t) => t.name), ['slimmable', 'independent', 'Pareto front']);
  assert.equal(fig.data[0].mode, 'markers+text');
  assert.deepEqual(fig.data[0].text, ['a', 'b', 'c', 'd']);
  const front = fig.data[2];
  assert.deepEqual(front.x, [1, 1.5, 2, 4]);
  assert.deepEqual(front.y, [0.5, 0.65, 0.7, 0.8]);
  assert.equal((front.line as { shape: string }).shape, 'hv');
  assert.equal(fig.layout.xaxis?.type, 'log');
  assert.equal(fig.layout.xaxis?.title?.text, 'parameters');
  assert.equal(fig.layout.yaxis?.title?.text, 'accuracy');
});

test("pareto: front 'each' draws one front per series, 'none' none; bad labels are errors", async () => {
  const series = { a: { x: [1, 2, 3], y: [1, 3, 2] }, b: { x: [1, 2], y: [2, 1] } };
  const each = await pareto(series, { front: 'each' });
  assert.equal(each.data.length, 4);
  assert.deepEqual(each.data[1].x, [1, 2]);
  assert.deepEqual(each.data[3].x, [1]);
  assert.equal((await pareto(series, { front: 'none' })).data.length, 2);
  const single = await pareto({ x: [1], y: [2] });
  assert.equal(single.data[0].name, 'models');
  await assert.rejects(pareto({ a: { x: [1, 2], y: [1, 2], labels: ['x'] } }), /series\.a\.labels has 1 entries but there are 2 points/);
});

test('pareto: a log axis gets 1-2-5 ticks with SI texts and unlabelled minor ticks', async () => {
  const fig = await pareto({ a: { x: [3100, 9800, 35200], y: [0.8, 0.88, 0.91] }, b: { x: [14000, 203000], y: [0.78, 0.91] } },
    { logX: true });
  const xaxis = fig.layout.xaxis!;
  assert.deepEqual(xaxis.ticktext, ['5k', '10k', '20k', '50k', '100k', '200k']);
  assert.deepEqual(xaxis.tickvals, [5000, 10000, 20000, 50000, 100000, 200000]);
  assert.equal(xaxis.tickmode, 'array');
  assert.ok((xaxis.minor as { tickvals: number[] }).tickvals.includes(30000));
  assert.equal(xaxis.range, undefined, 'Plotly autoranges, so shapes a caller adds stay in view');
  await assert.rejects(pareto({ a: { x: [0, 1], y: [1, 2] } }, { logX: true }), /series\.a\.x: element 0 is 0, but a log axis needs costs > 0/);
});

test('pareto: labels placed apart (the same text beside it only once), all on hover; labelMode hover draws none', async () => {
  // Two variants of each width at the same cost, their accuracies close: the labels of a width would overprint.
  const series = {
    slimmable: { x: [1000, 4000, 16000], y: [0.8, 0.85, 0.9], labels: ['0.25×', '0.5×', '1×'] },
    independent: { x: [1000, 4000, 16000], y: [0.805, 0.855, 0.905], labels: ['0.25×', '0.5×', '1×'] },
  };
  const fig = await pareto(series, { logX: true });
  const shown = fig.data.slice(0, 2).flatMap((t) => (t.text as string[] | undefined) ?? []).filter((s) => s !== '');
  assert.deepEqual(shown.sort(), ['0.25×', '0.5×', '1×'], 'each width labelled once');
  assert.deepEqual(fig.data[0].customdata, ['0.25×', '0.5×', '1×']);
  assert.match(fig.data[0].hovertemplate as string, /^slimmable %\{customdata\}<br>parameters %\{x:,\.4~r\}<br>accuracy/);
  const hover = await pareto(series, { labelMode: 'hover' });
  assert.deepEqual(hover.data.slice(0, 2).map((t) => t.mode), ['markers', 'markers']);
  assert.deepEqual(hover.data[1].customdata, ['0.25×', '0.5×', '1×']);
  await assert.rejects(pareto(series, { labelMode: 'all' as 'hover' }), /labelMode must be 'placed' or 'hover', received string "all"/);
});

test('pareto: paired colours: a method fixes the colour, the variant the marker (filled or open) and front dash', async () => {
  const pal = palette(['DS-CNN', 'KWT'], { variants: ['slimmable', 'independent'] });
  const keys = (name: string) => ({ group: name.split(' ')[0], variant: name.split(' ')[1] });
  const fig = await pareto({ 'KWT independent': { x: [3], y: [0.7] }, 'DS-CNN slimmable': { x: [1], y: [0.6] } },
    { palette: pal, keys, front: 'each' });
  const marker = (i: number) => fig.data[i].marker as { color: string; symbol: string };
  assert.deepEqual([marker(0).color, marker(0).symbol], [PALETTE[1], 'circle-open']);
  assert.deepEqual([marker(2).color, marker(2).symbol], [PALETTE[0], 'circle']);
  assert.equal((fig.data[1].line as { dash: string }).dash, 'dash');
  assert.equal((fig.data[3].line as { dash: string }).dash, 'solid');
});

test('autorangeOf: the range Plotly autoranges to (5% of the length and half a marker beyond the extreme points)', () => {
  // Points at 0 and 1, pad 5 px, on 200 px: 15 px beyond each, so 170 px hold one unit.
  assertClose(autorangeOf([{ val: 0, pad: 5 }, { val: 1, pad: 5 }], 200), [-15 / 170, 1 + 15 / 170]);
  // A line at -1 (pad 0) sits on the edge; the point at 1 keeps its 15 px.
  assertClose(autorangeOf([{ val: -1, pad: 0 }, { val: 0, pad: 5 }, { val: 1, pad: 5 }], 200), [-1, 1 + 2 * 15 / 185]);
  assert.deepEqual(autorangeOf([{ val: 3, pad: 5 }], 200), [2, 4]);
});

test('pareto: yInclude fixes the y range to take in baselines at its edge; labels are placed for it', async () => {
  const fig = await pareto({ a: { x: [1, 2], y: [0.8, 0.9], labels: ['p', 'q'] } }, { yInclude: [0.083] });
  const [lo, hi] = fig.layout.yaxis!.range!;
  assert.equal(lo, 0.083);
  assert.ok(hi > 0.9);
  await assert.rejects(pareto({ a: { x: [1], y: [1] } }, { yInclude: [NaN] }), /options\.yInclude: element 0 is NaN/);
});
