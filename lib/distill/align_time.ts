import * as tf from '@tensorflow/tfjs';

/**
 * How {@link alignTime} resamples an axis:
 * - 'avg-pool': adaptive average pooling; output frame i averages input frames floor(i L / M) to
 *   ceil((i + 1) L / M) - 1 (L input, M output frames), PyTorch `F.adaptive_avg_pool1d`. For L = k M this is
 *   plain average pooling over k consecutive frames (a student at k times the teacher's frame rate); when
 *   M > L frames are repeated.
 * - 'linear': linear interpolation, PyTorch `F.interpolate(mode='linear', align_corners=False)`: output
 *   frame i reads the input at src = max((i + 0.5) L / M - 0.5, 0), blending frames floor(src) and
 *   min(floor(src) + 1, L - 1) with weight src - floor(src).
 */
export type TimeAlignMethod = 'avg-pool' | 'linear';

/** Options of {@link alignTime}. */
export interface AlignTimeOptions {
  /** The resampling, see {@link TimeAlignMethod}. Default 'avg-pool'. */
  method?: TimeAlignMethod;
  /** The axis resampled: 1 is time in channels-last features, 2 frequency in [batch, time, freq, channels]. Default 1. */
  axis?: number;
}

const shapeOf = (t: tf.Tensor): string => `[${t.shape.join(', ')}]`;

/** The [M, L] matrix of adaptive average pooling from L to M frames. */
function poolMatrix(L: number, M: number): Float32Array {
  const m = new Float32Array(M * L);
  for (let i = 0; i < M; i++) {
    const start = Math.floor((i * L) / M);
    const end = Math.ceil(((i + 1) * L) / M);
    for (let j = start; j < end; j++) m[i * L + j] = 1 / (end - start);
  }
  return m;
}

/** The [M, L] matrix of linear interpolation (align_corners = False) from L to M frames. */
function interpolationMatrix(L: number, M: number): Float32Array {
  const m = new Float32Array(M * L);
  const scale = L / M;
  for (let i = 0; i < M; i++) {
    const src = Math.max((i + 0.5) * scale - 0.5, 0);
    const i0 = Math.min(Math.floor(src), L - 1);
    const i1 = Math.min(i0 + 1, L - 1);
    const w = src - i0;
    m[i * L + i0] += 1 - w;
    m[i * L + i1] += w;
  }
  return m;
}

/**
 * Resamples a feature along one axis (time by default) to `length` frames, so that features at different
 * frame rates can be compared frame by frame (e.g. a student at 100 frames/s against a teacher at 50):
 *
 *   y[..., i, ...] = sum_j W[i, j] x[..., j, ...]      W the [length, L] matrix of `method`
 *
 * (see {@link TimeAlignMethod}); every row of W sums to 1, so constants, and a projection's bias, pass
 * through unchanged. When L is a multiple of `length`, 'avg-pool' reshapes and averages instead of
 * multiplying by W (same values, cheaper). A length equal to L returns a copy.
 *
 * @param x [batch, time, ...] (channels last)
 * @param length the number of frames wanted, >= 1
 * @returns x's shape with `length` at `axis`
 */
export function alignTime(x: tf.Tensor, length: number, options: AlignTimeOptions = {}): tf.Tensor {
  const { method = 'avg-pool' } = options;
  const axis = options.axis ?? 1;
  if (!(Number.isInteger(axis) && axis >= 1 && axis < x.rank)) {
    throw new Error(`alignTime: axis must be an axis of the feature other than batch (1 to ${x.rank - 1}); got ${axis} ` +
      `for ${shapeOf(x)}`);
  }
  if (!(Number.isInteger(length) && length >= 1)) throw new Error(`alignTime: length must be an integer >= 1; got ${length}`);
  if (method !== 'avg-pool' && method !== 'linear') {
    throw new Error(`alignTime: method must be 'avg-pool' or 'linear'; got '${method}'`);
  }
  const L = x.shape[axis];
  if (L === 0) throw new Error(`alignTime: axis ${axis} of ${shapeOf(x)} is empty`);
  return tf.tidy(() => {
    if (L === length) return x.clone();
    if (method === 'avg-pool' && L % length === 0) {
      const k = L / length;
      const split = [...x.shape.slice(0, axis), length, k, ...x.shape.slice(axis + 1)];
      return tf.mean(tf.reshape(x, split), axis + 1);
    }
    const w = tf.tensor2d(method === 'avg-pool' ? poolMatrix(L, length) : interpolationMatrix(L, length), [length, L]);
    // Bring `axis` to the front, multiply, and put it back: [L, rest] -> [length, rest].
    const perm = [axis, ...x.shape.map((_, i) => i).filter((i) => i !== axis)];
    const moved = tf.transpose(x, perm);
    const flat = tf.reshape(moved, [L, -1]) as tf.Tensor2D;
    const y = tf.reshape(tf.matMul(w, flat), [length, ...moved.shape.slice(1)]);
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return tf.transpose(y, inverse);
  });
}
