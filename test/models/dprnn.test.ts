// models.Dprnn against asteroid's DPRNNTasNet (via test/reference/models_dprnn.py): parameter counts (presets
// included), outputs and layer-wise outputs on the same weights, float64 gradients; chunking against a naive
// loop; layer heads, taps, save/load, leaks, argument errors; training lowers a PIT loss.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, fixture, FixtureTensor, fromFixture, setupBackend } from '../helpers';
import { chunkFrames, Dprnn, DprnnArgs, DprnnMaskAct, DprnnMaskHead, DPRNN_PRESETS, numChunks, overlapAdd } from '../../lib/models';
import { loadModel, manualSeed, saveModel } from '../../lib/nn';
import { fit } from '../../lib/train';
import { siSnr } from '../../lib/metrics';

interface Case {
  name: string;
  args: DprnnArgs;
  stateDict: Record<string, FixtureTensor>;
  output: FixtureTensor;
  layers?: FixtureTensor[];
  grad?: { r: FixtureTensor; grads: Record<string, FixtureTensor> };
}
interface Fixture {
  counts: { name: string; args: DprnnArgs; params: number }[];
  input: FixtureTensor;
  cases: Case[];
}

let FX: Fixture;

before(async () => {
  await setupBackend();
  FX = fixture<Fixture>('models_dprnn');
});

function referenceWeights(c: Case): Map<string, tf.Tensor> {
  return new Map(Object.entries(c.stateDict).map(([k, v]) => [k, fromFixture(v)]));
}

function build(c: Case, extra: DprnnArgs = {}): Dprnn {
  const m = new Dprnn({ ...c.args, ...extra });
  const w = referenceWeights(c);
  m.loadReferenceStateDict(w);
  tf.dispose([...w.values()]);
  return m;
}

/** Negative SI-SNR of the better of the two source assignments, averaged over the batch. */
function pit2(est: tf.Tensor, ref: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const a = tf.mean(siSnr(est, ref), -1);
    const b = tf.mean(siSnr(est, tf.reverse(ref, 1)), -1);
    return tf.neg(tf.mean(tf.maximum(a, b))) as tf.Scalar;
  });
}

function scaleOf(t: FixtureTensor): number {
  return Math.max(...t.data.map(Math.abs));
}

test('Dprnn: parameter counts equal asteroid\'s DPRNNTasNet for every configuration, presets included', () => {
  assert.ok(FX.counts.length >= 8);
  for (const { name, args, params } of FX.counts) {
    const m = new Dprnn(args);
    assert.equal(m.numParams(), params, `${name} ${JSON.stringify(args)}`);
    m.dispose();
  }
  const byName = new Map(FX.counts.map((c) => [c.name, c]));
  for (const preset of ['paper', 'small'] as const) assert.deepEqual(DPRNN_PRESETS[preset], byName.get(preset)!.args, preset);
  assert.equal(byName.get('paper')!.params, 2609857);
  assert.equal(byName.get('small')!.params, 476737);
  assert.equal(byName.get('asteroid-defaults')!.params, 3652865);
  // The defaults are the small preset.
  const d = new Dprnn();
  assert.deepEqual(Object.fromEntries(Object.keys(DPRNN_PRESETS.small).map((k) => [k, d.args[k as keyof DprnnArgs]])), DPRNN_PRESETS.small);
  assert.equal(new Dprnn({ chunkSize: 9, hopSize: 3 }).args.hopSize, 3);
  assert.equal(new Dprnn({ chunkSize: 10 }).args.hopSize, 5);
  d.dispose();
});

test('Dprnn: outputs equal asteroid\'s on the same weights (bi/uni inter-chunk RNN, sigmoid/relu masks, hops K/2, K/4, K)', () => {
  for (const c of FX.cases) {
    const m = build(c);
    const x = fromFixture(FX.input);
    for (const training of [false, true]) {
      tf.tidy(() => {
        const y = m.forward(x, { training });
        assertClose(y, c.output, { atol: 2e-5 * scaleOf(c.output), rtol: 0, label: `dprnn ${c.name} training=${training}` });
      });
    }
    x.dispose();
    m.dispose();
  }
});

