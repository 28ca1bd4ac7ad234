// distill.Adapter and adapters in Wav2Vec2Model (OS-KDFT): the reference code's adapter classes on the same weights
// (test/reference/distill_adapter.py), a new adapter changes nothing, Ctx.adapters switches them per part of the
// batch, the layer adds the branch in parallel with the FFN (post- and pre-norm), training noise, errors, save/load.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, fixture, FixtureTensor, fromFixture, setupBackend } from '../helpers';
import { Adapter } from '../../lib/distill/adapter';
import { Wav2Vec2EncoderLayer, Wav2Vec2Model, Wav2Vec2ModelArgs } from '../../lib/models/wav2vec2';
import { loadModel, saveModel } from '../../lib/nn/serialize';
import { Rng } from '../../lib/util/rng';

interface Fixture {
  x: FixtureTensor;
  w2v2: { state: Record<string, FixtureTensor>; withResidual: FixtureTensor; branch: FixtureTensor };
  hubert: { state: Record<string, FixtureTensor>; eval: FixtureTensor };
}
let FX: Fixture;
before(async () => {
  await setupBackend();
  FX = fixture<Fixture>('distill_adapter');
});

const T = (f: FixtureTensor, transpose = false) => { const v = fromFixture(f); if (!transpose) return v; const r = tf.transpose(v); v.dispose(); return r; };

function loadReference(a: Adapter, s: Record<string, FixtureTensor>, prefix: { down: string; up: string; ln?: string }): void {
  a.down.weight.assign(T(s[`${prefix.down}.weight`], true));
  a.down.bias!.assign(T(s[`${prefix.down}.bias`]));
  a.up.weight.assign(T(s[`${prefix.up}.weight`], true));
  a.up.bias!.assign(T(s[`${prefix.up}.bias`]));
  if (prefix.ln) {
    a.layerNorm!.weight!.assign(T(s[`${prefix.ln}.weight`]));
    a.layerNorm!.bias!.assign(T(s[`${prefix.ln}.bias`]));
  }
}

test('the reference adapters\' outputs: the wav2vec2 scripts\' (layer norm in, scale 0.1, with and without its input added back) and the HuBERT scripts\' (eval)', () => {
  const x = fromFixture(FX.x);
  for (const addResidual of [true, false]) {
    const a = new Adapter({ features: 12, hidden: 4, layerNorm: true, scale: 0.1, addResidual });
    loadReference(a, FX.w2v2.state, { down: 'down_proj', up: 'up_proj', ln: 'adapter_layer_norm_before' });
    assertClose(a.forward(x, { training: false }), fromFixture(addResidual ? FX.w2v2.withResidual : FX.w2v2.branch), { atol: 1e-5, label: `w2v2 addResidual ${addResidual}` });
    a.dispose();
  }
  const h = new Adapter({ features: 12, hidden: 4, layerNorm: false, scale: 1, noise: [0.1, 0.5] });
  loadReference(h, FX.hubert.state, { down: 'down', up: 'up' });
  assertClose(h.forward(x, { training: false }), fromFixture(FX.hubert.eval), { atol: 1e-5, label: 'hubert adapter, eval' });
  h.dispose();
  x.dispose();
});

const ARGS: Wav2Vec2ModelArgs = { extractorConvLayerConfig: [[8, 10, 5], [8, 3, 2]], encoderEmbedDim: 16, encoderNumLayers: 2, encoderNumHeads: 2,
  encoderFfIntermFeatures: 24, encoderPosConvKernel: 4, encoderPosConvGroups: 2, encoderLayerDrop: 0 };

function randomiseAdapters(m: Wav2Vec2Model, seed: number): void {
  const rng = new Rng(seed);
  for (const [k, v] of m.namedParameters()) if (k.includes('.adapter.')) v.assign(tf.tensor(Array.from({ length: v.size }, () => rng.normal(0, 0.5)), v.shape));
}

test('a new adapter changes nothing; Ctx.adapters {from} gives the first items the output without adapters, the rest the output with them', () => {
  for (const first of [false, true]) {
    const plain = new Wav2Vec2Model({ ...ARGS, encoderLayerNormFirst: first });
    const adapted = new Wav2Vec2Model({ ...ARGS, encoderLayerNormFirst: first, adapters: { hidden: 4 } });
    adapted.loadStateDict(plain.stateDict(), false);
    const x = tf.randomNormal([4, 1200], 0, 0.3, 'float32', 2);
    const ev = { training: false };
    assertClose(adapted.forward(x, ev), plain.forward(x, ev), { atol: 0, label: `new adapters, layerNormFirst ${first}` });
    randomiseAdapters(adapted, 3);
    const on = adapted.forward(x, { ...ev, adapters: 'on' }), off = adapted.forward(x, { ...ev, adapters: 'off' });
    assertClose(off, plain.forward(x, ev), { atol: 0, label: 'adapters off = the model without them' });
    assert.ok(tf.max(tf.abs(tf.sub(on, off))).dataSync()[0] > 1e-3, 'trained adapters change the output');
    const half = adapted.forward(x, { ...ev, adapters: { from: 2 } });
    assertClose(tf.slice(half, 0, 2), tf.slice(off, 0, 2), { atol: 1e-6, label: 'first half without adapters' });
    assertClose(tf.slice(half, 2, 2), tf.slice(on, 2, 2), { atol: 1e-6, label: 'second half with adapters' });
    tf.dispose([x, on, off, half]);
    plain.dispose();
    adapted.dispose();
  }
});

