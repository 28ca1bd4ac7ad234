import * as tf from '@tensorflow/tfjs';
import type { AdapterOptions } from '../../distill/adapter';
import { EcapaTdnn } from '../../models/ecapa_tdnn';
import { Wav2Vec2Model, Wav2Vec2ModelArgs } from '../../models/wav2vec2';
import { BatchNorm } from '../../nn/norm';
import { Linear } from '../../nn/linear';
import { buildModule, Ctx, Module, ModuleSpec, registerModule } from '../../nn/module';

/** Arguments of {@link LightSpeakerHead}. */
export interface LightSpeakerHeadArgs { numLayers: number; features: number; embeddingDim: number }

/**
 * The HuBERT scripts' light speaker back end: a softmax-weighted sum of the hidden states [batch, layers, frames,
 * features], mean and standard deviation over frames, Linear to the embedding, batch norm.
 */
export class LightSpeakerHead extends Module {
  readonly args: LightSpeakerHeadArgs;
  readonly layerLogits: tf.Variable;
  readonly fc: Linear;
  readonly bn: BatchNorm;
  constructor(args: LightSpeakerHeadArgs) {
    super();
    this.args = { ...args };
    this.layerLogits = this.addParameter('layerLogits', new Float32Array(args.numLayers), [args.numLayers]);
    this.fc = this.addModule('fc', new Linear({ inFeatures: 2 * args.features, outFeatures: args.embeddingDim }));
    this.bn = this.addModule('bn', new BatchNorm({ numFeatures: args.embeddingDim }));
  }
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => {
      const h = tf.sum(tf.mul(x, tf.reshape(tf.softmax(this.layerLogits), [1, -1, 1, 1])), 1);
      const m = tf.moments(h, 1);
      return this.bn.forward(this.fc.forward(tf.concat([m.mean, tf.sqrt(tf.add(m.variance, 1e-5))], 1), ctx), ctx);
    });
  }
  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('LightSpeakerHead', LightSpeakerHead);

/**
 * A speaker-embedding model: an SSL model (Wav2Vec2Model) whose stacked hidden states feed a back end (EcapaTdnn
 * with a weighted sum of layers, or LightSpeakerHead). forward: waveforms [batch, samples] -> embeddings.
 */
export class SpeakerModel extends Module {
  readonly ssl: Wav2Vec2Model;
  readonly backend: Module;
  constructor(ssl: Wav2Vec2Model, backend: Module) {
    super();
    this.ssl = this.addModule('ssl', ssl);
    this.backend = this.addModule('backend', backend);
  }
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => this.backend.forward(this.ssl.forward(x, ctx), ctx));
  }
  getConfig(): Record<string, unknown> {
    return { ssl: this.ssl.spec(), backend: this.backend.spec() };
  }
}
registerModule('SpeakerModel', SpeakerModel, (c) => new SpeakerModel(buildModule(c.ssl as ModuleSpec) as Wav2Vec2Model,
  buildModule(c.backend as ModuleSpec)));

/** The back end of a config for an SSL model of `layers` transformer layers and width `features`. */
export function buildBackend(kind: 'ecapa' | 'light', layers: number, features: number, o: { channels: number; attentionHidden: number;
  embeddingDim: number }): Module {
  return kind === 'ecapa'
    ? new EcapaTdnn({ inputDim: features, channels: o.channels, attentionHidden: o.attentionHidden, embeddingDim: o.embeddingDim, layerWeights: layers + 1 })
    : new LightSpeakerHead({ numLayers: layers + 1, features, embeddingDim: o.embeddingDim });
}

/**
 * OS-KDFT's student: the teacher's feature extractor, feature projection, positional convolution and first `layers`
 * transformer layers, copied from the teacher (with `adapters`, one per layer, starting as no change).
 */
export function buildStudent(teacher: Wav2Vec2Model, layers: number, adapters: AdapterOptions | null): Wav2Vec2Model {
  const a = teacher.args;
  if (!(Number.isInteger(layers) && layers >= 1 && layers <= a.encoderNumLayers)) {
    throw new Error(`os-kdft: studentLayers must be an integer in [1, ${a.encoderNumLayers}] (the teacher's layers), got ${layers}`);
  }
  const first = <T>(v: T): T => (Array.isArray(v) ? v.slice(0, layers) as T : v);
  const args: Wav2Vec2ModelArgs = { ...a, encoderNumLayers: layers, encoderNumHeads: first(a.encoderNumHeads),
    encoderFfIntermFeatures: first(a.encoderFfIntermFeatures), encoderUseAttention: first(a.encoderUseAttention),
    encoderUseFeedForward: first(a.encoderUseFeedForward), prune: {}, adapters };
  const student = new Wav2Vec2Model(args);
  const t = teacher.stateDict();
  const own = student.stateDict();
  const copy = new Map([...own.keys()].filter((k) => !k.includes('.adapter.')).map((k) => {
    const v = t.get(k);
    if (!v) throw new Error(`os-kdft: ${k} of the student is not in the teacher`);
    return [k, v] as const;
  }));
  student.loadStateDict(copy, false);
  return student;
}
