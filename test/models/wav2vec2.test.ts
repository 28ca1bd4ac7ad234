// models.Wav2Vec2Model and models.loadSafetensors against torchaudio's wav2vec2_model: parameter counts of
// the presets, and tiny random models loaded from safetensors files under torchaudio's and Hugging Face's key
// names give torchaudio's hidden states (fixtures: test/reference/models_wav2vec2.py).
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ROOT, setupBackend } from '../helpers';
import { Wav2Vec2Model, Wav2Vec2ModelArgs, WAV2VEC2_PRESETS } from '../../lib/models/wav2vec2';
import { loadSafetensors, readSafetensorsHeader, saveSafetensors } from '../../lib/models/safetensors';
import { loadModel, saveModel } from '../../lib/nn/serialize';

before(async () => {
  await setupBackend();
});

const DIR = path.join(ROOT, 'test', 'reference', 'fixtures', 'wav2vec2');
interface Fixture {
  config: Record<string, unknown>; params: number; input: number[]; inputShape: [number, number];
  features: { shape: number[]; data: number[] }; hidden: { shape: number[]; data: number[] }[]; output: { shape: number[]; data: number[] };
}
const fixture = (c: string): Fixture => JSON.parse(fs.readFileSync(path.join(DIR, `${c}.json`), 'utf8'));
const CASES = ['tiny_group_norm', 'tiny_layer_norm'];

/** torchaudio's snake_case arguments -> Wav2Vec2ModelArgs. */
function args(config: Record<string, unknown>): Wav2Vec2ModelArgs {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === 'aux_num_out') continue;
    out[k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = v;
  }
  return out as Wav2Vec2ModelArgs;
}

function maxDiff(t: tf.Tensor, ref: { shape: number[]; data: number[] }): number {
  assert.deepEqual(t.shape, ref.shape);
  const v = t.dataSync();
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i] - ref.data[i]));
  return m;
}

test('parameter counts equal torchaudio\'s for the presets and the tiny cases', () => {
  const counts = JSON.parse(fs.readFileSync(path.join(DIR, 'counts.json'), 'utf8')) as Record<string, number>;
  for (const name of Object.keys(WAV2VEC2_PRESETS) as (keyof typeof WAV2VEC2_PRESETS)[]) {
    const key = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace('wav2vec2_', 'wav2vec2_');
    const m = Wav2Vec2Model.preset(name);
    assert.equal(m.numParams(), counts[key], name);
    m.dispose();
  }
  for (const c of CASES) {
    const m = new Wav2Vec2Model(args(fixture(c).config));
    assert.equal(m.numParams(), counts[c], c);
    m.dispose();
  }
});

for (const c of CASES) {
  for (const naming of ['torchaudio', 'hf']) {
    test(`${c}, ${naming} key names: hidden states and output equal torchaudio's within 1e-4; nothing leaks`, () => {
      const f = fixture(c);
      const dict = loadSafetensors(path.join(DIR, `${c}.${naming}.safetensors`));
      const model = Wav2Vec2Model.fromStateDict(dict, args(f.config));
      tf.dispose([...dict.values()]);
      const before = tf.memory().numTensors;
      const x = tf.tensor2d(f.input, f.inputShape);
      const ctx = { training: false };
      const hidden = model.hiddenStates(x, ctx);
      assert.equal(hidden.length, f.hidden.length, 'the projection and every layer');
      const diffs = hidden.map((h, i) => maxDiff(h, f.hidden[i]));
      for (const [i, d] of diffs.entries()) assert.ok(d < 1e-4, `hidden state ${i}: max difference ${d}`);
      const feats = model.extractFeatures(x, ctx);
      assert.ok(maxDiff(feats, f.features) < 1e-4);
      const out = model.encode(x, ctx);
      assert.ok(maxDiff(out, f.output) < 1e-4, 'encode equals torchaudio\'s forward');
      const stacked = model.forward(x, ctx);
      assert.deepEqual(stacked.shape, [2, hidden.length, ...hidden[0].shape.slice(1)]);
      assert.equal(model.outputFrames(f.inputShape[1]), hidden[0].shape[1]);
      const two = model.hiddenStates(x, ctx, { numLayers: 1 });
      assert.equal(two.length, 2);
      tf.dispose([x, feats, out, stacked, ...hidden, ...two]);
      assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
      model.dispose();
    });
  }
}

