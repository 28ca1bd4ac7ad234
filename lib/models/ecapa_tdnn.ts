// ECAPA-TDNN speaker embedding (Desplanques et al. 2020) as OS-KDFT's reference code builds it on SSL features
// (Jungwoo4021/OS-KDFT, exp_lib/module/ssl_backend/ecapa_tdnn.py), and the AAM-softmax loss of its training.
import * as tf from '@tensorflow/tfjs';
import { BatchNorm } from '../nn/norm';
import { Conv1d } from '../nn/conv';
import { Linear } from '../nn/linear';
import { Ctx, Module, parameterRng, registerModule } from '../nn/module';
import { ModuleList } from '../nn/sequential';

/** Squeeze-excitation over channels: mean over time, 1x1 conv down, ReLU, 1x1 conv up, sigmoid, times the input. */
export class EcapaSe extends Module {
  readonly down: Conv1d;
  readonly up: Conv1d;
  constructor(readonly channels: number, readonly bottleneck: number) {
    super();
    this.down = this.addModule('down', new Conv1d({ inChannels: channels, outChannels: bottleneck, kernelSize: 1 }));
    this.up = this.addModule('up', new Conv1d({ inChannels: bottleneck, outChannels: channels, kernelSize: 1 }));
  }
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => {
      const s = tf.mean(x, 1, true);
      return tf.mul(x, tf.sigmoid(this.up.forward(tf.relu(this.down.forward(s, ctx)), ctx)));
    });
  }
  getConfig(): Record<string, unknown> {
    return { channels: this.channels, bottleneck: this.bottleneck };
  }
}
registerModule('EcapaSe', EcapaSe, (c) => new EcapaSe(c.channels as number, c.bottleneck as number));

/** Arguments of {@link EcapaBlock}. */
export interface EcapaBlockArgs { channels: number; kernelSize: number; dilation: number; scale: number; seBottleneck: number }

/**
 * The SE-Res2Net block (the reference's Bottle2neck): 1x1 conv, ReLU, BN; the channels split into `scale` groups
 * of width C / scale, each group but the last passed through a dilated conv + ReLU + BN after adding the previous
 * group's output (hierarchical residual), the last group kept; 1x1 conv, ReLU, BN; squeeze-excitation; + input.
 * Data channels last, [batch, frames, channels].
 */
export class EcapaBlock extends Module {
  readonly args: EcapaBlockArgs;
  readonly width: number;
  readonly conv1: Conv1d;
  readonly bn1: BatchNorm;
  readonly convs: ModuleList;
  readonly bns: ModuleList;
  readonly conv3: Conv1d;
  readonly bn3: BatchNorm;
  readonly se: EcapaSe;
  constructor(args: EcapaBlockArgs) {
    super();
    this.args = { ...args };
    const { channels: C, kernelSize: k, dilation: d, scale } = args;
    const w = this.width = Math.floor(C / scale);
    if (w < 1) throw new Error(`EcapaBlock: ${C} channels cannot be split into scale ${scale} groups`);
    this.conv1 = this.addModule('conv1', new Conv1d({ inChannels: C, outChannels: w * scale, kernelSize: 1 }));
    this.bn1 = this.addModule('bn1', new BatchNorm({ numFeatures: w * scale }));
    const pad = Math.floor(k / 2) * d;
    this.convs = this.addModule('convs', new ModuleList(Array.from({ length: scale - 1 },
      () => new Conv1d({ inChannels: w, outChannels: w, kernelSize: k, dilation: d, padding: pad }))));
    this.bns = this.addModule('bns', new ModuleList(Array.from({ length: scale - 1 }, () => new BatchNorm({ numFeatures: w }))));
    this.conv3 = this.addModule('conv3', new Conv1d({ inChannels: w * scale, outChannels: C, kernelSize: 1 }));
    this.bn3 = this.addModule('bn3', new BatchNorm({ numFeatures: C }));
    this.se = this.addModule('se', new EcapaSe(C, args.seBottleneck));
  }
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => {
      const h = this.bn1.forward(tf.relu(this.conv1.forward(x, ctx)), ctx);
      const parts = tf.split(h, this.args.scale, 2);
      const outs: tf.Tensor[] = [];
      let sp: tf.Tensor | undefined;
      for (let i = 0; i < this.args.scale - 1; i++) {
        sp = i === 0 ? parts[0] : tf.add(sp!, parts[i]);
        sp = (this.bns.items[i] as BatchNorm).forward(tf.relu((this.convs.items[i] as Conv1d).forward(sp, ctx)), ctx);
        outs.push(sp);
      }
      outs.push(parts[this.args.scale - 1]);
      const y = this.bn3.forward(tf.relu(this.conv3.forward(tf.concat(outs, 2), ctx)), ctx);
      return tf.add(this.se.forward(y, ctx), x);
    });
  }
  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('EcapaBlock', EcapaBlock);

