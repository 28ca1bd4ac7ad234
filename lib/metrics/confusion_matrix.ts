import { ClassesLike, readClasses } from './accuracy';

/**
 * How {@link confusionMatrix} normalises counts, as sklearn's `normalize`: 'none' keeps counts; 'true'
 * divides each row by its number of true examples; 'pred' each column by its number of predictions;
 * 'all' everything by the number of examples. An empty row or column stays 0.
 */
export type ConfusionNormalize = 'none' | 'true' | 'pred' | 'all';

/** Options of {@link confusionMatrix}. */
export interface ConfusionMatrixOptions {
  /** See {@link ConfusionNormalize}. Default 'none'. */
  normalize?: ConfusionNormalize;
}

/**
 * Confusion matrix, `m[i][j]` = number of examples of true class i predicted as class j, equal to
 * `sklearn.metrics.confusion_matrix(labels, predictions, labels=range(numClasses), normalize=...)`.
 * Rows are true classes, columns predictions (the layout of plot.confusionMatrix).
 *
 * @param predictions class indices [batch] (tensor or array), or scores [batch, classes] (tensor, argmax taken)
 * @param labels class indices [batch], or one-hot [batch, classes] (tensor)
 * @param numClasses size of the matrix; default 1 + the largest index seen in either input
 * @returns numClasses rows of numClasses numbers
 * @throws when the batch sizes differ or an index is >= numClasses
 */
export function confusionMatrix(predictions: ClassesLike, labels: ClassesLike, numClasses?: number,
  options: ConfusionMatrixOptions = {}): number[][] {
  const { normalize = 'none' } = options;
  const p = readClasses(predictions, 'predictions', 'confusionMatrix');
  const y = readClasses(labels, 'labels', 'confusionMatrix');
  if (p.length !== y.length) throw new Error(`confusionMatrix: ${p.length} predictions but ${y.length} labels`);
  if (numClasses !== undefined && (!Number.isInteger(numClasses) || numClasses < 1)) {
    throw new Error(`confusionMatrix: numClasses must be an integer >= 1; got ${numClasses}`);
  }
  let n = numClasses ?? 0;
  if (numClasses === undefined) for (let i = 0; i < p.length; i++) n = Math.max(n, p[i] + 1, y[i] + 1);
  const m: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < p.length; i++) {
    if (p[i] >= n || y[i] >= n) {
      throw new Error(`confusionMatrix: example ${i} has label ${y[i]} and prediction ${p[i]}, but numClasses is ${n}`);
    }
    m[y[i]][p[i]]++;
  }
  switch (normalize) {
    case 'none':
      return m;
    case 'true':
      return m.map((row) => {
        const total = row.reduce((a, b) => a + b, 0);
        return row.map((v) => (total > 0 ? v / total : 0));
      });
    case 'pred': {
      const totals = m[0].map((_, j) => m.reduce((a, row) => a + row[j], 0));
      return m.map((row) => row.map((v, j) => (totals[j] > 0 ? v / totals[j] : 0)));
    }
    case 'all':
      return m.map((row) => row.map((v) => (p.length > 0 ? v / p.length : 0)));
    default:
      throw new Error(`confusionMatrix: normalize must be 'none', 'true', 'pred' or 'all'; got '${normalize as string}'`);
  }
}
