// The GEMM roofline side of `npm run bench`: slimspeech's wasm matrix product (the kernel every convolution,
// linear layer and attention product runs on) in multiply-adds per second, on the shapes given.
// node build-bench/bench/gemm.js M,N,K ...   Prints one JSON line: {gemm: [{m, n, k, gmacs}], variant}.
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../lib/backend';
import { compiledKernels, kernelModule, WasmBackend } from '../lib/backend/wasm_kernels';

async function main(): Promise<void> {
  await useBackend('wasm');
  const km = kernelModule(tf.backend() as unknown as WasmBackend);
  const shapes = process.argv.slice(2).map((s) => s.split(',').map(Number));
  const gemm = shapes.map(([m, n, k]) => {
    const a = tf.randomNormal([m, k]), b = tf.randomNormal([k, n]), c = tf.zeros([m, n]);
    // The kernel called directly on the tensors' heap memory: no allocation or dispatch in the timing.
    const run = () => km.matmul(1, m, n, k, km.ptr(a), 0, false, km.ptr(b), 0, false, km.ptr(c));
    const reps = Math.max(3, Math.round(4e8 / (m * n * k)));
    for (let i = 0; i < 3; i++) run();
    const rounds: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) run();
      rounds.push((performance.now() - t0) / reps);
    }
    rounds.sort((x, y) => x - y);
    tf.dispose([a, b, c]);
    return { m, n, k, gmacs: (m * n * k) / rounds[2] / 1e6 };
  });
  console.log(JSON.stringify({ gemm, variant: compiledKernels().variant }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
