import * as tf from '@tensorflow/tfjs';
import { Module } from './module';
import { Sequential } from './sequential';
import { Linear } from './linear';
import { Conv1d, Conv2d } from './conv';
import { BatchNorm, LayerNorm } from './norm';
import { Activation } from './activations';
import { Dropout } from './dropout';
import { AvgPool2d, Flatten, GlobalAvgPool, MaxPool2d } from './pooling';

/** Options of {@link exportLayersModel}. */
export interface ExportLayersOptions {
  /** Input shape without the batch axis, e.g. [98, 40, 1]. Required. */
  inputShape: number[];
}

const ACTIVATIONS: Record<string, string> = { relu: 'relu', tanh: 'tanh', sigmoid: 'sigmoid', elu: 'elu', silu: 'swish', identity: 'linear' };

function where(m: Module): string {
  return m.path ? ` at '${m.path}'` : '';
}

/**
 * True when symmetric zero padding `p` on one axis computes what TF's 'same' does: with stride 1, 'same'
 * pads (k - 1) * d in total, floor of half before, so only an even total split evenly equals it (with a
 * larger stride the split depends on the input length).
 */
function padIsSame(p: number, kernel: number, stride: number, dilation: number): boolean {
  return stride === 1 && 2 * p === (kernel - 1) * dilation;
}

/** The tfjs-layers equivalent of one module, with the weights it takes, in setWeights order. */
function toLayers(m: Module, rank: number): { layer: tf.layers.Layer; weights: tf.Tensor[] }[] {
  if (m instanceof Sequential) return m.layers.flatMap((c) => toLayers(c, rank));
  if (m instanceof Linear) {
    return [{ layer: tf.layers.dense({ units: m.outFeatures, useBias: !!m.bias }), weights: m.bias ? [m.weight, m.bias] : [m.weight] }];
  }
  if (m instanceof Conv2d || m instanceof Conv1d) {
    const is1d = m instanceof Conv1d;
    const out: { layer: tf.layers.Layer; weights: tf.Tensor[] }[] = [];
    let padding: 'same' | 'valid' = 'valid';
    if (m.padding === 'same') padding = 'same';
    else if (m.padding !== 'valid') {
      // As Conv1d reads it: a 1-D layer pads only time, the last of [ph, pw].
      const [ph, pw] = typeof m.padding === 'number' ? (is1d ? [0, m.padding] : [m.padding, m.padding])
        : (is1d ? [0, m.padding[1]] : m.padding);
      const same = [ph, pw].every((p, i) => padIsSame(p, m.kernel[i], m.strides[i], m.dilations[i]));
      if (same && (ph > 0 || pw > 0)) padding = 'same';
      else if (ph > 0 || pw > 0) {
        if (is1d) {
          throw new Error(`exportLayersModel: Conv1d with padding ${pw}${where(m)} has no tfjs-layers equivalent (only padding ` +
            `'valid', 'same' or a number equal to 'same': stride 1 and padding (kernelSize - 1) * dilation / 2)`);
        }
        out.push({ layer: tf.layers.zeroPadding2d({ padding: [[ph, ph], [pw, pw]] }), weights: [] });
      }
    }
    const weights = m.bias ? [m.weight, m.bias] : [m.weight];
    if (m.isDepthwise()) {
      if (is1d) throw new Error(`exportLayersModel: depthwise Conv1d${where(m)} has no tfjs-layers equivalent`);
      out.push({ layer: tf.layers.depthwiseConv2d({ kernelSize: m.kernel, depthMultiplier: m.outChannels / m.inChannels,
        strides: m.strides, padding, dilationRate: m.dilations, useBias: !!m.bias }), weights });
    } else if (m.groups !== 1) {
      throw new Error(`exportLayersModel: grouped convolution${where(m)} has no tfjs-layers equivalent`);
    } else if (is1d) {
      out.push({ layer: tf.layers.conv1d({ filters: m.outChannels, kernelSize: m.kernel[1], strides: m.strides[1], padding,
        dilationRate: m.dilations[1], useBias: !!m.bias }), weights });
    } else {
      out.push({ layer: tf.layers.conv2d({ filters: m.outChannels, kernelSize: m.kernel, strides: m.strides, padding,
        dilationRate: m.dilations, useBias: !!m.bias }), weights });
    }
    return out;
  }
  if (m instanceof BatchNorm) {
    if (!m.runningMean || !m.runningVar) throw new Error(`exportLayersModel: BatchNorm without running statistics${where(m)}`);
    const weights = m.weight && m.bias ? [m.weight, m.bias, m.runningMean, m.runningVar] : [m.runningMean, m.runningVar];
    return [{ layer: tf.layers.batchNormalization({ axis: -1, momentum: 1 - m.momentum, epsilon: m.eps, center: !!m.bias,
      scale: !!m.weight }), weights }];
  }
  if (m instanceof LayerNorm) {
    if (!m.weight || !m.bias) throw new Error(`exportLayersModel: LayerNorm without affine parameters${where(m)}`);
    return [{ layer: tf.layers.layerNormalization({ axis: -1, epsilon: m.eps }), weights: [m.weight, m.bias] }];
  }
  if (m instanceof Activation) {
    const a = ACTIVATIONS[m.fn];
    if (!a) throw new Error(`exportLayersModel: activation '${m.fn}'${where(m)} has no tfjs-layers equivalent`);
    return [{ layer: tf.layers.activation({ activation: a as 'relu' }), weights: [] }];
  }
  if (m instanceof Dropout) return [{ layer: tf.layers.dropout({ rate: m.p }), weights: [] }];
  if (m instanceof MaxPool2d) {
    return [{ layer: tf.layers.maxPooling2d({ poolSize: m.kernelSize, strides: m.stride, padding: m.padding }), weights: [] }];
  }
  if (m instanceof AvgPool2d) {
    return [{ layer: tf.layers.averagePooling2d({ poolSize: m.kernelSize, strides: m.stride, padding: m.padding }), weights: [] }];
  }
  if (m instanceof GlobalAvgPool) {
    if (rank === 4) return [{ layer: tf.layers.globalAveragePooling2d({}), weights: [] }];
    if (rank === 3) return [{ layer: tf.layers.globalAveragePooling1d({}), weights: [] }];
    throw new Error(`exportLayersModel: GlobalAvgPool on rank ${rank}${where(m)} has no tfjs-layers equivalent`);
  }
  if (m instanceof Flatten) return [{ layer: tf.layers.flatten(), weights: [] }];
  throw new Error(`exportLayersModel: ${m.constructor.name}${where(m)} has no tfjs-layers equivalent`);
}

