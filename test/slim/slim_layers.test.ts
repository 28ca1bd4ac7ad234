// Slimmable layers: at a non-trivial width, outputs and gradients equal PyTorch on the weights sliced by the
// reference rule (test/reference/slim_layers.py); at width 1 they equal the plain nn layers on the same
// weights; shape errors name the received shape; no leaks.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, fixture, fromFixture, assertClose, assertNoLeak, FixtureTensor } from '../helpers';
import {
  BatchNorm, buildModule, Conv1d, Conv2d, Ctx, LayerNorm, Linear, manualSeed, Module, MultiHeadAttention,
  TransformerEncoderLayer,
} from '../../lib/nn';
import {
  SlimConv1d, SlimConv2d, SlimLayerNorm, SlimLinear, SlimMultiHeadAttention, SlimTransformerEncoderLayer,
  SwitchableBatchNorm,
} from '../../lib/slim';

interface Case {
  name: string; type: string; config: Record<string, unknown>; width: number; train: boolean;
  state: Record<string, FixtureTensor>; x: FixtureTensor; y: FixtureTensor; r: FixtureTensor; dx: FixtureTensor;
  dparams: Record<string, FixtureTensor>; buffersAfter?: Record<string, FixtureTensor>; yEval?: FixtureTensor;
}
const { cases } = fixture<{ cases: Case[] }>('slim_layers');

before(async () => {
  await setupBackend();
});

for (const c of cases) {
  test(`${c.name}: output and gradients equal PyTorch on the sliced weights`, () => {
    const m = buildModule({ type: c.type, config: c.config });
    const state = new Map(Object.entries(c.state).map(([k, v]) => [k, fromFixture(v)]));
    m.loadStateDict(state);
    tf.dispose([...state.values()]);
    const ctx: Ctx = { training: c.train, width: c.width };
    const x = fromFixture(c.x);
    const r = fromFixture(c.r);
    const params = m.namedParameters();
    assert.deepEqual(params.map(([n]) => n).sort(), Object.keys(c.dparams).sort(), `${c.name}: parameter names`);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(m.forward(x, ctx), r)), params.map(([, v]) => v));
    value.dispose();
    if (c.buffersAfter) {
      const buffers = new Map(m.namedBuffers());
      for (const [k, v] of Object.entries(c.buffersAfter)) assertClose(buffers.get(k)!, v, { atol: 1e-5, label: `${c.name} ${k}` });
    }
    // Parameters outside the active slice get exactly zero gradient (tfjs omits a variable the loss does not reach).
    for (const [name, v] of params) {
      const g = grads[v.name] ?? tf.zerosLike(v);
      assertClose(g, c.dparams[name], { atol: 2e-4, rtol: 2e-4, label: `${c.name} d${name}` });
      if (!grads[v.name]) g.dispose();
    }
    tf.dispose(Object.values(grads));
    if (c.yEval) {
      assertClose(m.forward(x, { training: false, width: c.width }), c.yEval, { atol: 1e-4, rtol: 1e-4, label: `${c.name} eval` });
    }
    const bufferCopies = m.namedBuffers().map(([k, v]) => [k, v.clone()] as const);
    assertClose(m.forward(x, ctx), c.y, { atol: 1e-4, rtol: 1e-4, label: `${c.name} y` });
    const dx = tf.grad((inp: tf.Tensor) => tf.sum(tf.mul(m.forward(inp, ctx), r)))(x);
    assertClose(dx, c.dx, { atol: 2e-4, rtol: 2e-4, label: `${c.name} dx` });
    tf.dispose([dx, x, r, ...bufferCopies.map(([, v]) => v)]);
    m.dispose();
  });
}

/** Copies every parameter and buffer of `from` into `to` (same names and shapes). */
function copyState(from: Module, to: Module): void {
  to.loadStateDict(from.stateDict());
}

function assertSameOutput(slim: Module, plain: Module, x: tf.Tensor, training: boolean, label: string): void {
  tf.tidy(() => {
    assertClose(slim.forward(x, { training }), plain.forward(x, { training }), { atol: 1e-6, rtol: 1e-6, label: `${label} (no width)` });
    assertClose(slim.forward(x, { training, width: 1 }), plain.forward(x, { training }), { atol: 1e-6, rtol: 1e-6, label: `${label} (width 1)` });
  });
}

