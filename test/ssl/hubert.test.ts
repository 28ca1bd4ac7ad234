// HuBERT's first-iteration pre-training pieces: deltas equal torchaudio's compute_deltas, MFCC targets line up
// with the model's frames, k-means finds separated clusters deterministically, span masks cover what they
// should, and masked prediction learns cluster labels on a tiny model (accuracy well above chance).
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ROOT, setupBackend } from '../helpers';
import { deltas, hubertMfcc, kmeans, nearestCentroid, spanMask, HubertPretrainModel } from '../../lib/ssl/hubert';
import { Wav2Vec2Model } from '../../lib/models/wav2vec2';
import { fit } from '../../lib/train/fit';
import { Rng } from '../../lib/util/rng';

before(async () => {
  await setupBackend();
});

test('deltas and delta-deltas equal torchaudio\'s compute_deltas (win_length 5, edges repeated)', () => {
  const f = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'reference', 'fixtures', 'ssl_deltas.json'), 'utf8'));
  const x = tf.tensor3d(f.x);
  const d = deltas(x), dd = deltas(d);
  const close = (t: tf.Tensor, ref: number[][][]) => tf.tidy(() => tf.max(tf.abs(tf.sub(t, tf.tensor3d(ref)))).dataSync()[0]);
  assert.ok(close(d, f.deltas) < 1e-6);
  assert.ok(close(dd, f.deltaDeltas) < 1e-6);
  const one = deltas(tf.tensor2d(f.x[0]));
  assert.ok(close(tf.expandDims(one, 0), [f.deltas[0]]) < 1e-6, 'a single [frames, C] input');
  tf.dispose([x, d, dd, one]);
});

test('hubertMfcc: 39 features per frame, as many frames as the wav2vec 2.0 extractor makes', () => {
  const m = new Wav2Vec2Model({ extractorConvLayerConfig: [[8, 10, 5], [8, 3, 2], [8, 3, 2], [8, 3, 2], [8, 3, 2], [8, 2, 2], [8, 2, 2]],
    encoderEmbedDim: 8, encoderNumHeads: 2, encoderNumLayers: 1, encoderFfIntermFeatures: 8, encoderPosConvKernel: 4, encoderPosConvGroups: 2 });
  for (const n of [16000, 12345, 400, 719]) {
    const f = hubertMfcc(tf.randomNormal([2, n], 0, 0.1, 'float32', 1));
    assert.deepEqual(f.shape, [2, m.outputFrames(n), 39], `${n} samples`);
    f.dispose();
  }
  m.dispose();
});

test('kmeans: separated blobs are recovered exactly, the same for a seed, inertia never rises; errors name k', () => {
  const r = new Rng(3);
  const centres = [[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]];
  const truth: number[] = [];
  const rows = Array.from({ length: 200 }, (_, i) => { const c = i % 4; truth.push(c); return centres[c].map((v) => v + 0.3 * r.normal()); });
  const x = tf.tensor2d(rows);
  const a = kmeans(x, 4, { seed: 1 }), b = kmeans(x, 4, { seed: 1 });
  assert.deepEqual(Array.from(a.labels), Array.from(b.labels), 'deterministic');
  // One cluster per true blob (a permutation).
  const map = new Map<number, number>();
  truth.forEach((t, i) => { if (!map.has(t)) map.set(t, a.labels[i]); assert.equal(a.labels[i], map.get(t)); });
  assert.equal(new Set(map.values()).size, 4);
  for (let i = 1; i < a.inertia.length; i++) assert.ok(a.inertia[i] <= a.inertia[i - 1] * (1 + 1e-6));
  assert.throws(() => kmeans(x, 0), /k must be an integer in \[1, 200\]/);
  tf.dispose([x, a.centroids, b.centroids]);
});

test('spanMask: spans of the given length, about the expected share masked, reproducible from the rng', () => {
  const m = spanMask(8, 100, { prob: 0.8, length: 10 }, new Rng(5));
  const v = Array.from(m.dataSync());
  const share = v.reduce((s, x) => s + x, 0) / v.length;
  // 8 spans of 10 frames with uniform starts cover 1 - (1 - 10/91)^8 ~ 0.6 of the frames on average.
  assert.ok(share > 0.45 && share < 0.75, `masked share ${share}`);
  const again = spanMask(8, 100, { prob: 0.8, length: 10 }, new Rng(5));
  assert.deepEqual(Array.from(again.dataSync()), Array.from(v));
  const short = spanMask(2, 5, { length: 10 }, new Rng(1));
  assert.deepEqual(Array.from(short.dataSync()), new Array(10).fill(1), 'spans longer than the input cover it');
  tf.dispose([m, again, short]);
});