/** Arguments of {@link EcapaTdnn}. */
export interface EcapaTdnnArgs {
  /** Features per frame (the SSL model's width). */
  inputDim: number;
  /** Channels C of the blocks (the reference: 512). The multi-layer aggregation has 3C, the pooled statistics 6C. Default 512. */
  channels?: number;
  /** Embedding size. Default 192. */
  embeddingDim?: number;
  /** Res2Net scale (groups per block). Default 8. */
  scale?: number;
  /** Squeeze-excitation bottleneck. Default 128. */
  seBottleneck?: number;
  /** Hidden channels of the attentive statistics pooling. Default 256. */
  attentionHidden?: number;
  /**
   * Input as stacked hidden states [batch, layers, frames, inputDim] summed with learned weights (the reference's
   * `weighted_sum`: raw weights, initialised uniform in [0, 1), no softmax): the number of hidden states. 0: input
   * [batch, frames, inputDim]. Default 0.
   */
  layerWeights?: number;
}

/**
 * ECAPA-TDNN on SSL features, as OS-KDFT's reference (its SmallEcapaTdnn): optional weighted sum of hidden states;
 * instance norm over time (no affine); conv(k 5) + ReLU + BN; three SE-Res2Net blocks (k 3, dilations 2, 3, 4)
 * fed with the sums of the earlier outputs; their concatenation through a 1x1 conv to 3C + ReLU; attentive
 * statistics pooling (attention over frames from [x, mean, std], weighted mean and std); BN, linear to the
 * embedding, BN. Input [batch, frames, inputDim] (or stacked layers), output [batch, embeddingDim].
 */
export class EcapaTdnn extends Module {
  readonly args: Required<EcapaTdnnArgs>;
  readonly w?: tf.Variable;
  readonly conv1: Conv1d;
  readonly bn1: BatchNorm;
  readonly layer1: EcapaBlock;
  readonly layer2: EcapaBlock;
  readonly layer3: EcapaBlock;
  readonly layer4: Conv1d;
  readonly attention1: Conv1d;
  readonly attentionBn: BatchNorm;
  readonly attention2: Conv1d;
  readonly bn5: BatchNorm;
  readonly fc6: Linear;
  readonly bn6: BatchNorm;

  constructor(args: EcapaTdnnArgs) {
    super();
    const a = this.args = { channels: 512, embeddingDim: 192, scale: 8, seBottleneck: 128, attentionHidden: 256, layerWeights: 0, ...args };
    for (const k of ['inputDim', 'channels', 'embeddingDim', 'scale', 'seBottleneck', 'attentionHidden'] as const) {
      if (!(Number.isInteger(a[k]) && a[k] >= 1)) throw new Error(`EcapaTdnn: ${k} must be a positive integer, got ${a[k]}`);
    }
    const C = a.channels, M = 3 * C;
    if (a.layerWeights > 0) {
      const rng = parameterRng();
      this.w = this.addParameter('w', Float32Array.from({ length: a.layerWeights }, () => rng.uniform()), [a.layerWeights]);
    }
    this.conv1 = this.addModule('conv1', new Conv1d({ inChannels: a.inputDim, outChannels: C, kernelSize: 5, padding: 2 }));
    this.bn1 = this.addModule('bn1', new BatchNorm({ numFeatures: C }));
    const block = (d: number) => new EcapaBlock({ channels: C, kernelSize: 3, dilation: d, scale: a.scale, seBottleneck: a.seBottleneck });
    this.layer1 = this.addModule('layer1', block(2));
    this.layer2 = this.addModule('layer2', block(3));
    this.layer3 = this.addModule('layer3', block(4));
    this.layer4 = this.addModule('layer4', new Conv1d({ inChannels: 3 * C, outChannels: M, kernelSize: 1 }));
    this.attention1 = this.addModule('attention1', new Conv1d({ inChannels: 3 * M, outChannels: a.attentionHidden, kernelSize: 1 }));
    this.attentionBn = this.addModule('attentionBn', new BatchNorm({ numFeatures: a.attentionHidden }));
    this.attention2 = this.addModule('attention2', new Conv1d({ inChannels: a.attentionHidden, outChannels: M, kernelSize: 1 }));
    this.bn5 = this.addModule('bn5', new BatchNorm({ numFeatures: 2 * M }));
    this.fc6 = this.addModule('fc6', new Linear({ inFeatures: 2 * M, outFeatures: a.embeddingDim }));
    this.bn6 = this.addModule('bn6', new BatchNorm({ numFeatures: a.embeddingDim }));
  }

