// HuBERT's first-iteration pre-training pieces (Hsu et al. 2021): MFCC targets clustered by k-means, span
// masking, and masked prediction over cluster labels, on a Wav2Vec2Model.
import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, parameterRng, registerModule } from '../nn/module';
import { Linear } from '../nn/linear';
import { mfcc } from '../audio/features';
import { Wav2Vec2Model, Wav2Vec2ModelArgs } from '../models/wav2vec2';
import { Rng } from '../util/rng';

/**
 * torchaudio.functional.compute_deltas (win_length 5) along the frames of x [frames, C] or [batch, frames, C]:
 * d_t = sum_{n=1..2} n (x_{t+n} - x_{t-n}) / (2 sum n^2), the edges repeated.
 */
export function deltas(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const three = x.rank === 2 ? tf.expandDims(x, 0) : x;
    const T = three.shape[1]!;
    const first = tf.slice(three, [0, 0, 0], [-1, 1, -1]), last = tf.slice(three, [0, T - 1, 0], [-1, 1, -1]);
    const p = tf.concat([first, first, three, last, last], 1);
    const at = (k: number) => tf.slice(p, [0, k, 0], [-1, T, -1]);
    const d = tf.div(tf.add(tf.sub(at(3), at(1)), tf.mul(tf.sub(at(4), at(0)), 2)), 10);
    return x.rank === 2 ? tf.squeeze(d, [0]) : d;
  });
}

/**
 * HuBERT's first-iteration features: 13 MFCCs (23 mel bands, 25 ms windows) with deltas and delta-deltas,
 * 39 per frame, at one frame per 320 samples so that frame t lines up with the wav2vec 2.0 extractor's frame t
 * at 16 kHz (same 400-sample receptive field and 320-sample hop). x [time] or [batch, time] -> [.., frames, 39].
 */
export function hubertMfcc(x: tf.Tensor, sampleRate = 16000): tf.Tensor {
  return tf.tidy(() => {
    const c = mfcc(x, { sampleRate, nMfcc: 13, melOptions: { nFft: 400, winLength: 400, hopLength: 320, nMels: 23, center: false } });
    const d = deltas(c);
    return tf.concat([c, d, deltas(d)], -1);
  });
}

/** What {@link kmeans} returns. */
export interface KMeansResult {
  /** [k, dims]. */
  centroids: tf.Tensor2D;
  /** The cluster of each input row. */
  labels: Int32Array;
  /** Sum of squared distances to the assigned centroids, per iteration. */
  inertia: number[];
}

/** Index of the nearest centroid for each row of x [n, d] (squared Euclidean distance). */
export function nearestCentroid(x: tf.Tensor2D, centroids: tf.Tensor2D): { labels: tf.Tensor1D; distances: tf.Tensor1D } {
  return tf.tidy(() => {
    const d = tf.add(tf.sub(tf.sum(tf.square(x), 1, true), tf.mul(tf.matMul(x, centroids, false, true), 2)), tf.sum(tf.square(centroids), 1));
    return { labels: tf.argMin(d, 1) as tf.Tensor1D, distances: tf.relu(tf.min(d, 1)) as tf.Tensor1D };
  });
}

/**
 * k-means (Lloyd's algorithm with k-means++ seeding from `seed`), on the backend: rows x [n, d] -> centroids and
 * labels. Deterministic for a seed. An empty cluster is re-seeded with the row farthest from its centroid.
 * (Written here rather than taken from npm: ml-kmeans, the maintained package, is ESM-only, which a CommonJS
 * package for Node 18 cannot require.)
 */
