// nn.InferenceRunner: the replayed kernel plan of a module's eval-mode pass gives forward's outputs bit for bit (without
// folding; within 1e-5 with convolution epilogues folded), follows parameter changes, holds no tensors after dispose,
// and falls back to forward where a plan would not be faithful.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';
import { BatchNorm, Conv2d, Ctx, InferenceRunner, manualSeed, Module, PReLU, Sequential } from '../../lib/nn';
import { ConvTasNet, Crn, Dccrn, DCCRN_PRESETS, EcapaTdnn, slimDsCnn, slimKwt, Wav2Vec2Model } from '../../lib/models';

before(async () => {
  await setupBackend();
});

function bits(t: tf.Tensor): number[] {
  return Array.from(new Uint32Array(new Float32Array(t.dataSync()).buffer));
}

function assertSame(a: tf.Tensor, b: tf.Tensor, label: string): void {
  assert.deepEqual(a.shape, b.shape, `${label}: shape`);
  assert.deepEqual(bits(a), bits(b), `${label}: the plan's output differs from forward's`);
}

const dataIds = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();

const MODELS: [string, () => Module, number[], Partial<Ctx>?][] = [
  ['KWS DS-CNN', () => slimDsCnn({ widths: [1] }), [1, 98, 40]],
  ['KWS DS-CNN at width 0.5', () => slimDsCnn({ widths: [0.5, 1] }), [1, 98, 40], { width: 0.5 }],
  ['KWS transformer', () => slimKwt({ widths: [1] }), [1, 98, 40]],
  ['CRN', () => new Crn(), [1, 4000]],
  ['Conv-TasNet', () => new ConvTasNet(), [1, 4000]],
  ['DCCRN student', () => new Dccrn(DCCRN_PRESETS.student), [1, 4000]],
  ['ECAPA-TDNN', () => new EcapaTdnn({ inputDim: 64, channels: 64 }), [1, 30, 64]],
  ['wav2vec2/HuBERT', () => new Wav2Vec2Model({ extractorConvLayerConfig: [[16, 10, 5], [16, 3, 2]], encoderEmbedDim: 32,
    encoderNumLayers: 2, encoderNumHeads: 2, encoderFfIntermFeatures: 64 }), [1, 1600]],
];

for (const [name, make, shape, ctx] of MODELS) {
  test(`${name}: the replayed plan equals forward bit for bit, and leaves nothing behind`, () => {
    manualSeed(1);
    const model = make();
    const tensors0 = tf.memory().numTensors, ids0 = dataIds();
    const x = tf.randomNormal(shape), x2 = tf.randomNormal(shape);
    const runner = new InferenceRunner(model, ctx, { fold: false });
    for (const [label, input] of [['traced call', x], ['replayed call', x], ['another input', x2]] as const) {
      const got = runner.run(input);
      const want = model.forward(input, { ...ctx, training: false });
      assertSame(got, want, `${name}, ${label}`);
      tf.dispose([got, want]);
    }
    assert.equal(runner.fallbackReason, undefined, `${name} replays a plan`);
    assert.equal(runner.traces, 1, 'one trace for one input shape');
    runner.dispose();
    model.clearEvalCache();
    tf.dispose([x, x2]);
    assert.equal(tf.memory().numTensors, tensors0, `${name}: tensors left`);
    assert.equal(dataIds(), ids0, `${name}: backend buffers left (plan intermediates or held constants)`);
    model.dispose();
  });
}

/**
 * Moves every batch norm's statistics and affine transform, and every PReLU's slopes, away from their initial values
 * (which fold to nearly nothing, or are all alike).
 */
function perturbNorms(model: Module): void {
  for (const [, m] of model.namedModules()) {
    if (m instanceof PReLU) m.weight.assign(tf.randomUniform(m.weight.shape, 0.05, 0.6));
    if (!(m instanceof BatchNorm)) continue;
    m.runningVar?.assign(tf.randomUniform(m.runningVar.shape, 0.2, 3));
    m.runningMean?.assign(tf.randomNormal(m.runningMean.shape, 0, 0.5));
    m.weight?.assign(tf.randomUniform(m.weight.shape, 0.5, 2));
    m.bias?.assign(tf.randomNormal(m.bias.shape, 0, 0.3));
  }
}