  forward(input: tf.Tensor, ctx: Ctx): tf.Tensor {
    const a = this.args;
    const want = a.layerWeights > 0 ? `[batch, ${a.layerWeights}, frames, ${a.inputDim}]` : `[batch, frames, ${a.inputDim}]`;
    if (input.rank !== (a.layerWeights > 0 ? 4 : 3) || input.shape[input.rank - 1] !== a.inputDim || (a.layerWeights > 0 && input.shape[1] !== a.layerWeights)) {
      throw new Error(`EcapaTdnn: expected ${want}, got [${input.shape}]`);
    }
    return tf.tidy(() => {
      let x = this.w ? tf.sum(tf.mul(input, tf.reshape(this.w, [1, -1, 1, 1])), 1) : input;
      const m = tf.moments(x, 1, true);                                   // instance norm over time
      x = tf.div(tf.sub(x, m.mean), tf.sqrt(tf.add(m.variance, 1e-5)));
      x = this.bn1.forward(tf.relu(this.conv1.forward(x, ctx)), ctx);
      const x1 = this.layer1.forward(x, ctx);
      const x2 = this.layer2.forward(tf.add(x, x1), ctx);
      const x3 = this.layer3.forward(tf.add(tf.add(x, x1), x2), ctx);
      const h = tf.relu(this.layer4.forward(tf.concat([x1, x2, x3], 2), ctx));      // [B, T, 3C]
      const T = h.shape[1]!;
      const mean = tf.mean(h, 1, true);
      // torch.var is unbiased (T - 1); clamped at 1e-4 before the square root, as the reference.
      const std = tf.sqrt(tf.maximum(tf.div(tf.sum(tf.square(tf.sub(h, mean)), 1, true), Math.max(T - 1, 1)), 1e-4));
      // attention1 on [h, mean, std] (mean and std repeated over frames, as the reference concatenates them) is
      // W_h h + (W_m mean + W_s std + b) with the weight's row blocks: the same numbers without the repeated copies.
      const M = h.shape[2]!, H = this.args.attentionHidden;
      const W = tf.reshape(this.attention1.weight, [3 * M, H]);
      const Wh = tf.slice(W, [0, 0], [M, H]), Wms = tf.slice(W, [M, 0], [2 * M, H]);
      const stats = tf.matMul(tf.concat([tf.squeeze(mean, [1]), tf.squeeze(std, [1])], 1), Wms);            // [B, H]
      const shift = this.attention1.bias ? tf.add(stats, this.attention1.bias) : stats;
      const a1 = tf.add(tf.reshape(tf.matMul(tf.reshape(h, [-1, M]), Wh), [-1, T, H]), tf.expandDims(shift, 1));
      if (ctx.macs) ctx.macs.total += h.shape[0]! * T * M * H;
      const att = tf.tanh(this.attentionBn.forward(tf.relu(a1), ctx));
      const w = tf.softmax(tf.transpose(this.attention2.forward(att, ctx), [0, 2, 1]));   // softmax over frames
      const wt = tf.transpose(w, [0, 2, 1]);
      const mu = tf.sum(tf.mul(h, wt), 1);
      const sg = tf.sqrt(tf.maximum(tf.sub(tf.sum(tf.mul(tf.square(h), wt), 1), tf.square(mu)), 1e-4));
      const pooled = this.bn5.forward(tf.concat([mu, sg], 1), ctx);
      return this.bn6.forward(this.fc6.forward(pooled, ctx), ctx);
    });
  }

