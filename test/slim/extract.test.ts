// Subnet extraction: for both KWS supernets, at every width (listed and off-list), the extracted model's
// evaluation outputs equal the supernet's at that width, it is smaller, saveModel/loadModel reload it at its
// smaller size with equal outputs, and the supernet is left unchanged. Generic over Sequential trees.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertClose, assertNoLeak } from '../helpers';
import { Activation, Ctx, loadModel, manualSeed, Module, registerModule, saveModel, Sequential } from '../../lib/nn';
import { countMacs } from '../../lib/metrics/size';
import {
  extractSubnet, SlimConv2d, SlimLinear, SwitchableBatchNorm,
} from '../../lib/slim';
import { SlimDsCnn, slimDsCnn, SlimKwt, slimKwt } from '../../lib/models';

before(async () => {
  await setupBackend();
});

/**
 * Gives a fresh supernet a trained-looking state: running statistics from training-mode passes at every
 * listed width, and per-width affine parameters away from 1 and 0, so that a wrong set or slice shows.
 */
function exercise(model: Module, input: number[]): void {
  tf.tidy(() => {
    for (const [i, [name, v]] of model.namedParameters().entries()) {
      if (/\.bn\.\d+\.(weight|bias)$/.test(name)) v.assign(tf.add(v, tf.randomUniform(v.shape, -0.3, 0.3, 'float32', i)));
    }
    for (const w of [0.25, 0.5, 0.75, 1]) {
      for (let k = 0; k < 3; k++) model.forward(tf.randomNormal(input, w, 1 + k, 'float32', 10 * k + w * 4), { training: true, width: w });
    }
  });
}

const snapshot = (m: Module) => new Map([...m.stateDict()].map(([k, v]) => [k, v.clone()]));

for (const [label, make] of [
  ['DS-CNN', () => slimDsCnn()],
  ['KWT', () => slimKwt()],
] as [string, () => SlimDsCnn | SlimKwt][]) {
  test(`${label}: each extracted subnet equals the supernet at its width, is smaller, and reloads at its size`, async () => {
    manualSeed(31);
    const model = make();
    exercise(model, [4, 98, 40]);
    const before0 = snapshot(model);
    const x = tf.randomNormal([3, 98, 40], 0, 1, 'float32', 5);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-slim-'));
    let prevParams = 0;
    for (const w of [0.25, 0.5, 0.6, 0.75, 1]) {
      const sub = extractSubnet(model, w) as SlimDsCnn | SlimKwt;
      assert.equal(sub.typeName(), model.typeName());
      assert.deepEqual(sub.args.widths, [1]);
      const expected = model.forward(x, { training: false, width: w });
      const got = sub.forward(x, { training: false });
      assertClose(got, expected, { atol: 1e-5, rtol: 1e-5, label: `${label} width ${w}` });
      assert.ok(sub.numParams() > prevParams, `${label}: parameters grow with width`);
      if (w < 1) assert.ok(sub.numParams() < model.numParams(), `${label} width ${w}: ${sub.numParams()} < ${model.numParams()}`);
      prevParams = sub.numParams();
      assert.equal(countMacs(sub, [1, 98, 40]), countMacs(model, [1, 98, 40], { training: false, width: w }), 'same MACs');
      const at = path.join(dir, `w${w}`);
      const art = await saveModel(sub, at);
      assert.equal(art.numParams, sub.numParams());
      const loaded = await loadModel(at);
      assert.equal(loaded.typeName(), model.typeName());
      assert.equal(loaded.numParams(), sub.numParams(), 'reloads at its smaller size');
      assert.deepEqual(loaded.getConfig(), sub.getConfig());
      assertClose(loaded.forward(x, { training: false }), expected, { atol: 1e-5, rtol: 1e-5, label: `${label} reloaded width ${w}` });
      tf.dispose([expected, got]);
      loaded.dispose();
      sub.dispose();
    }
    const after = model.stateDict();
    for (const [k, v] of before0) assertClose(after.get(k)!, v, { atol: 0, rtol: 0, label: `${label} ${k} unchanged` });
    tf.dispose([x, ...before0.values()]);
    fs.rmSync(dir, { recursive: true, force: true });
    model.dispose();
  });
}

test('extracted sizes are the active sizes: DS-CNN channels, KWT model width, heads and feed-forward units', () => {
  const cnn = slimDsCnn({ channels: [64, 48, 64] });
  const c = cnn.extract(0.5);
  assert.deepEqual(c.args.channels, [32, 24, 32]);
  const conv = c.features.layers[3] as SlimConv2d;
  assert.deepEqual([conv.inChannels, conv.outChannels, conv.groups], [32, 32, 32], 'depthwise stays depthwise');
  assert.equal((c.features.layers[1] as SwitchableBatchNorm).set(0).numFeatures, 32);
  const kwt = slimKwt({ dModel: 64, numHeads: 4, dimFeedforward: 128 });
  const k = kwt.extract(0.75);
  assert.deepEqual([k.args.dModel, k.args.numHeads, k.args.headDim, k.args.dimFeedforward], [48, 3, 16, 96]);
  assert.deepEqual(k.posEmbed.shape, [99, 48]);
  assert.equal(k.head.outFeatures, 12, 'classes stay');
  for (const m of [cnn, c, kwt, k]) m.dispose();
});

test('extraction is generic over Sequential trees and copies non-slimmable modules', () => {
  manualSeed(32);
  const model = new Sequential([new SlimLinear({ inFeatures: 5, outFeatures: 12, slimIn: false }),
    new SwitchableBatchNorm({ numFeatures: 12, widths: [0.5, 1] }), new Activation('gelu'),
    new Sequential([new SlimLinear({ inFeatures: 12, outFeatures: 4, slimOut: false })])]);
  const x = tf.randomNormal([6, 5]);
  tf.tidy(() => model.forward(x, { training: true, width: 0.5 }));
  const sub = extractSubnet(model, 0.5) as Sequential;
  assert.deepEqual(sub.layers.map((m) => m.typeName()), ['SlimLinear', 'SwitchableBatchNorm', 'Activation', 'Sequential']);
  assert.equal((sub.layers[0] as SlimLinear).outFeatures, 6);
  tf.tidy(() => assertClose(sub.forward(x, { training: false }), model.forward(x, { training: false, width: 0.5 }), { atol: 1e-6 }));
  assert.throws(() => extractSubnet(model, 0), /width must be in \(0, 1\]/);
  x.dispose();
  sub.dispose();
  model.dispose();
});

/** A composite that holds a slimmable layer but does not say how to extract itself. */
class Opaque extends Module {
  readonly inner: SlimLinear;
  constructor() {
    super();
    this.inner = this.addModule('inner', new SlimLinear({ inFeatures: 2, outFeatures: 2 }));
  }
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return this.inner.forward(x, ctx);
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}
registerModule('TestOpaqueSlim', Opaque);

test('a composite with slimmable layers that does not implement extract is refused', () => {
  const m = new Opaque();
  assert.throws(() => extractSubnet(m, 0.5), /TestOpaqueSlim\) contains slimmable layers but does not implement extract/);
  m.dispose();
});

test('extractSubnet leaks no tensors', async () => {
  const model = slimKwt({ preset: 'quick' });
  const cnn = slimDsCnn({ preset: 'quick' });
  await assertNoLeak(() => extractSubnet(model, 0.5).dispose(), 'extract KWT');
  await assertNoLeak(() => extractSubnet(cnn, 0.5).dispose(), 'extract DS-CNN');
  model.dispose();
  cnn.dispose();
});
