// The training-speed benchmark: for each reference architecture, PyTorch (one thread) and slimspeech on
// wasm (and the pure-JS cpu backend for a step or two) run one after the other on this machine, each in its
// own process, on the same architecture (checked: equal parameter counts), batch and input length.
// `npm run bench` (or `npm run bench -- --quick`, under two minutes) prints a table and writes
// bench/results.json. `npm run bench -- --metrics` times the speech-quality metrics instead (bench/metrics.ts).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { benchMetrics } from './metrics';

interface Side {
  params: number; msPerStep: number; inferMs: number; inferForwardMs?: number; peakRssMb: number; tensorsBefore?: number; tensorsAfter?: number; profile?: unknown;
}
interface Gemm { gemm: { m: number; n: number; k: number; gmacs: number }[]; variant?: string }

/** Batch sizes and input lengths of the default presets (KWS: 1 s log-mel 98x40; enhancement 1 s at 16 kHz; separation 1 s at 8 kHz). */
const MODELS = [
  { model: 'kws-cnn', batch: 32, length: 0, input: '32 x 98x40 log-mel', seconds: 1 },
  { model: 'kws-transformer', batch: 32, length: 0, input: '32 x 98x40 log-mel', seconds: 1 },
  { model: 'crn', batch: 4, length: 16000, input: '4 x 1 s @ 16 kHz', seconds: 1 },
  { model: 'conv-tasnet', batch: 4, length: 8000, input: '4 x 1 s @ 8 kHz', seconds: 1 },
  { model: 'dprnn', batch: 4, length: 8000, input: '4 x 1 s @ 8 kHz', seconds: 1 },
  { model: 'dccrn-student', batch: 4, length: 16000, input: '4 x 1 s @ 16 kHz', seconds: 1 },
  { model: 'dccrn', batch: 4, length: 16000, input: '4 x 1 s @ 16 kHz', seconds: 1 },
  { model: 'hubert-small', batch: 4, length: 16000, input: '4 x 1 s @ 16 kHz', seconds: 1 },
  // 100 frames of SSL features at 20 ms: 2 s of audio.
  { model: 'ecapa-tdnn', batch: 8, length: 100, input: '8 x 100 frames x 768 (2 s of SSL features)', seconds: 2 },
];

/**
 * The GEMM roofline: matrix products of the benchmarked models' shapes (ECAPA-TDNN's 1x1 convolution at batch 8 x 100
 * frames, the HuBERT-like student's FFN at batch 4, a KWS transformer attention-sized one), timed on both sides.
 */
const GEMM_SHAPES = ['800,1536,1536', '196,1536,384', '98,64,64'];

