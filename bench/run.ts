// The training-speed benchmark: for each reference architecture, PyTorch (one thread) and slimspeech on
// wasm (and the pure-JS cpu backend for a step or two) run one after the other on this machine, each in its
// own process, on the same architecture (checked: equal parameter counts), batch and input length.
// `npm run bench` (or `npm run bench -- --quick`, under two minutes) prints a table and writes
// bench/results.json. `npm run bench -- --metrics` times the speech-quality metrics instead (bench/metrics.ts).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { benchMetrics } from './metrics';

interface Side { params: number; msPerStep: number; inferMs: number; peakRssMb: number; tensorsBefore?: number; tensorsAfter?: number }

/** Batch sizes and input lengths of the default presets (KWS: 1 s log-mel 98x40; enhancement 1 s at 16 kHz; separation 1 s at 8 kHz). */
const MODELS = [
  { model: 'kws-cnn', batch: 32, length: 0, input: '32 x 98x40 log-mel' },
  { model: 'kws-transformer', batch: 32, length: 0, input: '32 x 98x40 log-mel' },
  { model: 'crn', batch: 4, length: 16000, input: '4 x 1 s @ 16 kHz' },
  { model: 'conv-tasnet', batch: 4, length: 8000, input: '4 x 1 s @ 8 kHz' },
  { model: 'dprnn', batch: 4, length: 8000, input: '4 x 1 s @ 8 kHz' },
  { model: 'dccrn-student', batch: 4, length: 16000, input: '4 x 1 s @ 16 kHz' },
  { model: 'dccrn', batch: 4, length: 16000, input: '4 x 1 s @ 16 kHz' },
  { model: 'hubert-small', batch: 4, length: 16000, input: '4 x 1 s @ 16 kHz' },
  { model: 'ecapa-tdnn', batch: 8, length: 100, input: '8 x 100 frames x 768 (2 s of SSL features)' },
];

const quick = process.argv.includes('--quick');
// --before: the wasm side with only the kernels training cannot do without (tfjs's own everywhere else),
// the configuration the speed work started from; written to bench/results-before.json.
const before = process.argv.includes('--before');
const only = process.argv.find((a) => a.startsWith('--models='))?.slice(9).split(',');
const root = path.resolve(__dirname, '..', '..');
const python = process.env.SLIMSPEECH_PYTHON ?? (fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

function runJson(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Side {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr.slice(-3000)}`);
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as Side;
}

function fmt(v: number | undefined, digits = 1): string {
  return v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

function main(): void {
  const steps = quick ? 3 : 10;
  const warmup = quick ? 1 : 3;
  const inferRuns = quick ? 5 : 20;
  const rows: Record<string, unknown>[] = [];
  const table: string[][] = [['model', 'input', 'params', 'torch ms/step', 'wasm ms/step', 'ratio', 'cpu ms/step',
    'torch infer ms', 'wasm infer ms', 'torch RSS MB', 'wasm RSS MB', 'tensors before/after']];
  const t0 = Date.now();
  for (const m of MODELS.filter((x) => !only || only.includes(x.model))) {
    const common = ['--model', m.model, '--batch', String(m.batch), '--length', String(m.length)];
    process.stderr.write(`bench ${m.model}: torch...`);
    const torch = runJson(python, ['bench/torch_bench.py', ...common, '--steps', String(steps), '--warmup', String(warmup),
      '--infer-runs', String(inferRuns), '--threads', '1']);
    process.stderr.write(' wasm...');
    const node = (backend: string, s: number, w: number, env: NodeJS.ProcessEnv = {}) => runJson(process.execPath,
      [path.join(__dirname, 'slimspeech_bench.js'), ...common, '--backend', backend, '--steps', String(s), '--warmup', String(w),
        '--infer-runs', String(backend === 'cpu' ? 1 : inferRuns)],
      { SLIMSPEECH_QUIET: '1', ...(before ? { SLIMSPEECH_WASM_KERNELS: 'minimal' } : {}), ...env });
    const wasm = node('wasm', steps, warmup);
    // The pure-JS backend is two to three orders of magnitude slower: one timed step as a reference, on the
    // KWS models only (a CNN step alone takes minutes there), and in --quick on the transformer only.
    const cpuSteps = before ? 0 : m.model === 'kws-transformer' || (!quick && m.model === 'kws-cnn') ? 1 : 0;
    process.stderr.write(cpuSteps ? ' cpu...\n' : '\n');
    const cpu = cpuSteps ? node('cpu', 1, 0) : undefined;
    if (torch.params !== wasm.params) {
      throw new Error(`${m.model}: PyTorch has ${torch.params} parameters, slimspeech ${wasm.params}: not the same architecture`);
    }
    const ratio = wasm.msPerStep / torch.msPerStep;
    rows.push({ model: m.model, backend: 'wasm', msPerStep: wasm.msPerStep, torchMsPerStep: torch.msPerStep, ratio,
      params: wasm.params, batch: m.batch, length: m.length, input: m.input, inferMs: wasm.inferMs, torchInferMs: torch.inferMs,
      peakRssMb: wasm.peakRssMb, torchPeakRssMb: torch.peakRssMb, tensorsBefore: wasm.tensorsBefore, tensorsAfter: wasm.tensorsAfter, steps });
    if (cpu) {
      rows.push({ model: m.model, backend: 'cpu', msPerStep: cpu.msPerStep, torchMsPerStep: torch.msPerStep,
        ratio: cpu.msPerStep / torch.msPerStep, params: cpu.params, batch: m.batch, length: m.length, input: m.input, steps: 1 });
    }
    table.push([m.model, m.input, String(wasm.params), fmt(torch.msPerStep), fmt(wasm.msPerStep), `${fmt(ratio, 2)}x`,
      cpu ? `${fmt(cpu.msPerStep, 0)} (${fmt(cpu.msPerStep / torch.msPerStep, 0)}x)` : '-', fmt(torch.inferMs, 2), fmt(wasm.inferMs, 2),
      fmt(torch.peakRssMb, 0), fmt(wasm.peakRssMb, 0), `${wasm.tensorsBefore}/${wasm.tensorsAfter}`]);
  }
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const lines = table.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  console.log(lines.join('\n'));
  console.log(`PyTorch 1 thread; slimspeech on wasm (SIMD, 1 thread${before ? ', tfjs\'s own kernels: --before' : ''}); medians of ${steps} steps after ${warmup} warm-up; ` +
    `Adam; ${((Date.now() - t0) / 1000).toFixed(0)} s in all`);
  const out = path.join(root, 'bench', before ? 'results-before.json' : 'results.json');
  fs.writeFileSync(out, JSON.stringify(rows, null, 1) + '\n');
  console.log(`wrote ${path.relative(root, out)}`);
}

if (process.argv.includes('--metrics')) {
  benchMetrics(quick).then((rows) => {
    const out = path.join(root, 'bench', 'results-metrics.json');
    fs.writeFileSync(out, JSON.stringify(rows, null, 1) + '\n');
    console.log(`wrote ${path.relative(root, out)}`);
  }, (e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
} else {
  main();
}
