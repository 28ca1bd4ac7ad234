import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from '../nn/module';
import { Linear } from '../nn/linear';
import { activate } from '../nn/activations';
import { dropout } from '../nn/dropout';

/** Arguments of {@link LayerProbe}. */
export interface LayerProbeArgs {
  /** Hidden states per input (L + 1 for a Wav2Vec2Model's `forward`). */
  numLayers: number;
  /** Width of each hidden state. */
  features: number;
  /** Classes to predict. */
  numClasses: number;
  /** Hidden units of the head (0: a linear head). Default 256. */
  hidden?: number;
  /** Dropout before the output layer, in training. Default 0.1. */
  dropout?: number;
}

/**
 * A SUPERB-style probe of a frozen speech model's utterance-level content (keyword spotting, speaker
 * identification): a learned softmax-weighted sum of its hidden states, mean-pooled over time, then a small
 * head (Linear, ReLU, dropout, Linear; or one Linear). Input: stacked hidden states [batch, numLayers, frames,
 * features] (a Wav2Vec2Model's `forward`, computed under distill.noGrad so the model stays frozen); output:
 * logits [batch, numClasses]. `layerWeights()` says which layers the task draws on.
 */
export class LayerProbe extends Module {
  readonly args: Required<LayerProbeArgs>;
  readonly layerLogits: tf.Variable;
  readonly hiddenLayer?: Linear;
  readonly out: Linear;

  constructor(args: LayerProbeArgs) {
    super();
    this.args = { hidden: 256, dropout: 0.1, ...args };
    const { numLayers, features, numClasses, hidden } = this.args;
    this.layerLogits = this.addParameter('layerLogits', new Float32Array(numLayers), [numLayers]);
    if (hidden > 0) this.hiddenLayer = this.addModule('hiddenLayer', new Linear({ inFeatures: features, outFeatures: hidden }));
    this.out = this.addModule('out', new Linear({ inFeatures: hidden > 0 ? hidden : features, outFeatures: numClasses }));
  }

  /** The softmax weights of the layers [numLayers]. */
  layerWeights(): tf.Tensor1D {
    return tf.tidy(() => tf.softmax(this.layerLogits) as tf.Tensor1D);
  }

  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    const { numLayers, features } = this.args;
    if (x.rank !== 4 || x.shape[1] !== numLayers || x.shape[3] !== features) {
      throw new Error(`LayerProbe: expected stacked hidden states [batch, ${numLayers}, frames, ${features}], got [${x.shape}]`);
    }
    return tf.tidy(() => {
      const w = tf.reshape(tf.softmax(this.layerLogits), [1, numLayers, 1, 1]);
      const pooled = tf.mean(tf.sum(tf.mul(x, w), 1), 1);               // [batch, features]
      let h = pooled;
      if (this.hiddenLayer) h = activate(this.hiddenLayer.forward(h, ctx), 'relu');
      return this.out.forward(dropout(h, this.args.dropout, ctx), ctx);
    });
  }

  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('LayerProbe', LayerProbe);
