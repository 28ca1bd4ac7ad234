import * as tf from '@tensorflow/tfjs';
import { backend_util } from '@tensorflow/tfjs';
import { kernelModule, WasmBackend } from './wasm_kernels';
import { FUSED } from './fused_names';
import { setDilatedKernelsPredicate } from './conv_gradients';

type Conv2DInfo = backend_util.Conv2DInfo;
type Attrs = Record<string, unknown>;
type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: Attrs };

function conv2dInfo(xShape: number[], filterShape: number[], attrs: Attrs, depthwise: boolean): Conv2DInfo {
  const dataFormat = backend_util.convertConv2DDataFormat((attrs.dataFormat as 'NHWC' | 'NCHW') ?? 'NHWC');
  if (dataFormat !== 'channelsLast') {
    throw new Error(`slimspeech wasm kernels support channels-last (NHWC) convolutions only, got ${attrs.dataFormat}`);
  }
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    attrs.strides as [number, number] | number, (attrs.dilations as [number, number] | number) ?? 1,
    attrs.pad as 'same' | 'valid', attrs.dimRoundingMode as 'floor' | undefined, depthwise, dataFormat);
}

/** A 1x1, stride-1, unpadded convolution is a plain matmul over positions: no im2col needed. */
function isPointwise(ci: Conv2DInfo): boolean {
  return ci.filterHeight === 1 && ci.filterWidth === 1 && ci.strideHeight === 1 && ci.strideWidth === 1 &&
    ci.padInfo.top === 0 && ci.padInfo.left === 0 && ci.padInfo.bottom === 0 && ci.padInfo.right === 0;
}

type ConvArgs = [number, number, number, number, number, number, number, number, number, number, number, number,
  number, number, number];

/**
 * B, H, W, Cin, KH, KW, OH, OW, strides, dilations, pad top/left, Cout: the convolution kernels' geometry.
 * Each kernel called with a work pointer of 0 only returns the scratch floats it needs.
 */
function convArgs(ci: Conv2DInfo): ConvArgs {
  return [ci.batchSize, ci.inHeight, ci.inWidth, ci.inChannels, ci.filterHeight, ci.filterWidth, ci.outHeight,
    ci.outWidth, ci.strideHeight, ci.strideWidth, ci.dilationHeight, ci.dilationWidth, ci.padInfo.top,
    ci.padInfo.left, ci.outChannels];
}

/** dW [KH, KW, Cin, Cout] by implicit GEMM (dW^T = dy^T @ patches, panels packed from the input). */
function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const be = backend as WasmBackend;
  const km = kernelModule(be);
  const { x, dy } = inputs;
  const filterShape = (attrs as Attrs).filterShape as number[];
  const ci = conv2dInfo(x.shape, filterShape, attrs as Attrs, false);
  const out = be.makeOutput(filterShape, 'float32');
  if (isPointwise(ci)) {
    km.matmul(1, ci.inChannels, ci.outChannels, ci.batchSize * ci.outHeight * ci.outWidth, km.ptr(x), 0, true, km.ptr(dy), 0, false,
      km.ptr(out));
    return out;
  }
  const need = km.k.conv2d_backprop_filter(0, 0, 0, ...convArgs(ci), 0);
  km.k.conv2d_backprop_filter(km.ptr(x), km.ptr(dy), km.ptr(out), ...convArgs(ci), km.scratchFloats(1, need));
  return out;
}

