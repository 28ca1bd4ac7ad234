import * as tf from '@tensorflow/tfjs';
import { backend_util } from '@tensorflow/tfjs';

type Attrs = Record<string, unknown>;

function pair(v: unknown): [number, number] {
  if (v == null) return [1, 1];
  return typeof v === 'number' ? [v, v] : [(v as number[])[0], (v as number[])[1]];
}

let dilatedKernelsOn = (): boolean => false;

/**
 * Tells the gradient configs whether the current backend's backprop kernels honour a `dilations`
 * attribute (slimspeech's wasm kernels do; tfjs's stock kernels ignore it).
 */
export function setDilatedKernelsPredicate(p: () => boolean): void {
  dilatedKernelsOn = p;
}

/**
 * Gradients of a dilated stride-1 convolution through TensorFlow's atrous formulation, with ops every
 * backend has: y = batchToSpace(conv_valid(spaceToBatch(pad(x))), crops). Each step's adjoint is applied in
 * turn (batchToSpace and spaceToBatch are each other's adjoints; the undilated backprop kernels do the
 * convolution), so no nested tape is needed inside the gradient function.
 */
function atrousGrads(x: tf.Tensor4D, filter: tf.Tensor4D, dy: tf.Tensor4D, dil: [number, number],
  padInfo: backend_util.PadInfo, depthwise: boolean, which: 'dx' | 'dfilter'): tf.Tensor {
  return tf.tidy(() => {
    const [dh, dw] = dil;
    const xp = tf.pad(x, [[0, 0], [padInfo.top, padInfo.bottom], [padInfo.left, padInfo.right], [0, 0]]);
    const exH = (dh - (xp.shape[1] % dh)) % dh;
    const exW = (dw - (xp.shape[2] % dw)) % dw;
    const folds: [[number, number], [number, number]] = [[0, exH], [0, exW]];
    const xs = tf.spaceToBatchND(xp, [dh, dw], folds) as tf.Tensor4D;
    const gs = tf.spaceToBatchND(dy, [dh, dw], folds) as tf.Tensor4D;
    const attrs = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] } as unknown as tf.NamedAttrMap;
    const run = (name: string, inputs: Record<string, tf.Tensor>, extra: Record<string, unknown>) =>
      tf.engine().runKernel(name, inputs, { ...attrs, ...extra } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
    if (which === 'dfilter') {
      return run(depthwise ? 'DepthwiseConv2dNativeBackpropFilter' : 'Conv2DBackpropFilter',
        { x: xs, dy: gs }, { filterShape: filter.shape });
    }
    const dxs = run(depthwise ? 'DepthwiseConv2dNativeBackpropInput' : 'Conv2DBackpropInput',
      { dy: gs, filter }, { inputShape: xs.shape });
    const dxp = tf.batchToSpaceND(dxs, [dh, dw], folds);
    return tf.slice(dxp, [0, padInfo.top, padInfo.left, 0], x.shape);
  });
}

function makeGradFunc(depthwise: boolean) {
  const backpropInput = depthwise ? 'DepthwiseConv2dNativeBackpropInput' : 'Conv2DBackpropInput';
  const backpropFilter = depthwise ? 'DepthwiseConv2dNativeBackpropFilter' : 'Conv2DBackpropFilter';
  return (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: Attrs) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const g = dy as tf.Tensor4D;
    const dil = pair(attrs.dilations);
    const strides = pair(attrs.strides);
    const dilated = dil[0] > 1 || dil[1] > 1;
    if (dilated && (strides[0] > 1 || strides[1] > 1)) {
      throw new Error(`gradient of ${depthwise ? 'depthwiseConv2d' : 'conv2d'}: strides ${strides} and dilations ` +
        `${dil} cannot both exceed 1`);
    }
    if (attrs.dataFormat === 'NCHW') {
      throw new Error('slimspeech convolution gradients support channels-last (NHWC) data only');
    }
    const common = { strides: attrs.strides, pad: attrs.pad, dataFormat: attrs.dataFormat ?? 'NHWC',
      dimRoundingMode: attrs.dimRoundingMode, dilations: attrs.dilations ?? [1, 1] };
    if (!dilated || dilatedKernelsOn()) {
      return {
        x: () => tf.engine().runKernel(backpropInput, { dy: g, filter },
          { ...common, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
        filter: () => tf.engine().runKernel(backpropFilter, { x, dy: g },
          { ...common, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      };
    }
    const info = backend_util.computeConv2DInfo(x.shape, filter.shape, 1, dil,
      attrs.pad as 'same' | 'valid', attrs.dimRoundingMode as 'floor' | undefined, depthwise);
    // The engine runs each closure in its own scope, so each computes what it returns.
    return {
      x: () => atrousGrads(x, filter, g, dil, info.padInfo, depthwise, 'dx'),
      filter: () => atrousGrads(x, filter, g, dil, info.padInfo, depthwise, 'dfilter'),
    };
  };
}

let done = false;

/**
 * Replaces tfjs-core's gradient configs for Conv2D and DepthwiseConv2dNative, which refuse dilations
 * greater than 1 on every backend (dilated TCNs such as Conv-TasNet need them). Undilated convolutions
 * take exactly tfjs's path (the backend's backprop kernels). Dilated ones call the backprop kernels with
 * the dilation where the backend honours it (slimspeech's wasm kernels) and otherwise go through the
 * equivalent space-to-batch formulation, so the result is correct on tfjs-node, cpu and webgl too.
 */
export function registerConvGradients(): void {
  if (done) return;
  done = true;
  tf.registerGradient({ kernelName: 'Conv2D', inputsToSave: ['x', 'filter'], gradFunc: makeGradFunc(false) as unknown as tf.GradFunc });
  tf.registerGradient({ kernelName: 'DepthwiseConv2dNative', inputsToSave: ['x', 'filter'], gradFunc: makeGradFunc(true) as unknown as tf.GradFunc });
}