test('masked prediction learns k-means labels of MFCCs on a tiny model: held-out accuracy on masked frames well above chance', async () => {
  // Signals whose frames fall in a few clear classes, predictable from their context: tones of four pitches,
  // 160 ms each, cycling in a fixed order from a random start.
  const sr = 16000, n = 8000, r = new Rng(7);
  const tones = (count: number) => Array.from({ length: count }, () => {
    const w = new Float32Array(n);
    let k = r.int(4);
    for (let s = 0; s < n; s += 2560) {
      const f = [200, 500, 1200, 2600][k++ % 4];
      for (let t = s; t < Math.min(n, s + 2560); t++) w[t] = 0.5 * Math.sin(2 * Math.PI * f * t / sr) + 0.01 * r.normal();
    }
    return w;
  });
  const batch = (ws: Float32Array[]) => tf.tensor2d(ws.flatMap((w) => Array.from(w)), [ws.length, n]);
  const x = batch(tones(8)), heldOut = batch(tones(4));
  const feats = hubertMfcc(x);
  const [B, T] = feats.shape as [number, number, number];
  const flat = tf.reshape(feats, [B * T, 39]) as tf.Tensor2D;
  const km = kmeans(flat, 4, { seed: 0 });
  const labels = tf.tensor2d(km.labels, [B, T], 'int32');
  // Held-out targets: the same centroids assign the new frames.
  const heldFeats = hubertMfcc(heldOut);
  const heldFlat = tf.reshape(heldFeats, [4 * T, 39]) as tf.Tensor2D;
  const near = nearestCentroid(heldFlat, km.centroids);
  const heldLabels = tf.reshape(near.labels, [4, T]);
  const model = new HubertPretrainModel({ numClasses: 4, finalDim: 16, encoder: {
    extractorConvLayerConfig: [[32, 10, 5], [32, 3, 2], [32, 3, 2], [32, 3, 2], [32, 3, 2], [32, 2, 2], [32, 2, 2]],
    encoderEmbedDim: 32, encoderNumHeads: 4, encoderNumLayers: 2, encoderFfIntermFeatures: 64, encoderPosConvKernel: 16,
    encoderPosConvGroups: 4, encoderLayerDrop: 0 } });
  assert.equal(model.encoder.outputFrames(n), T);
  const maskRng = new Rng(11);
  const history = await fit({
    modules: model, epochs: 80, seed: 0, progress: 'none', disposeBatches: false, optimizer: { kind: 'adam', lr: 2e-3 },
    batches: () => [{ x, labels, mask: spanMask(B, T, { prob: 0.5, length: 5 }, maskRng) }],
    step: (b, ctx) => {
      const { loss, accuracy } = model.maskedPrediction(b.x, b.labels, b.mask, ctx);
      b.mask.dispose();
      return { loss, terms: { accuracy } };
    },
  });
  assert.ok(history.steps[history.steps.length - 1].loss < history.steps[0].loss, 'the loss falls');
  const mask = spanMask(4, T, { prob: 0.5, length: 5 }, new Rng(12));
  const held = model.maskedPrediction(heldOut, heldLabels, mask, { training: false });
  const acc = held.accuracy.dataSync()[0];
  assert.ok(acc > 0.5, `held-out masked-frame accuracy ${acc} (chance 0.25)`);
  tf.dispose([x, heldOut, feats, flat, km.centroids, labels, heldFeats, heldFlat, near.labels, near.distances, heldLabels, mask,
    held.loss, held.accuracy]);
  model.dispose();
});

test('maskedPrediction with unmaskedWeight: the masked frames\' cross-entropy plus w times the unmasked frames\', by hand', () => {
  const model = new HubertPretrainModel({ numClasses: 5, finalDim: 8, encoder: { extractorConvLayerConfig: [[8, 10, 5], [8, 3, 2]],
    encoderEmbedDim: 16, encoderNumLayers: 1, encoderNumHeads: 2, encoderFfIntermFeatures: 32, encoderPosConvKernel: 4, encoderPosConvGroups: 2 } });
  const x = tf.randomNormal([2, 400], 0, 0.3, 'float32', 3);
  const logits0 = model.logits(x, undefined, { training: false });
  const T = logits0.shape[1];
  logits0.dispose();
  const mask = tf.tensor2d(Array.from({ length: 2 * T }, (_, i) => (i % 3 === 0 ? 1 : 0)), [2, T]);
  const labels = tf.tensor2d(Array.from({ length: 2 * T }, (_, i) => i % 5), [2, T], 'int32');
  const logp = tf.logSoftmax(model.logits(x, mask, { training: false })).arraySync() as number[][][];
  const m = mask.arraySync() as number[][], y = labels.arraySync() as number[][];
  let ceM = 0, nM = 0, ceU = 0, nU = 0;
  for (let b = 0; b < 2; b++) {
    for (let t = 0; t < T; t++) {
      if (m[b][t]) { ceM -= logp[b][t][y[b][t]]; nM++; } else { ceU -= logp[b][t][y[b][t]]; nU++; }
    }
  }
  const plain = model.maskedPrediction(x, labels, mask, { training: false });
  const mixed = model.maskedPrediction(x, labels, mask, { training: false }, { unmaskedWeight: 0.5 });
  assert.ok(Math.abs(plain.loss.dataSync()[0] - ceM / nM) < 1e-5, 'weight 0: masked frames only (HuBERT\'s recipes)');
  assert.ok(Math.abs(mixed.loss.dataSync()[0] - (ceM / nM + 0.5 * ceU / nU)) < 1e-5);
  assert.equal(mixed.accuracy.dataSync()[0], plain.accuracy.dataSync()[0], 'the accuracy stays the masked frames\'');
  tf.dispose([x, mask, labels, plain.loss, plain.accuracy, mixed.loss, mixed.accuracy]);
  model.dispose();
});
