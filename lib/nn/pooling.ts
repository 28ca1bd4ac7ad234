import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from './module';

/** Arguments of {@link MaxPool2d} and {@link AvgPool2d}. */
export interface Pool2dArgs {
  /** Window size, number or [kh, kw]. */
  kernelSize: number | [number, number];
  /** Stride. Default: the window size. */
  stride?: number | [number, number];
  /** 'valid' (no padding) or 'same' (TF-style; average pooling divides by the positions inside). Default 'valid'. */
  padding?: 'valid' | 'same';
}

abstract class Pool2d extends Module {
  readonly kernelSize: number | [number, number];
  readonly stride: number | [number, number];
  readonly padding: 'valid' | 'same';

  constructor(args: Pool2dArgs) {
    super();
    this.kernelSize = args.kernelSize;
    this.stride = args.stride ?? args.kernelSize;
    this.padding = args.padding ?? 'valid';
  }

  protected check(x: tf.Tensor, name: string): void {
    if (x.rank !== 4) throw new Error(`${name}${this.path ? ` '${this.path}'` : ''}: expected [batch, h, w, channels], got [${x.shape}]`);
  }

  getConfig(): Record<string, unknown> {
    return { kernelSize: this.kernelSize, stride: this.stride, padding: this.padding };
  }
}

/** Max pooling over NHWC input (torch.nn.MaxPool2d with 'valid' padding). */
export class MaxPool2d extends Pool2d {
  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    this.check(x, 'MaxPool2d');
    return tf.maxPool(x as tf.Tensor4D, this.kernelSize, this.stride, this.padding);
  }
}
registerModule('MaxPool2d', MaxPool2d);

/** Average pooling over NHWC input (torch.nn.AvgPool2d; 'same' excludes padding from the divisor). */
export class AvgPool2d extends Pool2d {
  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    this.check(x, 'AvgPool2d');
    return tf.avgPool(x as tf.Tensor4D, this.kernelSize, this.stride, this.padding);
  }
}
registerModule('AvgPool2d', AvgPool2d);

/** Mean over every axis between batch and channels: [batch, ..., C] -> [batch, C]. */
export class GlobalAvgPool extends Module {
  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    if (x.rank < 3) throw new Error(`GlobalAvgPool${this.path ? ` '${this.path}'` : ''}: expected [batch, ..., channels], got [${x.shape}]`);
    return tf.mean(x, Array.from({ length: x.rank - 2 }, (_, i) => i + 1));
  }

  getConfig(): Record<string, unknown> {
    return {};
  }
}
registerModule('GlobalAvgPool', GlobalAvgPool);

/** Flattens every axis after the batch: [batch, ...] -> [batch, prod(...)]. */
export class Flatten extends Module {
  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    return tf.reshape(x, [x.shape[0], -1]);
  }

  getConfig(): Record<string, unknown> {
    return {};
  }
}
registerModule('Flatten', Flatten);
