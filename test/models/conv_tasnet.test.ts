// models.ConvTasNet's layer-wise outputs (forwardLayers, layerHeads): the default model keeps its size and its
// forward; each repeat's separation equals a model cut after that repeat; separate heads add parameters only
// when asked, receive gradients, save and reload; no leaks.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, setupBackend } from '../helpers';
import { ConvTasNet, ConvTasNetArgs, ConvTasNetMaskHead, LayerHeads } from '../../lib/models';
import { loadModel, manualSeed, saveModel } from '../../lib/nn';
import { siSnr } from '../../lib/metrics';

before(async () => {
  await setupBackend();
});

const SMALL: ConvTasNetArgs = { encoderDim: 8, kernelSize: 4, bottleneck: 6, hidden: 10, skip: 5, blocks: 2, repeats: 3 };

/** A model with the first `repeats` repeats of `m` and `m`'s encoder, decoder and the given mask head. */
function cut(m: ConvTasNet, repeats: number, head?: ConvTasNetMaskHead): ConvTasNet {
  const c = new ConvTasNet({ ...m.args, repeats, layerHeads: 'shared' });
  const own = new Map(m.namedParameters());
  const weights = new Map<string, tf.Tensor>();
  for (const [name] of c.namedParameters()) weights.set(name, own.get(name)!);
  if (head) {
    weights.set('maskAct.weight', head.act.weight);
    weights.set('maskConv.weight', head.conv.weight);
    weights.set('maskConv.bias', head.conv.bias!);
  }
  c.loadStateDict(weights);
  return c;
}

function negSiSnr(est: tf.Tensor, ref: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(siSnr(est, ref))) as tf.Scalar);
}

test('ConvTasNet: the default model keeps its parameter count and has no layer heads', () => {
  manualSeed(0);
  const m = new ConvTasNet();
  // bench/torch_bench.py's ConvTasNet() has the same count.
  assert.equal(m.numParams(), 221521);
  assert.equal(m.args.layerHeads, 'shared');
  assert.equal(m.loHeads, undefined);
  assert.equal(new ConvTasNet({ layerHeads: 'shared' }).numParams(), 221521);
  m.dispose();
});

test('ConvTasNet: forwardLayers gives one separation per repeat, each equal to the model cut after that repeat; the last is forward\'s', () => {
  manualSeed(1);
  for (const layerHeads of ['shared', 'separate'] as LayerHeads[]) {
    const m = new ConvTasNet({ ...SMALL, layerHeads });
    const x = tf.randomNormal([2, 203], 0, 0.5, 'float32', 2);
    tf.tidy(() => {
      const outs = m.forwardLayers(x, { training: true });
      assert.equal(outs.length, 3);
      outs.forEach((y) => assert.deepEqual(y.shape, [2, 2, 203]));
      assertClose(outs[2], m.forward(x, { training: true }), { atol: 0, rtol: 0, label: `${layerHeads}: last = forward` });
      for (let r = 0; r < 2; r++) {
        const head = m.loHeads?.items[r] as ConvTasNetMaskHead | undefined;
        assert.equal(head === undefined, layerHeads === 'shared');
        const c = cut(m, r + 1, head);
        assertClose(outs[r], c.forward(x, { training: true }), { atol: 1e-6, rtol: 1e-5, label: `${layerHeads}: repeat ${r}` });
        c.dispose();
      }
      assert.ok(tf.max(tf.abs(tf.sub(outs[0], outs[2]))).dataSync()[0] > 1e-3);
    });
    x.dispose();
    m.dispose();
  }
});

test('ConvTasNet: \'separate\' heads add a PReLU and a mask conv per repeat but the last; forward is unchanged', () => {
  manualSeed(3);
  const shared = new ConvTasNet(SMALL);
  const separate = new ConvTasNet({ ...SMALL, layerHeads: 'separate' });
  const S = 2, N = SMALL.encoderDim!, Sc = SMALL.skip!;
  assert.equal(separate.numParams() - shared.numParams(), 2 * (1 + Sc * S * N + S * N));
  assert.deepEqual(separate.namedParameters().map(([n]) => n).filter((n) => n.startsWith('loHeads.')),
    ['loHeads.0.act.weight', 'loHeads.0.conv.weight', 'loHeads.0.conv.bias', 'loHeads.1.act.weight', 'loHeads.1.conv.weight', 'loHeads.1.conv.bias']);
  separate.loadStateDict(new Map(shared.namedParameters()), false);
  const x = tf.randomNormal([1, 150], 0, 0.5, 'float32', 4);
  tf.tidy(() => assertClose(separate.forward(x, { training: false }), shared.forward(x, { training: false }), { atol: 0, rtol: 0, label: 'forward' }));
  assert.equal(new ConvTasNet({ ...SMALL, repeats: 1, layerHeads: 'separate' }).loHeads, undefined);
  assert.throws(() => new ConvTasNet({ layerHeads: 'each' as LayerHeads }), /ConvTasNet: layerHeads must be 'shared' or 'separate', got 'each'/);
  tf.dispose(x);
  shared.dispose();
  separate.dispose();
});

