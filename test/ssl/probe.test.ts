// ssl.LayerProbe: on stacked "hidden states" where only one layer carries the class, the learned layer weights
// move to that layer and the probe classifies well; shapes are checked; the frozen model gets no gradient.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';
import { LayerProbe } from '../../lib/ssl/probe';
import { Wav2Vec2Model } from '../../lib/models/wav2vec2';
import { noGrad } from '../../lib/distill/teacher_student_step';
import { crossEntropy } from '../../lib/metrics/cross_entropy';
import { accuracy } from '../../lib/metrics/accuracy';
import { fit } from '../../lib/train/fit';
import { Rng } from '../../lib/util/rng';

before(async () => {
  await setupBackend();
});

test('the layer weights find the one layer that carries the class, and the probe classifies with it', async () => {
  const r = new Rng(2);
  const B = 64, L = 4, T = 6, D = 8, K = 4;
  const y = Array.from({ length: B }, () => r.int(K));
  // Layer 2 holds a class-dependent mean; the other layers are noise of the same size.
  const data = new Float32Array(B * L * T * D);
  for (let b = 0; b < B; b++) for (let l = 0; l < L; l++) for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) {
    data[((b * L + l) * T + t) * D + d] = r.normal() + (l === 2 && d === y[b] ? 3 : 0);
  }
  const x = tf.tensor4d(data, [B, L, T, D]);
  const labels = tf.tensor1d(y, 'int32');
  const probe = new LayerProbe({ numLayers: L, features: D, numClasses: K, hidden: 16 });
  await fit({
    modules: probe, epochs: 150, seed: 0, progress: 'none', disposeBatches: false, optimizer: { kind: 'adam', lr: 1e-2 },
    batches: () => [{ x, labels }], step: (b, ctx) => crossEntropy(probe.forward(b.x, ctx), b.labels) as tf.Scalar,
  });
  const w = Array.from(probe.layerWeights().dataSync());
  assert.equal(w.indexOf(Math.max(...w)), 2, `layer weights ${w.map((v) => v.toFixed(2))}`);
  const logits = probe.forward(x, { training: false });
  const acc = accuracy(logits, labels);
  assert.ok(acc > 0.9, `accuracy ${acc}`);
  assert.throws(() => probe.forward(tf.zeros([2, 3, 6, 8]), { training: false }), /expected stacked hidden states \[batch, 4, frames, 8\], got \[2,3,6,8\]/);
  tf.dispose([x, labels, logits]);
  probe.dispose();
});

test('on a frozen Wav2Vec2Model under noGrad, only the probe gets gradients', () => {
  const m = new Wav2Vec2Model({ extractorConvLayerConfig: [[8, 10, 5], [8, 3, 2]], encoderEmbedDim: 8, encoderNumHeads: 2,
    encoderNumLayers: 2, encoderFfIntermFeatures: 8, encoderPosConvKernel: 4, encoderPosConvGroups: 2 });
  const probe = new LayerProbe({ numLayers: 3, features: 8, numClasses: 3, hidden: 0 });
  const x = tf.randomNormal([2, 800], 0, 0.3, 'float32', 1), labels = tf.tensor1d([0, 2], 'int32');
  const vars = [...probe.parameters(), ...m.parameters()];
  const { grads, value } = tf.variableGrads(() => {
    const h = noGrad(() => m.forward(x, { training: false }));
    return crossEntropy(probe.forward(h, { training: true }), labels) as tf.Scalar;
  }, vars);
  for (const v of probe.parameters()) assert.ok(grads[v.name], `the probe's ${v.name} has a gradient`);
  for (const v of m.parameters()) assert.equal(grads[v.name], undefined, 'the frozen model has none');
  tf.dispose([x, labels, value, ...Object.values(grads)]);
  m.dispose();
  probe.dispose();
});