const quick = process.argv.includes('--quick');
// --before: the wasm side with only the kernels training cannot do without (tfjs's own everywhere else),
// the configuration the speed work started from; written to bench/results-before.json.
const before = process.argv.includes('--before');
const profile = process.argv.includes('--profile');
// --rounds N: PyTorch and wasm alternate N times per model (the order swapped each round, so drift in the machine's
// speed falls on both); ratios are the median of the rounds' ratios, with their range. The machine is shared: one
// round's ratio can move by tens of percent.
const rounds = Math.max(1, Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 1));
const only = process.argv.find((a) => a.startsWith('--models='))?.slice(9).split(',');
const root = path.resolve(__dirname, '..', '..');
const python = process.env.SLIMSPEECH_PYTHON ?? (fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

function runJson<T = Side>(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): T {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr.slice(-3000)}`);
  const line = r.stdout.trim().split('\n').pop()!;
  if (profile && r.stderr.includes('profile ')) process.stderr.write(r.stderr);
  return JSON.parse(line) as T;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
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
    'torch b1 ms', 'wasm b1 ms', 'b1 ratio', 'wasm b1 forward ms', 'wasm RTF', 'torch RSS MB', 'wasm RSS MB', 'tensors before/after']];
  const t0 = Date.now();
  for (const m of MODELS.filter((x) => !only || only.includes(x.model))) {
    const common = ['--model', m.model, '--batch', String(m.batch), '--length', String(m.length)];
    const node = (backend: string, s: number, w: number, env: NodeJS.ProcessEnv = {}) => runJson(process.execPath,
      [path.join(__dirname, 'slimspeech_bench.js'), ...common, '--backend', backend, '--steps', String(s), '--warmup', String(w),
        '--infer-runs', String(backend === 'cpu' ? 1 : inferRuns), ...(profile && backend === 'wasm' ? ['--profile'] : [])],
      { SLIMSPEECH_QUIET: '1', ...(before ? { SLIMSPEECH_WASM_KERNELS: 'minimal' } : {}), ...env });
    const torchRun = () => runJson(python, ['bench/torch_bench.py', ...common, '--steps', String(steps), '--warmup', String(warmup),
      '--infer-runs', String(inferRuns), '--threads', '1']);
    const torchRounds: Side[] = [], wasmRounds: Side[] = [];
    for (let r = 0; r < rounds; r++) {
      process.stderr.write(`bench ${m.model}${rounds > 1 ? ` round ${r + 1}/${rounds}` : ''}:`);
      for (const side of r % 2 ? ['wasm', 'torch'] : ['torch', 'wasm']) {
        process.stderr.write(` ${side}...`);
        if (side === 'torch') torchRounds.push(torchRun());
        else wasmRounds.push(node('wasm', steps, warmup));
      }
      process.stderr.write('\n');
    }
    const torch = { ...torchRounds[0], msPerStep: median(torchRounds.map((t) => t.msPerStep)), inferMs: median(torchRounds.map((t) => t.inferMs)) };
    const wasm = { ...wasmRounds[0], msPerStep: median(wasmRounds.map((t) => t.msPerStep)), inferMs: median(wasmRounds.map((t) => t.inferMs)),
      inferForwardMs: median(wasmRounds.map((t) => t.inferForwardMs ?? NaN)) };
    const stepRatios = wasmRounds.map((w, i) => w.msPerStep / torchRounds[i].msPerStep);
    const inferRatios = wasmRounds.map((w, i) => w.inferMs / torchRounds[i].inferMs);
    // The pure-JS backend is two to three orders of magnitude slower: one timed step as a reference, on the
    // KWS models only (a CNN step alone takes minutes there), and in --quick on the transformer only.
    const cpuSteps = before ? 0 : m.model === 'kws-transformer' || (!quick && m.model === 'kws-cnn') ? 1 : 0;
    if (cpuSteps) process.stderr.write(`bench ${m.model}: cpu...\n`);
    const cpu = cpuSteps ? node('cpu', 1, 0) : undefined;
    if (torch.params !== wasm.params) {
      throw new Error(`${m.model}: PyTorch has ${torch.params} parameters, slimspeech ${wasm.params}: not the same architecture`);
    }
    const ratio = median(stepRatios), inferRatio = median(inferRatios);
    const range = (v: number[]) => (v.length > 1 ? { min: Math.min(...v), max: Math.max(...v) } : undefined);
    // Real-time factor of batch-1 inference: processing time over the audio's duration (below 1: faster than real time).
    const rtf = wasm.inferMs / 1000 / m.seconds, torchRtf = torch.inferMs / 1000 / m.seconds;
    rows.push({ model: m.model, backend: 'wasm', msPerStep: wasm.msPerStep, torchMsPerStep: torch.msPerStep, ratio,
      params: wasm.params, batch: m.batch, length: m.length, input: m.input, inferMs: wasm.inferMs, inferForwardMs: wasm.inferForwardMs,
      torchInferMs: torch.inferMs,
      inferRatio, seconds: m.seconds, rtf, torchRtf, rounds, ratioRange: range(stepRatios), inferRatioRange: range(inferRatios),
      peakRssMb: wasm.peakRssMb, torchPeakRssMb: torch.peakRssMb, tensorsBefore: wasm.tensorsBefore, tensorsAfter: wasm.tensorsAfter, steps,
      ...(wasm.profile ? { profile: wasm.profile } : {}) });
    if (cpu) {
      rows.push({ model: m.model, backend: 'cpu', msPerStep: cpu.msPerStep, torchMsPerStep: torch.msPerStep,
        ratio: cpu.msPerStep / torch.msPerStep, params: cpu.params, batch: m.batch, length: m.length, input: m.input, steps: 1 });
    }
    const span = (v: number[]) => (v.length > 1 ? ` [${fmt(Math.min(...v), 2)}-${fmt(Math.max(...v), 2)}]` : '');
    table.push([m.model, m.input, String(wasm.params), fmt(torch.msPerStep), fmt(wasm.msPerStep), `${fmt(ratio, 2)}x${span(stepRatios)}`,
      cpu ? `${fmt(cpu.msPerStep, 0)} (${fmt(cpu.msPerStep / torch.msPerStep, 0)}x)` : '-', fmt(torch.inferMs, 2), fmt(wasm.inferMs, 2),
      `${fmt(inferRatio, 2)}x${span(inferRatios)}`, fmt(wasm.inferForwardMs, 2), fmt(rtf, 3),
      fmt(torch.peakRssMb, 0), fmt(wasm.peakRssMb, 0), `${wasm.tensorsBefore}/${wasm.tensorsAfter}`]);
  }
  if (!before && (!only || only.includes('gemm'))) {
    process.stderr.write('bench gemm: torch... wasm...\n');
    const tg = runJson<Gemm>(python, ['bench/torch_bench.py', '--gemm', ...GEMM_SHAPES]);
    const wg = runJson<Gemm>(process.execPath, [path.join(__dirname, 'gemm.js'), ...GEMM_SHAPES], { SLIMSPEECH_QUIET: '1' });
    wg.gemm.forEach((w, i) => {
      const t = tg.gemm[i];
      const shape = `${w.m}x${w.n}x${w.k}`;
      rows.push({ model: `gemm ${shape}`, backend: 'wasm', gmacs: w.gmacs, torchGmacs: t.gmacs, ratio: t.gmacs / w.gmacs, variant: wg.variant });
      table.push([`gemm ${shape}`, 'M x N x K', '-', `${fmt(t.gmacs)} GMAC/s`, `${fmt(w.gmacs)} GMAC/s`, `${fmt(t.gmacs / w.gmacs, 2)}x`,
        '-', '-', '-', '-', '-', '-', '-', '-', '-']);
    });
  }
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const lines = table.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  console.log(lines.join('\n'));
  console.log(`PyTorch 1 thread; slimspeech on wasm (SIMD, 1 thread${before ? ', tfjs\'s own kernels: --before' : ''}); medians of ${steps} steps after ${warmup} warm-up${rounds > 1 ? `, ${rounds} alternating rounds (median ratio [range])` : ''}; ` +
    `Adam; b1: batch-1 inference (eval mode, median of ${inferRuns}; wasm through nn.InferenceRunner, forward alone in its own column); ratios are wasm over PyTorch (time; for gemm rows, PyTorch's ` +
    `rate over wasm's); RTF: batch-1 time over the audio's duration; ${((Date.now() - t0) / 1000).toFixed(0)} s in all`);
  const out = path.join(root, 'bench', before ? 'results-before.json' : 'results.json');
  // --models re-runs a subset: its rows replace theirs, the other models' rows stay.
  const kept = only && fs.existsSync(out)
    ? (JSON.parse(fs.readFileSync(out, 'utf8')) as { model: string }[]).filter((r) => !rows.some((n) => n.model === r.model))
    : [];
  fs.writeFileSync(out, JSON.stringify([...kept, ...rows], null, 1) + '\n');
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
