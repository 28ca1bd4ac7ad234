// A small custom model used by the Module tests, in its own file so that a child process can register
// it without running the tests.
import * as tf from '@tensorflow/tfjs';
import { BatchNorm, Conv2d, Ctx, Linear, Module, registerModule } from '../../lib/nn';

export class Tiny extends Module {
  readonly conv: Conv2d;
  readonly norm: BatchNorm;
  readonly head: Linear;
  constructor(readonly cfg: { channels: number; classes: number }) {
    super();
    this.conv = this.addModule('conv', new Conv2d({ inChannels: 1, outChannels: cfg.channels, kernelSize: 3, padding: 1 }));
    this.norm = this.addModule('norm', new BatchNorm({ numFeatures: cfg.channels }));
    this.head = this.addModule('head', new Linear({ inFeatures: cfg.channels, outFeatures: cfg.classes }));
  }
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => this.head.forward(tf.mean(tf.relu(this.norm.forward(this.conv.forward(x, ctx), ctx)), [1, 2]), ctx));
  }
  getConfig(): Record<string, unknown> {
    return { ...this.cfg };
  }
}
registerModule('TestTiny', Tiny);