  /**
   * Loads a state dict of OS-KDFT's reference ECAPA-TDNN (SmallEcapaTdnn; `module.` prefixes and
   * num_batches_tracked ignored): its names mapped (se.se.1/3 -> se.down/up, attention.0/2/4 -> attention1,
   * attentionBn, attention2, running_mean/var -> runningMean/Var), conv weights [out, in, k] -> [k, in, out], linear
   * weights transposed, the layer weights [1, L, 1, 1] flattened. Unknown or missing names are an error naming them.
   */
  loadReferenceStateDict(dict: Map<string, tf.Tensor> | Record<string, tf.Tensor>): void {
    const given = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const own = this.stateDict();
    const mapped = new Map<string, tf.Tensor>();
    const unknown: string[] = [];
    try {
      for (const [raw, v] of given) {
        const key = raw.replace(/^module\./, '');
        if (key.endsWith('num_batches_tracked')) continue;
        const name = key.replace(/\.se\.se\.1\./, '.se.down.').replace(/\.se\.se\.3\./, '.se.up.').replace(/^attention\.0\./, 'attention1.')
          .replace(/^attention\.2\./, 'attentionBn.').replace(/^attention\.4\./, 'attention2.').replace(/running_mean$/, 'runningMean')
          .replace(/running_var$/, 'runningVar');
        const target = own.get(name);
        if (!target) { unknown.push(raw); continue; }
        let t: tf.Tensor = v.rank === 3 ? tf.transpose(v, [2, 1, 0]) : v.rank === 2 ? tf.transpose(v) : tf.reshape(v, target.shape);
        if (t === v) t = v.clone();
        if (t.shape.join() !== target.shape.join()) throw new Error(`EcapaTdnn.loadReferenceStateDict: ${raw} has shape [${v.shape}], ${name} needs [${target.shape}]`);
        mapped.set(name, t);
      }
      const missing = [...own.keys()].filter((k) => !mapped.has(k));
      if (unknown.length || missing.length) {
        throw new Error(`EcapaTdnn.loadReferenceStateDict: ${unknown.length ? `unexpected ${unknown.slice(0, 6).join(', ')}` : ''}` +
          `${unknown.length && missing.length ? '; ' : ''}${missing.length ? `missing ${missing.slice(0, 6).join(', ')}` : ''} (do the arguments match?)`);
      }
      this.loadStateDict(mapped, false);
    } finally {
      tf.dispose([...mapped.values()]);
    }
  }

  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('EcapaTdnn', EcapaTdnn);

/** Arguments of {@link AamSoftmax}. */
export interface AamSoftmaxArgs {
  embeddingDim: number;
  numClasses: number;
  /** Additive angular margin m, radians. Default 0.2 (OS-KDFT). */
  margin?: number;
  /** Scale s of the logits. Default 30. */
  scale?: number;
}

/**
 * Additive angular margin softmax (ArcFace; "In defence of metric learning for speaker recognition"), as OS-KDFT's
 * reference: cos = normalize(x) normalize(W)^T; the target class's logit is cos(theta + m) = cos cos m - sin sin m
 * (sin = sqrt(clamp(1 - cos^2, 0, 1)), no easy-margin fallback), the others cos; times `scale`; cross-entropy.
 * W [numClasses, embeddingDim] starts Xavier-normal.
 */
export class AamSoftmax extends Module {
  readonly args: Required<AamSoftmaxArgs>;
  readonly weight: tf.Variable;
  constructor(args: AamSoftmaxArgs) {
    super();
    this.args = { margin: 0.2, scale: 30, ...args };
    const { embeddingDim: E, numClasses: K } = this.args;
    const rng = parameterRng();
    const std = Math.sqrt(2 / (E + K));
    this.weight = this.addParameter('weight', Float32Array.from({ length: K * E }, () => rng.normal(0, std)), [K, E]);
  }
  /** Cosine of every embedding [batch, E] with every class [batch, K]. */
  cosine(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const unit = (t: tf.Tensor) => tf.div(t, tf.maximum(tf.norm(t, 'euclidean', 1, true), 1e-12));
      return tf.matMul(unit(x), unit(this.weight), false, true) as tf.Tensor2D;
    });
  }
  /** The mean AAM-softmax loss of embeddings x [batch, E] with integer labels [batch]. */
  loss(x: tf.Tensor, labels: tf.Tensor): tf.Scalar {
    return tf.tidy(() => {
      const { margin, scale, numClasses } = this.args;
      const cos = this.cosine(x);
      const sin = tf.sqrt(tf.clipByValue(tf.sub(1, tf.square(cos)), 0, 1));
      const phi = tf.sub(tf.mul(cos, Math.cos(margin)), tf.mul(sin, Math.sin(margin)));
      const oneHot = tf.oneHot(tf.cast(labels, 'int32'), numClasses);
      const logits = tf.mul(tf.add(tf.mul(oneHot, phi), tf.mul(tf.sub(1, oneHot), cos)), scale);
      return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
    });
  }
  /** The cosine logits (no margin) scaled, for prediction. */
  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    return tf.tidy(() => tf.mul(this.cosine(x), this.args.scale));
  }
  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('AamSoftmax', AamSoftmax);
