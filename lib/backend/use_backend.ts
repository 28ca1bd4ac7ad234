import * as tf from '@tensorflow/tfjs';
import { registerWasmTraining } from './wasm_training';
import { compiledKernels } from './wasm_kernels';
import { registerConvGradients } from './conv_gradients';
import { registerBroadcastGradients } from './broadcast_gradients';
import { registerCpuFixes } from './cpu_fixes';

/** A backend name accepted by {@link useBackend}. */
export type BackendName = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu' | 'webgl';

/** What {@link useBackend} selected. */
export interface BackendInfo {
  /** Short name: 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu' | 'webgl'. */
  name: Exclude<BackendName, 'auto'>;
  /** The tfjs backend name as `tf.getBackend()` reports it ('tensorflow' for both native packages). */
  tfjsBackend: string;
  /** 'GPU' or 'CPU', and for wasm whether SIMD is on. */
  device: string;
  /** Version of @tensorflow/tfjs-core in use. */
  tfjsVersion: string;
  /** The backends that were tried before this one, with why each was passed over. */
  skipped: { name: string; reason: string }[];
}

const ALIASES: Record<string, Exclude<BackendName, 'auto'>> = {
  'tensorflow-gpu': 'tensorflow-gpu', gpu: 'tensorflow-gpu', 'node-gpu': 'tensorflow-gpu', 'tfjs-node-gpu': 'tensorflow-gpu',
  tensorflow: 'tensorflow', node: 'tensorflow', 'tfjs-node': 'tensorflow',
  wasm: 'wasm', cpu: 'cpu', webgl: 'webgl',
};

let current: BackendInfo | undefined;

/** The backend chosen by the last {@link useBackend} call, or undefined before the first. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

function loadOptional(pkg: string): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    require(pkg);
    return undefined;
  } catch (e) {
    return `${pkg} is not installed or failed to load (${(e as Error).message.split('\n')[0]})`;
  }
}

async function tryNative(gpu: boolean): Promise<string | undefined> {
  const pkg = gpu ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  const err = loadOptional(pkg);
  if (err) return err;
  // A package of that name can be plain tfjs (slimspeech maps danfojs-node's tfjs-node dependency to
  // @tensorflow/tfjs), or a copy built against another tfjs-core: only a registered backend counts.
  if (!tf.findBackendFactory('tensorflow')) {
    return `${pkg} loaded but registered no 'tensorflow' backend with this @tensorflow/tfjs-core ` +
      `(${tf.version_core}); install the tfjs-node build matching it`;
  }
  if (!(await tf.setBackend('tensorflow'))) return `${pkg}: the 'tensorflow' backend failed to initialise`;
  const be = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  if (gpu && !be.isUsingGpuDevice) return `${pkg} loaded but sees no GPU (check CUDA/cuDNN versions)`;
  return undefined;
}

async function tryWasm(): Promise<string | undefined> {
  const err = loadOptional('@tensorflow/tfjs-backend-wasm');
  if (err) return err;
  if (!(await tf.setBackend('wasm'))) return 'the wasm backend failed to initialise';
  await registerWasmTraining();
  return undefined;
}

async function tryPlain(name: 'cpu' | 'webgl'): Promise<string | undefined> {
  if (!tf.findBackendFactory(name)) return `no '${name}' backend in this environment`;
  if (name === 'cpu') registerCpuFixes();
  if (!(await tf.setBackend(name))) return `the ${name} backend failed to initialise`;
  return undefined;
}

async function attempt(name: Exclude<BackendName, 'auto'>): Promise<string | undefined> {
  switch (name) {
    case 'tensorflow-gpu': return tryNative(true);
    case 'tensorflow': return tryNative(false);
    case 'wasm': return tryWasm();
    case 'cpu': case 'webgl': return tryPlain(name);
  }
}

/**
 * Selects the TensorFlow.js backend every slimspeech function then runs on.
 *
 * `'auto'` (the default) tries, in order, `@tensorflow/tfjs-node-gpu` (only if it loads and sees a GPU),
 * `@tensorflow/tfjs-node`, the wasm backend (with slimspeech's training kernels registered: tfjs's wasm
 * backend alone cannot train a convolution), then the pure-JS cpu backend. The environment variable
 * `SLIMSPEECH_BACKEND` replaces `'auto'` with a fixed choice. A name given explicitly must load, or
 * this throws with the reason.
 *
 * @param name 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu' | 'webgl' (aliases: 'gpu',
 *   'node'). Default 'auto'.
 * @returns what was chosen, with the reasons the others were passed over.
 */
export async function useBackend(name: BackendName | string = 'auto'): Promise<BackendInfo> {
  const requested = name === 'auto' && typeof process !== 'undefined' && process.env?.SLIMSPEECH_BACKEND
    ? process.env.SLIMSPEECH_BACKEND : name;
  const order: Exclude<BackendName, 'auto'>[] = [];
  if (requested === 'auto') {
    order.push('tensorflow-gpu', 'tensorflow', 'wasm', 'cpu');
  } else {
    const resolved = ALIASES[requested];
    if (!resolved) {
      throw new Error(`useBackend: unknown backend '${requested}'; expected one of auto, ${Object.keys(ALIASES).join(', ')}`);
    }
    order.push(resolved);
  }
  const skipped: { name: string; reason: string }[] = [];
  for (const candidate of order) {
    const reason = await attempt(candidate);
    if (reason === undefined) {
      registerConvGradients();
      registerBroadcastGradients();
      await tf.ready();
      current = {
        name: candidate,
        tfjsBackend: tf.getBackend(),
        device: candidate === 'tensorflow-gpu' ? 'GPU'
          : candidate === 'wasm' ? `CPU (wasm${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? ' SIMD' : ''}; slimspeech kernels: ${compiledKernels().variant})`
          : candidate === 'webgl' ? 'GPU (WebGL)' : 'CPU',
        tfjsVersion: tf.version_core,
        skipped,
      };
      return current;
    }
    skipped.push({ name: candidate, reason });
  }
  throw new Error(`useBackend('${requested}'): no backend could be used:\n` +
    skipped.map((s) => `  ${s.name}: ${s.reason}`).join('\n'));
}
