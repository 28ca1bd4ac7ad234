import * as tf from '@tensorflow/tfjs';
import type { PresetName } from '../experiments/presets';
import { Ctx, Module, registerModule } from '../nn/module';
import { Activation } from '../nn/activations';
import { Dropout } from '../nn/dropout';
import { GlobalAvgPool } from '../nn/pooling';
import { Sequential } from '../nn/sequential';
import { DEFAULT_WIDTHS, normalizeWidths, slimChannels, widthOf } from '../slim/channels';
import { buildQuietly, buildTidy, extractChildrenInto, Slimmable } from '../slim/extract';
import { SlimConv2d } from '../slim/slim_conv';
import { SlimLinear } from '../slim/slim_linear';
import { SwitchableBatchNorm } from '../slim/switchable_batch_norm';

/** Arguments of {@link SlimDsCnn}: everything that fixes its shapes. */
export interface SlimDsCnnArgs {
  /** Input frames (time axis of the log-mel input). Default 98 (1 s at a 10 ms hop). */
  frames?: number;
  /** Mel bands (feature axis). Default 40. */
  mels?: number;
  /** Output classes. Default 12 (Speech Commands: 10 words, silence, unknown). */
  numClasses?: number;
  /**
   * Channels at full width: `channels[0]` for the stem convolution, then one depthwise-separable block
   * per further entry with that many output channels. Default [64, 64, 64, 64, 64] (DS-CNN-S).
   */
  channels?: number[];
  /** Stem kernel [time, mel]. Default [10, 4] (Zhang et al.). */
  stemKernel?: [number, number];
  /** Stem stride [time, mel]. Default [2, 2]. */
  stemStride?: [number, number];
  /** Depthwise kernel size. Default 3. */
  kernelSize?: number;
  /** Dropout before the classifier, in training. Default 0.1. */
  dropout?: number;
  /** Widths with their own switchable batch-norm statistics. Default [0.25, 0.5, 0.75, 1]. */
  widths?: number[];
}

/**
 * Slimmable DS-CNN keyword spotter (Zhang et al., "Hello Edge: Keyword Spotting on Microcontrollers",
 * 2017; slimmable as in Akhtar et al., arXiv 2304.12183):
 *
 *   log-mel [batch, frames, mels] -> [batch, frames, mels, 1]
 *   -> stem conv (stemKernel, stemStride, 'same', 1 -> C0) -> switchable BN -> ReLU
 *   -> per block i: depthwise conv k x k (C_{i-1}) -> SBN -> ReLU -> pointwise 1x1 (C_{i-1} -> C_i) -> SBN -> ReLU
 *   -> global average pool -> dropout -> linear (C_last -> numClasses)          logits [batch, numClasses]
 *
 * At width w = ctx.width (default 1) every channel count C becomes slimChannels(C, w); the input channel
 * and the classes stay fixed. Children: `features` (a Sequential of the stem and blocks), `pool`, `drop`,
 * `head`. {@link extract} gives a SlimDsCnn whose `channels` are the active ones and whose `widths` are
 * [1]. Convolutions have no bias (batch norm follows).
 */
export class SlimDsCnn extends Module implements Slimmable {
  readonly args: Required<SlimDsCnnArgs>;
  readonly features: Sequential;
  readonly pool: GlobalAvgPool;
  readonly drop: Dropout;
  readonly head: SlimLinear;

