import * as tf from '@tensorflow/tfjs';
import { attentionMap } from './attention_transfer';

/** The attention maps AT-KL compares: one value per frame ('time') or per channel ('channel'). */
export type AtKlAxis = 'time' | 'channel';

/** Options of {@link atKl}. */
export interface AtKlOptions {
  /** Which maps are compared, each a KL term. Default ['time', 'channel'] (both, as Distil-DCCRN's AT-KL). */
  over?: AtKlAxis[];
  /** Weight of each map's term. Default {time: 1, channel: 1}. */
  weights?: Partial<Record<AtKlAxis, number>>;
  /** Exponent p of the energy |x|^p. Default 2 (attention transfer's). */
  p?: number;
  /**
   * Temperature T of the distributions: P = a^(1/T) / sum a^(1/T) for an energy map a (T = 1: the energy
   * normalised to sum 1; T > 1 flattens, T < 1 sharpens). Default 1.
   */
  temperature?: number;
}

const EPS = 1e-12;

function distribution(map: tf.Tensor2D, temperature: number): tf.Tensor2D {
  // log of the normalised energy map, sharpened by 1/T: log P = (1/T) log a - logsumexp((1/T) log a).
  const logits = tf.div(tf.log(tf.add(map, EPS)), temperature);
  return tf.logSoftmax(logits) as tf.Tensor2D;
}

/**
 * AT-KL, the feature distillation loss of Distil-DCCRN (Han et al., arXiv 2408.04267), as slimspeech
 * implements it (the paper gives no equations or code; this is our reading, each choice an option):
 *
 *   a_time[b, t]    = mean_{f, c} |x[b, t, f, c]|^p        a_chan[b, c] = mean_{t, f} |x[b, t, f, c]|^p
 *   P_d = a_d^(1/T) / sum a_d^(1/T)                       (per row b, d in `over`)
 *   AT-KL = sum_d w_d * (1/batch) * sum_b KL(P_d^teacher[b] || P_d^student[b])
 *
 * on a student feature already aligned to the teacher's (same frames and channels: see distill.mapLayers,
 * whose projections and time alignment bridge teachers of another shape or architecture). The maps are the
 * toolkit's attentionMap over time and over channels; normalising energies by their sum (rather than a
 * softmax over raw energies) keeps the loss invariant to the features' overall scale, the property the
 * L2-normalised maps of attention transfer have, so layers of very different magnitudes weigh alike. The
 * KL is taken teacher-to-student, as in knowledge distillation: the student covers where the teacher puts
 * its energy.
 *
 * @param student [batch, time, channels] or [batch, time, freq, channels]
 * @param teacher the same shape
 * @returns a scalar, 0 when the maps are equal
 */
export function atKl(student: tf.Tensor, teacher: tf.Tensor, options: AtKlOptions = {}): tf.Scalar {
  const { over = ['time', 'channel'], p = 2, temperature = 1 } = options;
  if (!tf.util.arraysEqual(student.shape, teacher.shape) || student.rank < 3) {
    throw new Error(`atKl: student and teacher must be aligned channels-last features of one shape ([batch, time, ` +
      `channels] or [batch, time, freq, channels]); got student [${student.shape.join(', ')}] and teacher ` +
      `[${teacher.shape.join(', ')}] (align them with distill.mapLayers)`);
  }
  if (!over.length || over.some((d) => d !== 'time' && d !== 'channel')) {
    throw new Error(`atKl: over must list 'time' and/or 'channel'; got ${JSON.stringify(over)}`);
  }
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new Error(`atKl: temperature must be a finite number > 0; got ${temperature}`);
  return tf.tidy(() => {
    const terms = over.map((d) => {
      const w = options.weights?.[d] ?? 1;
      const logS = distribution(attentionMap(student, { over: d, p, normalize: 'none' }), temperature);
      const logT = distribution(attentionMap(teacher, { over: d, p, normalize: 'none' }), temperature);
      const kl = tf.sum(tf.mul(tf.exp(logT), tf.sub(logT, logS)), -1); // [batch]
      return tf.mul(tf.mean(kl), w);
    });
    return tf.addN(terms) as tf.Scalar;
  });
}

/** Options of {@link channelKl}. */
export interface ChannelKlOptions {
  /** Temperature of the softmax over positions. Default 1. */
  temperature?: number;
}

/**
 * KL between features without attention pooling, the "KL alone" ablation of Distil-DCCRN: per channel, the
 * feature's values over all positions (time, frequency) turned into a distribution by a softmax at
 * temperature T, teacher against student (channel-wise distillation, Shu et al., ICCV 2021):
 *
 *   P_c = softmax_{t,f}(x[b, t, f, c] / T),   loss = T^2 * mean_{b, c} KL(P_c^teacher || P_c^student)
 *
 * @param student aligned channels-last feature [batch, time, (freq,) channels]
 * @param teacher the same shape
 */
export function channelKl(student: tf.Tensor, teacher: tf.Tensor, options: ChannelKlOptions = {}): tf.Scalar {
  const { temperature = 1 } = options;
  if (!tf.util.arraysEqual(student.shape, teacher.shape) || student.rank < 3) {
    throw new Error(`channelKl: student and teacher must be aligned channels-last features of one shape; got student ` +
      `[${student.shape.join(', ')}] and teacher [${teacher.shape.join(', ')}]`);
  }
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new Error(`channelKl: temperature must be a finite number > 0; got ${temperature}`);
  return tf.tidy(() => {
    const [b, c] = [student.shape[0], student.shape[student.rank - 1]];
    const flat = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [b, -1, c]), [0, 2, 1]); // [batch, channels, positions]
    const logS = tf.logSoftmax(tf.div(flat(student), temperature));
    const logT = tf.logSoftmax(tf.div(flat(teacher), temperature));
    const kl = tf.sum(tf.mul(tf.exp(logT), tf.sub(logT, logS)), -1); // [batch, channels]
    return tf.mul(tf.mean(kl), temperature * temperature) as tf.Scalar;
  });
}
