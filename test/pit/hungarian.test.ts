// The Hungarian solver: optimal against brute force, scipy's convention, non-finite costs, errors.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { linearSumAssignment } from '../../lib/pit';
import { Rng } from '../../lib/util/rng';

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]));
}

test('linearSumAssignment finds the least total cost (brute force over all assignments, S = 1..6)', () => {
  const rng = new Rng(7);
  for (let S = 1; S <= 6; S++) {
    for (let rep = 0; rep < 20; rep++) {
      const cost = Array.from({ length: S }, () => Array.from({ length: S }, () => rng.normal(0, 10)));
      const a = linearSumAssignment(cost);
      assert.deepEqual([...a].sort((x, y) => x - y), [...Array(S).keys()], 'a permutation');
      const total = (p: number[]) => p.reduce((s, j, i) => s + cost[i][j], 0);
      const best = Math.min(...permutations(S).map(total));
      assert.ok(Math.abs(total(a) - best) < 1e-9, `S = ${S}: cost ${total(a)}, optimum ${best}`);
    }
  }
});

test('linearSumAssignment: assignment[i] is the column of row i (scipy linear_sum_assignment(cost)[1])', () => {
  // scipy.optimize.linear_sum_assignment([[4, 1, 3], [2, 0, 5], [3, 2, 2]]) -> rows [0, 1, 2], cols [1, 0, 2].
  assert.deepEqual(linearSumAssignment([[4, 1, 3], [2, 0, 5], [3, 2, 2]]), [1, 0, 2]);
  assert.deepEqual(linearSumAssignment([Float32Array.of(0, 5), Float32Array.of(5, 0)]), [0, 1]);
});

test('linearSumAssignment ends on non-finite costs and rejects non-square matrices', () => {
  assert.deepEqual(linearSumAssignment([[NaN, 1], [1, Infinity]]), [1, 0]);
  assert.deepEqual(linearSumAssignment([[-Infinity, 1], [1, 2]]), [0, 1]);
  assert.throws(() => linearSumAssignment([[1, 2], [3]]), /square, got row 1 of 1 in a matrix of 2 rows/);
});
