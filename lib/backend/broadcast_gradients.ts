import * as tf from '@tensorflow/tfjs';
import { FUSED, hasKernel } from './fused_names';

/** Sums `g` over the leading and size-1 axes that broadcasting added, so it takes `shape`. */
export function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return tf.reshape(axes.length ? tf.sum(g, axes) : g, shape);
}

let done = false;

type Grad = (dy: tf.Tensor, saved: tf.Tensor[]) => Record<string, () => tf.Tensor>;

function binary(kernelName: string, f: Grad): void {
  tf.registerGradient({ kernelName, inputsToSave: ['a', 'b'], gradFunc: f as unknown as tf.GradFunc });
}

/**
 * Replaces tfjs-core's gradients that forget to sum over broadcast axes (so a broadcast operand receives a
 * gradient of the broadcast shape and the engine throws): BatchMatMul (e.g. [4, 7, 5] @ [5, 3]), Maximum,
 * Minimum and SquaredDifference (e.g. maximum(x [1, 5, 3], floor [1, 1, 1])). Same formulas, then a sum
 * over the broadcast axes. Maximum sends the gradient to `a` where a >= b, as tfjs does.
 */
export function registerBroadcastGradients(): void {
  if (done) return;
  registerMatMulGradient();
  binary('Maximum', (dy, [a, b]) => ({
    a: () => reduceTo(tf.mul(dy, tf.cast(tf.greaterEqual(a, b), 'float32')), a.shape),
    b: () => reduceTo(tf.mul(dy, tf.cast(tf.less(a, b), 'float32')), b.shape),
  }));
  binary('Minimum', (dy, [a, b]) => ({
    a: () => reduceTo(tf.mul(dy, tf.cast(tf.lessEqual(a, b), 'float32')), a.shape),
    b: () => reduceTo(tf.mul(dy, tf.cast(tf.greater(a, b), 'float32')), b.shape),
  }));
  // Not a broadcast fix: ReLU's gradient in one pass where the backend has the kernel (tfjs computes
  // dy * step(cast(x)), three full passes); the same formula elsewhere.
  tf.registerGradient({
    kernelName: 'Relu', inputsToSave: ['x'],
    gradFunc: ((dy: tf.Tensor, [x]: tf.Tensor[]) => ({
      x: () => (x.dtype === 'float32' && hasKernel(FUSED.reluGrad)
        ? tf.engine().runKernel(FUSED.reluGrad, { x, dy }, {}) as tf.Tensor
        : tf.mul(dy, tf.step(tf.cast(x, 'float32')))),
    })) as unknown as tf.GradFunc,
  });
  // Softmax's gradient y * (dy - sum(dy * y)) in one pass over the last axis where the backend has the
  // kernel (tfjs: four full passes); the same formula elsewhere.
  tf.registerGradient({
    kernelName: 'Softmax', outputsToSave: [true],
    gradFunc: ((dy: tf.Tensor, [y]: tf.Tensor[], attrs: Record<string, unknown>) => ({
      logits: () => {
        const dim = attrs.dim as number;
        const last = dim === -1 || dim === y.rank - 1;
        if (last && y.dtype === 'float32' && hasKernel(FUSED.softmaxGrad)) {
          return tf.engine().runKernel(FUSED.softmaxGrad, { y, dy }, {}) as tf.Tensor;
        }
        const dyTimesY = tf.mul(dy, y);
        return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [dim], true), y));
      },
    })) as unknown as tf.GradFunc,
  });
  binary('SquaredDifference', (dy, [a, b]) => ({
    a: () => reduceTo(tf.mul(dy, tf.mul(tf.sub(a, b), 2)), a.shape),
    b: () => reduceTo(tf.mul(dy, tf.mul(tf.sub(b, a), 2)), b.shape),
  }));
  done = true;
}

/**
 * Replaces tfjs-core's BatchMatMul gradient, which returns a gradient with the broadcast batch shape for
 * an operand whose batch dimensions were broadcast (e.g. [4, 7, 5] @ [5, 3] gives b a [4, 5, 3]
 * gradient and the engine then throws). Same formulas, then a sum over the broadcast axes.
 */
function registerMatMulGradient(): void {
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
