// Module mechanics: paths, taps, MAC counting hooks, state dicts, save/load (also in a fresh process),
// registry errors, leaks (tfjs-layers export: export_layers.test.ts).
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertClose, ROOT } from '../helpers';
import { Tiny } from './tiny_model';
import {
  Activation, Conv2d, GlobalAvgPool, Linear, LSTM, manualSeed, MultiHeadAttention,
  Sequential, loadModel, saveModel, buildModule,
} from '../../lib/nn';



before(async () => {
  await setupBackend();
});

test('paths follow the tree and name parameters, buffers and taps', () => {
  manualSeed(1);
  const outer = new Sequential([new Tiny({ channels: 4, classes: 3 }), new Activation('tanh')]);
  assert.deepEqual(outer.namedParameters().map(([n]) => n),
    ['0.conv.weight', '0.conv.bias', '0.norm.weight', '0.norm.bias', '0.head.weight', '0.head.bias']);
  assert.deepEqual(outer.namedBuffers().map(([n]) => n), ['0.norm.runningMean', '0.norm.runningVar']);
  const taps = new Map<string, tf.Tensor>();
  const y = outer.forward(tf.ones([2, 5, 5, 1]), { training: false, taps });
  assert.deepEqual([...taps.keys()].sort(), ['0', '0.conv', '0.head', '0.norm', '1']);
  assert.deepEqual(taps.get('0.conv')!.shape, [2, 5, 5, 4]);
  assertClose(taps.get('1')!, y);
  assertClose(taps.get('0.conv')!.shape, [2, 5, 5, 4]);
  assert.ok(tf.sum(tf.abs(taps.get('0.norm')!)).dataSync()[0] >= 0, 'tapped intermediates are still alive');
  tf.dispose([...taps.values()]);
  assert.ok(!y.isDisposed, 'disposing the taps leaves the output alone');
  const only = new Map<string, tf.Tensor>();
  outer.forward(tf.ones([2, 5, 5, 1]), { training: false, taps: only, tapFilter: (p) => p.endsWith('norm') });
  assert.deepEqual([...only.keys()], ['0.norm']);
  tf.dispose([...only.values()]);
  assert.equal(outer.numParams(), 4 * 9 + 4 + 4 + 4 + 4 * 3 + 3);
  outer.dispose();
});

test('attention records its head-averaged probabilities as a tap', () => {
  const mha = new Sequential([new MultiHeadAttention({ embedDim: 8, numHeads: 2 })]);
  const taps = new Map<string, tf.Tensor>();
  tf.tidy(() => {
    mha.forward(tf.randomNormal([3, 5, 8]), { training: false, taps });
    const w = taps.get('0.attention')!;
    assert.deepEqual(w.shape, [3, 5, 5]);
    assertClose(tf.sum(w, -1), tf.ones([3, 5]), { atol: 1e-5 });
  });
  tf.dispose([...taps.values()]);
  mha.dispose();
});

test('ctx.macs counts multiply-accumulates of each layer', () => {
  const m = new Sequential([
    new Conv2d({ inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1 }),
    new GlobalAvgPool(), new Linear({ inFeatures: 4, outFeatures: 5 }),
  ]);
  const macs = { total: 0 };
  tf.tidy(() => m.forward(tf.zeros([1, 6, 7, 2]), { training: false, macs }));
  assert.equal(macs.total, 6 * 7 * 4 * 3 * 3 * 2 + 4 * 5);
  const lstm = new LSTM({ inputSize: 3, hiddenSize: 4 });
  const m2 = { total: 0 };
  tf.tidy(() => lstm.forward(tf.zeros([2, 10, 3]), { training: false, macs: m2 }));
  assert.equal(m2.total, 2 * 10 * 16 * (3 + 4));
  m.dispose();
  lstm.dispose();
});

test('the same seed gives the same initial weights; different seeds differ', () => {
  manualSeed(7);
  const a = new Linear({ inFeatures: 4, outFeatures: 3 });
  manualSeed(7);
  const b = new Linear({ inFeatures: 4, outFeatures: 3 });
  const c = new Linear({ inFeatures: 4, outFeatures: 3 });
  assert.deepEqual(Array.from(a.weight.dataSync()), Array.from(b.weight.dataSync()));
  assert.notDeepEqual(Array.from(b.weight.dataSync()), Array.from(c.weight.dataSync()));
  const bound = 1 / Math.sqrt(4);
  assert.ok(Array.from(a.weight.dataSync()).every((v) => Math.abs(v) <= bound));
  [a, b, c].forEach((m) => m.dispose());
});

test('loadStateDict refuses missing, unexpected and misshapen entries with their names', () => {
  const m = new Linear({ inFeatures: 2, outFeatures: 3 });
  assert.throws(() => m.loadStateDict({ weight: tf.zeros([2, 3]) }), /missing bias/);
  assert.throws(() => m.loadStateDict({ weight: tf.zeros([2, 3]), bias: tf.zeros([3]), extra: tf.zeros([1]) }), /unexpected extra/);
  assert.throws(() => m.loadStateDict({ weight: tf.zeros([3, 2]), bias: tf.zeros([3]) }), /'weight' has shape \[3,2\], the module expects \[2,3\]/);
  m.dispose();
});