export function kmeans(x: tf.Tensor2D, k: number, opts: { iterations?: number; seed?: number } = {}): KMeansResult {
  const [n, dims] = x.shape;
  if (!(Number.isInteger(k) && k >= 1 && k <= n)) throw new Error(`kmeans: k must be an integer in [1, ${n}] (the rows), got ${k}`);
  const iterations = opts.iterations ?? 20;
  const rng = new Rng(opts.seed ?? 0);
  const data = x.dataSync();
  // k-means++: each next centre drawn with probability proportional to the squared distance to the nearest one.
  const chosen = [rng.int(n)];
  const best = new Float64Array(n).fill(Infinity);
  while (chosen.length < k) {
    const c = chosen[chosen.length - 1] * dims;
    let total = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < dims; j++) { const v = data[i * dims + j] - data[c + j]; s += v * v; }
      if (s < best[i]) best[i] = s;
      total += best[i];
    }
    let r = rng.uniform() * total, pick = n - 1;
    for (let i = 0; i < n; i++) { r -= best[i]; if (r <= 0) { pick = i; break; } }
    chosen.push(pick);
  }
  let centroids = tf.tidy(() => tf.gather(x, tf.tensor1d(chosen, 'int32'))) as tf.Tensor2D;
  const inertia: number[] = [];
  let labels = new Int32Array(n);
  for (let it = 0; it < iterations; it++) {
    const near = nearestCentroid(x, centroids);
    labels = Int32Array.from(near.labels.dataSync());
    const dist = Float64Array.from(near.distances.dataSync());
    let sum = 0;
    for (const v of dist) sum += v;
    inertia.push(sum);
    const counts = new Int32Array(k);
    for (const l of labels) counts[l]++;
    const next = tf.tidy(() => {
      const sums = tf.unsortedSegmentSum(x, near.labels, k);
      const m = tf.div(sums, tf.maximum(tf.tensor2d(Float32Array.from(counts), [k, 1]), 1));
      // Empty clusters restart at the farthest rows.
      const empty = [...counts.keys()].filter((c) => counts[c] === 0);
      if (!empty.length) return m;
      const far = [...dist.keys()].sort((a, b) => dist[b] - dist[a]).slice(0, empty.length);
      const values = m.dataSync().slice();
      empty.forEach((c, i) => values.set(data.subarray(far[i] * dims, (far[i] + 1) * dims), c * dims));
      return tf.tensor2d(values, [k, dims]);
    }) as tf.Tensor2D;
    tf.dispose([near.labels, near.distances, centroids]);
    centroids = next;
    if (it > 0 && Math.abs(inertia[it - 1] - inertia[it]) <= 1e-6 * inertia[it - 1]) break;
  }
  return { centroids, labels, inertia };
}

/**
 * HuBERT's span masks: per example, about `prob * frames / length` spans of `length` frames with uniform
 * starts (fairseq's compute_mask_indices, static lengths; overlapping spans merge), at least `minMasks` spans.
 * Returns [batch, frames] as 0/1 float32 (1 = masked), drawn on the CPU from `rng` (no read-back).
 */
export function spanMask(batch: number, frames: number, opts: { prob?: number; length?: number; minMasks?: number } = {}, rng: Rng): tf.Tensor2D {
  const prob = opts.prob ?? 0.8, length = Math.min(opts.length ?? 10, frames), minMasks = opts.minMasks ?? 2;
  const out = new Float32Array(batch * frames);
  for (let b = 0; b < batch; b++) {
    const spans = Math.max(minMasks, Math.floor(prob * frames / length + rng.uniform()));
    for (let s = 0; s < spans; s++) {
      const start = rng.int(frames - length + 1);
      out.fill(1, b * frames + start, b * frames + start + length);
    }
  }
  return tf.tensor2d(out, [batch, frames]);
}

/** Arguments of {@link HubertPretrainModel}. */
export interface HubertPretrainArgs {
  /** The encoder's architecture. */
  encoder: Wav2Vec2ModelArgs;
  /** Clusters of the targets (HuBERT: 100 on MFCCs in the first iteration). */
  numClasses: number;
  /** Width of the projection compared with the label embeddings. Default 256 (HuBERT Base). */
  finalDim?: number;
  /** Temperature of the cosine logits. Default 0.1. */
  temperature?: number;
}

/**
 * HuBERT's pre-training model (torchaudio's HuBERTPretrainModel, first iteration): the Wav2Vec2Model encoder, a
 * learned mask embedding put in place of masked frames after the feature projection, and logits
 * cos(finalProj(h_t), e_c) / temperature against one embedding per cluster. The loss is the cross-entropy of
 * the masked frames' cluster labels (HuBERT's masked prediction, unmasked weight 0).
 */
