// models.Dccrn against its reference code (huyanxin/DeepComplexCRN, via test/reference/models_dccrn.py):
// parameter counts (paper sizes included), outputs in every masking mode in eval and train mode and
// gradients on the same weights; taps, save/load, leaks, argument errors; training lowers an SI-SNR loss.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, fixture, FixtureTensor, fromFixture, setupBackend } from '../helpers';
import { ComplexConv2d, convIstft, convStft, Dccrn, DccrnArgs, DccrnDecoderBlock, DccrnMaskingMode, DCCRN_PRESETS } from '../../lib/models';
import { loadModel, manualSeed, saveModel } from '../../lib/nn';
import { fit } from '../../lib/train';
import { siSnr } from '../../lib/metrics';

interface Case {
  name: string;
  args: DccrnArgs;
  stateDict: Record<string, FixtureTensor>;
  outputs: Partial<Record<DccrnMaskingMode, { eval: FixtureTensor; train?: FixtureTensor }>>;
  grad?: { mode: DccrnMaskingMode; r: FixtureTensor; grads: Record<string, FixtureTensor> };
}
interface Fixture {
  counts: { name: string; args: DccrnArgs; params: number }[];
  input: FixtureTensor;
  cases: Case[];
}

let FX: Fixture;

before(async () => {
  await setupBackend();
  FX = fixture<Fixture>('models_dccrn');
});

function referenceWeights(c: Case): Map<string, tf.Tensor> {
  return new Map(Object.entries(c.stateDict).map(([k, v]) => [k, fromFixture(v)]));
}

function build(c: Case, mode: DccrnMaskingMode): Dccrn {
  const m = new Dccrn({ ...c.args, maskingMode: mode });
  const w = referenceWeights(c);
  m.loadReferenceStateDict(w);
  tf.dispose([...w.values()]);
  return m;
}

/** The first `len` samples of each row of [batch, time]. */
function head(x: tf.Tensor, len: number): tf.Tensor {
  return tf.slice(x, [0, 0], [-1, len]);
}

/** Largest |a - e| over the largest |e|. */
function relMax(a: tf.Tensor, e: FixtureTensor): number {
  const ad = a.dataSync();
  let d = 0, s = 0;
  e.data.forEach((v, i) => { d = Math.max(d, Math.abs(ad[i] - v)); s = Math.max(s, Math.abs(v)); });
  return d / s;
}

test('Dccrn: parameter counts equal the reference code\'s for every configuration, paper sizes included', () => {
  assert.ok(FX.counts.length >= 9);
  for (const { name, args, params } of FX.counts) {
    const m = new Dccrn(args);
    assert.equal(m.numParams(), params, `${name} ${JSON.stringify(args)}`);
    m.dispose();
  }
  const byName = new Map(FX.counts.map((c) => [c.name, c]));
  for (const preset of ['DCCRN-CL', 'DCCRN-E', 'DCCRN-R', 'DCCRN-C', 'student'] as const) {
    assert.deepEqual(DCCRN_PRESETS[preset], byName.get(preset)!.args, preset);
  }
  assert.equal(byName.get('DCCRN-CL')!.params, 3671053);
  assert.equal(byName.get('student')!.params, 1126413);
});

test('Dccrn: outputs equal the reference code\'s on the same weights (every masking mode, eval and train mode)', () => {
  const worst: string[] = [];
  for (const c of FX.cases) {
    for (const [mode, out] of Object.entries(c.outputs) as [DccrnMaskingMode, { eval: FixtureTensor; train?: FixtureTensor }][]) {
      const m = build(c, mode);
      const x = fromFixture(FX.input);
      for (const [phase, ref] of Object.entries(out) as ['eval' | 'train', FixtureTensor][]) {
        tf.tidy(() => {
          const y = m.forward(x, { training: phase === 'train' });
          // The reference's waveform is L rounded down to whole hops; this one keeps all L samples.
          assert.deepEqual(y.shape, x.shape);
          const [, len] = ref.shape;
          const L = x.shape[1] as number;
          assert.ok(len < L && len > L - (c.args.winInc ?? 100));
          const yh = head(y, len);
          const scale = Math.max(...ref.data.map(Math.abs));
          assertClose(yh, ref, { atol: 1e-4 * scale, rtol: 0, label: `dccrn ${c.name} ${mode} ${phase}` });
          worst.push(`${c.name} ${mode} ${phase} ${relMax(yh, ref).toExponential(1)}`);
          const tail = tf.slice(y, [0, len], [-1, L - len]);
          assert.ok(tf.max(tf.abs(tail)).dataSync()[0] > 0, 'the tail past the reference\'s length holds samples');
        });
      }
      x.dispose();
      m.dispose();
    }
  }
  if (process.env.SLIMSPEECH_REPORT_DEVIATION === '1') console.log(`dccrn: max |deviation| / max |reference|: ${worst.join('; ')}`);
});