test('loading refuses mismatched arguments and unknown keys, naming them; heads and pre-training keys are skipped', () => {
  const f = fixture('tiny_group_norm');
  const dict = loadSafetensors(path.join(DIR, 'tiny_group_norm.torchaudio.safetensors'));
  try {
    assert.throws(() => Wav2Vec2Model.fromStateDict(dict, { ...args(f.config), encoderNumLayers: 3 }), /missing encoder\.transformer\.layers\.2\./);
    assert.throws(() => Wav2Vec2Model.fromStateDict(dict, { ...args(f.config), encoderFfIntermFeatures: 41 }), /has shape \[24,40\], the module expects \[24,41\]/);
    const extra = new Map(dict);
    extra.set('encoder.transformer.layers.0.attention.rel_bias.weight', tf.zeros([2]));
    extra.set('lm_head.weight', tf.zeros([3, 24]));
    extra.set('wav2vec2.mask_generator.mask_embedding', tf.zeros([24]));
    assert.throws(() => Wav2Vec2Model.fromStateDict(extra, args(f.config)), /unexpected encoder\.transformer\.layers\.0\.attention\.rel_bias\.weight/);
    const lax = Wav2Vec2Model.fromStateDict(extra, args(f.config), { strict: false });
    lax.dispose();
    tf.dispose([extra.get('lm_head.weight')!, extra.get('wav2vec2.mask_generator.mask_embedding')!,
      extra.get('encoder.transformer.layers.0.attention.rel_bias.weight')!]);
  } finally {
    tf.dispose([...dict.values()]);
  }
  assert.throws(() => new Wav2Vec2Model({ encoderNumHeads: [2, 2], encoderNumLayers: 2 }), /need encoderHeadDim/);
  assert.throws(() => new Wav2Vec2Model({ encoderNumLayers: 2, encoderFfIntermFeatures: [4] }), /1 entries for 2 layers/);
  const m = new Wav2Vec2Model({ extractorConvLayerConfig: [[8, 10, 5]], encoderEmbedDim: 8, encoderNumHeads: 2, encoderNumLayers: 1,
    encoderFfIntermFeatures: 8, encoderPosConvKernel: 4, encoderPosConvGroups: 2 });
  assert.throws(() => m.hiddenStates(tf.zeros([1, 9]), { training: false }), /9 samples are too short/);
  assert.throws(() => m.hiddenStates(tf.zeros([9]), { training: false }), /must be \[batch, samples\]/);
  m.dispose();
});

test('safetensors: a round trip keeps names, shapes, dtypes and values; bad files are named', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-st-'));
  const a = tf.tensor([[1.5, -2], [3, 4e-8]]), b = tf.tensor([1, -7, 2 ** 30], [3], 'int32');
  const file = path.join(dir, 'x.safetensors');
  await saveSafetensors(file, { 'a.weight': a, b }, { note: 'hi' });
  const header = readSafetensorsHeader(fs.readFileSync(file));
  assert.deepEqual(header.metadata, { note: 'hi' });
  assert.equal(header.dataStart % 8, 0, 'the data section is 8-byte aligned');
  const back = loadSafetensors(file);
  assert.deepEqual([...back.keys()], ['a.weight', 'b']);
  assert.deepEqual(back.get('a.weight')!.arraySync(), a.arraySync());
  assert.equal(back.get('b')!.dtype, 'int32');
  assert.deepEqual(back.get('b')!.arraySync(), b.arraySync());
  // Half and bfloat16 values decode to float32.
  const half = Buffer.from(JSON.stringify({ h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] }, g: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(half.length));
  const data = Buffer.from([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x35, 0x80, 0x3f, 0x40, 0xc0]);   // 1, -2, 0.3125; 1, -3
  const decoded = loadSafetensors(Buffer.concat([len, half, data]));
  assert.deepEqual(decoded.get('h')!.arraySync(), [1, -2, 0.3125]);
  assert.deepEqual(decoded.get('g')!.arraySync(), [1, -3]);
  fs.writeFileSync(path.join(dir, 'bad.safetensors'), 'not a model');
  assert.throws(() => loadSafetensors(path.join(dir, 'bad.safetensors')), /'.*bad\.safetensors' declares a \d+-byte header/);
  fs.writeFileSync(path.join(dir, 'cut.safetensors'), fs.readFileSync(file).subarray(0, fs.statSync(file).size - 4));
  assert.throws(() => loadSafetensors(path.join(dir, 'cut.safetensors')), /tensor 'b' .*\(truncated file\?\)/);
  assert.throws(() => loadSafetensors(path.join(dir, 'none.safetensors')), /no file/);
  tf.dispose([a, b, ...back.values(), ...decoded.values()]);
});

