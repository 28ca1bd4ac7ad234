// Tiny dataset trees in the real layouts, written into temporary folders by the data tests.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeWav } from '../../lib/audio/wav';

/** A fresh temporary folder; `cleanup` removes it. */
export function tempTree(prefix: string): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `slimspeech-${prefix}-`));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A deterministic test signal: a sine of `freq` Hz plus a small ramp so that no two clips are equal,
 * quantised to 16-bit steps so that it survives a 16-bit WAV round trip exactly.
 */
export function signal(n: number, freq: number, rate: number, amp = 0.3, tag = 0): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = amp * Math.sin((2 * Math.PI * freq * i) / rate) + 0.001 * tag * (i / n);
    x[i] = (Math.round(v * 32768) + 0) / 32768; // + 0 turns -0 into 0, as a WAV round trip does
  }
  return x;
}

/** Writes a 16-bit mono WAV, creating folders. */
export function writeClip(file: string, samples: Float32Array, rate: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeWav(file, samples, rate);
}

/** Writes a text file, creating folders. */
export function writeText(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}