test('Dccrn: gradients equal the reference code\'s (float64 autograd, train mode, masking C)', () => {
  const c = FX.cases.find((k) => k.grad)!;
  const g = c.grad!;
  const m = build(c, g.mode);
  const x = fromFixture(FX.input);
  const r = fromFixture(g.r);
  const vars = m.parameters();
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(head(m.forward(x, { training: true }), r.shape[1] as number), r)) as tf.Scalar, vars);
  // The reference's gradients in slimspeech's names and layouts: load them as if they were weights.
  const asWeights = new Dccrn({ ...c.args, maskingMode: g.mode });
  const refGrads = new Map(Object.entries(g.grads).map(([k, v]) => [k, fromFixture(v)]));
  asWeights.loadReferenceStateDict(refGrads, false);
  const expected = new Map(asWeights.namedParameters());
  const named = m.namedParameters();
  assert.equal(named.length, Object.keys(g.grads).length);
  for (const [name, v] of named) {
    const e = expected.get(name)!;
    const scale = tf.max(tf.abs(e)).dataSync()[0];
    // Biases in front of batch norm get (float64) zero gradients: compare at the scale of the layer's weights.
    const atol = 1e-4 * Math.max(scale, name.endsWith('Bias') ? 1 : 0);
    assertClose(grads[v.name], e, { atol, rtol: 1e-4, label: `dccrn grad ${name}` });
  }
  tf.dispose([value, ...Object.values(grads), x, r, ...refGrads.values()]);
  m.dispose();
  asWeights.dispose();
});

test('Dccrn: taps hold every encoder block, the recurrent block and every decoder block with the documented shapes', () => {
  manualSeed(3);
  const kernelNum = [4, 8, 8, 16, 16, 16];
  for (const useClstm of [true, false]) {
    const m = new Dccrn({ kernelNum, rnnUnits: 16, useClstm });
    const L = 1650;
    const T = Math.floor((L + 400 - 200) / 100) + 1;
    const taps = new Map<string, tf.Tensor>();
    tf.tidy(() => { m.forward(tf.randomNormal([2, L], 0, 0.1), { training: false, taps }); });
    const n = kernelNum.length;
    for (let i = 0; i < n; i++) assert.deepEqual(taps.get(`encoder.${i}`)?.shape, [2, T, 256 / 2 ** (i + 1), kernelNum[i]], `encoder.${i}`);
    assert.deepEqual(taps.get('rnn')?.shape, [2, T, 4, 16]);
    for (let j = 0; j < n; j++) {
      assert.deepEqual(taps.get(`decoder.${j}`)?.shape, [2, T, 256 / 2 ** (n - 1 - j), j === n - 1 ? 2 : kernelNum[n - 2 - j]], `decoder.${j}`);
    }
    assert.deepEqual(taps.get('decoder.0.conv')?.shape, [2, T + 1, 8, 16], 'before the frame drop');
    if (useClstm) {
      assert.deepEqual(taps.get('rnn.1')?.shape, [2, T, 64]);
      assert.deepEqual(taps.get('rnn.0.realLstm')?.shape, [4, T, 8]);
    } else {
      assert.deepEqual(taps.get('rnn.lstm')?.shape, [2, T, 16]);
    }
    tf.dispose([...taps.values()]);
    m.dispose();
  }
});