export class HubertPretrainModel extends Module {
  readonly args: Required<HubertPretrainArgs>;
  readonly encoder: Wav2Vec2Model;
  readonly maskEmbedding: tf.Variable;
  readonly finalProj: Linear;
  readonly labelEmbeddings: tf.Variable;

  constructor(args: HubertPretrainArgs) {
    super();
    this.args = { finalDim: 256, temperature: 0.1, ...args };
    this.encoder = this.addModule('encoder', new Wav2Vec2Model(args.encoder));
    const D = this.encoder.args.encoderEmbedDim, F = this.args.finalDim, K = this.args.numClasses;
    const rng = parameterRng();
    this.maskEmbedding = this.addParameter('maskEmbedding', Float32Array.from({ length: D }, () => rng.uniform()), [D]);
    this.finalProj = this.addModule('finalProj', new Linear({ inFeatures: D, outFeatures: F }));
    this.labelEmbeddings = this.addParameter('labelEmbeddings', Float32Array.from({ length: K * F }, () => rng.normal(0, 1)), [K, F]);
  }

  /** Cluster logits [batch, frames, K] for waveforms [batch, samples] with `mask` [batch, frames] applied. */
  logits(x: tf.Tensor, mask: tf.Tensor | undefined, ctx: Ctx): tf.Tensor3D {
    return tf.tidy(() => {
      const hs = this.encoder.hiddenStates(x, ctx, { mask, maskEmbedding: mask ? this.maskEmbedding : undefined });
      const p = this.finalProj.forward(hs[hs.length - 1], ctx);
      const unit = (t: tf.Tensor) => tf.div(t, tf.maximum(tf.norm(t, 'euclidean', -1, true), 1e-8));
      const [B, T, F] = p.shape as [number, number, number];
      const cos = tf.matMul(tf.reshape(unit(p), [B * T, F]), unit(this.labelEmbeddings), false, true);
      return tf.reshape(tf.div(cos, this.args.temperature), [B, T, -1]) as tf.Tensor3D;
    });
  }

  /**
   * Masked-prediction loss and accuracy over the masked frames: labels [batch, frames] int32, mask [batch, frames]
   * 0/1. With `unmaskedWeight` w > 0 (HuBERT's pred_nomask_weight; 0 in its Base and Large recipes) the loss adds w
   * times the cross-entropy of the unmasked frames' labels (HuBERT's alpha study); the accuracy stays the masked one.
   */
  maskedPrediction(x: tf.Tensor, labels: tf.Tensor, mask: tf.Tensor, ctx: Ctx, opts: { unmaskedWeight?: number } = {}):
  { loss: tf.Scalar; accuracy: tf.Scalar } {
    return tf.tidy(() => {
      const logits = this.logits(x, mask, ctx);
      const K = logits.shape[2];
      const logp = tf.logSoftmax(logits);
      const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.cast(labels, 'int32'), K)), -1);
      const m = tf.cast(mask, 'float32');
      const n = tf.maximum(tf.sum(m), 1);
      let loss = tf.neg(tf.div(tf.sum(tf.mul(picked, m)), n)) as tf.Scalar;
      const w = opts.unmaskedWeight ?? 0;
      if (w > 0) {
        const u = tf.sub(1, m);
        loss = tf.sub(loss, tf.mul(w, tf.div(tf.sum(tf.mul(picked, u)), tf.maximum(tf.sum(u), 1)))) as tf.Scalar;
      }
      const hit = tf.cast(tf.equal(tf.argMax(logits, -1), tf.cast(labels, 'int32')), 'float32');
      const accuracy = tf.div(tf.sum(tf.mul(hit, m)), n) as tf.Scalar;
      return { loss, accuracy };
    });
  }

  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return this.logits(x, undefined, ctx);
  }

  getConfig(): Record<string, unknown> {
    return { ...this.args };
  }
}
registerModule('HubertPretrainModel', HubertPretrainModel);
