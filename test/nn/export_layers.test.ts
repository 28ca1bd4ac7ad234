// exportLayersModel: the written model.json loads with plain tf.loadLayersModel and computes the module's
// evaluation output; what has no tfjs-layers equivalent, and a missing inputShape, fail with clear errors.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertClose } from '../helpers';
import {
  Activation, BatchNorm, Conv1d, Conv2d, Dropout, ExportLayersOptions, exportLayersModel, Flatten, Linear, LSTM,
  manualSeed, MaxPool2d, Module, Sequential,
} from '../../lib/nn';

before(async () => {
  await setupBackend();
});

/** Exports `m` and loads the result with plain tf.loadLayersModel. */
async function roundTrip(m: Module, inputShape: number[]): Promise<tf.LayersModel> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-layers-'));
  await exportLayersModel(m, dir, { inputShape });
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const weights = fs.readFileSync(path.join(dir, 'weights.bin'));
  fs.rmSync(dir, { recursive: true });
  const lm = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  }));
  return lm;
}

test('exportLayersModel writes a model plain tf.loadLayersModel loads, with equal outputs', async () => {
  manualSeed(5);
  const m = new Sequential([
    new Conv2d({ inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1 }), new BatchNorm({ numFeatures: 4 }),
    new Activation('relu'), new MaxPool2d({ kernelSize: 2 }),
    new Conv2d({ inChannels: 4, outChannels: 4, kernelSize: 3, groups: 4, padding: 'same' }), new Dropout({ p: 0.2 }),
    new Flatten(), new Linear({ inFeatures: 4 * 4 * 3, outFeatures: 5 }),
  ]);
  tf.tidy(() => m.forward(tf.randomNormal([4, 8, 6, 1]), { training: true }));
  const lm = await roundTrip(m, [8, 6, 1]);
  const x = tf.randomNormal([3, 8, 6, 1]);
  const [got, want] = [lm.predict(x) as tf.Tensor, m.forward(x, { training: false })];
  assertClose(got, want, { atol: 1e-5, label: 'layers model' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-layers-'));
  await assert.rejects(exportLayersModel(new Sequential([new LSTM({ inputSize: 2, hiddenSize: 2 })]), dir, { inputShape: [3, 2] }),
    /LSTM at '0' has no tfjs-layers equivalent/);
  fs.rmSync(dir, { recursive: true });
  tf.dispose([x, got, want]);
  m.dispose();
  lm.dispose();
});

test('a Conv1d whose numeric padding equals "same" exports as "same"; other numeric paddings are refused', async () => {
  manualSeed(6);
  // Stride 1: padding (k - 1) * d / 2 on each side is what 'same' does.
  const m = new Sequential([
    new Conv1d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1 }), new Activation('tanh'),
    new Conv1d({ inChannels: 4, outChannels: 2, kernelSize: 3, dilation: 2, padding: 2 }),
    new Conv1d({ inChannels: 2, outChannels: 2, kernelSize: 1, padding: 0 }),
  ]);
  const lm = await roundTrip(m, [7, 3]);
  const layers = lm.layers.filter((l) => l.getClassName() !== 'InputLayer');
  assert.deepEqual(layers.map((l) => [l.getClassName(), (l.getConfig() as { padding?: string }).padding]),
    [['Conv1D', 'same'], ['Activation', undefined], ['Conv1D', 'same'], ['Conv1D', 'valid']]);
  const x = tf.randomNormal([2, 7, 3]);
  const y = m.forward(x, { training: false });
  assert.deepEqual(y.shape, [2, 7, 2]);
  const got = lm.predict(x) as tf.Tensor;
  assertClose(got, y, { atol: 1e-5, label: 'Conv1d padding 1 as same' });
  tf.dispose([x, y, got]);
  lm.dispose();
  m.dispose();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-layers-'));
  for (const args of [{ padding: 2 }, { padding: 1, stride: 2 }]) {
    const c = new Conv1d({ inChannels: 3, outChannels: 4, kernelSize: 3, ...args });
    await assert.rejects(exportLayersModel(new Sequential([c]), dir, { inputShape: [7, 3] }),
      /Conv1d with padding \d at '0' has no tfjs-layers equivalent/, JSON.stringify(args));
    c.dispose();
  }
  fs.rmSync(dir, { recursive: true });
});

test('exportLayersModel without inputShape throws an error naming the option', async () => {
  const m = new Sequential([new Linear({ inFeatures: 3, outFeatures: 2 })]);
  const dir = path.join(os.tmpdir(), `ss-layers-never-${process.pid}`);
  for (const opts of [undefined, {}, { inputShape: [] }]) {
    await assert.rejects(exportLayersModel(m, dir, opts as unknown as ExportLayersOptions),
      /exportLayersModel: options\.inputShape, the input shape without the batch axis .* is required/, JSON.stringify(opts));
  }
  assert.ok(!fs.existsSync(dir), 'nothing is written');
  m.dispose();
});
