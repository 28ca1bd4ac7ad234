// The speech-quality metrics benchmark (`npm run bench -- --metrics`): time per call of STOI, ESTOI and
// PESQ (narrow- and wide-band) on a 3 s 16 kHz pair (DNS-style test pairs of data/enh concatenated),
// median of several calls after a warm-up. With SLIMSPEECH_PYSTOI=<folder holding the pystoi package>
// (an extracted pystoi 0.4.1 checkout) and a python3 with numpy and scipy (SLIMSPEECH_PYTHON), pystoi is
// timed on the same pair in the same way, side by side.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readWav, writeWav } from '../lib/audio/wav';
import { pesq } from '../lib/metrics/pesq';
import { stoi } from '../lib/metrics/stoi';

const ROOT = path.resolve(__dirname, '..', '..');
const DIR = path.join(ROOT, 'data', 'enh', 'test_set', 'synthetic', 'no_reverb');

async function pair(seconds: number): Promise<{ clean: Float32Array; noisy: Float32Array }> {
  const n = seconds * 16000;
  const clean = new Float32Array(n);
  const noisy = new Float32Array(n);
  const names = fs.readdirSync(path.join(DIR, 'noisy')).sort();
  let at = 0;
  for (let k = 0; at < n; k++) {
    const noisyName = names.find((f) => f.endsWith(`_fileid_${k}.wav`))!;
    const c = (await readWav(path.join(DIR, 'clean', `clean_fileid_${k}.wav`))).channelData[0];
    const y = (await readWav(path.join(DIR, 'noisy', noisyName))).channelData[0];
    const m = Math.min(c.length, n - at);
    clean.set(c.subarray(0, m), at);
    noisy.set(y.subarray(0, m), at);
    at += m;
  }
  return { clean, noisy };
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => unknown, runs: number): number {
  fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(t);
}

function pystoiMs(clean: Float32Array, noisy: Float32Array, runs: number): { stoi: number; estoi: number } | undefined {
  const dir = process.env.SLIMSPEECH_PYSTOI;
  if (!dir) return undefined;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-bench-'));
  try {
    writeWav(path.join(tmp, 'clean.wav'), clean, 16000);
    writeWav(path.join(tmp, 'noisy.wav'), noisy, 16000);
    const code = `import sys, time, json, wave, numpy as np
sys.path.insert(0, ${JSON.stringify(dir)})
from pystoi import stoi
def read(p):
    w = wave.open(p); return np.frombuffer(w.readframes(w.getnframes()), np.int16) / 32768.0
x, y = read(${JSON.stringify(path.join(tmp, 'clean.wav'))}), read(${JSON.stringify(path.join(tmp, 'noisy.wav'))})
out = {}
for name, ext in (('stoi', False), ('estoi', True)):
    stoi(x, y, 16000, extended=ext)
    t = []
    for _ in range(${runs}):
        t0 = time.perf_counter(); stoi(x, y, 16000, extended=ext); t.append((time.perf_counter() - t0) * 1000)
    out[name] = sorted(t)[len(t) // 2]
print(json.dumps(out))`;
    const python = process.env.SLIMSPEECH_PYTHON ?? 'python3';
    const r = spawnSync(python, ['-c', code], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`pystoi timing failed (${python}):\n${r.stderr.slice(-2000)}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Runs the metrics benchmark and prints a table; resolves to its rows. */
export async function benchMetrics(quick: boolean): Promise<Record<string, unknown>[]> {
  const runs = quick ? 5 : 20;
  const { clean, noisy } = await pair(3);
  const py = pystoiMs(clean, noisy, runs);
  const rows = [
    { metric: 'STOI', ms: time(() => stoi(noisy, clean, 16000), runs), pystoiMs: py?.stoi },
    { metric: 'ESTOI', ms: time(() => stoi(noisy, clean, 16000, { extended: true }), runs), pystoiMs: py?.estoi },
    { metric: 'PESQ nb', ms: time(() => pesq(noisy, clean, 16000, { mode: 'nb' }), runs) },
    { metric: 'PESQ wb', ms: time(() => pesq(noisy, clean, 16000, { mode: 'wb' }), runs) },
  ];
  console.log('metric   slimspeech ms/call  pystoi ms/call');
  for (const r of rows) console.log(`${r.metric.padEnd(8)} ${r.ms.toFixed(1).padStart(18)}  ${r.pystoiMs === undefined ? '-' : r.pystoiMs.toFixed(1)}`);
  console.log(`3 s 16 kHz pair, medians of ${runs} calls after one warm-up` +
    `${py ? '; pystoi 0.4.1 in the same way' : ' (set SLIMSPEECH_PYSTOI to an extracted pystoi checkout to time it beside)'}`);
  return rows;
}