test('the layer adds the adapter in parallel with the FFN: post-norm LN2(h + FFN(h) + A(h)), h = LN1(x + attn); pre-norm h + FFN(LN2(h)) + A(h)', () => {
  for (const first of [false, true]) {
    const layer = new Wav2Vec2EncoderLayer(16, 2, 8, 24, true, true, 0, 0, 0, first, {}, { hidden: 4 });
    const rng = new Rng(5);
    for (const [, v] of layer.namedParameters()) v.assign(tf.tensor(Array.from({ length: v.size }, () => rng.normal(0, 0.3)), v.shape));
    const x = tf.randomNormal([2, 7, 16], 0, 1, 'float32', 6);
    const ctx = { training: false };
    const got = layer.forward(x, ctx);
    const want = tf.tidy(() => {
      if (first) {
        const h = tf.add(x, layer.attention!.forward(layer.layerNorm.forward(x, ctx), ctx));
        return tf.add(tf.add(h, layer.feedForward!.forward(layer.finalLayerNorm.forward(h, ctx), ctx)), layer.adapter!.forward(h, ctx));
      }
      const h = layer.layerNorm.forward(tf.add(x, layer.attention!.forward(x, ctx)), ctx);
      return layer.finalLayerNorm.forward(tf.add(tf.add(h, layer.feedForward!.forward(h, ctx)), layer.adapter!.forward(h, ctx)), ctx);
    });
    assertClose(got, want, { atol: 1e-5, label: `layerNormFirst ${first}` });
    tf.dispose([x, got, want]);
    layer.dispose();
  }
});

test('training noise: scaled to the mean activation, reproducible from ctx.rng, absent in evaluation', () => {
  const a = new Adapter({ features: 12, hidden: 4, noise: [0.1, 0.5], scale: 1 });
  const rng = new Rng(1);
  for (const p of a.parameters()) p.assign(tf.tensor(Array.from({ length: p.size }, () => rng.normal(0, 0.5)), p.shape));
  const x = tf.randomNormal([3, 6, 12], 0, 1, 'float32', 9);
  const clean = a.forward(x, { training: false });
  const n1 = a.forward(x, { training: true, rng: new Rng(4) }), n2 = a.forward(x, { training: true, rng: new Rng(4) });
  assertClose(n1, n2, { atol: 0, label: 'same rng, same noise' });
  const d = tf.max(tf.abs(tf.sub(n1, clean))).dataSync()[0];
  assert.ok(d > 1e-3, `noise in training (${d})`);
  const plain = new Adapter({ features: 12, hidden: 4, scale: 1 });
  plain.loadStateDict(a.stateDict());
  assertClose(plain.forward(x, { training: true, rng: new Rng(4) }), clean, { atol: 1e-6, label: 'no noise option, no noise' });
  tf.dispose([x, clean, n1, n2]);
  a.dispose();
  plain.dispose();
});

test('errors name the argument; a model with adapters saves and reloads them; nothing leaks', async () => {
  assert.throws(() => new Adapter({ features: 0 }), /features must be a positive integer/);
  assert.throws(() => new Adapter({ features: 8, activation: 'gelu' as 'relu' }), /activation must be 'relu' or 'elu'/);
  assert.throws(() => new Adapter({ features: 8, noise: [0.5, 0.1] }), /noise must be \[lo, hi\]/);
  const m = new Wav2Vec2Model({ ...ARGS, adapters: { hidden: 4, activation: 'elu' } });
  randomiseAdapters(m, 8);
  const x = tf.randomNormal([2, 1200], 0, 0.3, 'float32', 2);
  assert.throws(() => m.forward(x, { training: false, adapters: { from: 3 } }), /ctx.adapters.from must be an integer in \[0, 2\]/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-adapter-'));
  await saveModel(m, dir);
  const back = (await loadModel(dir)) as Wav2Vec2Model;
  assertClose(back.forward(x, { training: false, adapters: { from: 1 } }), m.forward(x, { training: false, adapters: { from: 1 } }), { atol: 0, label: 'reloaded' });
  await assertNoLeak(() => tf.dispose(m.forward(x, { training: true, adapters: { from: 1 } })), 'forward with half the batch adapted');
  tf.dispose([x]);
  m.dispose();
  back.dispose();
});
