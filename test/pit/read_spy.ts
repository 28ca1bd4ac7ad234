// A spy on values read back from the device, for the tests that a training step never synchronises.
import * as tf from '@tensorflow/tfjs';

type Engine = Record<'readSync' | 'read', (...a: unknown[]) => unknown>;

/**
 * Counts values read back from the device while `fn` runs: every Tensor.data/dataSync/array/arraySync goes through
 * the engine's read or readSync. (Kernels that read their inputs on the wasm heap do not synchronise, and are not
 * counted.)
 */
export function countReads(fn: () => void): number {
  const engine = tf.engine() as unknown as Engine;
  const saved = { readSync: engine.readSync, read: engine.read };
  let reads = 0;
  for (const k of ['readSync', 'read'] as const) {
    engine[k] = function (this: unknown, ...a: unknown[]) { reads++; return saved[k].apply(this, a); };
  }
  try {
    fn();
  } finally {
    // The spies are own properties shadowing the prototype's methods: removing them restores the engine.
    delete (engine as Partial<Engine>).readSync;
    delete (engine as Partial<Engine>).read;
  }
  return reads;
}