test('Dccrn: the output is clamped to [-1, 1]', () => {
  manualSeed(4);
  const small = new Dccrn({ kernelNum: [4, 8], fftLen: 8, winLen: 8, winInc: 2, rnnUnits: 8, useClstm: true, maskingMode: 'C' });
  (small.decoder.items[1] as DccrnDecoderBlock).conv.realBias.assign(tf.fill([1], 20));
  tf.tidy(() => {
    const y = small.forward(tf.mul(tf.sin(tf.linspace(0, 200, 400)), 0.5).reshape([1, 400]), { training: false });
    const v = y.dataSync();
    assert.ok(v.every((s) => s >= -1 && s <= 1));
    assert.ok(v.filter((s) => Math.abs(s) === 1).length > 50, 'a 20x mask saturates');
  });
  small.dispose();
});

test('Dccrn: convStft matches a direct DFT, and convIstft inverts it', () => {
  const o = { winLen: 400, winInc: 100, fftLen: 512 };
  tf.tidy(() => {
    const x = tf.randomNormal([2, 1234], 0, 0.3, 'float32', 5);
    const spec = convStft(x, o);
    const T = Math.floor((1234 + 600 - 400) / 100) + 1;
    assert.deepEqual(spec.shape, [2, T, 514]);
    // Frame 3 of row 1, bins 0, 7 and 256, in float64: X_k = sum_n w[n] x_pad[300 + n] e^{-2 pi i k n / 512}.
    const xs = x.arraySync() as number[][];
    const s = spec.arraySync() as number[][][];
    for (const k of [0, 7, 256]) {
      let re = 0, im = 0;
      for (let n = 0; n < 400; n++) {
        const i = 3 * 100 + n - 300;
        const v = i >= 0 && i < 1234 ? xs[1][i] : 0;
        const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / 400);
        re += w * v * Math.cos((2 * Math.PI * k * n) / 512);
        im -= w * v * Math.sin((2 * Math.PI * k * n) / 512);
      }
      assert.ok(Math.abs(s[1][3][k] - re) < 1e-4 && Math.abs(s[1][3][257 + k] - im) < 1e-4, `bin ${k}`);
    }
    // The reference's length (L rounded down to whole hops), then L with the tail it cuts.
    assert.deepEqual(convIstft(spec, o).shape, [2, 1200]);
    assertClose(convIstft(spec, o, 1234), x, { atol: 1e-5, rtol: 0, label: 'convIstft(convStft(x))' });
  });
});

test('Dccrn: ComplexConv2d multiplies complex numbers (1x1 kernel on one complex channel)', () => {
  const c = new ComplexConv2d({ inChannels: 2, outChannels: 2, kernelSize: [1, 1] });
  c.realWeight.assign(tf.tensor4d([2], [1, 1, 1, 1]));
  c.imagWeight.assign(tf.tensor4d([3], [1, 1, 1, 1]));
  tf.tidy(() => {
    // (2 + 3i)(5 - 7i) = 31 + i
    const y = c.forward(tf.tensor4d([5, -7], [1, 1, 1, 2]), { training: false });
    assert.deepEqual([...y.dataSync()], [31, 1]);
  });
  c.dispose();
});

