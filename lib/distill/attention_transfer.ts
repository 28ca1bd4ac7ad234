import * as tf from '@tensorflow/tfjs';
import { absolute, l2Norm, l2Normalize } from './norms';

/**
 * Which axis an {@link attentionMap} keeps (one value per entry of it; every other axis but batch is reduced):
 * - 'position': one value per time-frequency position, channels reduced; [batch, time] for [batch, time,
 *   channels] and [batch, time * freq] (time-major) for [batch, time, freq, channels]. The spatial map of
 *   attention transfer (Zagoruyko and Komodakis), the map torchdistill's ATLoss compares.
 * - 'time': one value per frame, channels and frequency reduced: [batch, time].
 * - 'channel': one value per channel, time and frequency reduced: [batch, channels].
 * For [batch, time, channels] features 'position' and 'time' are the same map.
 */
export type AttentionAxis = 'position' | 'time' | 'channel';

/**
 * How an {@link attentionMap} is normalised over its kept axis, per batch row:
 * - 'l2': a / max(||a||_2, 1e-12), unit Euclidean norm (F.normalize, as attention transfer);
 * - 'sum': a / max(sum a, 1e-12), a probability distribution (the entries are non-negative), e.g. for a
 *   KL divergence between maps: `klDivergence(log(mapS), log(mapT))` compares these distributions, since
 *   klDivergence takes logits and softmax(log a) = a;
 * - 'none': the raw reduced values (feed them to klDivergence as logits to get softmax-normalised maps).
 */
export type AttentionNormalization = 'l2' | 'sum' | 'none';

/** Options of {@link attentionMap}. */
export interface AttentionMapOptions {
  /** The axis kept, see {@link AttentionAxis}. Default 'position'. */
  over?: AttentionAxis;
  /** Exponent p of |x|^p, the per-element energy (p < 1 has an infinite slope at exact zeros). Default 2. */
  p?: number;
  /** How the reduced axes are combined: their mean (torchdistill's 'code' mode) or sum ('paper'). Default 'mean'. */
  reduce?: 'mean' | 'sum';
  /** Normalisation over the kept axis, see {@link AttentionNormalization}. Default 'l2'. */
  normalize?: AttentionNormalization;
}

const shapeOf = (t: tf.Tensor): string => `[${t.shape.join(', ')}]`;

/**
 * The attention map of a channels-last feature (Zagoruyko and Komodakis, "Paying More Attention to
 * Attention", ICLR 2017, eq. 1 with F(A) = mean or sum of |A_c|^p), generalised to keep time or channels:
 *
 *   e = |x|^p                                              // [batch, time, (freq,) channels]
 *   'position': a[b, t(, f)] = R_c e[b, t, (f,) c]         // [batch, time (* freq)], flattened time-major
 *   'time':     a[b, t]      = R_{f, c} e[b, t, f, c]      // [batch, time]
 *   'channel':  a[b, c]      = R_{t, f} e[b, t, f, c]      // [batch, channels]
 *   R = mean (default) or sum over the reduced axes;
 *   then per row b: 'l2' a / max(||a||_2, 1e-12), 'sum' a / max(sum a, 1e-12), or 'none'.
 *
 * With over 'position', p 2 and 'l2' this is torchdistill's `ATLoss.attention_transfer` (mean, 'code'
 * mode) or `attention_transfer_paper` (sum, 'paper' mode) on the NCHW transpose of `feature`. The maps over
 * time and over channels let differently shaped teacher and student features be compared (AT-KL of
 * Distil-DCCRN: one distribution per frame or per channel, see {@link AttentionNormalization}). For even p,
 * |x|^p = x^p (the original code's `x.pow(p)`); for odd p the absolute value follows the paper.
 *
 * @param feature [batch, time, channels] or [batch, time, freq, channels] (any rank >= 3: the axes between
 *   batch and channels are the positions, the first of them is time)
 * @returns [batch, time * freq], [batch, time] or [batch, channels] as `over` says
 */
