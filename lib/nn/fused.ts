import * as tf from '@tensorflow/tfjs';
import { FUSED, hasKernel } from '../backend/fused_names';

type CustomGradientFunc = Parameters<typeof tf.customGrad>[0];
const run = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown> = {}) =>
  tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];

/**
 * Normalisation of groups with a per-channel affine transform: x [G, M, C], each group's M*C values share
 * one mean and biased variance; y = (x - mean) / sqrt(var + eps) * gamma[c] + beta[c]. Layer norm is
 * [rows, 1, C]; Conv-TasNet's global layer norm is [batch, time, C]. Analytic gradient
 * dx = invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * gamma. On wasm one fused
 * kernel does each direction in two passes; elsewhere the same formulas run as tf ops.
 */
export function groupNorm(x: tf.Tensor3D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor3D {
  const f = tf.customGrad(((xi: tf.Tensor3D, g: tf.Tensor1D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
    let y: tf.Tensor, mean: tf.Tensor, invstd: tf.Tensor;
    if (hasKernel(FUSED.groupNorm)) {
      [y, mean, invstd] = run(FUSED.groupNorm, { x: xi, gamma: g, beta: b }, { eps });
    } else {
      const m = tf.mean(xi, [1, 2], true);
      const xc = tf.sub(xi, m);
      const inv = tf.rsqrt(tf.add(tf.mean(tf.square(xc), [1, 2], true), eps));
      y = tf.add(tf.mul(tf.mul(xc, inv), g), b);
      mean = tf.reshape(m, [-1]);
      invstd = tf.reshape(inv, [-1]);
    }
    save([xi, mean, invstd, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, mu, iv, gm] = saved;
        if (hasKernel(FUSED.groupNormGrad)) return run(FUSED.groupNormGrad, { dy, x: xs, mean: mu, invstd: iv, gamma: gm });
        const n = xs.shape[1]! * xs.shape[2]!;
        const m3 = tf.reshape(mu, [-1, 1, 1]), i3 = tf.reshape(iv, [-1, 1, 1]);
        const xhat = tf.mul(tf.sub(xs, m3), i3);
        const dxhat = tf.mul(dy, gm);
        const k1 = tf.div(tf.sum(dxhat, [1, 2], true), n);
        const k2 = tf.div(tf.sum(tf.mul(dxhat, xhat), [1, 2], true), n);
        const dx = tf.mul(i3, tf.sub(tf.sub(dxhat, k1), tf.mul(xhat, k2)));
        return [dx, tf.sum(tf.mul(dy, xhat), [0, 1]), tf.sum(dy, [0, 1])];
      },
    };
  }) as unknown as CustomGradientFunc);
  return f(x, gamma, beta) as tf.Tensor3D;
}

/**
 * Batch normalisation in training mode of x [R, C] (rows = every position of every example): returns y
 * and the batch mean and biased variance [C] (kept tensors; the caller disposes them). Analytic gradient
 * dx = gamma * invstd / R * (R dy - sum dy - xhat * sum(dy * xhat)); fused on wasm, tf ops elsewhere.
 */
export function batchNorm2d(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number):
  { y: tf.Tensor2D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const stats: { mean?: tf.Tensor1D; variance?: tf.Tensor1D } = {};
  const f = tf.customGrad(((xi: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
    let y: tf.Tensor, mean: tf.Tensor, invstd: tf.Tensor, variance: tf.Tensor;
    if (hasKernel(FUSED.batchNorm)) {
      [y, mean, invstd, variance] = run(FUSED.batchNorm, { x: xi, gamma: g, beta: b }, { eps });
    } else {
      mean = tf.mean(xi, 0);
      const xc = tf.sub(xi, mean);
      variance = tf.mean(tf.square(xc), 0);
      invstd = tf.rsqrt(tf.add(variance, eps));
      y = tf.add(tf.mul(tf.mul(xc, invstd), g), b);
    }
    stats.mean = tf.keep(mean.clone()) as tf.Tensor1D;
    stats.variance = tf.keep(variance.clone()) as tf.Tensor1D;
    save([xi, mean, invstd, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, mu, iv, gm] = saved;
        if (hasKernel(FUSED.batchNormGrad)) return run(FUSED.batchNormGrad, { dy, x: xs, mean: mu, invstd: iv, gamma: gm });
        const R = xs.shape[0]!;
        const xhat = tf.mul(tf.sub(xs, mu), iv);
        const dbeta = tf.sum(dy, 0);
        const dgamma = tf.sum(tf.mul(dy, xhat), 0);
        const dx = tf.mul(tf.mul(gm, tf.div(iv, R)), tf.sub(tf.sub(tf.mul(dy, R), dbeta), tf.mul(xhat, dgamma)));
        return [dx, dgamma, dbeta];
      },
    };
  }) as unknown as CustomGradientFunc);
  const y = f(x, gamma, beta) as tf.Tensor2D;
  return { y, mean: stats.mean!, variance: stats.variance! };
}