function maxExcess(got: tf.Tensor, want: tf.Tensor): number {
  const g = got.dataSync(), w = want.dataSync();
  let worst = 0;
  w.forEach((v, i) => (worst = Math.max(worst, Math.abs(g[i] - v) / (1e-5 + 1e-5 * Math.abs(v)))));
  return worst;
}

// Models with convolutions followed by batch norm and ReLU (DS-CNN) or PReLU (CRN), by their own bias and a PReLU
// (Conv-TasNet) or ReLU (ECAPA-TDNN), and how many such convolutions each has at these sizes.
const FOLDED: [string, () => Module, number[], number][] = [
  ['KWS DS-CNN', () => slimDsCnn({ widths: [1] }), [1, 98, 40], 9],
  ['CRN', () => new Crn(), [1, 4000], 3],
  ['Conv-TasNet', () => new ConvTasNet(), [1, 4000], 35],
  ['ECAPA-TDNN', () => new EcapaTdnn({ inputDim: 64, channels: 64 }), [1, 30, 64], 36],
  ['a convolution, batch norm and a PReLU of one slope per channel', () => new Sequential([
    new Conv2d({ inChannels: 3, outChannels: 12, kernelSize: 3, padding: 1 }), new BatchNorm({ numFeatures: 12 }),
    new PReLU({ numParameters: 12 })]), [1, 9, 11, 3], 1],
];

for (const [name, make, shape, convs] of FOLDED) {
  test(`${name}: folding convolution epilogues keeps the outputs within 1e-5 of forward's, and leaves nothing behind`, () => {
    manualSeed(5);
    const model = make();
    perturbNorms(model);
    const tensors0 = tf.memory().numTensors, ids0 = dataIds();
    const x = tf.randomNormal(shape);
    const runner = new InferenceRunner(model);
    tf.dispose(runner.run(x)); // the trace returns forward's own output
    assert.equal(runner.lastTrace.folded, convs, `${name}: convolutions folded`);
    assert.equal(runner.foldRejected, undefined);
    const got = runner.run(x), want = model.forward(x, { training: false });
    assert.deepEqual(got.shape, want.shape);
    const excess = maxExcess(got, want);
    assert.ok(excess <= 1, `${name}: folded output off by ${excess.toFixed(2)} x the tolerance`);
    tf.dispose([got, want, x]);
    runner.dispose();
    model.clearEvalCache();
    assert.equal(tf.memory().numTensors, tensors0, `${name}: tensors left`);
    assert.equal(dataIds(), ids0, `${name}: backend buffers left (folded weights, original weights)`);
    model.dispose();
  });
}

test('kernels that read only weights run once, at the trace: fewer steps, the same bits', () => {
  manualSeed(6);
  const model = new Dccrn(DCCRN_PRESETS.student);
  const runner = new InferenceRunner(model, {}, { fold: false });
  const x = tf.randomNormal([1, 4000]);
  tf.dispose(runner.run(x));
  // The complex convolutions assemble [[Wr, -Wi], [Wi, Wr]] from their weights on every forward.
  assert.ok(runner.lastTrace.constantKernels >= 20, `constant kernels: ${runner.lastTrace.constantKernels}`);
  const got = runner.run(x), want = model.forward(x, { training: false });
  assertSame(got, want, 'with constant kernels precomputed');
  tf.dispose([x, got, want]);
  runner.dispose();
  model.dispose();
});

test('a fold that would move the output by more than 1e-5 is rejected and the exact plan kept', () => {
  manualSeed(7);
  // A large running mean: conv(x) - mean cancels, so the folded bias (-mean * scale) rounds differently from the
  // unfolded subtraction by far more than 1e-5 of the small result.
  const model = new Sequential([new Conv2d({ inChannels: 4, outChannels: 8, kernelSize: 3, bias: false }),
    new BatchNorm({ numFeatures: 8 })]);
  const bn = model.layers[1] as BatchNorm;
  const conv = model.layers[0] as Conv2d;
  conv.weight.assign(tf.add(tf.mul(conv.weight, 1e-3), 300));
  const x = tf.randomUniform([1, 6, 6, 4], 1, 1.001);
  const y0 = model.forward(x, { training: false });
  bn.runningMean!.assign(tf.add(tf.mean(y0, [0, 1, 2]), tf.randomNormal([8], 0, 1e-2)));
  bn.runningVar!.assign(tf.fill([8], 1e-4));
  const runner = new InferenceRunner(model);
  tf.dispose(runner.run(x));
  assert.match(runner.foldRejected ?? '', /folded output/);
  assert.equal(runner.lastTrace.folded, 0);
  const got = runner.run(x), want = model.forward(x, { training: false });
  assertSame(got, want, 'the exact plan');
  tf.dispose([x, y0, got, want]);
  runner.dispose();
  model.dispose();
});