test('at full width every slimmable layer equals its plain nn layer with the same weights', () => {
  manualSeed(11);
  const pairs: [string, Module, Module, number[], boolean][] = [
    ['Linear', new SlimLinear({ inFeatures: 6, outFeatures: 5 }), new Linear({ inFeatures: 6, outFeatures: 5 }), [3, 4, 6], true],
    ['Conv1d', new SlimConv1d({ inChannels: 4, outChannels: 6, kernelSize: 3, padding: 1 }),
      new Conv1d({ inChannels: 4, outChannels: 6, kernelSize: 3, padding: 1 }), [2, 7, 4], true],
    ['Conv2d', new SlimConv2d({ inChannels: 3, outChannels: 5, kernelSize: [3, 2], stride: 2, padding: 'same' }),
      new Conv2d({ inChannels: 3, outChannels: 5, kernelSize: [3, 2], stride: 2, padding: 'same' }), [2, 6, 5, 3], true],
    ['depthwise Conv2d', new SlimConv2d({ inChannels: 4, outChannels: 8, kernelSize: 3, padding: 1, groups: 4 }),
      new Conv2d({ inChannels: 4, outChannels: 8, kernelSize: 3, padding: 1, groups: 4 }), [2, 5, 5, 4], true],
    ['LayerNorm', new SlimLayerNorm({ normalizedShape: 6 }), new LayerNorm({ normalizedShape: 6 }), [2, 3, 6], true],
    ['MultiHeadAttention', new SlimMultiHeadAttention({ embedDim: 8, numHeads: 2 }), new MultiHeadAttention({ embedDim: 8, numHeads: 2 }),
      [2, 4, 8], true],
    ['TransformerEncoderLayer', new SlimTransformerEncoderLayer({ dModel: 8, nHead: 2, dimFeedforward: 12, dropout: 0, normFirst: true }),
      new TransformerEncoderLayer({ dModel: 8, nHead: 2, dimFeedforward: 12, dropout: 0, normFirst: true }), [2, 4, 8], true],
  ];
  for (const [label, slim, plain, shape, training] of pairs) {
    copyState(plain, slim);
    const x = tf.randomNormal(shape, 0, 1, 'float32', 3);
    assertSameOutput(slim, plain, x, training, label);
    assertSameOutput(slim, plain, x, false, `${label} eval`);
    x.dispose();
    slim.dispose();
    plain.dispose();
  }
});

test('a switchable batch norm at full width equals nn.BatchNorm holding the full-width set', () => {
  const sbn = new SwitchableBatchNorm({ numFeatures: 6, widths: [0.5, 1] });
  const bn = new BatchNorm({ numFeatures: 6 });
  tf.tidy(() => {
    sbn.set(1).weight!.assign(tf.randomUniform([6], 0.5, 1.5, 'float32', 1));
    sbn.set(1).bias!.assign(tf.randomNormal([6], 0, 1, 'float32', 2));
    sbn.set(1).runningMean!.assign(tf.randomNormal([6], 0, 1, 'float32', 3));
    sbn.set(1).runningVar!.assign(tf.randomUniform([6], 0.5, 2, 'float32', 4));
  });
  bn.loadStateDict(new Map([...sbn.set(1).stateDict()]));
  const x = tf.randomNormal([4, 3, 6], 0, 1, 'float32', 5);
  tf.tidy(() => {
    assertClose(sbn.forward(x, { training: false }), bn.forward(x, { training: false }), { atol: 1e-6, label: 'eval' });
    assertClose(sbn.forward(x, { training: true }), bn.forward(x, { training: true }), { atol: 1e-5, label: 'train' });
    assertClose(sbn.set(1).runningMean!, bn.runningMean!, { atol: 1e-6, label: 'running mean updated alike' });
  });
  x.dispose();
  sbn.dispose();
  bn.dispose();
});

