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

export interface KernelProfile {
  wallMs: number;
  kernelMs: number;
  calls: number;
  /** Kernels by total time, the 15 largest; `gmacs` (multiply-adds per second / 1e9) for the GEMM-like ones. */
  top: { kernel: string; ms: number; calls: number; gmacs?: number }[];
}

const prod = (s: number[]) => s.reduce((p, q) => p * q, 1);

/** Multiply-adds of one GEMM-like kernel call, from its shapes (tfjs's input order), or undefined for other kernels. */
function kernelMacs(name: string, inputs: number[][], outputs: number[][]): number | undefined {
  const out = outputs[0];
  if (!out || inputs.length < 2) return undefined;
  switch (name) {
    case 'Conv2D': case 'FusedConv2D': // x, filter [KH, KW, Cin, Cout]
      return prod(out) * prod(inputs[1].slice(0, 3));
    case 'Conv2DBackpropInput': // dy, filter
      return prod(inputs[0]) * prod(inputs[1].slice(0, 3));
    case 'Conv2DBackpropFilter': // x, dy -> filter
      return prod(inputs[1]) * prod(out.slice(0, 3));
    case 'DepthwiseConv2dNative': case 'FusedDepthwiseConv2D':
      return prod(out) * prod(inputs[1].slice(0, 2));
    case 'BatchMatMul': case '_FusedMatMul': {
      const a = inputs[0], M = out[out.length - 2];
      const K = a[a.length - 2] === M ? a[a.length - 1] : a[a.length - 2];
      return prod(out) * K;
    }
    default:
      return undefined;
  }
}

/** Runs `fn` once under tf.profile: time per kernel name (kernels' own time; the rest of the wall time is dispatch). */
async function profileKernels(fn: () => void): Promise<KernelProfile> {
  const t0 = performance.now();
  const prof = await tf.profile(fn);
  const wallMs = performance.now() - t0;
  const byKernel = new Map<string, { ms: number; calls: number; macs?: number }>();
  for (const k of prof.kernels) {
    // tf.profile also lists op scopes (custom gradients, fusedMatMul__op) around the kernels they run.
    if (!tf.getKernel(k.name, tf.getBackend())) continue;
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += Number(await k.kernelTimeMs);
    e.calls += 1;
    const macs = kernelMacs(k.name, k.inputShapes ?? [], k.outputShapes ?? []);
    if (macs !== undefined) e.macs = (e.macs ?? 0) + macs;
    byKernel.set(k.name, e);
  }
  const top = [...byKernel].map(([kernel, e]) => ({ kernel, ms: e.ms, calls: e.calls,
    ...(e.macs ? { gmacs: e.macs / e.ms / 1e6 } : {}) })).sort((a, b) => b.ms - a.ms).slice(0, 15);
  return { wallMs, kernelMs: [...byKernel.values()].reduce((s, e) => s + e.ms, 0), calls: [...byKernel.values()].reduce((s, e) => s + e.calls, 0), top };
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
  // Batch-1 inference as deployed (the replayed plan of nn.InferenceRunner), and model.forward itself for reference.
  const inferOpts = { warmup: Number(arg('infer-warmup', '20')), runs: Number(arg('infer-runs', '20')) };
  const inf = await latency({ module: model, input: input1 }, inferOpts);
  const infForward = await latency({ module: model, input: input1 }, { ...inferOpts, plan: false });
  const profile = process.argv.includes('--profile')
    ? { train: await profileKernels(() => { step(); }), infer: await profileKernels(() => {
      const out = model.forward(input1, { training: false });
      out.dataSync();
      if (out !== input1) out.dispose();
    }) }
    : undefined;
  if (profile) {
    for (const [what, p] of Object.entries(profile)) {
      console.error(`profile ${name} ${what}: ${p.calls} kernel calls, ${p.kernelMs.toFixed(1)} ms in kernels of ${p.wallMs.toFixed(1)} ms`);
      for (const k of p.top) console.error(`  ${k.kernel.padEnd(36)} ${k.ms.toFixed(2).padStart(9)} ms ${String(k.calls).padStart(6)} calls${k.gmacs ? `  ${k.gmacs.toFixed(1).padStart(5)} GMAC/s` : ''}`);
    }
  }
  console.log(JSON.stringify({ model: name, backend: backend.name, params: model.numParams(), msPerStep: median,
    inferMs: inf.medianMs, inferForwardMs: infForward.medianMs, steps, peakRssMb: process.resourceUsage().maxRSS / 1024, tensorsBefore, tensorsAfter, loss: last, profile }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
