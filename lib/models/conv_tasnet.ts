import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, recordTap, registerModule } from '../nn/module';
import { Conv1d } from '../nn/conv';
import { ConvTranspose1d } from '../nn/conv_transpose';
import { PReLU } from '../nn/activations';
import { GlobalLayerNorm } from '../nn/norm';
import { ModuleList } from '../nn/sequential';

/**
 * Mask heads of the intermediate separations of a separation model's `forwardLayers` (layer-wise
 * optimisation, Gao et al. 2023, arXiv 2311.12199): 'shared' sends every intermediate output through the
 * model's own mask head (no extra parameters); 'separate' gives each intermediate output its own mask head
 * (the decoder stays shared), created only with this setting.
 */
export type LayerHeads = 'shared' | 'separate';

/** Throws unless `v` is a {@link LayerHeads}. */
export function checkLayerHeads(v: unknown, who: string): LayerHeads {
  if (v !== 'shared' && v !== 'separate') throw new Error(`${who}: layerHeads must be 'shared' or 'separate', got '${String(v)}'`);
  return v;
}

/** Arguments of {@link ConvTasNet} (Luo & Mesgarani 2019; names as in the paper). */
export interface ConvTasNetArgs {
  /** Sources to separate. Default 2. */
  numSources?: number;
  /** Encoder filters N. Default 64. */
  encoderDim?: number;
  /** Encoder kernel L (stride L/2). Default 16. */
  kernelSize?: number;
  /** Bottleneck channels B. Default 64. */
  bottleneck?: number;
  /** Channels inside a block H. Default 128. */
  hidden?: number;
  /** Skip-connection channels Sc. Default 64. */
  skip?: number;
  /** Depthwise kernel P. Default 3. */
  convKernel?: number;
  /** Blocks per repeat X (dilations 1, 2, ..., 2^(X-1)). Default 4. */
  blocks?: number;
  /** Repeats R. Default 2. */
  repeats?: number;
  /**
   * Mask heads of the intermediate separations of {@link ConvTasNet.forwardLayers}: 'shared' (the model's own
   * PReLU + mask conv) or 'separate' (one PReLU + mask conv per repeat but the last, under `loHeads.<r>`).
   * `forward` is the same either way. Default 'shared' (no extra parameters).
   */
  layerHeads?: LayerHeads;
}

/**
 * A separate mask head of {@link ConvTasNet.forwardLayers}: PReLU, then a 1x1 conv to one mask per source,
 * [B, frames, Sc] -> [B, frames, S*N] (before the sigmoid).
 */
export class ConvTasNetMaskHead extends Module {
  readonly act: PReLU;
  readonly conv: Conv1d;

  constructor(readonly cfg: { skip: number; numSources: number; encoderDim: number }) {
    super();
    this.act = this.addModule('act', new PReLU());
    this.conv = this.addModule('conv', new Conv1d({ inChannels: cfg.skip, outChannels: cfg.numSources * cfg.encoderDim, kernelSize: 1 }));
  }

  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => this.conv.forward(this.act.forward(x, ctx), ctx));
  }

  getConfig(): Record<string, unknown> {
    return { ...this.cfg };
  }
}
registerModule('ConvTasNetMaskHead', ConvTasNetMaskHead);

/** One TCN block: 1x1 conv, PReLU, gLN, dilated depthwise conv, PReLU, gLN, then residual and skip 1x1 convs. */
export class TcnBlock extends Module {
  readonly inConv: Conv1d;
  readonly act1: PReLU;
  readonly norm1: GlobalLayerNorm;
  readonly dconv: Conv1d;
  readonly act2: PReLU;
  readonly norm2: GlobalLayerNorm;
  readonly resConv: Conv1d;
  readonly skipConv: Conv1d;