test('Dccrn: saveModel then loadModel gives the identical output', async () => {
  manualSeed(5);
  const m = new Dccrn({ kernelNum: [4, 8, 8, 16], rnnUnits: 8, useClstm: true });
  const x = tf.randomNormal([1, 1600], 0, 0.1, 'float32', 6);
  tf.dispose(m.forward(x, { training: true }));   // moves the batch-norm running statistics
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dccrn-'));
  try {
    await saveModel(m, dir);
    const back = await loadModel(dir) as Dccrn;
    assert.ok(back instanceof Dccrn);
    assert.deepEqual(back.args, m.args);
    tf.tidy(() => assertClose(back.forward(x, { training: false }), m.forward(x, { training: false }), { atol: 0, rtol: 0, label: 'reloaded' }));
    back.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  x.dispose();
  m.dispose();
});

test('Dccrn: forward, training steps and loading reference weights leak no tensors', async () => {
  const c = FX.cases[0];
  const m = build(c, 'E');
  const x = fromFixture(FX.input);
  await assertNoLeak(() => m.forward(x, { training: false }), 'Dccrn.forward');
  await assertNoLeak(() => m.enhance(x, { training: true }), 'Dccrn.enhance');
  await assertNoLeak(() => {
    const { value, grads } = tf.variableGrads(() => tf.neg(tf.mean(siSnr(m.forward(x, { training: true }), x))) as tf.Scalar, m.parameters());
    tf.dispose([value, ...Object.values(grads)]);
  }, 'a training step');
  const w = referenceWeights(c);
  await assertNoLeak(() => m.loadReferenceStateDict(w), 'loadReferenceStateDict');
  tf.dispose([...w.values(), x]);
  m.dispose();
});

test('Dccrn: argument and input errors name the problem', () => {
  assert.throws(() => new Dccrn({ kernelNum: [] }), /kernelNum must be a non-empty list of even channel counts/);
  assert.throws(() => new Dccrn({ kernelNum: [16, 33] }), /kernelNum must be a non-empty list of even channel counts .*\[16,33\]/);
  assert.throws(() => new Dccrn({ fftLen: 500 }), /fftLen 500 does not suit 6 encoder blocks: they leave 4 of its 250 bins.*multiple of 128/);
  assert.throws(() => new Dccrn({ winLen: 600 }), /winLen 600 exceeds fftLen 512/);
  assert.throws(() => new Dccrn({ maskingMode: 'X' as DccrnMaskingMode }), /maskingMode must be one of E, C, R, got 'X'/);
  assert.throws(() => new Dccrn({ kernelSize: 3 }), /fftLen 512 does not suit|kernelSize 3/);
  assert.throws(() => new Dccrn({ useClstm: true, rnnUnits: 15 }), /rnnUnits counts real \+ imaginary units and must be even, got 15/);
  assert.throws(() => new Dccrn({ rnnLayers: 0 }), /rnnLayers must be a positive integer, got 0/);
  const m = new Dccrn({ kernelNum: [4, 8, 8, 16], rnnUnits: 8 });
  assert.throws(() => m.forward(tf.zeros([1600]), { training: false }), /expected noisy audio \[batch, time\], got \[1600\]/);
  const bogus = new Map([['encoder.0.0.real_conv.weight', tf.zeros([2, 1, 5, 2])], ['decoder.9.3.weight', tf.zeros([1])]]);
  assert.throws(() => m.loadReferenceStateDict(bogus), /unexpected decoder\.9\.3\.weight/);
  assert.throws(() => m.loadReferenceStateDict(new Map([...bogus].slice(0, 1))), /missing/);
  tf.dispose([...bogus.values()]);
  m.dispose();
});

test('Dccrn: a few train.fit steps lower the negative SI-SNR on a toy batch', async () => {
  manualSeed(7);
  const m = new Dccrn({ kernelNum: [4, 8, 8, 16], rnnUnits: 16, useClstm: true, maskingMode: 'E' });
  const L = 3200;
  const clean = tf.tidy(() => tf.mul(tf.sin(tf.mul(tf.linspace(0, L - 1, L), 2 * Math.PI * 440 / 16000)), tf.linspace(0.1, 0.4, L)).reshape([1, L]).tile([2, 1]));
  const noisy = tf.add(clean, tf.randomNormal([2, L], 0, 0.1, 'float32', 8));
  const losses: number[] = [];
  await fit({
    modules: m, epochs: 12, progress: 'none', optimizer: { kind: 'adam', lr: 3e-3 },
    batches: () => [{ noisy, clean }], disposeBatches: false,
    step: (b: { noisy: tf.Tensor; clean: tf.Tensor }, ctx) => tf.neg(tf.mean(siSnr(m.forward(b.noisy, ctx), b.clean))) as tf.Scalar,
    onStep: (rec) => { losses.push(rec.loss); },
  });
  assert.equal(losses.length, 12);
  assert.ok(losses.every(Number.isFinite));
  const early = losses[0], late = Math.min(...losses.slice(-3));
  assert.ok(late < early - 10, `loss ${losses.map((v) => v.toFixed(2)).join(' ')}`);
  tf.dispose([clean, noisy]);
  m.dispose();
});