/**
 * Writes `dir/model.json` + `dir/weights.bin` in the tfjs-layers format, loadable with plain
 * `tf.loadLayersModel`, for a model built only from layers that tfjs-layers has (Sequential of Linear,
 * Conv1d/Conv2d (dense or depthwise), BatchNorm, LayerNorm, parameter-free activations, Dropout, pooling,
 * Flatten). The exported model computes the module's evaluation-mode output. Throws, naming the module,
 * when a layer has no equivalent.
 */
export async function exportLayersModel(module: Module, dir: string, opts: ExportLayersOptions): Promise<void> {
  const shape = (opts as Partial<ExportLayersOptions> | undefined)?.inputShape;
  if (!Array.isArray(shape) || !shape.length) {
    throw new Error('exportLayersModel: options.inputShape, the input shape without the batch axis (e.g. [98, 40, 1]), ' +
      `is required, got ${shape === undefined ? 'none' : JSON.stringify(shape)}`);
  }
  const parts = toLayers(module, opts.inputShape.length + 1);
  const model = tf.sequential();
  model.add(tf.layers.inputLayer({ inputShape: opts.inputShape }));
  for (const p of parts) model.add(p.layer);
  for (const p of parts) if (p.weights.length) p.layer.setWeights(p.weights);
  const fs = await import('fs');
  const path = await import('path');
  fs.mkdirSync(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (art) => {
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(art.weightData as ArrayBuffer));
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
      format: 'layers-model', generatedBy: `slimspeech (TensorFlow.js ${tf.version_core})`, convertedBy: null,
      modelTopology: art.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: art.weightSpecs }],
    }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  model.dispose();
}