  constructor(readonly cfg: { bottleneck: number; hidden: number; skip: number; kernel: number; dilation: number }) {
    super();
    const { bottleneck: B, hidden: H, skip: S, kernel: P, dilation: d } = cfg;
    this.inConv = this.addModule('inConv', new Conv1d({ inChannels: B, outChannels: H, kernelSize: 1 }));
    this.act1 = this.addModule('act1', new PReLU());
    this.norm1 = this.addModule('norm1', new GlobalLayerNorm({ numChannels: H }));
    this.dconv = this.addModule('dconv', new Conv1d({ inChannels: H, outChannels: H, kernelSize: P, dilation: d,
      padding: (d * (P - 1)) / 2, groups: H }));
    this.act2 = this.addModule('act2', new PReLU());
    this.norm2 = this.addModule('norm2', new GlobalLayerNorm({ numChannels: H }));
    this.resConv = this.addModule('resConv', new Conv1d({ inChannels: H, outChannels: B, kernelSize: 1 }));
    this.skipConv = this.addModule('skipConv', new Conv1d({ inChannels: H, outChannels: S, kernelSize: 1 }));
  }

  /** [batch, frames, B] -> residual output [batch, frames, B] and skip [batch, frames, Sc]. */
  run(x: tf.Tensor, ctx: Ctx): { out: tf.Tensor; skip: tf.Tensor } {
    return tf.tidy(() => {
      let h = this.norm1.forward(this.act1.forward(this.inConv.forward(x, ctx), ctx), ctx);
      h = this.norm2.forward(this.act2.forward(this.dconv.forward(h, ctx), ctx), ctx);
      return { out: tf.add(x, this.resConv.forward(h, ctx)), skip: this.skipConv.forward(h, ctx) };
    });
  }

  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => this.run(x, ctx).out);
  }

  getConfig(): Record<string, unknown> {
    return { ...this.cfg };
  }
}
registerModule('TcnBlock', TcnBlock);

/**
 * Conv-TasNet: a learned 1-D encoder (conv, stride L/2, ReLU), a temporal convolutional network of
 * dilated depthwise-separable blocks that estimates one sigmoid mask per source over the encoder output,
 * and a transposed-conv decoder. mixture [batch, time] -> sources [batch, numSources, time]. Besides the
 * taps of its layers, it records each TCN block's residual output [batch, frames, bottleneck] under the
 * block's path (`block0_0`, `block0_1`, ...), the features a teacher hands to distillation.
 *
 * {@link ConvTasNet.forwardLayers} also separates after every repeat (layer-wise optimisation): the masks
 * then come from the skip connections summed so far, through the model's own mask head or one per repeat
 * (`layerHeads`), and the shared decoder.
 */
export class ConvTasNet extends Module {
  readonly args: Required<ConvTasNetArgs>;
  readonly encoder: Conv1d;
  readonly inNorm: GlobalLayerNorm;
  readonly bottleneckConv: Conv1d;
  readonly blocks: TcnBlock[];
  readonly maskAct: PReLU;
  readonly maskConv: Conv1d;
  readonly decoder: ConvTranspose1d;
  /** The mask heads of repeats 0 .. R-2 when `layerHeads` is 'separate' (absent otherwise). */
  readonly loHeads?: ModuleList;

  constructor(args: ConvTasNetArgs = {}) {
    super();
    this.args = { numSources: args.numSources ?? 2, encoderDim: args.encoderDim ?? 64, kernelSize: args.kernelSize ?? 16,
      bottleneck: args.bottleneck ?? 64, hidden: args.hidden ?? 128, skip: args.skip ?? 64, convKernel: args.convKernel ?? 3,
      blocks: args.blocks ?? 4, repeats: args.repeats ?? 2,
      layerHeads: checkLayerHeads(args.layerHeads ?? 'shared', 'ConvTasNet') };
    const a = this.args;
    if (a.convKernel % 2 !== 1) throw new Error(`ConvTasNet: convKernel must be odd (same-length dilated convolutions), got ${a.convKernel}`);
    if (a.kernelSize % 2 !== 0) throw new Error(`ConvTasNet: kernelSize must be even (stride kernelSize / 2), got ${a.kernelSize}`);
    const stride = a.kernelSize / 2;
    this.encoder = this.addModule('encoder', new Conv1d({ inChannels: 1, outChannels: a.encoderDim, kernelSize: a.kernelSize, stride, bias: false }));
    this.inNorm = this.addModule('inNorm', new GlobalLayerNorm({ numChannels: a.encoderDim }));
    this.bottleneckConv = this.addModule('bottleneckConv', new Conv1d({ inChannels: a.encoderDim, outChannels: a.bottleneck, kernelSize: 1 }));
    this.blocks = [];
    for (let r = 0; r < a.repeats; r++) {
      for (let x = 0; x < a.blocks; x++) {
        this.blocks.push(this.addModule(`block${r}_${x}`, new TcnBlock({ bottleneck: a.bottleneck, hidden: a.hidden, skip: a.skip,
          kernel: a.convKernel, dilation: 2 ** x })));
      }
    }
    this.maskAct = this.addModule('maskAct', new PReLU());
    this.maskConv = this.addModule('maskConv', new Conv1d({ inChannels: a.skip, outChannels: a.numSources * a.encoderDim, kernelSize: 1 }));
    this.decoder = this.addModule('decoder', new ConvTranspose1d({ inChannels: a.encoderDim, outChannels: 1, kernelSize: a.kernelSize, stride, bias: false }));
    if (a.layerHeads === 'separate' && a.repeats > 1) {
      this.loHeads = this.addModule('loHeads', new ModuleList(Array.from({ length: a.repeats - 1 },
        () => new ConvTasNetMaskHead({ skip: a.skip, numSources: a.numSources, encoderDim: a.encoderDim }))));
    }
  }