test('a parameter change (an optimizer step assigns new data) retraces; a new input shape gets its own plan', () => {
  manualSeed(2);
  const model = new ConvTasNet();
  const runner = new InferenceRunner(model, {}, { fold: false });
  const x = tf.randomNormal([1, 4000]);
  const before = runner.run(x);
  for (const v of model.parameters()) v.assign(tf.add(v, tf.mul(tf.randomNormal(v.shape), 0.05)));
  const after = runner.run(x), want = model.forward(x, { training: false });
  assertSame(after, want, 'after the update');
  assert.notDeepEqual(bits(after), bits(before), 'the update shows in the output');
  assert.equal(runner.traces, 2);
  const y = tf.randomNormal([1, 3000]);
  const short = runner.run(y), wantShort = model.forward(y, { training: false });
  assertSame(short, wantShort, 'a shorter input');
  assert.equal(runner.traces, 3);
  tf.dispose([x, y, before, after, want, short, wantShort]);
  runner.dispose();
  model.dispose();
});

test('a change of batch-norm running statistics alone (recalibration) retraces, though the pass reads them cached', () => {
  manualSeed(4);
  const model = slimDsCnn({ widths: [1] });
  const runner = new InferenceRunner(model, {}, { fold: false });
  const x = tf.randomNormal([1, 98, 40]);
  tf.dispose(runner.run(x));
  const [, rv] = model.namedBuffers().find(([n]) => n.endsWith('runningVar'))!;
  rv.assign(tf.mul(rv, 4));
  const got = runner.run(x), want = model.forward(x, { training: false });
  assertSame(got, want, 'after the running variance changed');
  assert.equal(runner.traces, 2);
  tf.dispose([x, got, want]);
  runner.dispose();
  model.dispose();
});

class HostRead extends Module {
  readonly w = this.addParameter('w', tf.ones([4]), [4]);
  getConfig(): Record<string, unknown> {
    return {};
  }

  forward(x: tf.Tensor): tf.Tensor {
    // Control flow from the data: a plan would freeze the branch.
    return tf.tidy(() => (tf.sum(x).dataSync()[0] > 0 ? tf.mul(x, this.w) : tf.sub(x, this.w)));
  }
}

class Noisy extends Module {
  getConfig(): Record<string, unknown> {
    return {};
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.add(x, tf.randomNormal(x.shape)));
  }
}

test('forwards a plan cannot replay faithfully run as forward, with the reason', () => {
  const x = tf.tensor2d([[1, 2, 3, 4]]), neg = tf.neg(x);
  const host = new HostRead();
  const r1 = new InferenceRunner(host);
  const a = r1.run(x), b = r1.run(neg);
  assert.match(r1.fallbackReason ?? '', /reads tensor data/);
  assert.deepEqual(Array.from(b.dataSync()), [-2, -3, -4, -5], 'the other branch, as forward takes it');
  const r2 = new InferenceRunner(new Noisy());
  const c = r2.run(x);
  assert.match(r2.fallbackReason ?? '', /differ/);
  tf.dispose([x, neg, a, b, c]);
  r1.dispose();
  r2.dispose();
  host.dispose();
});

test('under a gradient tape the runner calls forward, so gradients flow', () => {
  manualSeed(3);
  const model = slimDsCnn({ widths: [1] });
  const runner = new InferenceRunner(model);
  const x = tf.randomNormal([1, 98, 40]);
  tf.dispose(runner.run(x)); // a plan exists
  const g = tf.grad((t: tf.Tensor) => tf.sum(runner.run(t)))(x);
  const want = tf.grad((t: tf.Tensor) => tf.sum(model.forward(t, { training: false })))(x);
  assertSame(g, want, 'input gradient');
  tf.dispose([x, g, want]);
  runner.dispose();
  model.dispose();
});
