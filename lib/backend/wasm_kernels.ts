import * as tf from '@tensorflow/tfjs';
import { KERNELS_WASM_BASE64, KERNELS_WASM_RELAXED_BASE64 } from './wasm_kernels_binary';

/** The parts of tfjs's BackendWasm that slimspeech's kernels use. */
export interface WasmBackend {
  wasm: {
    asm: { memory: WebAssembly.Memory };
    _malloc(bytes: number): number;
    _free(ptr: number): void;
  };
  dataIdMap: { get(dataId: unknown): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: unknown, force?: boolean): boolean;
}

/** Exports of lib/backend/kernels/kernels.c (pointers are byte offsets on the backend's heap). */
export interface KernelExports {
  batch_matmul(batch: number, M: number, N: number, K: number, a: number, strideA: number, transA: number,
    b: number, strideB: number, transB: number, c: number, accumulate: number, scratch: number): void;
  gemm_scratch_floats(N: number): number;
  conv2d_forward(x: number, filter: number, bias: number, y: number, B: number, H: number, W: number, C: number, KH: number,
    KW: number, OH: number, OW: number, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number, N: number,
    act: number, alpha: number, work: number): number;
  conv2d_backprop_input(dy: number, filter: number, dx: number, B: number, H: number, W: number, C: number, KH: number,
    KW: number, OH: number, OW: number, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number, N: number,
    work: number): number;
  conv2d_backprop_filter(x: number, dy: number, dW: number, B: number, H: number, W: number, C: number, KH: number,
    KW: number, OH: number, OW: number, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number, N: number,
    work: number): number;
  bias_act(y: number, bias: number, R: number, C: number, act: number, alpha: number): void;
  bias_add(x: number, bias: number, y: number, R: number, C: number): void;
  depthwise_backprop_filter(x: number, dy: number, out: number, B: number, H: number, W: number, C: number,
    M: number, KH: number, KW: number, OH: number, OW: number, sh: number, sw: number, dh: number, dw: number,
    pt: number, pl: number): void;
  depthwise_backprop_input(dy: number, filter: number, out: number, B: number, H: number, W: number, C: number,
    M: number, KH: number, KW: number, OH: number, OW: number, sh: number, sw: number, dh: number, dw: number,
    pt: number, pl: number): void;
  unsorted_segment_sum(data: number, ids: number, out: number, n: number, inner: number, numSegments: number): void;
  max_pool_backprop(x: number, dy: number, dx: number, B: number, H: number, W: number, C: number, KH: number,
    KW: number, OH: number, OW: number, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number): void;
  avg_pool_backprop(dy: number, dx: number, B: number, H: number, W: number, C: number, KH: number, KW: number,
    OH: number, OW: number, sh: number, sw: number, pt: number, pl: number): void;
  group_norm_forward(x: number, gamma: number, beta: number, y: number, mean: number, invstd: number, G: number, M: number,
    C: number, eps: number): void;
  group_norm_backward(dy: number, x: number, mean: number, invstd: number, gamma: number, dx: number, dgamma: number,
    dbeta: number, G: number, M: number, C: number): void;
  batch_norm_forward(x: number, gamma: number, beta: number, y: number, mean: number, invstd: number, variance: number,
    R: number, C: number, eps: number): void;
  batch_norm_backward(dy: number, x: number, mean: number, invstd: number, gamma: number, dx: number, dgamma: number,
    dbeta: number, R: number, C: number): void;
  prelu_backward(x: number, dy: number, alpha: number, dx: number, dalpha: number, R: number, C: number, A: number): void;
  adam_step(p: number, g: number, m: number, v: number, pOut: number, mOut: number, vOut: number, n: number, b1: number,
    b2: number, step: number, rbc2: number, eps: number, l2: number, decay: number): void;
  prelu_forward(x: number, alpha: number, y: number, R: number, C: number, A: number): void;
  sum_rows(x: number, out: number, R: number, C: number): void;
  sum_middle(x: number, out: number, O: number, R: number, I: number, scale: number): void;
  relu_backward(x: number, dy: number, dx: number, n: number): void;
  gelu_forward(x: number, y: number, n: number): void;
  gelu_backward(x: number, dy: number, dx: number, n: number): void;
  softmax_backward(y: number, dy: number, dx: number, R: number, C: number): void;
  atan2_forward(y: number, x: number, out: number, n: number): void;
  unary_forward(x: number, y: number, n: number, fn: number): void;
  bias_prelu(y: number, bias: number, alpha: number, R: number, C: number, A: number): void;
  depthwise_forward(x: number, filter: number, bias: number, y: number, B: number, H: number, W: number, C: number, KH: number,
    KW: number, OH: number, OW: number, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number, act: number,
    alpha: number): void;
  attention_forward(q: number, k: number, v: number, out: number, B: number, T: number, S: number, H: number, d: number,
    scale: number, P: number, gemmScratch: number): void;
  concat_last(ptrs: number, widths: number, n: number, out: number, R: number): void;
  split_last(x: number, R: number, ptrs: number, widths: number, n: number): void;
  lstm_forward(xw: number, whh: number, hs: number, gates: number, cs: number, B: number, T: number, H: number, pre: number,
    gemmScratch: number): void;
  lstm_backward(dhs: number, dcs: number, gates: number, cs: number, hs: number, whh: number, dxw: number, dwhh: number, B: number, T: number,
    H: number, work: number, gemmScratch: number): void;
}