/** dx by implicit GEMM, one stride phase at a time (no col2im, no zero taps). */
function conv2DBackpropInput({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const be = backend as WasmBackend;
  const km = kernelModule(be);
  const { dy, filter } = inputs;
  const inputShape = (attrs as Attrs).inputShape as number[];
  const ci = conv2dInfo(inputShape, filter.shape, attrs as Attrs, false);
  const out = be.makeOutput(inputShape, 'float32');
  if (isPointwise(ci)) {
    km.matmul(1, ci.batchSize * ci.outHeight * ci.outWidth, ci.inChannels, ci.outChannels, km.ptr(dy), 0, false, km.ptr(filter), 0, true,
      km.ptr(out));
    return out;
  }
  const need = km.k.conv2d_backprop_input(0, 0, 0, ...convArgs(ci), 0);
  km.k.conv2d_backprop_input(km.ptr(dy), km.ptr(filter), km.ptr(out), ...convArgs(ci), km.scratchFloats(1, need));
  return out;
}

function depthwiseArgs(ci: Conv2DInfo): [number, number, number, number, number, number, number, number, number,
  number, number, number, number, number, number] {
  return [ci.batchSize, ci.inHeight, ci.inWidth, ci.inChannels, ci.outChannels / ci.inChannels, ci.filterHeight,
    ci.filterWidth, ci.outHeight, ci.outWidth, ci.strideHeight, ci.strideWidth, ci.dilationHeight,
    ci.dilationWidth, ci.padInfo.top, ci.padInfo.left];
}

function depthwiseBackpropFilter({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const be = backend as WasmBackend;
  const km = kernelModule(be);
  const { x, dy } = inputs;
  const filterShape = (attrs as Attrs).filterShape as number[];
  const ci = conv2dInfo(x.shape, filterShape, attrs as Attrs, true);
  const out = be.makeOutput(filterShape, 'float32');
  km.k.depthwise_backprop_filter(km.ptr(x), km.ptr(dy), km.ptr(out), ...depthwiseArgs(ci));
  return out;
}

function depthwiseBackpropInput({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const be = backend as WasmBackend;
  const km = kernelModule(be);
  const { dy, filter } = inputs;
  const inputShape = (attrs as Attrs).inputShape as number[];
  const ci = conv2dInfo(inputShape, filter.shape, attrs as Attrs, true);
  const out = be.makeOutput(inputShape, 'float32');
  km.k.depthwise_backprop_input(km.ptr(dy), km.ptr(filter), km.ptr(out), ...depthwiseArgs(ci));
  return out;
}

/** Batched matmul on the SIMD GEMM for every transpose combination and broadcast batch. */
function makeBatchMatMul(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs;
    const transposeA = Boolean(attrs?.transposeA);
    const transposeB = Boolean(attrs?.transposeB);
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) {
      return fallback(args as unknown as Parameters<tf.KernelFunc>[0]);
    }
    const ra = a.shape.length, rb = b.shape.length;
    const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const Kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    if (K !== Kb) {
      throw new Error(`Error in matMul: inner shapes (${K}) and (${Kb}) of Tensors with shapes ${a.shape} and ` +
        `${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
    }
    const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
    const batchA = outerA.reduce((p, q) => p * q, 1), batchB = outerB.reduce((p, q) => p * q, 1);
    const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
    const batch = outer.reduce((p, q) => p * q, 1);
    // Only whole-batch broadcasting maps onto a stride; anything finer goes to tfjs's kernel.
    if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) {
      return fallback(args as unknown as Parameters<tf.KernelFunc>[0]);
    }
    const be = backend as WasmBackend;
    const km = kernelModule(be);
    const out = be.makeOutput([...outer, M, N], 'float32');
    km.matmul(batch, M, N, K, km.ptr(a), batchA === 1 ? 0 : M * K, transposeA, km.ptr(b), batchB === 1 ? 0 : K * N,
      transposeB, km.ptr(out));
    return out;
  };
}

function unsortedSegmentSum({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const be = backend as WasmBackend;
  const km = kernelModule(be);
  const { x, segmentIds } = inputs;
  const numSegments = (attrs as Attrs).numSegments as number;
  if (x.dtype !== 'float32') throw new Error(`UnsortedSegmentSum on wasm supports float32 data, got ${x.dtype}`);
  const n = segmentIds.shape.reduce((p, q) => p * q, 1);
  const inner = x.shape.slice(segmentIds.shape.length).reduce((p, q) => p * q, 1);
  const out = be.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], 'float32');
  km.k.unsorted_segment_sum(km.ptr(x), km.ptr(segmentIds), km.ptr(out), n, inner, numSegments);
  return out;
}

function poolInfo(xShape: number[], attrs: Attrs): Conv2DInfo {
  return backend_util.computePool2DInfo(xShape as [number, number, number, number],
    attrs.filterSize as [number, number] | number, attrs.strides as [number, number] | number, 1,
    attrs.pad as 'same' | 'valid', attrs.dimRoundingMode as 'floor' | undefined);
}

/** tfjs's wasm MaxPoolGrad and AvgPoolGrad return wrong values (test/backend/ops_gradients.test.ts). */
function maxPoolGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const be = backend as WasmBackend;
  const km = kernelModule(be);
  const { dy, input } = inputs;
  const pi = poolInfo(input.shape, attrs as Attrs);
  const out = be.makeOutput(input.shape, 'float32');
  km.k.max_pool_backprop(km.ptr(input), km.ptr(dy), km.ptr(out), pi.batchSize, pi.inHeight, pi.inWidth,
    pi.inChannels, pi.filterHeight, pi.filterWidth, pi.outHeight, pi.outWidth, pi.strideHeight, pi.strideWidth,
    pi.dilationHeight, pi.dilationWidth, pi.padInfo.top, pi.padInfo.left);
  return out;
}

function avgPoolGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const be = backend as WasmBackend;
  const km = kernelModule(be);
  const { dy, input } = inputs;
  const pi = poolInfo(input.shape, attrs as Attrs);
  const out = be.makeOutput(input.shape, 'float32');
  km.k.avg_pool_backprop(km.ptr(dy), km.ptr(out), pi.batchSize, pi.inHeight, pi.inWidth, pi.inChannels,
    pi.filterHeight, pi.filterWidth, pi.outHeight, pi.outWidth, pi.strideHeight, pi.strideWidth, pi.padInfo.top,
    pi.padInfo.left);
  return out;
}

/**
 * Identity as an alias of the input's data (reference-counted), as the cpu backend does. tfjs's wasm
 * Identity copies the whole tensor, and the autodiff engine calls Identity on every tensor it saves for
 * the backward pass, so training paid a full copy of most activations each step. Tensors are immutable
 * (a variable's assign replaces its data), so sharing is safe.
 */
function identity({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { x } = inputs;
  if (x.dtype === 'string') return stockIdentity!({ inputs, backend, attrs: {} } as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  (backend as { incRef(dataId: unknown): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}
let stockIdentity: tf.KernelFunc | undefined;


const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** x [G, M, C] -> y, mean [G], invstd [G]. */
function groupNorm({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const be = backend as WasmBackend, km = kernelModule(be);
  const { x, gamma, beta } = inputs;
  const [G, M, C] = x.shape;
  const y = be.makeOutput(x.shape, 'float32'), mean = be.makeOutput([G], 'float32'), inv = be.makeOutput([G], 'float32');
  km.k.group_norm_forward(km.ptr(x), km.ptr(gamma), km.ptr(beta), km.ptr(y), km.ptr(mean), km.ptr(inv), G, M, C, attrs!.eps as number);
  return [y, mean, inv];
}

/** -> dx, dgamma, dbeta. */
function groupNormGrad({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const be = backend as WasmBackend, km = kernelModule(be);
  const { dy, x, mean, invstd, gamma } = inputs;
  const [G, M, C] = x.shape;
  const dx = be.makeOutput(x.shape, 'float32'), dg = be.makeOutput([C], 'float32'), db = be.makeOutput([C], 'float32');
  km.k.group_norm_backward(km.ptr(dy), km.ptr(x), km.ptr(mean), km.ptr(invstd), km.ptr(gamma), km.ptr(dx), km.ptr(dg), km.ptr(db), G, M, C);
  return [dx, dg, db];
}

/** x [R, C] -> y, mean [C], invstd [C], biased variance [C]. */
function batchNorm({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const be = backend as WasmBackend, km = kernelModule(be);
  const { x, gamma, beta } = inputs;
  const [R, C] = x.shape;
  const y = be.makeOutput(x.shape, 'float32');
  const [mean, inv, variance] = [0, 1, 2].map(() => be.makeOutput([C], 'float32'));
  km.k.batch_norm_forward(km.ptr(x), km.ptr(gamma), km.ptr(beta), km.ptr(y), km.ptr(mean), km.ptr(inv), km.ptr(variance), R, C,
    attrs!.eps as number);
  return [y, mean, inv, variance];
}

function batchNormGrad({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const be = backend as WasmBackend, km = kernelModule(be);
  const { dy, x, mean, invstd, gamma } = inputs;
  const [R, C] = x.shape;
  const dx = be.makeOutput(x.shape, 'float32'), dg = be.makeOutput([C], 'float32'), db = be.makeOutput([C], 'float32');
  km.k.batch_norm_backward(km.ptr(dy), km.ptr(x), km.ptr(mean), km.ptr(invstd), km.ptr(gamma), km.ptr(dx), km.ptr(dg), km.ptr(db), R, C);
  return [dx, dg, db];
}

/** x, dy [R, C], alpha [1] or [C] -> dx, dalpha. */
function preluGrad({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const be = backend as WasmBackend, km = kernelModule(be);
  const { x, dy, alpha } = inputs;
  const C = x.shape[x.shape.length - 1];
  const R = size(x.shape) / C;
  const A = size(alpha.shape);
  const dx = be.makeOutput(x.shape, 'float32'), da = be.makeOutput(alpha.shape, 'float32');
  km.k.prelu_backward(km.ptr(x), km.ptr(dy), km.ptr(alpha), km.ptr(dx), km.ptr(da), R, C, A);
  return [dx, da];
}

/** p, g, m, v -> p', m', v' (see kernels.c adam_step for the attributes). */
function adamStep({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const be = backend as WasmBackend, km = kernelModule(be);
  const { p, g, m, v } = inputs;
  const a = attrs as Record<string, number>;
  const [po, mo, vo] = [0, 1, 2].map(() => be.makeOutput(p.shape, 'float32'));
  km.k.adam_step(km.ptr(p), km.ptr(g), km.ptr(m), km.ptr(v), km.ptr(po), km.ptr(mo), km.ptr(vo), size(p.shape), a.b1, a.b2, a.step,
    a.rbc2, a.eps, a.l2, a.decay);
  return [po, mo, vo];
}

/** x [..., C], alpha [1] or [C] -> y. (tfjs's wasm Prelu kernel is a slow generic loop.) */
function preluForward({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const be = backend as WasmBackend, km = kernelModule(be);
  const { x, alpha } = inputs;
  const C = x.shape[x.shape.length - 1];
  const y = be.makeOutput(x.shape, 'float32');
  km.k.prelu_forward(km.ptr(x), km.ptr(alpha), km.ptr(y), size(x.shape) / C, C, size(alpha.shape));
  return y;
}

/**
 * Sum or Mean over one run of consecutive axes that stops before the last (a bias gradient: [B, T, C] over
 * [0, 1]; global pooling: [B, H, W, C] over [1, 2]) in one pass; tfjs's wasm kernels transpose the reduced
 * axes to the end first. Other reductions go to tfjs's kernel.
 */
function makeReduce(fallback: tf.KernelFunc, mean: boolean) {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    const rank = x.shape.length;
    const axes = (Array.isArray(attrs?.axis) ? attrs!.axis as number[] : [attrs?.axis as number]).map((a) => (a < 0 ? a + rank : a))
      .sort((a, b) => a - b);
    const run = axes.length > 0 && axes.every((a, i) => a === axes[0] + i) && axes[axes.length - 1] < rank - 1;
    if (x.dtype !== 'float32' || !run) return fallback(args as unknown as Parameters<tf.KernelFunc>[0]);
    const be = backend as WasmBackend, km = kernelModule(be);
    const first = axes[0], end = axes[axes.length - 1] + 1;
    const O = size(x.shape.slice(0, first)), R = size(x.shape.slice(first, end)), I = size(x.shape.slice(end));
    const outShape = attrs?.keepDims ? x.shape.map((d, i) => (i >= first && i < end ? 1 : d)) : [...x.shape.slice(0, first), ...x.shape.slice(end)];
    const out = be.makeOutput(outShape, 'float32');
    km.k.sum_middle(km.ptr(x), km.ptr(out), O, R, I, mean ? 1 / R : 1);
    return out;
  };
}

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, leakyrelu: 3 };

/**
 * Conv2D and FusedConv2D (bias, and linear/relu/relu6/leaky-relu/prelu activations) on the SIMD GEMM: 1x1 convolutions
 * as one matmul over positions, the rest as implicit GEMM over the padded input. Other activations, other
 * dtypes and NCHW go to tfjs's kernel (XNNPACK).
 */
function makeConv2D(fallback: tf.KernelFunc, fused: boolean) {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { x, filter, bias, preluActivationWeights: slopes } = inputs;
    const prelu = fused && attrs?.activation === 'prelu';
    const act = fused ? (prelu ? 0 : ACTIVATIONS[(attrs?.activation as string | undefined) ?? 'linear']) : 0;
    const N = filter.shape[3];
    const biasOk = !bias || (bias.dtype === 'float32' && size(bias.shape) === N);
    const preluOk = prelu ? !!slopes && slopes.dtype === 'float32' && (size(slopes.shape) === 1 || size(slopes.shape) === N) : !slopes;
    if (x.dtype === 'float32' && filter.dtype === 'float32' && (attrs?.dataFormat ?? 'NHWC') === 'NHWC' && act !== undefined &&
        preluOk && biasOk) {
      const ci = conv2dInfo(x.shape, filter.shape, attrs as Attrs, false);
      const be = backend as WasmBackend, km = kernelModule(be);
      const out = be.makeOutput(ci.outShape, 'float32');
      const alpha = (attrs?.leakyreluAlpha as number | undefined) ?? 0.2;
      const rows = ci.batchSize * ci.outHeight * ci.outWidth;
      // With PReLU the product or convolution runs bare and one pass adds the bias and applies the slopes.
      const epilogueBias = bias && !prelu ? km.ptr(bias) : 0;
      if (isPointwise(ci)) {
        km.matmul(1, rows, ci.outChannels, ci.inChannels, km.ptr(x), 0, false, km.ptr(filter), 0, false, km.ptr(out));
        if (epilogueBias || act) km.k.bias_act(km.ptr(out), epilogueBias, rows, ci.outChannels, act, alpha);
      } else {
        const need = km.k.conv2d_forward(0, 0, 0, 0, ...convArgs(ci), act, alpha, 0);
        km.k.conv2d_forward(km.ptr(x), km.ptr(filter), epilogueBias, km.ptr(out), ...convArgs(ci), act, alpha,
          km.scratchFloats(1, need));
      }
      if (prelu) km.k.bias_prelu(km.ptr(out), bias ? km.ptr(bias) : 0, km.ptr(slopes), rows, N, size(slopes.shape));
      return out;
    }
    return fallback(args as unknown as Parameters<tf.KernelFunc>[0]);
  };
}

/**
 * DepthwiseConv2dNative and FusedDepthwiseConv2D (bias, linear/relu/relu6/leaky-relu) over two spatial axes with
 * channel multiplier 1 on slimspeech's SIMD kernel (3x3 about twice as fast as XNNPACK's at batch 1, 1.7x at batch 32
 * on the DS-CNN's layers); one-row filters (1-D depthwise convolutions, where XNNPACK's is as fast or faster), other
 * multipliers, activations, dtypes and NCHW go to tfjs's kernel.
 */
function makeDepthwise(fallback: tf.KernelFunc, fused: boolean) {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { x, filter, bias, preluActivationWeights } = inputs;
    const act = fused ? ACTIVATIONS[(attrs?.activation as string | undefined) ?? 'linear'] : 0;
    const biasOk = !bias || (bias.dtype === 'float32' && size(bias.shape) === filter.shape[2]);
    if (x.dtype === 'float32' && filter.dtype === 'float32' && filter.shape[0] > 1 && filter.shape[3] === 1 &&
        (attrs?.dataFormat ?? 'NHWC') === 'NHWC' &&
        act !== undefined && !preluActivationWeights && biasOk) {
      const ci = conv2dInfo(x.shape, filter.shape, attrs as Attrs, true);
      const be = backend as WasmBackend, km = kernelModule(be);
      const out = be.makeOutput(ci.outShape, 'float32');
      km.k.depthwise_forward(km.ptr(x), km.ptr(filter), bias ? km.ptr(bias) : 0, km.ptr(out), ci.batchSize, ci.inHeight, ci.inWidth,
        ci.inChannels, ci.filterHeight, ci.filterWidth, ci.outHeight, ci.outWidth, ci.strideHeight, ci.strideWidth, ci.dilationHeight,
        ci.dilationWidth, ci.padInfo.top, ci.padInfo.left, act, (attrs?.leakyreluAlpha as number | undefined) ?? 0.2);
      return out;
    }
    return fallback(args as unknown as Parameters<tf.KernelFunc>[0]);
  };
}

/** _FusedMatMul (bias over the last axis; linear/relu/relu6/leaky-relu) as the SIMD GEMM plus one epilogue pass. */
function makeFusedMatMul(fallback: tf.KernelFunc) {
  const matmul = makeBatchMatMul(fallback);
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { a, b, bias, preluActivationWeights } = inputs;
    const act = ACTIVATIONS[(attrs?.activation as string | undefined) ?? 'linear'];
    const N = attrs?.transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
    if (act === undefined || preluActivationWeights || (bias && (bias.dtype !== 'float32' || size(bias.shape) !== N)) ||
        a.dtype !== 'float32' || b.dtype !== 'float32') {
      return fallback(args as unknown as Parameters<tf.KernelFunc>[0]);
    }
    const out = matmul({ inputs: { a, b }, backend, attrs }) as tf.TensorInfo;
    if (bias || act) {
      const km = kernelModule(backend as WasmBackend);
      km.k.bias_act(km.ptr(out), bias ? km.ptr(bias) : 0, size(out.shape) / N, N, act,
        (attrs?.leakyreluAlpha as number | undefined) ?? 0.2);
    }
    return out;
  };
}

/** Add of a float32 tensor [..., C] and a bias [C] (either order) in one pass; the rest to tfjs's kernel. */
function makeAdd(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const { inputs, backend } = args;
    const { a, b } = inputs;
    const isBias = (t: tf.TensorInfo, v: tf.TensorInfo) => t.shape.length >= 2 && v.shape.length === 1 &&
      v.shape[0] === t.shape[t.shape.length - 1] && v.shape[0] > 1;
    const [x, bias] = isBias(a, b) ? [a, b] : isBias(b, a) ? [b, a] : [undefined, undefined];
    if (!x || !bias || x.dtype !== 'float32' || bias.dtype !== 'float32') return fallback(args as unknown as Parameters<tf.KernelFunc>[0]);
    const be = backend as WasmBackend, km = kernelModule(be);
    const C = bias.shape[0];
    const out = be.makeOutput(x.shape, 'float32');
    km.k.bias_add(km.ptr(x), km.ptr(bias), km.ptr(out), size(x.shape) / C, C);
    return out;
  };
}

/**
 * atan2 of same-shape float32 tensors by a SIMD kernel (tfjs's wasm Atan2 took 9.6 ms of a DCCRN
 * student's training step and 2.3 ms of its batch-1 pass); broadcasting and other dtypes go to tfjs's kernel.
 */
function makeAtan2(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const { inputs, backend } = args;
    const { a, b } = inputs;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
      return fallback(args as unknown as Parameters<tf.KernelFunc>[0]);
    }
    const be = backend as WasmBackend, km = kernelModule(be);
    const out = be.makeOutput(a.shape, 'float32');
    km.k.atan2_forward(km.ptr(a), km.ptr(b), km.ptr(out), size(a.shape));
    return out;
  };
}

/**
 * Tanh and Sigmoid of float32 tensors on SIMD kernels (exp by a polynomial, as the LSTM's gates: relative error about
 * 1e-7); tfjs's wasm kernels call the C library per element, about ten times slower. Other dtypes go to tfjs's kernel.
 */
function makeUnary(fallback: tf.KernelFunc, fn: 0 | 1) {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const { x } = args.inputs;
    if (x.dtype !== 'float32') return fallback(args as unknown as Parameters<tf.KernelFunc>[0]);
    const be = args.backend as WasmBackend, km = kernelModule(be);
    const out = be.makeOutput(x.shape, 'float32');
    km.k.unary_forward(km.ptr(x), km.ptr(out), size(x.shape), fn);
    return out;
  };
}

/** Concat along the last axis of float32 tensors by rows; other concats go to tfjs's kernel. */
function makeConcat(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const parts = Object.keys(inputs).sort((a, b) => Number(a) - Number(b)).map((k) => inputs[k]);
    const rank = parts[0]?.shape.length ?? 0;
    const axis = (attrs!.axis as number) < 0 ? (attrs!.axis as number) + rank : attrs!.axis as number;
    const ok = rank >= 2 && axis === rank - 1 && parts.every((p) => p.dtype === 'float32' && p.shape.length === rank &&
      p.shape.slice(0, -1).every((d, i) => d === parts[0].shape[i]));
    if (!ok) return fallback(args as unknown as Parameters<tf.KernelFunc>[0]);
    const be = backend as WasmBackend, km = kernelModule(be);
    const widths = parts.map((p) => p.shape[rank - 1]);
    const out = be.makeOutput([...parts[0].shape.slice(0, -1), widths.reduce((a, b) => a + b, 0)], 'float32');
    const ptrs = km.ints(2, parts.map((p) => km.ptr(p)));
    const w = km.ints(3, widths);
    km.k.concat_last(ptrs, w, parts.length, km.ptr(out), size(parts[0].shape.slice(0, -1)));
    return out;
  };
}

/** SplitV along the last axis of a float32 tensor by rows; other splits go to tfjs's kernel. */
function makeSplitV(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    const rank = x.shape.length;
    const axis = (attrs!.axis as number) < 0 ? (attrs!.axis as number) + rank : attrs!.axis as number;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return fallback(args as unknown as Parameters<tf.KernelFunc>[0]);
    const C = x.shape[axis];
    const spec = attrs!.numOrSizeSplits as number | number[];
    const widths = typeof spec === 'number' ? new Array(spec).fill(C / spec) : spec.map((w, _, all) => (w === -1 ? C - all.filter((v) => v !== -1).reduce((a, b) => a + b, 0) : w));
    const be = backend as WasmBackend, km = kernelModule(be);
    if (x.dtype !== 'float32' || rank < 2 || axis !== rank - 1) {
      let at = 0;
      return widths.map((w) => {
        const begin = x.shape.map((_, i) => (i === axis ? at : 0)), sz = x.shape.map((d, i) => (i === axis ? w : d));
        at += w;
        return sliceOnHeap(be, x, begin, sz);
      });
    }
    const outs = widths.map((w) => be.makeOutput([...x.shape.slice(0, -1), w], 'float32'));
    const ptrs = km.ints(2, outs.map((o) => km.ptr(o)));
    const wp = km.ints(3, widths);
    km.k.split_last(km.ptr(x), size(x.shape.slice(0, -1)), ptrs, wp, widths.length);
    return outs;
  };
}

/** x -> GELU(x); x, dy -> dx (exact GELU, erf to 1.5e-7). */
function gelu({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const be = backend as WasmBackend, km = kernelModule(be);
  const out = be.makeOutput(inputs.x.shape, 'float32');
  km.k.gelu_forward(km.ptr(inputs.x), km.ptr(out), size(inputs.x.shape));
  return out;
}
function geluGrad({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const be = backend as WasmBackend, km = kernelModule(be);
  const out = be.makeOutput(inputs.x.shape, 'float32');
  km.k.gelu_backward(km.ptr(inputs.x), km.ptr(inputs.dy), km.ptr(out), size(inputs.x.shape));
  return out;
}

/** y (softmax output), dy -> dx over the last axis. */
function softmaxGrad({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const be = backend as WasmBackend, km = kernelModule(be);
  const { y, dy } = inputs;
  const C = y.shape[y.shape.length - 1];
  const out = be.makeOutput(y.shape, 'float32');
  km.k.softmax_backward(km.ptr(y), km.ptr(dy), km.ptr(out), size(y.shape) / C, C);
  return out;
}

/** x, dy -> dy where x > 0, else 0. */
function reluGrad({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const be = backend as WasmBackend, km = kernelModule(be);
  const { x, dy } = inputs;
  const out = be.makeOutput(x.shape, 'float32');
  km.k.relu_backward(km.ptr(x), km.ptr(dy), km.ptr(out), size(x.shape));
  return out;
}

/**
 * x[begin : begin + size] of a float32 or int32 tensor as copies of contiguous runs on the heap. tfjs's wasm
 * Slice reads the whole input back into JavaScript for every slice (and SplitV slices once per output), so
 * cutting a DPRNN's signal into chunks copied the signal once per chunk.
 */
function sliceOnHeap(be: WasmBackend, x: tf.TensorInfo, begin: number[], sz: number[], outShape: number[] = sz): tf.TensorInfo {
  const km = kernelModule(be);
  const rank = x.shape.length;
  const out = be.makeOutput(outShape, x.dtype);
  if (size(sz) === 0) return out;
  // The run: the innermost axes taken whole, times the extent of the first axis (from the inside) that is not.
  let k = rank - 1;
  while (k > 0 && begin[k] === 0 && sz[k] === x.shape[k]) k--;
  const run = sz[k] * size(x.shape.slice(k + 1));
  const strides = x.shape.map((_, i) => size(x.shape.slice(i + 1)));
  const heap = new Int32Array(be.wasm.asm.memory.buffer);   // after makeOutput (the heap may have grown)
  const src = km.ptr(x) / 4;
  let dst = km.ptr(out) / 4;
  const idx = new Array(k).fill(0);
  for (;;) {
    let off = begin[k] * strides[k];
    for (let i = 0; i < k; i++) off += (begin[i] + idx[i]) * strides[i];
    heap.copyWithin(dst, src + off, src + off + run);
    dst += run;
    let i = k - 1;
    while (i >= 0 && ++idx[i] === sz[i]) idx[i--] = 0;
    if (i < 0) break;
  }
  return out;
}

/** Unpack (tf.unstack, and the gradient of tf.stack) of float32 and int32 tensors as heap slices; other dtypes go to tfjs's kernel. */
function makeUnpack(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { value: x } = inputs;
    if (!x || (x.dtype !== 'float32' && x.dtype !== 'int32')) return fallback(args as unknown as Parameters<tf.KernelFunc>[0]);
    const rank = x.shape.length;
    const axis = (attrs!.axis as number) < 0 ? (attrs!.axis as number) + rank : attrs!.axis as number;
    const outShape = x.shape.filter((_, i) => i !== axis);
    return Array.from({ length: x.shape[axis] }, (_, k) => sliceOnHeap(backend as WasmBackend, x,
      x.shape.map((_, i) => (i === axis ? k : 0)), x.shape.map((d, i) => (i === axis ? 1 : d)), outShape));
  };
}

/** Slice of float32 and int32 tensors on the heap (see sliceOnHeap); other dtypes go to tfjs's kernel. */
function makeSlice(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return fallback(args as unknown as Parameters<tf.KernelFunc>[0]);
    const rank = x.shape.length;
    const b = attrs!.begin as number | number[], s = attrs!.size as number | number[] | undefined;
    // As tfjs's slice_util.parseSliceParams: a number applies to the first axis; -1 (or none) runs to the end.
    const begin = x.shape.map((_, i) => (Array.isArray(b) ? b[i] ?? 0 : i === 0 ? b : 0));
    const sz = x.shape.map((d, i) => {
      const v = s === undefined ? -1 : Array.isArray(s) ? s[i] ?? -1 : i === 0 ? s : -1;
      return v === -1 ? d - begin[i] : v;
    });
    if (rank === 0 || begin.some((v, i) => v < 0 || v + sz[i] > x.shape[i] || sz[i] < 0)) return fallback(args as unknown as Parameters<tf.KernelFunc>[0]);
    return sliceOnHeap(backend as WasmBackend, x, begin, sz);
  };
}

/**
 * Reverse of a float32 or int32 tensor along one axis, as copies of contiguous runs on the heap (tfjs's wasm
 * Reverse walks element by element through index arithmetic: about 12 ms for the [288, 30, 32] of a small
 * DPRNN's bidirectional LSTMs, against 0.1 ms here). Several axes, or other dtypes, go to tfjs's kernel.
 */
function makeReverse(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    const rank = x.shape.length;
    const dims = attrs!.dims as number | number[];
    const axes = [...new Set((Array.isArray(dims) ? dims : [dims]).map((d) => (d < 0 ? d + rank : d)))].filter((d) => x.shape[d] > 1);
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || axes.length !== 1) return fallback(args as unknown as Parameters<tf.KernelFunc>[0]);
    const be = backend as WasmBackend, km = kernelModule(be);
    const axis = axes[0];
    const outer = size(x.shape.slice(0, axis)), n = x.shape[axis], inner = size(x.shape.slice(axis + 1));
    const out = be.makeOutput(x.shape, x.dtype);
    // Views after makeOutput: an allocation may grow (and replace) the heap's buffer. Int32 moves copy bits
    // exactly for both dtypes (a float view could canonicalise NaN payloads).
    const heap = new Int32Array(be.wasm.asm.memory.buffer);
    const src = km.ptr(x) / 4, dst = km.ptr(out) / 4;
    if (inner === 1) {
      for (let o = 0; o < outer; o++) {
        const s = src + o * n, d = dst + o * n + n - 1;
        for (let i = 0; i < n; i++) heap[d - i] = heap[s + i];
      }
    } else {
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < n; i++) {
          const s = src + (o * n + i) * inner;
          heap.copyWithin(dst + (o * n + n - 1 - i) * inner, s, s + inner);
        }
      }
    }
    return out;
  };
}

/** xw [B, T, 4H], whh [H, 4H] -> hs [B, T, H], gates [B, T, 4H], cs [B, T, H]. */
function lstm({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const be = backend as WasmBackend, km = kernelModule(be);
  const { xw, whh } = inputs;
  const [B, T, G] = xw.shape;
  const H = G / 4;
  const hs = be.makeOutput([B, T, H], 'float32'), gates = be.makeOutput([B, T, G], 'float32'), cs = be.makeOutput([B, T, H], 'float32');
  const pre = km.scratchFloats(1, B * G);
  const gs = km.scratchFloats(0, km.k.gemm_scratch_floats(G));
  km.k.lstm_forward(km.ptr(xw), km.ptr(whh), km.ptr(hs), km.ptr(gates), km.ptr(cs), B, T, H, pre, gs);
  return [hs, gates, cs];
}

/** dhs, dcs (optional), gates, cs, hs, whh -> dxw [B, T, 4H], dwhh [H, 4H]. */
function lstmGrad({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const be = backend as WasmBackend, km = kernelModule(be);
  const { dhs, dcs, gates, cs, hs, whh } = inputs;
  const [B, T, H] = hs.shape;
  const G = 4 * H;
  const dxw = be.makeOutput([B, T, G], 'float32'), dwhh = be.makeOutput([H, G], 'float32');
  const work = km.scratchFloats(1, 2 * B * H);
  const gs = km.scratchFloats(0, km.k.gemm_scratch_floats(Math.max(G, H)));
  km.k.lstm_backward(km.ptr(dhs), dcs ? km.ptr(dcs) : 0, km.ptr(gates), km.ptr(cs), km.ptr(hs), km.ptr(whh), km.ptr(dxw), km.ptr(dwhh),
    B, T, H, work, gs);
  return [dxw, dwhh];
}

/**
 * q [B, T, H*d], k and v [B, S, H*d] (attrs: heads, scale) -> softmax(scale * Q_h K_h^T) V_h per head, heads side by
 * side [B, T, H*d]: multi-head attention's core in one call, for inference (no gradient).
 */
function attention({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const be = backend as WasmBackend, km = kernelModule(be);
  const { q, k, v } = inputs;
  const [B, T, E] = q.shape;
  const S = k.shape[1];
  const H = attrs!.heads as number;
  const d = E / H;
  const out = be.makeOutput([B, T, E], 'float32');
  const P = km.scratchFloats(1, T * S + T);
  const gs = km.scratchFloats(0, km.k.gemm_scratch_floats(Math.max(S, d)));
  km.k.attention_forward(km.ptr(q), km.ptr(k), km.ptr(v), km.ptr(out), B, T, S, H, d, attrs!.scale as number, P, gs);
  return out;
}

const disabled = new Set((typeof process !== 'undefined' && process.env?.SLIMSPEECH_WASM_DISABLE || '').split(',').filter(Boolean));

function register(kernelName: string, kernelFunc: tf.KernelFunc): void {
  if (disabled.has(kernelName)) return;
  if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
}

let registered = false;

/**
 * Registers, for the wasm backend, the training kernels tfjs's wasm backend lacks
 * (Conv2DBackpropFilter, the depthwise backprops, UnsortedSegmentSum for gather gradients), gets wrong
 * (MaxPoolGrad, AvgPoolGrad) or runs on a naive loop (Conv2DBackpropInput; BatchMatMul with a transpose or a batch, i.e. every matmul gradient),
 * all backed by the SIMD kernels of lib/backend/kernels/kernels.c working in place on the backend's heap.
 * These kernels honour dilations, which conv_gradients.ts then uses. Idempotent.
 *
 * `SLIMSPEECH_WASM_KERNELS=minimal` registers only what training cannot do without (the filter and
 * depthwise gradients, UnsortedSegmentSum, the pool-gradient fixes), leaving tfjs's own BatchMatMul,
 * Conv2DBackpropInput and Identity in place: the "before" configuration of the benchmarks.
 * `SLIMSPEECH_WASM_DISABLE=Name,Name` keeps tfjs's own kernel for the named ones (for A/B measurements).
 */
export async function registerWasmTraining(): Promise<void> {
  if (registered) return;
  registered = true;
  const minimal = typeof process !== 'undefined' && process.env?.SLIMSPEECH_WASM_KERNELS === 'minimal';
  register('Conv2DBackpropFilter', conv2DBackpropFilter as unknown as tf.KernelFunc);
  register('DepthwiseConv2dNativeBackpropFilter', depthwiseBackpropFilter as unknown as tf.KernelFunc);
  register('DepthwiseConv2dNativeBackpropInput', depthwiseBackpropInput as unknown as tf.KernelFunc);
  register('UnsortedSegmentSum', unsortedSegmentSum as unknown as tf.KernelFunc);
  register('MaxPoolGrad', maxPoolGrad as unknown as tf.KernelFunc);
  register('AvgPoolGrad', avgPoolGrad as unknown as tf.KernelFunc);
  if (!minimal) {
    stockIdentity = tf.getKernel('Identity', 'wasm')?.kernelFunc;
    register('Identity', identity as unknown as tf.KernelFunc);
    register('Conv2DBackpropInput', conv2DBackpropInput as unknown as tf.KernelFunc);
    register(FUSED.groupNorm, groupNorm as unknown as tf.KernelFunc);
    register(FUSED.groupNormGrad, groupNormGrad as unknown as tf.KernelFunc);
    register(FUSED.batchNorm, batchNorm as unknown as tf.KernelFunc);
    register(FUSED.batchNormGrad, batchNormGrad as unknown as tf.KernelFunc);
    register(FUSED.preluGrad, preluGrad as unknown as tf.KernelFunc);
    register(FUSED.adamStep, adamStep as unknown as tf.KernelFunc);
    register(FUSED.prelu, preluForward as unknown as tf.KernelFunc);
    register(FUSED.reluGrad, reluGrad as unknown as tf.KernelFunc);
    register(FUSED.gelu, gelu as unknown as tf.KernelFunc);
    register(FUSED.softmaxGrad, softmaxGrad as unknown as tf.KernelFunc);
    register(FUSED.geluGrad, geluGrad as unknown as tf.KernelFunc);
    register(FUSED.attention, attention as unknown as tf.KernelFunc);
    const stockConv = tf.getKernel('Conv2D', 'wasm');
    if (stockConv) register('Conv2D', makeConv2D(stockConv.kernelFunc, false) as unknown as tf.KernelFunc);
    const stockFusedConv = tf.getKernel('FusedConv2D', 'wasm');
    if (stockFusedConv) register('FusedConv2D', makeConv2D(stockFusedConv.kernelFunc, true) as unknown as tf.KernelFunc);
    for (const [name, fused] of [['DepthwiseConv2dNative', false], ['FusedDepthwiseConv2D', true]] as const) {
      const stockDw = tf.getKernel(name, 'wasm');
      if (stockDw) register(name, makeDepthwise(stockDw.kernelFunc, fused) as unknown as tf.KernelFunc);
    }
    const stockFusedMatMul = tf.getKernel('_FusedMatMul', 'wasm');
    if (stockFusedMatMul) register('_FusedMatMul', makeFusedMatMul(stockFusedMatMul.kernelFunc) as unknown as tf.KernelFunc);
    const stockAdd = tf.getKernel('Add', 'wasm');
    if (stockAdd) register('Add', makeAdd(stockAdd.kernelFunc) as unknown as tf.KernelFunc);
    for (const [name, fn] of [['Tanh', 0], ['Sigmoid', 1]] as const) {
      const stockUnary = tf.getKernel(name, 'wasm');
      if (stockUnary) register(name, makeUnary(stockUnary.kernelFunc, fn) as unknown as tf.KernelFunc);
    }
    for (const [name, make] of [['Atan2', makeAtan2], ['Concat', makeConcat], ['SplitV', makeSplitV], ['Reverse', makeReverse], ['Slice', makeSlice], ['Unpack', makeUnpack]] as const) {
      const stock = tf.getKernel(name, 'wasm');
      if (stock) register(name, make(stock.kernelFunc) as unknown as tf.KernelFunc);
    }
    for (const name of ['Sum', 'Mean']) {
      const stock = tf.getKernel(name, 'wasm');
      if (stock) register(name, makeReduce(stock.kernelFunc, name === 'Mean') as unknown as tf.KernelFunc);
    }
    register(FUSED.lstm, lstm as unknown as tf.KernelFunc);
    register(FUSED.lstmGrad, lstmGrad as unknown as tf.KernelFunc);
    const stock = tf.getKernel('BatchMatMul', 'wasm');
    if (stock) register('BatchMatMul', makeBatchMatMul(stock.kernelFunc) as unknown as tf.KernelFunc);
  }
  setDilatedKernelsPredicate(() => !minimal && tf.getBackend() === 'wasm');
}