test('saveModel and loadModel rebuild a pruned-size model (per-layer heads, FFN sizes, missing blocks) with equal outputs', async () => {
  const m = new Wav2Vec2Model({ extractorConvLayerConfig: [[8, 10, 5], [6, 3, 2]], encoderEmbedDim: 16, encoderNumLayers: 3,
    encoderNumHeads: [2, 0, 1], encoderHeadDim: 4, encoderFfIntermFeatures: [12, 5, 0], encoderUseAttention: [true, false, true],
    encoderPosConvKernel: 4, encoderPosConvGroups: 2 });
  const names = [...m.stateDict().keys()];
  assert.ok(!names.some((n) => n.startsWith('encoder.transformer.layers.1.attention.')), 'layer 1 has no attention');
  assert.ok(!names.some((n) => n.startsWith('encoder.transformer.layers.2.feedForward.')), 'layer 2 has no feed-forward block');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-w2v-'));
  await saveModel(m, dir);
  const back = await loadModel(dir) as Wav2Vec2Model;
  const x = tf.randomNormal([2, 800], 0, 0.3, 'float32', 1);
  const ctx = { training: false };
  const [y1, y2] = [m.forward(x, ctx), back.forward(x, ctx)];
  assert.equal(tf.tidy(() => tf.max(tf.abs(tf.sub(y1, y2))).dataSync()[0]), 0);
  assert.equal(back.numParams(), m.numParams());
  tf.dispose([x, y1, y2]);
  m.dispose();
  back.dispose();
});

import { argsFromDphubertConfig, loadDphubert, saveDphubert } from '../../lib/models/wav2vec2_dphubert';

test('a pruned-size model built by DPHuBERT\'s own code loads (its config and names) and gives its hidden states within 1e-4', () => {
  const f = JSON.parse(fs.readFileSync(path.join(DIR, 'dphubert_pruned.json'), 'utf8'));
  const config = JSON.parse(fs.readFileSync(path.join(DIR, 'dphubert_pruned.config.json'), 'utf8'));
  const dict = loadSafetensors(path.join(DIR, 'dphubert_pruned.safetensors'));
  const model = Wav2Vec2Model.fromStateDict(dict, argsFromDphubertConfig(config));
  tf.dispose([...dict.values()]);
  assert.equal(model.numParams(), f.params - config.extractor_conv_layer_config[2][0], 'DPHuBERT counts its dummy_weight; slimspeech keeps it as a buffer');
  const x = tf.tensor2d(f.input, f.inputShape);
  const hidden = model.hiddenStates(x, { training: false });
  assert.equal(hidden.length, f.hidden.length);
  hidden.forEach((h, i) => assert.ok(maxDiff(h, f.hidden[i]) < 1e-4, `hidden state ${i}`));
  tf.dispose([x, ...hidden]);
  model.dispose();
});

/**
 * saveDphubert writes config.json and model.safetensors that loadDphubert reads back to the same outputs, under
 * exactly the keys DPHuBERT's model of that config has. With SLIMSPEECH_DPHUBERT_EXPORT=DIR it also leaves the
 * export with input.json and hidden.json in DIR for `test/reference/models_dphubert.py DPHUBERT_DIR DIR`, which
 * builds it with DPHuBERT's code in PyTorch and compares.
 */
