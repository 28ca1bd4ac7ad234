// Shared test utilities: backend set-up, reference fixtures written by test/reference/*.py (PyTorch,
// torchaudio, sklearn), closeness checks that report the worst deviation, and leak checks.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useBackend, BackendInfo } from '../lib/backend/use_backend';

/** Repository root (tests run from build/test/..., fixtures stay in test/reference/fixtures). */
export const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Selects the backend a test file runs on: SLIMSPEECH_TEST_BACKEND, else wasm (the default backend on a
 * machine without libtensorflow, and the one whose training kernels slimspeech provides).
 */
export async function setupBackend(name = process.env.SLIMSPEECH_TEST_BACKEND ?? 'wasm'): Promise<BackendInfo> {
  return useBackend(name);
}

/** A tensor as stored in a fixture: row-major flat data plus shape. */
export interface FixtureTensor { shape: number[]; data: number[] }

/** Loads test/reference/fixtures/<name>.json. */
export function fixture<T = Record<string, unknown>>(name: string): T {
  const file = path.join(ROOT, 'test', 'reference', 'fixtures', `${name}.json`);
  if (!fs.existsSync(file)) {
    throw new Error(`missing fixture ${file}: generate it with the script in test/reference/ (see its header)`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** Builds a float32 tensor from a fixture entry. */
export function fromFixture(t: FixtureTensor): tf.Tensor {
  return tf.tensor(t.data, t.shape, 'float32');
}

function flat(x: tf.Tensor | ArrayLike<number> | number): Float64Array {
  if (typeof x === 'number') return Float64Array.of(x);
  if (x instanceof tf.Tensor) return Float64Array.from(x.dataSync() as Float32Array);
  return Float64Array.from(x);
}

/** Largest deviations seen per label in this process, printed at exit when SLIMSPEECH_REPORT_DEVIATION=1. */
export const deviations = new Map<string, number>();
process.on('exit', () => {
  if (process.env.SLIMSPEECH_REPORT_DEVIATION === '1' && deviations.size) {
    for (const [k, v] of [...deviations].sort()) console.log(`deviation ${v.toExponential(2)} ${k}`);
  }
});

/**
 * Asserts |actual - expected| <= atol + rtol * |expected| elementwise (shapes checked when both are
 * tensors or a shape is given), and returns the largest absolute deviation.
 */
export function assertClose(
  actual: tf.Tensor | ArrayLike<number> | number,
  expected: tf.Tensor | FixtureTensor | ArrayLike<number> | number,
  opts: { atol?: number; rtol?: number; label?: string } = {},
): number {
  const { atol = 1e-5, rtol = 1e-4, label = 'value' } = opts;
  let expectedFlat: Float64Array;
  if (expected && typeof expected === 'object' && 'shape' in expected && 'data' in expected && !(expected instanceof tf.Tensor)) {
    const e = expected as FixtureTensor;
    if (actual instanceof tf.Tensor) {
      assert.deepEqual(actual.shape, e.shape, `${label}: shape ${JSON.stringify(actual.shape)} != expected ${JSON.stringify(e.shape)}`);
    }
    expectedFlat = Float64Array.from(e.data);
  } else {
    if (actual instanceof tf.Tensor && expected instanceof tf.Tensor) {
      assert.deepEqual(actual.shape, expected.shape, `${label}: shape mismatch`);
    }
    expectedFlat = flat(expected as tf.Tensor | ArrayLike<number> | number);
  }
  const a = flat(actual);
  assert.equal(a.length, expectedFlat.length, `${label}: ${a.length} values, expected ${expectedFlat.length}`);
  let worst = 0;
  let worstIdx = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - expectedFlat[i]);
    if (!(d <= atol + rtol * Math.abs(expectedFlat[i]))) {
      const excess = Number.isNaN(d) ? Infinity : d - (atol + rtol * Math.abs(expectedFlat[i]));
      if (excess > worstExcess || worstIdx < 0) { worstExcess = excess; worstIdx = i; }
    }
    if (d > worst || Number.isNaN(d)) worst = Number.isNaN(d) ? Infinity : d;
  }
  deviations.set(label, Math.max(deviations.get(label) ?? 0, worst));
  if (worstIdx >= 0) {
    assert.fail(`${label}: element ${worstIdx} is ${a[worstIdx]}, expected ${expectedFlat[worstIdx]} ` +
      `(max abs deviation ${worst}, atol ${atol}, rtol ${rtol})`);
  }
  return worst;
}

/** Asserts that running `fn` leaves tf.memory().numTensors unchanged (after one warm-up run). */
export async function assertNoLeak(fn: () => unknown | Promise<unknown>, label = 'function'): Promise<void> {
  const dispose = (r: unknown) => {
    if (r instanceof tf.Tensor) r.dispose();
    else if (Array.isArray(r)) r.forEach(dispose);
    else if (r && typeof r === 'object' && !(r instanceof Map)) Object.values(r).forEach(dispose);
  };
  dispose(await fn());
  const before = tf.memory().numTensors;
  dispose(await fn());
  const after = tf.memory().numTensors;
  assert.equal(after, before, `${label} leaked ${after - before} tensor(s)`);
}

/**
 * Runs `node args...` and kills it with SIGKILL as soon as `ready()` holds (polled every `everyMs`), then waits for
 * it to exit. Resolves to whether it was killed (false: `ready()` never held while it ran, within `timeoutMs`).
 */
export async function spawnAndKillWhen(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }, ready: () => boolean,
  everyMs = 5, timeoutMs = 150_000): Promise<boolean> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, args, { cwd: opts.cwd, env: opts.env, stdio: 'ignore' });
  let running = true;
  const exited = new Promise<void>((resolve) => child.on('exit', () => { running = false; resolve(); }));
  let killed = false;
  for (let waited = 0; waited < timeoutMs && !killed && running; waited += everyMs) {
    await new Promise((r) => setTimeout(r, everyMs));
    if (ready()) {
      child.kill('SIGKILL');
      killed = true;
    }
  }
  if (!killed && running) child.kill('SIGKILL');
  await exited;
  return killed;
}

/**
 * The resume check of the recipes' CLI tests: runs `node args...` (a `slimspeech run ... --out out`), kills it with
 * SIGKILL once `ready()` holds and before `out/results.json` exists, reruns the same command to the end and checks
 * that the log says where training resumed. Resolves to the log lines the rerun wrote.
 */
export async function killThenResume(args: string[], out: string, opts: { cwd: string; env: NodeJS.ProcessEnv }, ready: () => boolean,
  what = 'the training'): Promise<string> {
  const { spawnSync } = await import('node:child_process');
  const results = path.join(out, 'results.json');
  const killed = await spawnAndKillWhen(args, opts, () => ready() && !fs.existsSync(results));
  assert.ok(killed, `${what} never wrote a checkpoint`);
  assert.ok(!fs.existsSync(results), 'killed before the end');
  const logBefore = fs.readFileSync(path.join(out, 'run.log'), 'utf8').length;
  const again = spawnSync(process.execPath, args, { cwd: opts.cwd, env: opts.env, encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  const log = fs.readFileSync(path.join(out, 'run.log'), 'utf8').slice(logBefore);
  assert.match(log, /resumed from .*checkpoint\.ckpt at epoch \d+, batch \d+, after \d+ optimizer step/);
  return log;
}
