// models.EcapaTdnn and models.AamSoftmax against OS-KDFT's reference code (test/reference/models_ecapa.py): the
// parameter count of its C = 512 model, outputs in eval and train mode and input gradients of small models built
// from its own blocks and forward, AAM-softmax's loss and gradients; save/load, errors, leaks.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, fixture, FixtureTensor, fromFixture, setupBackend } from '../helpers';
import { AamSoftmax, EcapaTdnn, EcapaTdnnArgs } from '../../lib/models/ecapa_tdnn';
import { loadModel, saveModel } from '../../lib/nn/serialize';

interface Case {
  args: EcapaTdnnArgs; params: number; stateDict: Record<string, FixtureTensor>; x: FixtureTensor; yEval: FixtureTensor; yTrain: FixtureTensor;
  r: FixtureTensor; dx: FixtureTensor;
}
interface Fixture {
  counts: { inputDim: number; layerWeights: number; params: number }[];
  cases: Case[];
  aam: { weight: FixtureTensor; x: FixtureTensor; labels: number[]; loss: number; dx: FixtureTensor; dweight: FixtureTensor };
}
let FX: Fixture;

before(async () => {
  await setupBackend();
  FX = fixture<Fixture>('models_ecapa');
});

function build(c: Case): EcapaTdnn {
  const m = new EcapaTdnn(c.args);
  const dict = new Map(Object.entries(c.stateDict).map(([k, v]) => [k, fromFixture(v)]));
  m.loadReferenceStateDict(dict);
  tf.dispose([...dict.values()]);
  return m;
}

test('parameter counts equal the reference SmallEcapaTdnn (C 512, embedding 192) for SSL widths 768 and 1024', () => {
  for (const c of FX.counts) {
    const m = new EcapaTdnn({ inputDim: c.inputDim, layerWeights: c.layerWeights });
    assert.equal(m.numParams(), c.params, `inputDim ${c.inputDim}, layerWeights ${c.layerWeights}`);
    m.dispose();
  }
});

test('outputs equal the reference in eval and train mode, and the input gradient in train mode', () => {
  for (const c of FX.cases) {
    const m = build(c);
    assert.equal(m.numParams(), c.params);
    const x = fromFixture(c.x);
    const yEval = m.forward(x, { training: false });
    assertClose(yEval, fromFixture(c.yEval), { atol: 1e-4, rtol: 1e-4, label: `eval ${JSON.stringify(c.args)}` });
    const r = fromFixture(c.r);
    const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(m.forward(xx, { training: true }), r)))(x);
    const yTrain = m.forward(x, { training: true });
    assertClose(yTrain, fromFixture(c.yTrain), { atol: 1e-4, rtol: 1e-4, label: `train ${JSON.stringify(c.args)}` });
    assertClose(g, fromFixture(c.dx), { atol: 1e-4, rtol: 1e-3, label: `d input ${JSON.stringify(c.args)}` });
    tf.dispose([x, yEval, r, g, yTrain]);
    m.dispose();
  }
});

test('AAM-softmax: the reference\'s loss, and its gradients with respect to the embeddings and the class weights', () => {
  const a = FX.aam;
  const m = new AamSoftmax({ embeddingDim: 16, numClasses: 7 });
  m.weight.assign(fromFixture(a.weight));
  const x = fromFixture(a.x), labels = tf.tensor1d(a.labels, 'int32');
  const loss = m.loss(x, labels);
  assert.ok(Math.abs(loss.dataSync()[0] - a.loss) < 1e-4, `loss ${loss.dataSync()[0]} against ${a.loss}`);
  const dx = tf.grad((xx: tf.Tensor) => m.loss(xx, labels))(x);
  assertClose(dx, fromFixture(a.dx), { atol: 1e-5, rtol: 1e-3, label: 'd embeddings' });
  const { grads } = tf.variableGrads(() => m.loss(x, labels), [m.weight]);
  assertClose(grads[m.weight.name], fromFixture(a.dweight), { atol: 1e-5, rtol: 1e-3, label: 'd weight' });
  tf.dispose([x, labels, loss, dx, ...Object.values(grads)]);
  m.dispose();
});

test('save and load keep the model; a wrong input or a wrong state dict is an error naming it; nothing leaks', async () => {
  const c = FX.cases[1];
  const m = build(c);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-ecapa-'));
  await saveModel(m, dir);
  const back = (await loadModel(dir)) as EcapaTdnn;
  const x = fromFixture(c.x);
  assertClose(back.forward(x, { training: false }), m.forward(x, { training: false }), { atol: 0, label: 'reloaded' });
  assert.throws(() => m.forward(tf.zeros([2, 10, 12]), { training: false }), /expected \[batch, 3, frames, 12\], got \[2,10,12\]/);
  assert.throws(() => new EcapaTdnn({ inputDim: 12, channels: 0 }), /channels must be a positive integer/);
  const bad = new Map([['conv1.weight', tf.zeros([16, 12, 5])], ['extra.weight', tf.zeros([1])]]);
  assert.throws(() => m.loadReferenceStateDict(bad), /unexpected extra\.weight; missing/);
  await assertNoLeak(() => tf.dispose(m.forward(x, { training: true })), 'EcapaTdnn.forward');
  tf.dispose([x, ...bad.values()]);
  m.dispose();
  back.dispose();
});