  constructor(args: SlimDsCnnArgs = {}) {
    super();
    const a: Required<SlimDsCnnArgs> = {
      frames: args.frames ?? 98, mels: args.mels ?? 40, numClasses: args.numClasses ?? 12,
      channels: args.channels ?? [64, 64, 64, 64, 64], stemKernel: args.stemKernel ?? [10, 4],
      stemStride: args.stemStride ?? [2, 2], kernelSize: args.kernelSize ?? 3, dropout: args.dropout ?? 0.1,
      widths: normalizeWidths(args.widths ?? [...DEFAULT_WIDTHS], 'SlimDsCnn'),
    };
    if (!a.channels.length) throw new Error('SlimDsCnn: channels is empty');
    this.args = a;
    const sbn = (c: number) => new SwitchableBatchNorm({ numFeatures: c, widths: a.widths });
    const layers: Module[] = buildTidy(() => [
      new SlimConv2d({ inChannels: 1, outChannels: a.channels[0], kernelSize: a.stemKernel, stride: a.stemStride,
        padding: 'same', bias: false, slimIn: false }),
      sbn(a.channels[0]), new Activation('relu'),
      ...a.channels.slice(1).flatMap((cout, i) => {
        const cin = a.channels[i];
        return [
          new SlimConv2d({ inChannels: cin, outChannels: cin, kernelSize: a.kernelSize, padding: 'same', groups: cin, bias: false }),
          sbn(cin), new Activation('relu'),
          new SlimConv2d({ inChannels: cin, outChannels: cout, kernelSize: 1, bias: false }),
          sbn(cout), new Activation('relu')];
      }),
    ]);
    this.features = this.addModule('features', new Sequential(layers));
    this.pool = this.addModule('pool', new GlobalAvgPool());
    this.drop = this.addModule('drop', new Dropout({ p: a.dropout }));
    this.head = this.addModule('head', new SlimLinear({ inFeatures: a.channels[a.channels.length - 1],
      outFeatures: a.numClasses, slimOut: false }));
  }

  /** log-mel x [batch, frames, mels] -> logits [batch, numClasses] at ctx.width. */
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    widthOf(ctx, 'SlimDsCnn');
    const { frames, mels } = this.args;
    if (x.rank !== 3 || x.shape[1] !== frames || x.shape[2] !== mels) {
      throw new Error(`SlimDsCnn: expected log-mel [batch, ${frames}, ${mels}], got [${x.shape}]`);
    }
    return tf.tidy(() => {
      const h = this.features.forward(tf.expandDims(x, 3), ctx);
      return this.head.forward(this.drop.forward(this.pool.forward(h, ctx), ctx), ctx);
    });
  }

  /** The subnet at `width`: a SlimDsCnn with the active channels and one width. */
  extract(width: number): SlimDsCnn {
    const m = buildQuietly(() => new SlimDsCnn({ ...this.args, channels: this.args.channels.map((c) => slimChannels(c, width)),
      widths: [1] }));
    extractChildrenInto(this, m, width);
    return m;
  }

  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('SlimDsCnn', SlimDsCnn);

/**
 * Sizes of the presets (with 12 classes, 98 x 40 log-mels):
 * - 'quick': a toy for tests and smoke runs (16 channels, 2 blocks);
 * - 'default': DS-CNN-S of Zhang et al. (64 channels, 4 blocks), about 24k parameters at full width,
 *   trainable in minutes on a CPU;
 * - 'paper': DS-CNN-M-sized (172 channels, 4 blocks), about 140k parameters at full width: the largest
 *   subnet stays under the 250k of Akhtar et al. (arXiv 2304.12183); for a GPU and the full dataset.
 */
export const DS_CNN_PRESETS: Readonly<Record<PresetName, SlimDsCnnArgs>> = Object.freeze({
  quick: { channels: [16, 16, 16] },
  default: { channels: [64, 64, 64, 64, 64] },
  paper: { channels: [172, 172, 172, 172, 172] },
});

/** Builds a {@link SlimDsCnn} from a preset (default 'default') with any argument overridden. */
export function slimDsCnn(options: SlimDsCnnArgs & { preset?: PresetName } = {}): SlimDsCnn {
  const { preset = 'default', ...rest } = options;
  const base = DS_CNN_PRESETS[preset];
  if (!base) throw new Error(`slimDsCnn: unknown preset '${preset}' (quick, default, paper)`);
  return new SlimDsCnn({ ...base, ...rest });
}
