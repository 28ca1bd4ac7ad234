import { munkres } from 'munkres';

/**
 * The assignment of rows to columns of a square cost matrix with the least total cost (the linear sum
 * assignment problem), solved on the host by the Hungarian (Kuhn-Munkres) algorithm of the `munkres` package,
 * O(S^3): `assignment[i]` is the column given to row i, as scipy's `linear_sum_assignment(cost)[1]`.
 * Non-finite costs are replaced by +-1e30 so that the solver always ends (a NaN loss is then caught by the
 * training loop's guard, not by a hanging solver).
 *
 * @param cost S x S costs, `cost[i][j]` the cost of giving column j to row i
 * @returns [S] column indices
 */
export function linearSumAssignment(cost: ArrayLike<ArrayLike<number>>): number[] {
  const n = cost.length;
  const m: number[][] = [];
  for (let i = 0; i < n; i++) {
    if (cost[i].length !== n) throw new Error(`linearSumAssignment: the cost matrix must be square, got row ${i} of ${cost[i].length} in a matrix of ${n} rows`);
    m.push(Array.from(cost[i], (v) => (Number.isNaN(v) || v === Infinity ? 1e30 : v === -Infinity ? -1e30 : v)));
  }
  const out = new Array<number>(n).fill(-1);
  for (const [row, col] of munkres(m)) out[row] = col;
  return out;
}
