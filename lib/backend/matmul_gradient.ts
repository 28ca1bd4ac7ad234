import * as tf from '@tensorflow/tfjs';

/** Sums `g` over the leading and size-1 axes that broadcasting added, so it takes `shape`. */
function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return tf.reshape(axes.length ? tf.sum(g, axes) : g, shape);
}

let done = false;

/**
 * Replaces tfjs-core's BatchMatMul gradient, which returns a gradient with the broadcast batch shape for
 * an operand whose batch dimensions were broadcast (e.g. [4, 7, 5] @ [5, 3] gives b a [4, 5, 3]
 * gradient and the engine then throws). Same formulas, then a sum over the broadcast axes.
 */
export function registerMatMulGradient(): void {
  if (done) return;
  done = true;
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: ((dy: tf.Tensor, saved: tf.Tensor[], attrs: Record<string, unknown>) => {
      const [a, b] = saved;
      const ta = Boolean(attrs.transposeA), tb = Boolean(attrs.transposeB);
      let da: () => tf.Tensor, db: () => tf.Tensor;
      if (!ta && !tb) {
        da = () => tf.matMul(dy, b, false, true); db = () => tf.matMul(a, dy, true, false);
      } else if (!ta && tb) {
        da = () => tf.matMul(dy, b, false, false); db = () => tf.matMul(dy, a, true, false);
      } else if (ta && !tb) {
        da = () => tf.matMul(b, dy, false, true); db = () => tf.matMul(a, dy, false, false);
      } else {
        da = () => tf.matMul(b, dy, true, true); db = () => tf.matMul(dy, a, true, true);
      }
      return { a: () => reduceTo(da(), a.shape), b: () => reduceTo(db(), b.shape) };
    }) as unknown as tf.GradFunc,
  });
}