test('Dprnn: forwardLayers gives asteroid\'s output with its blocks cut after each block, and its last is forward\'s exactly', () => {
  const c = FX.cases.find((k) => k.layers)!;
  const m = build(c);
  const x = fromFixture(FX.input);
  tf.tidy(() => {
    const outs = m.forwardLayers(x, { training: true });
    assert.equal(outs.length, c.args.numBlocks);
    outs.forEach((y, i) => assertClose(y, c.layers![i], { atol: 2e-5 * scaleOf(c.layers![i]), rtol: 0, label: `dprnn layer ${i}` }));
    assertClose(outs[outs.length - 1], m.forward(x, { training: true }), { atol: 0, rtol: 0, label: 'last layer = forward' });
    // The intermediate separations differ from the final one.
    assert.ok(tf.max(tf.abs(tf.sub(outs[0], outs[1]))).dataSync()[0] > 1e-3);
  });
  x.dispose();
  m.dispose();
});

test('Dprnn: gradients equal asteroid\'s (float64 autograd)', () => {
  const c = FX.cases.find((k) => k.grad)!;
  const g = c.grad!;
  const m = build(c);
  const x = fromFixture(FX.input);
  const r = fromFixture(g.r);
  const vars = m.parameters();
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(m.forward(x, { training: true }), r)) as tf.Scalar, vars);
  // The reference's gradients in slimspeech's names and layouts: load them as if they were weights.
  const asWeights = new Dprnn(c.args);
  const refGrads = new Map(Object.entries(g.grads).map(([k, v]) => [k, fromFixture(v)]));
  asWeights.loadReferenceStateDict(refGrads);
  const expected = new Map(asWeights.namedParameters());
  const named = m.namedParameters();
  assert.equal(named.length, Object.keys(g.grads).length);
  for (const [name, v] of named) {
    const e = expected.get(name)!;
    const scale = tf.max(tf.abs(e)).dataSync()[0];
    assert.ok(scale > 0, `${name}: the reference gradient is not zero`);
    assertClose(grads[v.name], e, { atol: 1e-4 * scale, rtol: 1e-4, label: `dprnn grad ${name}` });
  }
  tf.dispose([value, ...Object.values(grads), x, r, ...refGrads.values()]);
  m.dispose();
  asWeights.dispose();
});

test('Dprnn: chunkFrames and overlapAdd equal a naive loop over asteroid\'s chunk positions, and are adjoint', () => {
  for (const [frames, K, hop] of [[11, 4, 2], [7, 6, 3], [5, 4, 4], [9, 8, 2], [1, 2, 1]]) {
    tf.tidy(() => {
      const x = tf.randomNormal([2, frames, 3], 0, 1, 'float32', frames);
      const n = numChunks(frames, K, hop);
      const ch = chunkFrames(x, K, hop);
      assert.deepEqual(ch.shape, [2, n, K, 3]);
      const xs = x.arraySync() as number[][][];
      // Chunk c holds frames c * hop - K + k (zero outside the sequence).
      const naive = xs.map((row) => Array.from({ length: n }, (_, c) => Array.from({ length: K }, (_, k) => {
        const f = c * hop - K + k;
        return f >= 0 && f < frames ? row[f] : [0, 0, 0];
      })));
      assertClose(ch, tf.tensor(naive), { atol: 0, rtol: 0, label: `chunk ${frames}/${K}/${hop}` });
      const y = tf.randomNormal([2, n, K, 3], 0, 1, 'float32', 99);
      const ys = y.arraySync() as number[][][][];
      const sum = xs.map(() => Array.from({ length: frames }, () => [0, 0, 0]));
      ys.forEach((row, b) => row.forEach((chunk, c) => chunk.forEach((v, k) => {
        const f = c * hop - K + k;
        if (f >= 0 && f < frames) v.forEach((e, j) => { sum[b][f][j] += e; });
      })));
      const folded = overlapAdd(y, frames, hop);
      assertClose(folded, tf.tensor(sum), { atol: 1e-5, rtol: 0, label: `overlap-add ${frames}/${K}/${hop}` });
      const lhs = tf.sum(tf.mul(ch, y)).dataSync()[0], rhs = tf.sum(tf.mul(x, folded)).dataSync()[0];
      assert.ok(Math.abs(lhs - rhs) < 1e-4 * Math.max(1, Math.abs(lhs)), `adjoint: ${lhs} vs ${rhs}`);
    });
  }
  assert.throws(() => chunkFrames(tf.zeros([1, 5, 2]), 6, 4), /hopSize must be a positive integer dividing chunkSize, got chunkSize 6, hopSize 4/);
  assert.throws(() => overlapAdd(tf.zeros([1, 3, 4, 2]), 5, 2), /5 frames make 5 chunks of 4 every 2, got 3/);
});

