import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from '../nn/module';
import { Conv2d } from '../nn/conv';
import { ConvTranspose2d } from '../nn/conv_transpose';
import { BatchNorm } from '../nn/norm';
import { PReLU } from '../nn/activations';
import { LSTM } from '../nn/recurrent';
import { Linear } from '../nn/linear';
import { stftPacked, istftPacked } from '../audio/stft';

/** Arguments of {@link Crn}. */
export interface CrnArgs {
  /** STFT size (bins nFft/2 + 1). Default 256. */
  nFft?: number;
  /** STFT hop. Default 128. */
  hop?: number;
  /** Encoder channels, one conv layer each (stride 2 along frequency). Default [16, 32, 64]. */
  channels?: number[];
  /** Kernel [time, frequency]. Default [3, 5]. */
  kernel?: [number, number];
  /** LSTM hidden units. Default 128. */
  lstmHidden?: number;
  /** LSTM layers. Default 1. */
  lstmLayers?: number;
}

/**
 * A DCCRN-like convolutional recurrent enhancement network on the complex STFT (Hu et al. 2020, with
 * real-valued convolutions on stacked real/imaginary channels): a conv encoder that halves the frequency
 * axis at each layer (BatchNorm, PReLU), an LSTM over time on the flattened bottleneck with a linear
 * projection back, a transposed-conv decoder with skip connections, and a complex ratio mask (tanh on its
 * real and imaginary parts) applied to the noisy spectrum, then the inverse STFT.
 * noisy [batch, time] -> enhanced [batch, time].
 */
export class Crn extends Module {
  readonly args: Required<CrnArgs>;
  readonly enc: { conv: Conv2d; bn: BatchNorm; act: PReLU }[] = [];
  readonly dec: { conv: ConvTranspose2d; bn?: BatchNorm; act?: PReLU }[] = [];
  readonly lstm: LSTM;
  readonly proj: Linear;
  readonly bins: number[];

  constructor(args: CrnArgs = {}) {
    super();
    this.args = { nFft: args.nFft ?? 256, hop: args.hop ?? 128, channels: args.channels ?? [16, 32, 64],
      kernel: args.kernel ?? [3, 5], lstmHidden: args.lstmHidden ?? 128, lstmLayers: args.lstmLayers ?? 1 };
    const a = this.args;
    const [kt, kf] = a.kernel;
    const pad: [number, number] = [(kt - 1) / 2, (kf - 1) / 2];
    if (!Number.isInteger(pad[0]) || !Number.isInteger(pad[1])) throw new Error(`Crn: kernel sizes must be odd, got [${a.kernel}]`);
    this.bins = [a.nFft / 2 + 1];
    let cin = 2;
    a.channels.forEach((c, i) => {
      this.enc.push({
        conv: this.addModule(`enc${i}`, new Conv2d({ inChannels: cin, outChannels: c, kernelSize: a.kernel, stride: [1, 2], padding: pad })),
        bn: this.addModule(`encBn${i}`, new BatchNorm({ numFeatures: c })),
        act: this.addModule(`encAct${i}`, new PReLU()),
      });
      this.bins.push(Math.floor((this.bins[i] + 2 * pad[1] - kf) / 2) + 1);
      cin = c;
    });
    const last = a.channels[a.channels.length - 1];
    const flat = last * this.bins[this.bins.length - 1];
    this.lstm = this.addModule('lstm', new LSTM({ inputSize: flat, hiddenSize: a.lstmHidden, numLayers: a.lstmLayers }));
    this.proj = this.addModule('proj', new Linear({ inFeatures: a.lstmHidden, outFeatures: flat }));
    for (let i = a.channels.length - 1; i >= 0; i--) {
      const cout = i === 0 ? 2 : a.channels[i - 1];
      // Output padding restores odd bin counts: out = (in - 1) * 2 - 2 * pad + kf + op.
      const want = this.bins[i];
      const op = want - ((this.bins[i + 1] - 1) * 2 - 2 * pad[1] + kf);
      if (op < 0 || op > 1) throw new Error(`Crn: cannot mirror ${this.bins[i + 1]} -> ${want} bins with kernel ${kf}`);
      const j = a.channels.length - 1 - i;
      this.dec.push({
        conv: this.addModule(`dec${j}`, new ConvTranspose2d({ inChannels: 2 * a.channels[i], outChannels: cout, kernelSize: a.kernel,
          stride: [1, 2], padding: pad, outputPadding: [0, op] })),
        ...(i > 0 ? { bn: this.addModule(`decBn${j}`, new BatchNorm({ numFeatures: cout })), act: this.addModule(`decAct${j}`, new PReLU()) } : {}),
      });
    }
  }

  /** Complex ratio mask [batch, frames, bins, 2] for a noisy spectrum [batch, frames, bins, 2]. */
  mask(spec: tf.Tensor4D, ctx: Ctx): tf.Tensor4D {
    return tf.tidy(() => {
      const skips: tf.Tensor[] = [];
      let h: tf.Tensor = spec;
      for (const e of this.enc) {
        h = e.act.forward(e.bn.forward(e.conv.forward(h, ctx), ctx), ctx);
        skips.push(h);
      }
      const [B, T, F, C] = h.shape;
      const r = this.proj.forward(this.lstm.forward(tf.reshape(h, [B, T, F * C]), ctx), ctx);
      h = tf.reshape(r, [B, T, F, C]);
      this.dec.forEach((d, k) => {
        h = d.conv.forward(tf.concat([h, skips[skips.length - 1 - k]], 3), ctx);
        if (d.bn && d.act) h = d.act.forward(d.bn.forward(h, ctx), ctx);
      });
      return tf.tanh(h) as tf.Tensor4D;
    });
  }

  /** noisy [batch, time] -> enhanced [batch, time]. */
  forward(noisy: tf.Tensor, ctx: Ctx): tf.Tensor {
    if (noisy.rank !== 2) throw new Error(`Crn: expected noisy audio [batch, time], got [${noisy.shape}]`);
    const { nFft, hop } = this.args;
    return tf.tidy(() => {
      const spec = stftPacked(noisy, { nFft, hopLength: hop }) as tf.Tensor4D;            // [B, T, F, 2]
      const m = this.mask(spec, ctx);
      // Complex product in planar layout: a transpose to [2, N] splits real and imaginary parts cheaply.
      const planar = (t: tf.Tensor) => tf.unstack(tf.transpose(tf.reshape(t, [-1, 2])));
      const [sr, si] = planar(spec), [mr, mi] = planar(m);
      const prod = tf.stack([tf.sub(tf.mul(sr, mr), tf.mul(si, mi)), tf.add(tf.mul(sr, mi), tf.mul(si, mr))]);
      const enhanced = tf.reshape(tf.transpose(prod), spec.shape);
      return istftPacked(enhanced, { nFft, hopLength: hop, length: noisy.shape[1] });
    });
  }

  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('Crn', Crn);