test('saveDphubert and loadDphubert: DPHuBERT\'s config and key names, the same outputs after the round trip', async () => {
  const fixture = JSON.parse(fs.readFileSync(path.join(DIR, 'dphubert_pruned.json'), 'utf8'));
  const config = JSON.parse(fs.readFileSync(path.join(DIR, 'dphubert_pruned.config.json'), 'utf8'));
  const m = new Wav2Vec2Model(argsFromDphubertConfig(config));
  tf.tidy(() => { for (const v of m.parameters()) v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.05, 'float32', 9))); });
  const dir = process.env.SLIMSPEECH_DPHUBERT_EXPORT ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ss-dph-'));
  const { config: written } = await saveDphubert(m, dir);
  assert.deepEqual(written.encoder_num_heads, [2, 0, 1]);
  assert.deepEqual(written.encoder_use_attention, [true, false, true]);
  assert.deepEqual(written.encoder_use_feed_forward, [true, true, false]);
  assert.deepEqual(written.extractor_conv_layer_config, [[12, 10, 5], [9, 3, 2], [6, 2, 2]]);
  const keys = [...readSafetensorsHeader(fs.readFileSync(path.join(dir, 'model.safetensors'))).tensors.keys()].sort();
  assert.deepEqual(keys, [...fixture.keys].sort(), 'the keys of DPHuBERT\'s model of this config');
  const back = loadDphubert(dir);
  const x = tf.tensor2d(fixture.input, fixture.inputShape);
  const [a, b] = [m.hiddenStates(x, { training: false }), back.hiddenStates(x, { training: false })];
  a.forEach((h, i) => assert.equal(tf.tidy(() => tf.max(tf.abs(tf.sub(h, b[i]))).dataSync()[0]), 0));
  fs.writeFileSync(path.join(dir, 'input.json'), JSON.stringify({ shape: fixture.inputShape, data: fixture.input }));
  fs.writeFileSync(path.join(dir, 'hidden.json'), JSON.stringify(a.map((h) => ({ shape: h.shape, data: Array.from(h.dataSync()) }))));
  const gated = new Wav2Vec2Model({ ...argsFromDphubertConfig(config), prune: { attentionHeads: true } });
  await assert.rejects(saveDphubert(gated, dir), /materialize it first/);
  tf.dispose([x, ...a, ...b]);
  [m, back, gated].forEach((v) => v.dispose());
});

test('with lengths (a padded batch), hidden states, output and output lengths equal torchaudio\'s within 1e-4', () => {
  for (const c of CASES) {
    const f = JSON.parse(fs.readFileSync(path.join(DIR, `${c}.json`), 'utf8'));
    const dict = loadSafetensors(path.join(DIR, `${c}.torchaudio.safetensors`));
    const model = Wav2Vec2Model.fromStateDict(dict, args(f.config));
    tf.dispose([...dict.values()]);
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(f.input, f.inputShape);
    const ctx = { training: false };
    assert.deepEqual(model.outputLengths(f.lengths), f.outputLengths);
    const hidden = model.hiddenStates(x, ctx, { lengths: f.lengths });
    // torchaudio's extract_features gives the layers; index 0 here is the (zeroed) projection.
    f.hiddenWithLengths.forEach((h: { shape: number[]; data: number[] }, i: number) =>
      assert.ok(maxDiff(hidden[i + 1], h) < 1e-4, `${c}: layer ${i + 1} with lengths`));
    const out = model.encode(x, ctx, { lengths: f.lengths });
    assert.ok(maxDiff(out, f.outputWithLengths) < 1e-4, `${c}: output with lengths`);
    const plain = model.encode(x, ctx);
    assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(plain, out))).dataSync()[0]) > 1e-3, 'the padding mask changes the padded example');
    assert.throws(() => model.hiddenStates(x, ctx, { lengths: [10] }), /1 lengths for a batch of 2/);
    tf.dispose([x, out, plain, ...hidden]);
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  }
});
