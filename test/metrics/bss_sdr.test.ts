// metrics.bssSdr against mir_eval's bss_eval_sources (v3) on speech pairs: test/reference/metrics_bss_sdr.py.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { bssSdr, solveToeplitz } from '../../lib/metrics/bss_sdr';
import { sdr } from '../../lib/metrics/sdr';
import { fixture } from '../helpers';
import * as tf from '@tensorflow/tfjs';

interface Case { name: string; filterLength: number; shape: [number, number]; references: string; estimates: string; sdr: number[] }
const { cases } = fixture<{ cases: Case[] }>('metrics_bss_sdr');

function rows(b64: string, [S, T]: [number, number]): Float32Array[] {
  const buf = Buffer.from(b64, 'base64');
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return Array.from({ length: S }, (_, s) => all.slice(s * T, (s + 1) * T));
}

test('bssSdr equals mir_eval bss_eval_sources SDR within 1e-6 dB on every case', () => {
  assert.ok(cases.length >= 7);
  for (const c of cases) {
    const refs = rows(c.references, c.shape), ests = rows(c.estimates, c.shape);
    c.sdr.forEach((want, j) => {
      const got = bssSdr(ests[j], refs[j], { filterLength: c.filterLength });
      assert.ok(Math.abs(got - want) < 1e-6, `${c.name}, source ${j}: ${got} against mir_eval ${want}`);
    });
  }
});

test('bssSdr forgives filtering and gain that the plain SDR counts as error', () => {
  const c = cases.find((x) => x.name.startsWith('delayed'))!;
  const refs = rows(c.references, c.shape), ests = rows(c.estimates, c.shape);
  const plain = tf.tidy(() => sdr(tf.tensor1d(ests[1]), tf.tensor1d(refs[1])).dataSync()[0]);
  assert.ok(plain < 0, `plain SDR of a delayed, doubled copy: ${plain}`);
  assert.ok(bssSdr(ests[1], refs[1]) > 25);
});

test('bssSdr: errors name the problem; a silent estimate scores -Infinity', () => {
  assert.throws(() => bssSdr([1, 2, 3], [1, 2]), /one length, got 3 and 2/);
  assert.throws(() => bssSdr([1, 2, 3], [0, 0, 0]), /reference is silent/);
  assert.throws(() => bssSdr([1, 2, 3], [1, 2, 3], { filterLength: 0 }), /filterLength/);
  assert.equal(bssSdr([0, 0, 0], [1, 2, 3]), -Infinity);
});

test('solveToeplitz solves a symmetric positive-definite Toeplitz system (checked by multiplying back)', () => {
  const n = 40;
  const r = Float64Array.from({ length: n }, (_, k) => Math.exp(-0.3 * k) * Math.cos(0.7 * k) + (k === 0 ? 0.5 : 0));
  const b = Float64Array.from({ length: n }, (_, k) => Math.sin(k * 1.3) + 0.1 * k);
  const x = solveToeplitz(r, b);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += r[Math.abs(i - j)] * x[j];
    assert.ok(Math.abs(s - b[i]) < 1e-9, `row ${i}: ${s} against ${b[i]}`);
  }
});