test('ConvTasNet: the layer-wise losses reach the separate heads, forward\'s loss does not; taps are still recorded', () => {
  manualSeed(5);
  const m = new ConvTasNet({ ...SMALL, layerHeads: 'separate' });
  const x = tf.randomNormal([2, 120], 0, 0.5, 'float32', 6);
  const ref = tf.randomNormal([2, 2, 120], 0, 0.5, 'float32', 7);
  const named = m.namedParameters();
  const norms = (f: () => tf.Scalar) => {
    const { value, grads } = tf.variableGrads(f, named.map(([, v]) => v));
    const out = new Map(named.map(([n, v]) => [n, grads[v.name] ? tf.norm(grads[v.name]).dataSync()[0] : 0]));
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  };
  const lo = norms(() => tf.tidy(() => tf.addN(m.forwardLayers(x, { training: true }).map((y) => negSiSnr(y, ref))) as tf.Scalar));
  // The last block's residual output feeds nothing (the masks come from the skip connections).
  const unused = (n: string) => n.startsWith('block2_1.resConv.');
  for (const [n, g] of lo) assert.equal(g > 0, !unused(n), `${n} gets a gradient`);
  const first = norms(() => tf.tidy(() => negSiSnr(m.forwardLayers(x, { training: true })[0], ref)));
  assert.ok(first.get('loHeads.0.conv.weight')! > 0);
  assert.equal(first.get('loHeads.1.conv.weight'), 0);
  assert.equal(first.get('block1_0.inConv.weight'), 0);
  const fin = norms(() => negSiSnr(m.forward(x, { training: true }), ref));
  for (const [n, g] of fin) assert.equal(g > 0, !n.startsWith('loHeads.') && !unused(n), n);
  const taps = new Map<string, tf.Tensor>();
  tf.tidy(() => { m.forwardLayers(x, { training: false, taps }); });
  for (const name of ['block0_0', 'block0_1', 'block1_0', 'block1_1', 'block2_0', 'block2_1']) assert.deepEqual(taps.get(name)?.shape, [2, 59, 6], name);
  tf.dispose([...taps.values(), x, ref]);
  m.dispose();
});

test('ConvTasNet: a model with separate heads saves and reloads with identical layer-wise outputs', async () => {
  manualSeed(8);
  const m = new ConvTasNet({ ...SMALL, layerHeads: 'separate' });
  const x = tf.randomNormal([1, 160], 0, 0.3, 'float32', 9);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conv-tasnet-'));
  try {
    await saveModel(m, dir);
    const back = await loadModel(dir) as ConvTasNet;
    assert.ok(back instanceof ConvTasNet);
    assert.deepEqual(back.args, m.args);
    tf.tidy(() => {
      const a = back.forwardLayers(x, { training: false }), b = m.forwardLayers(x, { training: false });
      a.forEach((y, i) => assertClose(y, b[i], { atol: 0, rtol: 0, label: `reloaded repeat ${i}` }));
    });
    back.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  x.dispose();
  m.dispose();
});

test('ConvTasNet: forwardLayers and a layer-wise training step leak no tensors', async () => {
  manualSeed(10);
  const m = new ConvTasNet({ ...SMALL, layerHeads: 'separate' });
  const x = tf.randomNormal([2, 100]);
  const ref = tf.randomNormal([2, 2, 100]);
  await assertNoLeak(() => m.forwardLayers(x, { training: true }), 'ConvTasNet.forwardLayers');
  await assertNoLeak(() => m.forward(x, { training: true }), 'ConvTasNet.forward');
  await assertNoLeak(() => {
    const { value, grads } = tf.variableGrads(() => tf.addN(m.forwardLayers(x, { training: true }).map((y) => negSiSnr(y, ref))) as tf.Scalar,
      m.parameters());
    tf.dispose([value, ...Object.values(grads)]);
  }, 'a layer-wise training step');
  tf.dispose([x, ref]);
  m.dispose();
});
