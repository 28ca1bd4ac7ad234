import * as tf from '@tensorflow/tfjs';
import { backend_util } from '@tensorflow/tfjs';

interface CpuBackend {
  data: { get(dataId: unknown): { values: backend_util.TypedArray } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: backend_util.TypedArray): tf.TensorInfo;
}

/**
 * Average-pool gradient whose divisor counts only the window positions inside the input, like the
 * forward pass (TensorFlow SAME semantics). tfjs's cpu AvgPoolGrad divides by the whole window, so its
 * gradient disagrees with its own forward wherever a window overlaps the padding.
 */
function avgPoolGrad(args: { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: Record<string, unknown> }): tf.TensorInfo {
  const { inputs, attrs } = args;
  const be = args.backend as CpuBackend;
  const { dy, input } = inputs;
  const pi = backend_util.computePool2DInfo(input.shape as [number, number, number, number],
    attrs!.filterSize as [number, number] | number, attrs!.strides as [number, number] | number, 1,
    attrs!.pad as 'same' | 'valid', attrs!.dimRoundingMode as 'floor' | undefined);
  const g = be.data.get(dy.dataId).values as Float32Array;
  const [B, H, W, C] = input.shape;
  const out = new Float32Array(B * H * W * C);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < pi.outHeight; oh++) {
      const h0 = oh * pi.strideHeight - pi.padInfo.top;
      const hs = Math.max(h0, 0), he = Math.min(h0 + pi.filterHeight, H);
      for (let ow = 0; ow < pi.outWidth; ow++) {
        const w0 = ow * pi.strideWidth - pi.padInfo.left;
        const ws = Math.max(w0, 0), we = Math.min(w0 + pi.filterWidth, W);
        const count = (he - hs) * (we - ws);
        if (count <= 0) continue;
        const go = ((b * pi.outHeight + oh) * pi.outWidth + ow) * C;
        for (let ih = hs; ih < he; ih++) {
          for (let iw = ws; iw < we; iw++) {
            const o = ((b * H + ih) * W + iw) * C;
            for (let c = 0; c < C; c++) out[o + c] += g[go + c] / count;
          }
        }
      }
    }
  }
  return be.makeTensorInfo(input.shape, 'float32', out);
}

let done = false;

/** Registers slimspeech's corrections to tfjs's cpu backend kernels (see test/backend). Idempotent. */
export function registerCpuFixes(): void {
  if (done) return;
  done = true;
  if (tf.getKernel('AvgPoolGrad', 'cpu')) tf.unregisterKernel('AvgPoolGrad', 'cpu');
  tf.registerKernel({ kernelName: 'AvgPoolGrad', backendName: 'cpu', kernelFunc: avgPoolGrad as unknown as tf.KernelFunc });
}