export function attentionMap(feature: tf.Tensor, options: AttentionMapOptions = {}): tf.Tensor2D {
  const { over = 'position', p = 2, reduce = 'mean', normalize = 'l2' } = options;
  if (feature.rank < 3) {
    throw new Error(`attentionMap: expected a channels-last feature [batch, time, channels] or [batch, time, freq, ` +
      `channels]; got ${shapeOf(feature)}`);
  }
  if (over !== 'position' && over !== 'time' && over !== 'channel') {
    throw new Error(`attentionMap: over must be 'position', 'time' or 'channel'; got '${over}'`);
  }
  if (!(p > 0) || !Number.isFinite(p)) throw new Error(`attentionMap: p must be a finite number > 0; got ${p}`);
  if (reduce !== 'mean' && reduce !== 'sum') throw new Error(`attentionMap: reduce must be 'mean' or 'sum'; got '${reduce}'`);
  if (normalize !== 'l2' && normalize !== 'sum' && normalize !== 'none') {
    throw new Error(`attentionMap: normalize must be 'l2', 'sum' or 'none'; got '${normalize}'`);
  }
  return tf.tidy(() => {
    const x = tf.cast(feature, 'float32');
    const energy = p === 2 ? tf.square(x) : tf.pow(absolute(x), p);
    const last = x.rank - 1;
    const axes = over === 'position' ? [last]
      : over === 'time' ? Array.from({ length: last - 1 }, (_, i) => i + 2)
        : Array.from({ length: last - 1 }, (_, i) => i + 1);
    const reduced = reduce === 'mean' ? tf.mean(energy, axes) : tf.sum(energy, axes);
    const map = tf.reshape(reduced, [x.shape[0], -1]) as tf.Tensor2D;
    if (normalize === 'l2') return l2Normalize(map, 1) as tf.Tensor2D;
    if (normalize === 'sum') return tf.div(map, tf.maximum(tf.sum(map, 1, true), 1e-12)) as tf.Tensor2D;
    return map;
  });
}

/**
 * The two formulations torchdistill's ATLoss offers (Zagoruyko and Komodakis' eq. 2 and their code disagree):
 * - 'code': the authors' implementation, a = normalize(mean_c x^2), loss = mean_{b, j} (a_s - a_t)^2;
 * - 'paper': eq. 2, a = normalize(sum_c x^2), loss = (1 / batch) sum_b ||a_s[b] - a_t[b]||_2.
 */
export type AttentionTransferMode = 'code' | 'paper';

/** Options of {@link attentionTransfer}. */
export interface AttentionTransferOptions {
  /** Which formulation, see {@link AttentionTransferMode}. Default 'code' (torchdistill's default). */
  mode?: AttentionTransferMode;
  /** Exponent p of the attention map's |x|^p (torchdistill fixes 2). Default 2. */
  p?: number;
}

/**
 * Attention transfer loss (Zagoruyko and Komodakis, ICLR 2017) between channels-last features that share
 * batch and positions (time, and frequency when 4-D) but may differ in channels. With
 * a(x) = attentionMap(x, {over: 'position', p}) per batch row, J = time (* freq) positions:
 *
 *   'code':  a(x) = normalize(mean_c |x|^p);  loss = 1 / (batch J) sum_{b, j} (a_s[b, j] - a_t[b, j])^2
 *   'paper': a(x) = normalize(sum_c |x|^p);   loss = 1 / batch sum_b ||a_s[b] - a_t[b]||_2
 *
 * normalize(a) = a / max(||a||_2, 1e-12). This equals torchdistill's `ATLoss(mode)` for one pair of weight 1
 * (`compute_at_loss` in 'code' mode; `compute_at_loss_paper` divided by the batch size in 'paper' mode) on
 * the NCHW transposes of the features, with p = 2. The paper's weight beta / 2 (beta = 1000) is not
 * included: give it as the term's weight. The L2 norm of the 'paper' mode has gradient 0 where the maps
 * are equal (as torch.norm), so identical features give loss 0 and finite gradients.
 *
 * @param student [batch, time, channelsS] or [batch, time, freq, channelsS]
 * @param teacher [batch, time, channelsT] or [batch, time, freq, channelsT]: the student's shape but channels
 * @returns a scalar
 */
export function attentionTransfer(student: tf.Tensor, teacher: tf.Tensor, options: AttentionTransferOptions = {}): tf.Scalar {
  const { mode = 'code', p = 2 } = options;
  if (student.rank < 3 || student.rank !== teacher.rank ||
      !tf.util.arraysEqual(student.shape.slice(0, -1), teacher.shape.slice(0, -1))) {
    throw new Error(`attentionTransfer: student and teacher must be channels-last features with the same batch, time ` +
      `(and frequency), channels may differ; got student ${shapeOf(student)} and teacher ${shapeOf(teacher)}`);
  }
  if (mode !== 'code' && mode !== 'paper') throw new Error(`attentionTransfer: mode must be 'code' or 'paper'; got '${mode}'`);
  return tf.tidy(() => {
    const reduce = mode === 'code' ? 'mean' : 'sum';
    const diff = tf.sub(attentionMap(student, { p, reduce }), attentionMap(teacher, { p, reduce })); // [batch, J]
    if (mode === 'code') return tf.mean(tf.square(diff)) as tf.Scalar;
    return tf.div(tf.sum(l2Norm(diff, 1)), student.shape[0]) as tf.Scalar;
  });
}