const STACK_BYTES = 1 << 16;

let compiled: { module: WebAssembly.Module; variant: 'simd' | 'relaxed-simd' } | undefined;

/**
 * The compiled kernel module: the relaxed-SIMD build (fused multiply-add in the GEMM) where the runtime
 * accepts it, else the SIMD128 build. Node 20's V8 implements relaxed SIMD behind a flag, which this turns
 * on for the process (it only adds WebAssembly opcodes); later runtimes have it on by default.
 * SLIMSPEECH_WASM_FMA=0 keeps the SIMD128 build.
 */
export function compiledKernels(): { module: WebAssembly.Module; variant: 'simd' | 'relaxed-simd' } {
  if (compiled) return compiled;
  const env = typeof process !== 'undefined' ? process.env : undefined;
  if (env?.SLIMSPEECH_WASM_FMA !== '0') {
    const bytes = decodeBase64(KERNELS_WASM_RELAXED_BASE64);
    try {
      return (compiled = { module: new WebAssembly.Module(bytes), variant: 'relaxed-simd' });
    } catch {
      try {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        if (typeof process !== 'undefined' && process.versions?.node) require('v8').setFlagsFromString('--experimental-wasm-relaxed-simd');
        return (compiled = { module: new WebAssembly.Module(bytes), variant: 'relaxed-simd' });
      } catch {
        // fall through to the SIMD128 build
      }
    }
  }
  return (compiled = { module: new WebAssembly.Module(decodeBase64(KERNELS_WASM_BASE64)), variant: 'simd' });
}

/** A kernel module instance bound to one wasm backend, with grow-only scratch buffers on its heap. */
export class KernelModule {
  readonly k: KernelExports;
  private scratch: { ptr: number; bytes: number }[] = [];

  constructor(private readonly backend: WasmBackend) {
    const inst = new WebAssembly.Instance(compiledKernels().module, { env: { memory: backend.wasm.asm.memory } });
    const stack = backend.wasm._malloc(STACK_BYTES);
    (inst.exports.__stack_pointer as WebAssembly.Global).value = (stack + STACK_BYTES) & ~15;
    this.k = inst.exports as unknown as KernelExports;
  }

  /** Heap offset of a tensor's data. */
  ptr(t: tf.TensorInfo): number {
    const d = this.backend.dataIdMap.get(t.dataId);
    if (!d) throw new Error('slimspeech wasm kernel: tensor data is not on the wasm backend');
    return d.memoryOffset;
  }

  /** Scratch buffer `slot` of at least `floats` floats (valid until the next call for that slot). */
  scratchFloats(slot: number, floats: number): number {
    const bytes = Math.max(64, floats * 4);
    const s = this.scratch[slot];
    if (s && s.bytes >= bytes) return s.ptr;
    if (s) this.backend.wasm._free(s.ptr);
    const grown = Math.ceil(bytes * 1.25 / 4096) * 4096;
    const ptr = this.backend.wasm._malloc(grown);
    if (!ptr) throw new Error(`slimspeech wasm kernel: out of memory allocating ${grown} bytes of scratch`);
    this.scratch[slot] = { ptr, bytes: grown };
    return ptr;
  }

  /** Writes integers into scratch slot `slot` and returns its heap offset (for pointer/width arrays). */
  ints(slot: number, values: number[]): number {
    const p = this.scratchFloats(slot, values.length);
    new Int32Array(this.backend.wasm.asm.memory.buffer, p, values.length).set(values);
    return p;
  }

  /** C[batch, M, N] = op(A) @ op(B) on heap offsets; stride 0 broadcasts an operand over the batch. */
  matmul(batch: number, M: number, N: number, K: number, a: number, strideA: number, transA: boolean,
    b: number, strideB: number, transB: boolean, c: number): void {
    const scratch = this.scratchFloats(0, this.k.gemm_scratch_floats(N));
    this.k.batch_matmul(batch, M, N, K, a, strideA, transA ? 1 : 0, b, strideB, transB ? 1 : 0, c, 0, scratch);
  }
}

const modules = new WeakMap<object, KernelModule>();

/** The kernel module for a wasm backend instance, instantiated on first use. */
export function kernelModule(backend: WasmBackend): KernelModule {
  let m = modules.get(backend);
  if (!m) {
    m = new KernelModule(backend);
    modules.set(backend, m);
  }
  return m;
}

function decodeBase64(b64: string): ArrayBuffer {
  if (typeof Buffer !== 'undefined') return new Uint8Array(Buffer.from(b64, 'base64')).buffer;
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}
