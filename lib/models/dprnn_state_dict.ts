import * as tf from '@tensorflow/tfjs';

/**
 * Names of asteroid's DPRNNTasNet state_dict (free filterbank) in models.Dprnn, for
 * Dprnn.loadReferenceStateDict. asteroid's modules: encoder / decoder.filterbank._filters [N, 1, L];
 * masker.bottleneck = Sequential(GlobLN, Conv1d 1x1); masker.net.<i> = DPRNNBlock (intra_RNN.rnn and
 * inter_RNN.rnn nn.LSTM, intra_/inter_linear, intra_/inter_norm GlobLN with gamma and beta);
 * masker.first_out = Sequential(PReLU, Conv2d 1x1); masker.net_out.0 and net_gate.0 Conv1d 1x1;
 * masker.mask_net Conv1d 1x1 without bias.
 */
const LSTM_NAMES: Record<string, string> = { weight_ih: 'weightIh', weight_hh: 'weightHh', bias_ih: 'biasIh', bias_hh: 'biasHh' };
const NORM_NAMES: Record<string, string> = { gamma: 'weight', beta: 'bias' };
const HEAD_NAMES: Record<string, string> = { 'first_out.1': 'conv', 'net_out.0': 'outProj', 'net_gate.0': 'gateProj', mask_net: 'maskProj' };

/** [out, in, 1(, 1)] or [out, in] -> [in, out]; vectors unchanged. */
function toLinear(t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => (t.rank === 1 ? t.clone() : tf.transpose(tf.reshape(t, [t.shape[0], t.shape[1] as number]))));
}

/** Filterbank filters [N, 1, L] -> [L, 1, N] (Conv1d [K, Cin, Cout] and ConvTranspose1d [K, Cout, Cin] alike). */
function toFilters(t: tf.Tensor): tf.Tensor {
  return tf.transpose(t, [2, 1, 0]);
}

function same(t: tf.Tensor): tf.Tensor {
  return t.clone();
}

/**
 * The slimspeech name of an asteroid DPRNNTasNet state_dict key and the conversion of its value to this
 * library's layout; undefined for keys that are not DPRNNTasNet's.
 */
export function mapAsteroidKey(key: string): { name: string; convert: (t: tf.Tensor) => tf.Tensor } | undefined {
  let m: RegExpMatchArray | null;
  if ((m = key.match(/^(encoder|decoder)\.filterbank\._filters$/))) return { name: `${m[1]}.weight`, convert: toFilters };
  if ((m = key.match(/^masker\.bottleneck\.0\.(gamma|beta)$/))) return { name: `inNorm.${NORM_NAMES[m[1]]}`, convert: same };
  if ((m = key.match(/^masker\.bottleneck\.1\.(weight|bias)$/))) return { name: `bottleneckProj.${m[1]}`, convert: toLinear };
  if ((m = key.match(/^masker\.net\.(\d+)\.(intra|inter)_RNN\.rnn\.(weight_ih|weight_hh|bias_ih|bias_hh)_l0(_reverse)?$/))) {
    return { name: `block${m[1]}.${m[2]}Rnn.l0${m[4] ?? ''}.${LSTM_NAMES[m[3]]}`, convert: toLinear };
  }
  if ((m = key.match(/^masker\.net\.(\d+)\.(intra|inter)_linear\.(weight|bias)$/))) {
    return { name: `block${m[1]}.${m[2]}Linear.${m[3]}`, convert: toLinear };
  }
  if ((m = key.match(/^masker\.net\.(\d+)\.(intra|inter)_norm\.(gamma|beta)$/))) {
    return { name: `block${m[1]}.${m[2]}Norm.${NORM_NAMES[m[3]]}`, convert: same };
  }
  if (key === 'masker.first_out.0.weight') return { name: 'head.act.weight', convert: same };
  if ((m = key.match(/^masker\.(first_out\.1|net_out\.0|net_gate\.0|mask_net)\.(weight|bias)$/))) {
    return { name: `head.${HEAD_NAMES[m[1]]}.${m[2]}`, convert: toLinear };
  }
  return undefined;
}
