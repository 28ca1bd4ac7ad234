/**
 * Names of the DCCRN reference code's state_dict (huyanxin/DeepComplexCRN, dc_crn.py) in models.Dccrn, for
 * Dccrn.loadReferenceStateDict. The reference's modules: encoder.i = Sequential(ComplexConv2d, BatchNorm2d,
 * PReLU), decoder.j likewise (the last without norm and activation), enhance = Sequential of
 * NavieComplexLSTM (use_clstm) or a 2-layer nn.LSTM with tranform = nn.Linear, stft / istft fixed kernels.
 */
const BN_NAMES: Record<string, string> = { weight: 'weight', bias: 'bias', running_mean: 'runningMean', running_var: 'runningVar' };
const LSTM_NAMES: Record<string, string> = { weight_ih: 'weightIh', weight_hh: 'weightHh', bias_ih: 'biasIh', bias_hh: 'biasHh' };

/**
 * The slimspeech name of a reference state_dict key and whether it changes layout (weights of rank > 1 are
 * transposed: conv [out, in, kf, kt] to [kt, kf, in, out], transposed conv [in, out, kf, kt] to
 * [kt, kf, out, in], LSTM and Linear [out, in] to [in, out]); null for keys
 * without a counterpart (fixed STFT kernels, batch counters), undefined for keys that are not DCCRN's.
 */
export function mapReferenceKey(key: string): { name: string; transpose: boolean } | null | undefined {
  let m: RegExpMatchArray | null;
  if (/^i?stft\./.test(key) || /\.num_batches_tracked$/.test(key)) return null;
  if ((m = key.match(/^(encoder|decoder)\.(\d+)\.0\.(real|imag)_conv\.(weight|bias)$/))) {
    return { name: `${m[1]}.${m[2]}.conv.${m[3]}${m[4] === 'weight' ? 'Weight' : 'Bias'}`, transpose: true };
  }
  if ((m = key.match(/^(encoder|decoder)\.(\d+)\.1\.(weight|bias|running_mean|running_var)$/))) {
    return { name: `${m[1]}.${m[2]}.bn.${BN_NAMES[m[3]]}`, transpose: false };
  }
  if ((m = key.match(/^(encoder|decoder)\.(\d+)\.2\.weight$/))) return { name: `${m[1]}.${m[2]}.act.weight`, transpose: false };
  if ((m = key.match(/^enhance\.(\d+)\.(real|imag)_lstm\.(weight_ih|weight_hh|bias_ih|bias_hh)_l0$/))) {
    return { name: `rnn.${m[1]}.${m[2]}Lstm.l0.${LSTM_NAMES[m[3]]}`, transpose: true };
  }
  if ((m = key.match(/^enhance\.(\d+)\.(r|i)_trans\.(weight|bias)$/))) {
    return { name: `rnn.${m[1]}.${m[2] === 'r' ? 'real' : 'imag'}Proj.${m[3]}`, transpose: true };
  }
  if ((m = key.match(/^enhance\.(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)$/))) {
    return { name: `rnn.lstm.l${m[2]}.${LSTM_NAMES[m[1]]}`, transpose: true };
  }
  if ((m = key.match(/^tranform\.(weight|bias)$/))) return { name: `rnn.transform.${m[1]}`, transpose: true };
  return undefined;
}
