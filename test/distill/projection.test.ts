import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConvProjection, LinearProjection, ProjectionInit } from '../../lib/distill/projection';
import { loadModel, saveModel } from '../../lib/nn/serialize';
import { setupBackend, assertClose, assertNoLeak } from '../helpers';

before(async () => { await setupBackend(); });

const ctx = { training: true };

test('a projection initialised to the identity changes nothing (LinearProjection over the last axis, ConvProjection 1x1)', () => {
  const x3 = tf.randomNormal([2, 7, 6], 0, 1, 'float32', 1);
  const x4 = tf.randomNormal([2, 5, 3, 6], 0, 1, 'float32', 2);
  const lin = new LinearProjection({ inFeatures: 6, outFeatures: 6 });
  const conv = new ConvProjection({ inChannels: 6, outChannels: 6 });
  assertClose(lin.forward(x3, ctx), x3, { atol: 0, label: 'LinearProjection identity [b, t, c]' });
  assertClose(lin.forward(x4, ctx), x4, { atol: 0, label: 'LinearProjection identity [b, t, f, c]' });
  assertClose(conv.forward(x4, ctx), x4, { atol: 0, label: 'ConvProjection identity [b, t, f, c]' });
  assertClose(conv.forward(x3, ctx), x3, { atol: 0, label: 'ConvProjection identity [b, t, c]' });
  // DPHuBERT's _init_layer_transform: weight = eye, bias = 0.
  assertClose(lin.weight, tf.eye(6), { atol: 0, label: 'eye weight' });
  assertClose(lin.bias!, tf.zeros([6]), { atol: 0, label: 'zero bias' });
  tf.dispose([x3, x4]);
  lin.dispose();
  conv.dispose();
});

test("init: 'auto' is uniform across sizes, 'identity' is rectangular (copies the first min(in, out) features), 'uniform' as PyTorch", async () => {
  const x = tf.randomNormal([3, 4], 0, 1, 'float32', 3);
  const auto = new LinearProjection({ inFeatures: 4, outFeatures: 6 });
  const w = await auto.weight.data();
  assert.ok(w.some((v) => v !== 0 && v !== 1) && w.every((v) => Math.abs(v) <= 0.5), 'U(-1/sqrt(4), 1/sqrt(4))');
  const up = new LinearProjection({ inFeatures: 4, outFeatures: 6, init: 'identity' });
  assertClose(up.forward(x, ctx), tf.concat([x, tf.zeros([3, 2])], 1), { atol: 0, label: 'identity 4 -> 6' });
  const down = new ConvProjection({ inChannels: 4, outChannels: 3, init: 'identity', bias: false });
  assertClose(down.forward(tf.reshape(x, [3, 1, 1, 4]), ctx), tf.reshape(tf.slice(x, [0, 0], [3, 3]), [3, 1, 1, 3]),
    { atol: 0, label: 'identity 4 -> 3' });
  assert.equal(down.bias, undefined);
  const square = new ConvProjection({ inChannels: 4, outChannels: 4, init: 'uniform' });
  assert.ok((await square.weight.data()).some((v) => v !== 0 && v !== 1), "'uniform' is not the identity");
  // The config keeps `init`, so that a rebuilt module starts as the original did.
  assert.deepEqual(square.getConfig(), { inChannels: 4, outChannels: 4, bias: true, init: 'uniform' });
  assert.deepEqual(up.getConfig(), { inFeatures: 4, outFeatures: 6, bias: true, init: 'identity' });
  tf.dispose(x);
  [auto, up, down, square].forEach((m) => m.dispose());
});

test('ConvProjection is x W + b over channels: equals LinearProjection with the same weights on [b, t, f, c]', () => {
  const conv = new ConvProjection({ inChannels: 5, outChannels: 3 });
  const lin = new LinearProjection({ inFeatures: 5, outFeatures: 3 });
  lin.loadStateDict({ weight: tf.reshape(conv.weight, [5, 3]), bias: conv.bias! });
  const x = tf.randomNormal([2, 4, 3, 5], 0, 1, 'float32', 4);
  const y = conv.forward(x, ctx);
  assert.deepEqual(y.shape, [2, 4, 3, 3]);
  assertClose(y, lin.forward(x, ctx), { atol: 1e-5, label: '1x1 conv = linear' });
  const counter = { total: 0 };
  conv.forward(x, { training: false, macs: counter });
  assert.equal(counter.total, 2 * 4 * 3 * 3 * 5);
  tf.dispose([x, y]);
  conv.dispose();
  lin.dispose();
});

test('projections save and load: same type, config and outputs after saveModel / loadModel', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-proj-'));
  const x = tf.randomNormal([2, 3, 2, 4], 0, 1, 'float32', 5);
  try {
    for (const [name, m] of [['linear', new LinearProjection({ inFeatures: 4, outFeatures: 7 })],
      ['conv', new ConvProjection({ inChannels: 4, outChannels: 4, bias: false })]] as const) {
      // Trained away from the initialisation, so that the round trip is not just re-initialising.
      tf.tidy(() => m.weight.assign(tf.add(m.weight, 0.25)));
      await saveModel(m, path.join(dir, name));
      const back = await loadModel(path.join(dir, name));
      assert.equal(back.typeName(), m.typeName());
      assert.deepEqual(back.getConfig(), m.getConfig());
      assertClose(back.forward(x, ctx), m.forward(x, ctx), { atol: 0, label: `${name} round trip` });
      back.dispose();
      m.dispose();
    }
  } finally {
    x.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('projections reject bad sizes, inits and inputs, naming the input shape', () => {
  assert.throws(() => new LinearProjection({ inFeatures: 0, outFeatures: 3 }), /sizes must be integers >= 1; got 0 -> 3/);
  assert.throws(() => new ConvProjection({ inChannels: 2, outChannels: 3, init: 'eye' as ProjectionInit }), /init must be/);
  const conv = new ConvProjection({ inChannels: 2, outChannels: 3 });
  const x = tf.zeros([2, 5]);
  const y = tf.zeros([2, 5, 4]);
  assert.throws(() => conv.forward(x, ctx), /got \[2,5\]/);
  assert.throws(() => conv.forward(y, ctx), /got \[2,5,4\]/);
  tf.dispose([x, y]);
  conv.dispose();
});

test('projection forward passes and their gradients leak no tensors', async () => {
  const conv = new ConvProjection({ inChannels: 3, outChannels: 2 });
  const lin = new LinearProjection({ inFeatures: 3, outFeatures: 3 });
  const x = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 6);
  await assertNoLeak(() => conv.forward(x, ctx), 'ConvProjection');
  await assertNoLeak(() => lin.forward(x, ctx), 'LinearProjection');
  await assertNoLeak(() => tf.variableGrads(() => tf.sum(conv.forward(x, ctx)) as tf.Scalar, conv.parameters()), 'ConvProjection grads');
  x.dispose();
  conv.dispose();
  lin.dispose();
});