test('channel counts follow max(1, round(w * c)); sides can be kept fixed; heads keep their width', () => {
  const lin = new SlimLinear({ inFeatures: 10, outFeatures: 12 });
  assert.deepEqual([lin.activeIn(0.6), lin.activeOut(0.6)], [6, 7]);
  assert.deepEqual([lin.activeIn(0.01), lin.activeOut(0.01)], [1, 1]);
  const head = new SlimLinear({ inFeatures: 10, outFeatures: 3, slimOut: false });
  assert.equal(head.activeOut(0.25), 3);
  const stem = new SlimConv2d({ inChannels: 1, outChannels: 8, kernelSize: 3, slimIn: false });
  assert.deepEqual(stem.active(0.5), [1, 4]);
  const dw = new SlimConv1d({ inChannels: 8, outChannels: 16, kernelSize: 3, groups: 8 });
  assert.deepEqual(dw.active(0.25), [2, 4], 'depthwise keeps the channel multiplier');
  const mha = new SlimMultiHeadAttention({ embedDim: 16, numHeads: 4 });
  assert.deepEqual([mha.activeEmbed(0.5), mha.activeHeads(0.5), mha.headDim], [8, 2, 4]);
  assert.deepEqual(mha.qProj.activeOut(0.5), 8, 'projections keep whole heads');
  for (const m of [lin, head, stem, dw, mha]) m.dispose();
});

test('shape and width errors name what was received', () => {
  const lin = new SlimLinear({ inFeatures: 10, outFeatures: 12 });
  assert.throws(() => lin.forward(tf.zeros([2, 10]), { training: false, width: 0.5 }), /width 0.5 expected last axis 5 .*got input shape \[2,10\]/);
  assert.throws(() => lin.forward(tf.zeros([2, 10]), { training: false, width: 1.5 }), /width must be in \(0, 1\], got 1.5/);
  assert.throws(() => lin.forward(tf.zeros([2, 10]), { training: false, width: 0 }), /width must be in \(0, 1\], got 0/);
  const conv = new SlimConv2d({ inChannels: 4, outChannels: 4, kernelSize: 1 });
  assert.throws(() => conv.forward(tf.zeros([1, 3, 3, 4]), { training: false, width: 0.5 }), /expected \[batch, height, width, 2\], got \[1,3,3,4\]/);
  assert.throws(() => new SlimConv2d({ inChannels: 4, outChannels: 4, kernelSize: 1, groups: 2 }), /only dense .* and depthwise/);
  const sbn = new SwitchableBatchNorm({ numFeatures: 8, widths: [0.5] });
  assert.throws(() => sbn.forward(tf.zeros([2, 8]), { training: false, width: 1 }), /above the largest switchable width 0.5/);
  assert.throws(() => sbn.forward(tf.zeros([2, 3]), { training: false, width: 0.5 }), /expected last axis 4 \(of 8\), got \[2,3\]/);
  const mha = new SlimMultiHeadAttention({ embedDim: 8, numHeads: 2 });
  assert.throws(() => mha.forward(tf.zeros([2, 3, 8]), { training: false, width: 0.5 }), /expected \[batch, time, 4\], got \[2,3,8\]/);
  for (const m of [lin, conv, sbn, mha]) m.dispose();
});

test('slimmable layers leak no tensors in forward, gradients and extraction', async () => {
  const layers: [Module, number[]][] = [
    [new SlimLinear({ inFeatures: 6, outFeatures: 4 }), [2, 3]],
    [new SlimConv1d({ inChannels: 6, outChannels: 4, kernelSize: 3 }), [2, 5, 3]],
    [new SlimConv2d({ inChannels: 6, outChannels: 6, kernelSize: 3, groups: 6, padding: 1 }), [2, 4, 4, 3]],
    [new SwitchableBatchNorm({ numFeatures: 6, widths: [0.5, 1] }), [4, 3]],
    [new SlimLayerNorm({ normalizedShape: 6 }), [2, 3]],
    [new SlimMultiHeadAttention({ embedDim: 8, numHeads: 4 }), [2, 3, 4]],
    [new SlimTransformerEncoderLayer({ dModel: 8, nHead: 4, dimFeedforward: 8 }), [2, 3, 4]],
  ];
  for (const [m, shape] of layers) {
    const x = tf.randomNormal(shape);
    await assertNoLeak(() => m.forward(x, { training: false, width: 0.5 }), `${m.typeName()} eval`);
    await assertNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(m.forward(x, { training: true, width: 0.5 })) as tf.Scalar, m.parameters());
      return [value, ...Object.values(grads)];
    }, `${m.typeName()} gradients`);
    await assertNoLeak(() => {
      const sub = (m as unknown as { extract(w: number): Module }).extract(0.5);
      sub.dispose();
    }, `${m.typeName()} extract`);
    x.dispose();
    m.dispose();
  }
});