test('Dprnn: \'separate\' layer heads add one mask head per block but the last, \'shared\' adds none; forward is unchanged', () => {
  const c = FX.cases[0];
  const shared = build(c);
  const separate = build(c, { layerHeads: 'separate' });
  const headParams = new DprnnMaskHead({ channels: c.args.bottleneck!, numSources: c.args.numSources!, encoderDim: c.args.encoderDim!,
    maskAct: c.args.maskAct as DprnnMaskAct }).numParams();
  const plain = FX.counts.find((k) => k.name === c.name)!.params;
  assert.equal(shared.numParams(), plain);
  assert.equal(separate.numParams(), plain + (c.args.numBlocks! - 1) * headParams);
  assert.equal(separate.loHeads?.length, c.args.numBlocks! - 1);
  assert.equal(shared.loHeads, undefined);
  assert.ok(separate.namedParameters().some(([n]) => n === 'loHeads.0.conv.weight'));
  const x = fromFixture(FX.input);
  tf.tidy(() => {
    assertClose(separate.forward(x, { training: false }), shared.forward(x, { training: false }), { atol: 0, rtol: 0, label: 'forward' });
    const a = separate.forwardLayers(x, { training: false }), b = shared.forwardLayers(x, { training: false });
    assertClose(a[a.length - 1], b[b.length - 1], { atol: 0, rtol: 0, label: 'final' });
    // The first block's separation goes through its own, differently initialised head.
    assert.ok(tf.max(tf.abs(tf.sub(a[0], b[0]))).dataSync()[0] > 1e-4);
  });
  const single = new Dprnn({ ...c.args, numBlocks: 1, layerHeads: 'separate' });
  assert.equal(single.loHeads, undefined);
  tf.dispose(x);
  [shared, separate, single].forEach((m) => m.dispose());
});

test('Dprnn: a loss on the layer-wise outputs reaches the intermediate heads; forward\'s loss does not', () => {
  manualSeed(3);
  const m = new Dprnn({ encoderDim: 8, bottleneck: 6, hidden: 4, chunkSize: 6, numBlocks: 3, layerHeads: 'separate' });
  const x = tf.randomNormal([2, 120], 0, 0.5, 'float32', 4);
  const ref = tf.randomNormal([2, 2, 120], 0, 0.5, 'float32', 5);
  const named = m.namedParameters();
  const vars = named.map(([, v]) => v);
  const norms = (f: () => tf.Scalar) => {
    const { value, grads } = tf.variableGrads(f, vars);
    const out = new Map(named.map(([n, v]) => [n, grads[v.name] ? tf.norm(grads[v.name]).dataSync()[0] : 0]));
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  };
  const lo = norms(() => tf.tidy(() => tf.addN(m.forwardLayers(x, { training: true }).map((y) => pit2(y, ref))) as tf.Scalar));
  for (const [n, g] of lo) assert.ok(g > 0, `${n} gets a gradient from the layer-wise losses`);
  // Block i's head only sees the loss of separation i: the first head's gradient is the same from that loss alone.
  const first = norms(() => tf.tidy(() => pit2(m.forwardLayers(x, { training: true })[0], ref)));
  assert.ok(Math.abs(first.get('loHeads.0.conv.weight')! - lo.get('loHeads.0.conv.weight')!) < 1e-4 * lo.get('loHeads.0.conv.weight')!);
  assert.equal(first.get('loHeads.1.conv.weight'), 0);
  assert.equal(first.get('block1.interLinear.weight'), 0);
  const fin = norms(() => pit2(m.forward(x, { training: true }), ref));
  for (const [n, g] of fin) assert.equal(g > 0, !n.startsWith('loHeads.'), n);
  tf.dispose([x, ref]);
  m.dispose();
});