/**
 * PReLU over the last axis: y = max(0, x) + alpha * min(0, x) with alpha [1] (shared) or [C]. Gradient
 * dx = dy where x > 0 else dy * alpha, dalpha = sum over x <= 0 of dy * x; fused on wasm.
 */
export function prelu(x: tf.Tensor, alpha: tf.Tensor1D): tf.Tensor {
  const f = tf.customGrad(((xi: tf.Tensor, a: tf.Tensor1D, save: tf.GradSaveFunc) => {
    save([xi, a]);
    return {
      value: hasKernel(FUSED.prelu) ? run(FUSED.prelu, { x: xi, alpha: a }) as unknown as tf.Tensor
        : tf.add(tf.relu(xi), tf.mul(a, tf.minimum(xi, 0))),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, as] = saved;
        if (hasKernel(FUSED.preluGrad)) return run(FUSED.preluGrad, { x: xs, dy, alpha: as });
        const pos = tf.greater(xs, 0);
        const dx = tf.where(pos, dy, tf.mul(dy, as));
        const neg = tf.where(pos, tf.zerosLike(dy), tf.mul(dy, xs));
        const da = as.size === 1 ? tf.reshape(tf.sum(neg), [1]) : tf.sum(tf.reshape(neg, [-1, as.size]), 0);
        return [dx, da];
      },
    };
  }) as unknown as CustomGradientFunc);
  return f(x, alpha);
}

/**
 * The recurrence of an LSTM layer over a whole sequence from zero state, given the input projection
 * xw = x W_ih + b_ih + b_hh [B, T, 4H] (gates i, f, g, o as PyTorch) and W_hh [H, 4H]: returns the outputs
 * hs [B, T, H] and, with `cells`, the cell states cs [B, T, H] (both differentiable). On wasm two fused
 * kernels run the forward recurrence and backpropagation through time (dxw and dW_hh) in one call each;
 * callers use the unrolled tf ops elsewhere.
 *
 * The forward kernel has three outputs (outputs, gates, cell states). Registered as a taped kernel, tfjs
 * would hand its gradient a zero tensor built in JavaScript for every output nobody used (the gates always,
 * [B, T, 4H]) and copy it into the wasm heap: about a third of a DPRNN training step. So the kernel runs
 * inside tf.customGrad, whose one output is hs, or hs and cs side by side [B, T, 2H] (split here).
 */
export function lstmSequence(xw: tf.Tensor3D, whh: tf.Tensor2D, opts: { cells?: boolean } = {}): { hs: tf.Tensor3D; cs?: tf.Tensor3D } {
  const H = whh.shape[0];
  const cells = opts.cells ?? false;
  const f = tf.customGrad(((x: tf.Tensor3D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
    const [hs, gates, cs] = run(FUSED.lstm, { xw: x, whh: w });
    save([w, hs, gates, cs]);
    return {
      value: cells ? tf.concat([hs, cs], 2) : hs,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ws, hsv, gs, csv] = saved;
        const inputs: tf.NamedTensorMap = { gates: gs, cs: csv, hs: hsv, whh: ws };
        if (cells) [inputs.dhs, inputs.dcs] = tf.split(dy, 2, 2);
        else inputs.dhs = dy;
        return run(FUSED.lstmGrad, inputs);
      },
    };
  }) as unknown as CustomGradientFunc);
  const out = f(xw, whh) as tf.Tensor3D;
  if (!cells) return { hs: out };
  const hs = tf.slice(out, [0, 0, 0], [-1, -1, H]) as tf.Tensor3D;
  const cs = tf.slice(out, [0, 0, H], [-1, -1, H]) as tf.Tensor3D;
  out.dispose();
  return { hs, cs };
}

/** True when the current backend has the fused LSTM kernels. */
export function hasFusedLstm(): boolean {
  return hasKernel(FUSED.lstm) && hasKernel(FUSED.lstmGrad);
}

/**
 * GELU, exact form y = 0.5 x (1 + erf(x / sqrt 2)) (torch.nn.GELU's default). On wasm one kernel each way
 * (erf by Abramowitz & Stegun 7.1.26, absolute error < 1.5e-7); elsewhere the same expression in tf ops,
 * differentiated by tfjs.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (!hasKernel(FUSED.gelu) || !hasKernel(FUSED.geluGrad) || x.dtype !== 'float32') {
    return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)));
  }
  const f = tf.customGrad(((xi: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xi]);
    return {
      value: run(FUSED.gelu, { x: xi }) as unknown as tf.Tensor,
      gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => run(FUSED.geluGrad, { x: xs, dy }) as unknown as tf.Tensor,
    };
  }) as unknown as CustomGradientFunc);
  return f(x) as tf.Tensor;
}
