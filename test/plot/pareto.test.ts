import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { pareto, paretoFront } from '../../lib/plot/pareto';

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
