// The model of test/reference/nn_mixed_model.py in slimspeech: Conv2d, BatchNorm, max-pool, LSTM,
// residual self-attention, mean over time, linear head.
import * as tf from '@tensorflow/tfjs';
import { BatchNorm, Conv2d, Ctx, Linear, LSTM, Module, MultiHeadAttention, registerModule } from '../../lib/nn';

export class Mixed extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm;
  readonly lstm: LSTM;
  readonly attn: MultiHeadAttention;
  readonly head: Linear;

  constructor(readonly cfg: { freq: number; channels: number; hidden: number; classes: number }) {
    super();
    this.conv = this.addModule('conv', new Conv2d({ inChannels: 1, outChannels: cfg.channels, kernelSize: 3, padding: 1 }));
    this.bn = this.addModule('bn', new BatchNorm({ numFeatures: cfg.channels }));
    this.lstm = this.addModule('lstm', new LSTM({ inputSize: (cfg.channels * cfg.freq) / 2, hiddenSize: cfg.hidden }));
    this.attn = this.addModule('attn', new MultiHeadAttention({ embedDim: cfg.hidden, numHeads: 2 }));
    this.head = this.addModule('head', new Linear({ inFeatures: cfg.hidden, outFeatures: cfg.classes }));
  }

  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => {
      const [B, T] = x.shape;
      let h = tf.relu(this.bn.forward(this.conv.forward(x, ctx), ctx));      // [B, T, F, C]
      h = tf.maxPool(h as tf.Tensor4D, [1, 2], [1, 2], 'valid');            // [B, T, F/2, C]
      h = this.lstm.forward(tf.reshape(h, [B, T, -1]), ctx);                 // [B, T, H]
      h = tf.add(h, this.attn.forward(h, ctx));
      return this.head.forward(tf.mean(h, 1), ctx);
    });
  }

  getConfig(): Record<string, unknown> {
    return { ...this.cfg };
  }
}
registerModule('TestMixed', Mixed);