test('saveModel then loadModel gives identical outputs, also in a fresh process', async () => {
  manualSeed(3);
  const model = new Sequential([new Tiny({ channels: 3, classes: 4 }), new Activation('relu')]);
  // Move batch-norm statistics away from their initial values so that buffers matter.
  tf.tidy(() => model.forward(tf.randomNormal([4, 6, 6, 1], 0, 2, 'float32', 1), { training: true }));
  const x = tf.randomNormal([2, 6, 6, 1], 0, 1, 'float32', 2);
  const y = model.forward(x, { training: false });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-model-'));
  const art = await saveModel(model, dir, { metadata: { note: 'test' } });
  assert.equal(art.numParams, model.numParams());
  assert.deepEqual(fs.readdirSync(dir).sort(), ['model.json', 'weights.bin']);
  const back = await loadModel(dir);
  assertClose(back.forward(x, { training: false }), y, { atol: 0, rtol: 0, label: 'reloaded output' });
  // A fresh node process that imports only the compiled library reloads it with identical outputs.
  // The test model class is registered there by requiring its module, as a user registers theirs.
  const script = `
    const tf = require('@tensorflow/tfjs');
    const { useBackend } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'lib', 'backend'))});
    require(${JSON.stringify(path.join(__dirname, 'tiny_model.js'))});
    const { loadModel } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'lib', 'nn'))});
    (async () => {
      await useBackend(${JSON.stringify(tf.getBackend())});
      const m = await loadModel(${JSON.stringify(dir)});
      const x = tf.tensor(${JSON.stringify(Array.from(x.dataSync()))}, ${JSON.stringify(x.shape)});
      process.stdout.write(JSON.stringify(Array.from(m.forward(x, { training: false }).dataSync())));
    })();`;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, env: { ...process.env, NODE_TEST_CONTEXT: '' }, stdio: ['ignore', 'pipe', 'inherit'] }).toString());
  assert.deepEqual(out, Array.from(y.dataSync()));
  tf.dispose([x, y]);
  model.dispose();
  back.dispose();
});

test('loadModel errors: not a slimspeech model, unknown type, truncated weights', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-bad-'));
  await assert.rejects(loadModel(dir), /no model at/);
  const m = new Linear({ inFeatures: 2, outFeatures: 2 });
  await saveModel(m, dir);
  const good = fs.readFileSync(path.join(dir, 'weights.bin'));
  fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.alloc(4));
  await assert.rejects(loadModel(dir), /weights are 4 bytes, the manifest describes 24/);
  fs.writeFileSync(path.join(dir, 'weights.bin'), good);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  json.architecture.type = 'NoSuchLayer';
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  await assert.rejects(loadModel(dir), /unknown module type 'NoSuchLayer'/);
  json.format = 'layers-model';
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  await assert.rejects(loadModel(dir), /not a slimspeech model/);
  assert.throws(() => buildModule({ type: 'Nope', config: {} }), /registerModule/);
  m.dispose();
});

test('a training-mode forward and backward leaks no tensors', async () => {
  const m = new Tiny({ channels: 4, classes: 3 });
  const x = tf.randomNormal([2, 5, 5, 1]);
  const step = () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(m.forward(x, { training: true })) as tf.Scalar);
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  m.dispose();
});

test('constructing and disposing layers leaks nothing', async () => {
  const { Activation: A, MultiHeadAttention: M, TransformerEncoderLayer: T, LSTM: L } = await import('../../lib/nn');
  const before = tf.memory().numTensors;
  for (const make of [() => new A('gelu'), () => new M({ embedDim: 8, numHeads: 2 }), () => new T({ dModel: 8, nHead: 2 }),
    () => new L({ inputSize: 3, hiddenSize: 4, bidirectional: true })]) make().dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('loadStateDict of int32 values and RecurrentLayer.forward leak nothing', async () => {
  const { RecurrentLayer } = await import('../../lib/nn');
  const m = new Linear({ inFeatures: 2, outFeatures: 2 });
  const w = tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32'), b = tf.tensor1d([1, 1], 'int32');
  const before = tf.memory().numTensors;
  m.loadStateDict({ weight: w, bias: b });
  assert.equal(tf.memory().numTensors, before);
  assertClose(m.weight, [1, 2, 3, 4]);
  const r = new RecurrentLayer({ kind: 'lstm', inputSize: 2, hiddenSize: 3 });
  const x = tf.ones([1, 4, 2]);
  const n0 = tf.memory().numTensors;
  r.forward(x, { training: false }).dispose();
  assert.equal(tf.memory().numTensors, n0);
  tf.dispose([w, b, x]);
  m.dispose();
  r.dispose();
});