test('Dprnn: taps hold each block\'s output [batch, nChunks, chunkSize, bottleneck] under block<i>', () => {
  manualSeed(4);
  const m = new Dprnn({ encoderDim: 8, kernelSize: 4, bottleneck: 6, hidden: 4, chunkSize: 10, numBlocks: 3 });
  const taps = new Map<string, tf.Tensor>();
  tf.tidy(() => { m.forward(tf.randomNormal([2, 401], 0, 0.1), { training: false, taps }); });
  const frames = Math.floor((401 - 4) / 2) + 1;
  for (let i = 0; i < 3; i++) assert.deepEqual(taps.get(`block${i}`)?.shape, [2, numChunks(frames, 10, 5), 10, 6], `block${i}`);
  assert.deepEqual(taps.get('encoder')?.shape, [2, frames, 8]);
  assert.ok(!taps.has('block3'));
  tf.dispose([...taps.values()]);
  m.dispose();
});

test('Dprnn: saveModel then loadModel gives the identical outputs, separate heads included', async () => {
  manualSeed(5);
  const m = new Dprnn({ encoderDim: 8, kernelSize: 4, bottleneck: 6, hidden: 4, chunkSize: 6, hopSize: 2, numBlocks: 2,
    bidirectional: false, maskAct: 'relu', encoderActivation: 'relu', layerHeads: 'separate' });
  const x = tf.randomNormal([1, 300], 0, 0.3, 'float32', 6);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dprnn-'));
  try {
    await saveModel(m, dir);
    const back = await loadModel(dir) as Dprnn;
    assert.ok(back instanceof Dprnn);
    assert.deepEqual(back.args, m.args);
    assert.equal(back.numParams(), m.numParams());
    tf.tidy(() => {
      const a = back.forwardLayers(x, { training: false }), b = m.forwardLayers(x, { training: false });
      a.forEach((y, i) => assertClose(y, b[i], { atol: 0, rtol: 0, label: `reloaded layer ${i}` }));
    });
    back.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  x.dispose();
  m.dispose();
});

test('Dprnn: forward, forwardLayers, training steps, chunking and loading reference weights leak no tensors', async () => {
  const c = FX.cases[0];
  const m = build(c, { layerHeads: 'separate' });
  const x = fromFixture(FX.input);
  const ref = tf.randomNormal([2, 2, 203]);
  await assertNoLeak(() => m.forward(x, { training: false }), 'Dprnn.forward');
  await assertNoLeak(() => m.forwardLayers(x, { training: true }), 'Dprnn.forwardLayers');
  await assertNoLeak(() => {
    const { value, grads } = tf.variableGrads(() => tf.addN(m.forwardLayers(x, { training: true }).map((y) => pit2(y, ref))) as tf.Scalar,
      m.parameters());
    tf.dispose([value, ...Object.values(grads)]);
  }, 'a layer-wise training step');
  await assertNoLeak(() => tf.tidy(() => overlapAdd(chunkFrames(tf.ones([1, 9, 2]), 4, 2), 9, 2)), 'chunkFrames + overlapAdd');
  const w = referenceWeights(c);
  await assertNoLeak(() => m.loadReferenceStateDict(w), 'loadReferenceStateDict');
  tf.dispose([...w.values(), x, ref]);
  m.dispose();
});

test('Dprnn: argument, input and state_dict errors name the problem', () => {
  assert.throws(() => new Dprnn({ kernelSize: 15 }), /kernelSize must be even \(stride kernelSize \/ 2\), got 15/);
  assert.throws(() => new Dprnn({ kernelSize: 0 }), /kernelSize must be an integer >= 2, got 0/);
  assert.throws(() => new Dprnn({ chunkSize: 10, hopSize: 4 }), /hopSize must divide chunkSize, got chunkSize 10, hopSize 4/);
  assert.throws(() => new Dprnn({ chunkSize: 9 }), /hopSize must divide chunkSize, got chunkSize 9, hopSize 4/);
  assert.throws(() => new Dprnn({ chunkSize: 1 }), /chunkSize must be an integer >= 2, got 1/);
  assert.throws(() => new Dprnn({ hopSize: 0 }), /hopSize must be an integer >= 1, got 0/);
  assert.throws(() => new Dprnn({ numBlocks: 0 }), /numBlocks must be an integer >= 1, got 0/);
  assert.throws(() => new Dprnn({ hidden: 2.5 }), /hidden must be an integer >= 1, got 2.5/);
  assert.throws(() => new Dprnn({ maskAct: 'softmax' as DprnnMaskAct }), /maskAct must be 'sigmoid' or 'relu', got 'softmax'/);
  assert.throws(() => new Dprnn({ encoderActivation: 'tanh' as 'relu' }), /encoderActivation must be 'linear' or 'relu', got 'tanh'/);
  assert.throws(() => new Dprnn({ layerHeads: 'own' as 'shared' }), /Dprnn: layerHeads must be 'shared' or 'separate', got 'own'/);
  const m = new Dprnn({ encoderDim: 8, bottleneck: 6, hidden: 4, chunkSize: 6, numBlocks: 1 });
  assert.throws(() => m.forward(tf.zeros([100]), { training: false }), /expected a mixture \[batch, time\], got \[100\]/);
  assert.throws(() => m.forwardLayers(tf.zeros([1, 15]), { training: false }), /the mixture has 15 samples, fewer than kernelSize 16/);
  assert.throws(() => m.blocks[0].forward(tf.zeros([1, 3, 6, 5]), { training: false }),
    /DprnnBlock 'block0': expected \[batch, nChunks, chunkSize, 6\], got \[1,3,6,5\]/);
  const bogus = new Map([['masker.net.0.intra_linear.bias', tf.zeros([6])], ['masker.net.7.intra_linear.bias', tf.zeros([6])],
    ['foo', tf.zeros([1])]]);
  assert.throws(() => m.loadReferenceStateDict(bogus), /unexpected masker\.net\.7\.intra_linear\.bias, foo; missing encoder\.weight, /);
  assert.throws(() => m.loadReferenceStateDict(new Map([['masker.net.0.intra_linear.bias', tf.zeros([5])]]), false),
    /'block0\.intraLinear\.bias' has shape \[5\], the module expects \[6\]/);
  tf.dispose([...bogus.values()]);
  m.dispose();
});

test('Dprnn: a few train.fit steps with layer-wise losses lower the PIT loss on a toy batch', async () => {
  manualSeed(7);
  const m = new Dprnn({ encoderDim: 16, kernelSize: 8, bottleneck: 8, hidden: 8, chunkSize: 8, numBlocks: 2, layerHeads: 'separate' });
  const L = 800;
  const t = tf.linspace(0, L - 1, L);
  const refs = tf.tidy(() => tf.stack([tf.sin(tf.mul(t, 2 * Math.PI * 440 / 8000)), tf.sign(tf.sin(tf.mul(t, 2 * Math.PI * 97 / 8000)))]).mul(0.3)
    .reshape([1, 2, L]).tile([2, 1, 1]));
  const mix = tf.sum(refs, 1);
  const losses: number[] = [];
  await fit({
    modules: m, epochs: 15, progress: 'none', optimizer: { kind: 'adam', lr: 5e-3 },
    batches: () => [{ mix, refs }], disposeBatches: false,
    step: (b: { mix: tf.Tensor; refs: tf.Tensor }, ctx) => tf.tidy(() => {
      const outs = m.forwardLayers(b.mix, ctx);
      return tf.add(pit2(outs[1], b.refs), tf.mul(pit2(outs[0], b.refs), 0.5)) as tf.Scalar;
    }),
    onStep: (rec) => { losses.push(rec.loss); },
  });
  assert.equal(losses.length, 15);
  assert.ok(losses.every(Number.isFinite));
  assert.ok(Math.min(...losses.slice(-3)) < losses[0] - 20, `loss ${losses.map((v) => v.toFixed(2)).join(' ')}`);
  tf.dispose([t, refs, mix]);
  m.dispose();
});