  /** mixture [batch, time] -> estimated sources [batch, numSources, time]. */
  forward(mixture: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => this.separate(mixture, ctx, false)[0]);
  }

  /**
   * The separations of layer-wise optimisation: one [batch, numSources, time] per repeat of the TCN, in order,
   * each decoded from the masks of the skip connections summed up to the end of its repeat (through
   * `loHeads.<r>` when `layerHeads` is 'separate', else through the model's own mask head). The last is the
   * final output, equal to `forward`'s; inference uses `forward` alone.
   */
  forwardLayers(mixture: tf.Tensor, ctx: Ctx): tf.Tensor[] {
    return this.separate(mixture, ctx, true);
  }

  private separate(mixture: tf.Tensor, ctx: Ctx, layers: boolean): tf.Tensor[] {
    if (mixture.rank !== 2) throw new Error(`ConvTasNet: expected a mixture [batch, time], got [${mixture.shape}]`);
    const [B, T] = mixture.shape;
    const a = this.args;
    const stride = a.kernelSize / 2;
    return tf.tidy(() => {
      // Pad so that the encoder's frames cover the signal exactly.
      const frames = Math.max(1, Math.ceil((T - a.kernelSize) / stride)) + 1;
      const padded = (frames - 1) * stride + a.kernelSize;
      const x = tf.expandDims(tf.pad(mixture, [[0, 0], [0, padded - T]]), 2);                   // [B, T', 1]
      const w = tf.relu(this.encoder.forward(x, ctx));                                            // [B, frames, N]
      const decode = (logits: tf.Tensor) => {                                                     // [B, frames, S*N]
        const m = tf.reshape(tf.sigmoid(logits), [B, frames, a.numSources, a.encoderDim]);
        const masked = tf.mul(tf.expandDims(w, 2), m);                                            // [B, frames, S, N]
        const perSource = tf.reshape(tf.transpose(masked, [0, 2, 1, 3]), [B * a.numSources, frames, a.encoderDim]);
        const dec = this.decoder.forward(perSource, ctx);                                         // [B*S, T', 1]
        return tf.reshape(tf.slice(dec, [0, 0, 0], [B * a.numSources, T, 1]), [B, a.numSources, T]);
      };
      let y = this.bottleneckConv.forward(this.inNorm.forward(w, ctx), ctx);                      // [B, frames, B]
      let skip: tf.Tensor | undefined;
      const outs: tf.Tensor[] = [];
      this.blocks.forEach((blk, i) => {
        const r = blk.run(y, ctx);
        y = r.out;
        recordTap(ctx, blk.path, y); // each block's residual output, [B, frames, bottleneck], as taps 'block<r>_<x>'
        skip = skip ? tf.add(skip, r.skip) : r.skip;
        const repeat = Math.floor(i / a.blocks);
        if (layers && (i + 1) % a.blocks === 0 && repeat < a.repeats - 1) {
          const head = this.loHeads?.items[repeat];
          outs.push(decode(head ? head.forward(skip, ctx) : this.maskConv.forward(this.maskAct.forward(skip, ctx), ctx)));
        }
      });
      outs.push(decode(this.maskConv.forward(this.maskAct.forward(skip!, ctx), ctx)));
      return outs;
    });
  }

  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('ConvTasNet', ConvTasNet);
