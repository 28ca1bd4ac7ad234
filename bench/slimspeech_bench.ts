// slimspeech side of the training-speed benchmark: one model, one backend, in its own process.
// node build/bench/slimspeech_bench.js --model conv-tasnet --batch 4 --length 8000 --steps 10 [--backend wasm] [--profile]
// Prints one JSON line: {model, backend, params, msPerStep, inferMs, peakRssMb, tensorsBefore, tensorsAfter}.
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../lib/backend';
import { Optimizer } from '../lib/train';
import { latency } from '../lib/metrics';
import { BENCH_MODELS } from './models';

function arg(name: string, def?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  if (def === undefined) throw new Error(`--${name} is required`);
  return def;
}

async function main(): Promise<void> {
  const name = arg('model');
  const spec = BENCH_MODELS[name];
  if (!spec) throw new Error(`unknown model ${name}; known: ${Object.keys(BENCH_MODELS).join(', ')}`);
  const backend = await useBackend(arg('backend', 'wasm'));
  const batch = Number(arg('batch')), length = Number(arg('length', '0'));
  const steps = Number(arg('steps', '10')), warmup = Number(arg('warmup', '3'));
  const { model, input, loss, input1 } = spec.build(batch, length);
  const opt = new Optimizer(model.parameters(), { kind: 'adam', lr: 1e-3 });
  const vars = model.parameters();
  const step = () => {
    const { value, grads } = tf.variableGrads(() => loss(model.forward(input, { training: true })), vars);
    opt.step(new Map(vars.map((v) => [v, grads[v.name]])));
    const l = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    return l;
  };
  for (let i = 0; i < warmup; i++) step();
  const tensorsBefore = tf.memory().numTensors;
  const times: number[] = [];
  let last = 0;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    last = step();
    times.push(performance.now() - t0);
  }
  const tensorsAfter = tf.memory().numTensors;
  times.sort((a, b) => a - b);
  const median = times.length % 2 ? times[times.length >> 1] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
  const inf = await latency({ module: model, input: input1 }, { warmup: 3, runs: Number(arg('infer-runs', '20')) });
  if (process.argv.includes('--profile')) {
    const prof = await tf.profile(() => { step(); });
    const byKernel = new Map<string, { ms: number; n: number }>();
    for (const k of prof.kernels) {
      const e = byKernel.get(k.name) ?? { ms: 0, n: 0 };
      e.ms += Number(await k.kernelTimeMs);
      e.n += 1;
      byKernel.set(k.name, e);
    }
    const top = [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
    const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
    console.error(`profile ${name}: ${prof.kernels.length} kernel calls, ${total.toFixed(1)} ms in kernels`);
    for (const [k, e] of top) console.error(`  ${k.padEnd(36)} ${e.ms.toFixed(1).padStart(8)} ms ${String(e.n).padStart(6)} calls`);
  }
  console.log(JSON.stringify({ model: name, backend: backend.name, params: model.numParams(), msPerStep: median,
    inferMs: inf.medianMs, steps, peakRssMb: process.resourceUsage().maxRSS / 1024, tensorsBefore, tensorsAfter, loss: last }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
