// Micro-batches in train.fit: gradients accumulated over slices of a batch equal the whole batch's for a
// mean loss, the planner's arithmetic, batch slicing, the automatic choice on wasm under a small memory
// budget (with its message), and the error when one item does not fit.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertClose } from '../helpers';
import { Activation, LayerNorm, Linear, manualSeed, Module, Sequential } from '../../lib/nn';
import { fit, microBatchRanges, planMicroBatch, Rng, sliceBatch, slicedTensors } from '../../lib/train';

before(async () => {
  await setupBackend();
});

type B = { x: tf.Tensor2D; y: tf.Tensor1D; ids: number[] };

function batches(batchSize: number) {
  return (_epoch: number, rng: Rng): B[] => {
    const r = new Rng(7);
    const idx = rng.shuffle([...Array(48).keys()]);
    const xs = Array.from({ length: 48 }, (_, i) => [0, 1, 2, 3].map((k) => (k === i % 3 ? 2 : 0) + r.normal(0, 0.5)));
    const out: B[] = [];
    for (let i = 0; i < 48; i += batchSize) {
      const b = idx.slice(i, i + batchSize);
      out.push({ x: tf.tensor2d(b.map((j) => xs[j])), y: tf.tensor1d(b.map((j) => j % 3), 'int32'), ids: b });
    }
    return out;
  };
}

function model(): Module {
  manualSeed(3);
  return new Sequential([new Linear({ inFeatures: 4, outFeatures: 32 }), new LayerNorm({ normalizedShape: 32 }),
    new Activation('relu'), new Linear({ inFeatures: 32, outFeatures: 3 })]);
}

const step = (m: Module) => (b: B, ctx: { training: boolean }) => {
  const logits = m.forward(b.x, ctx);
  return tf.losses.softmaxCrossEntropy(tf.oneHot(b.y, 3), logits) as tf.Scalar;
};

test('micro-batches of a layer-norm model give the same weights as whole batches (mean loss, same optimizer steps)', async () => {
  const whole = model();
  const split = model();
  const stepsWhole: number[] = [];
  const stepsSplit: number[] = [];
  const common = { batches: batches(16), epochs: 2, seed: 1, progress: 'none' as const, optimizer: { kind: 'sgd' as const, lr: 0.1 } };
  await fit<B>({ ...common, modules: whole, step: step(whole), onStep: (r) => { stepsWhole.push(r.loss); } });
  await fit<B>({ ...common, modules: split, step: step(split), microBatch: 5, onStep: (r) => { stepsSplit.push(r.loss); } });
  assert.equal(stepsSplit.length, stepsWhole.length, 'the same number of optimizer steps');
  assertClose(stepsSplit, stepsWhole, { atol: 1e-5, rtol: 1e-5, label: 'losses per step' });
  for (const [k, v] of whole.stateDict()) assertClose(split.stateDict().get(k)!, v, { atol: 1e-5, rtol: 1e-4, label: k });
  whole.dispose();
  split.dispose();
});

test('micro-batching leaks no tensors', async () => {
  const m = model();
  const opts = { modules: m, step: step(m), batches: batches(16), epochs: 1, progress: 'none' as const, microBatch: 3 };
  await fit<B>(opts);
  const before = tf.memory().numTensors;
  await fit<B>(opts);
  assert.equal(tf.memory().numTensors, before);
  m.dispose();
});

test('microBatchRanges splits evenly; planMicroBatch follows the linear estimate and refuses what cannot fit', () => {
  assert.deepEqual(microBatchRanges(10, 4), [[0, 3], [3, 7], [7, 10]]);
  assert.deepEqual(microBatchRanges(8, 8), [[0, 8]]);
  assert.deepEqual(microBatchRanges(8, 100), [[0, 8]]);
  // peak = 100 + 10 n: within 1000 bytes, at most 90 items; a batch of 256 -> ceil(256/90) = 3 chunks of <= 86.
  const plan = planMicroBatch(256, 2, 120, 4, 140, 1000);
  assert.equal(plan.bytesPerItem, 10);
  assert.equal(plan.fixedBytes, 100);
  assert.equal(plan.microBatch, 86);
  assert.equal(planMicroBatch(32, 2, 120, 4, 140, 1000).microBatch, 32, 'a batch that fits is whole');
  assert.throws(() => planMicroBatch(4, 1, 3e9, 2, 6e9, 2.5e9), /one training item needs about .* GB.*lower what each item costs/);
});

test('sliceBatch cuts tensors and per-item arrays, passes the rest; slicedTensors lists only the new tensors', () => {
  const b = { x: tf.ones([6, 2]), w: tf.ones([3]), ids: [0, 1, 2, 3, 4, 5], k: 7, f: Float32Array.from([1, 2, 3, 4, 5, 6]) };
  const s = sliceBatch(b, 6, 2, 5);
  assert.deepEqual(s.x.shape, [3, 2]);
  assert.equal(s.w, b.w, 'a tensor of another leading size is passed through');
  assert.deepEqual(s.ids, [2, 3, 4]);
  assert.deepEqual(Array.from(s.f), [3, 4, 5]);
  assert.equal(s.k, 7);
  assert.deepEqual(slicedTensors(s, b), [s.x]);
  tf.dispose([b.x, b.w, s.x]);
});

test("microBatch 'auto' on wasm cuts a batch that exceeds the budget, says so, and still trains", async () => {
  if (tf.getBackend() !== 'wasm') return;
  const m = model();
  const lines: string[] = [];
  const seen: number[] = [];
  const inner = step(m);
  await fit<B>({
    modules: m, batches: batches(16), epochs: 1, progress: 'none', microBatch: 'auto', memoryBudget: 25_000,
    step: (b, ctx) => { seen.push(b.x.shape[0]); return inner(b, ctx); }, log: (l) => lines.push(l), label: 'tiny',
  });
  const message = lines.find((l) => l.includes('does not fit'));
  assert.ok(message, `a line says the batch was cut: ${lines.join(' | ')}`);
  const cut = Number(/micro-batches of (\d+)/.exec(message!)![1]);
  assert.ok(cut >= 1 && cut < 16, `micro-batch ${cut}`);
  // Two probes (2 and 4 items), then 3 batches of 16 in micro-batches of at most `cut`.
  assert.deepEqual(seen.slice(0, 2), [2, 4]);
  assert.ok(seen.slice(2).every((n) => n <= cut));
  assert.equal(seen.slice(2).reduce((a, n) => a + n, 0), 48);
  m.dispose();
});

test("microBatch 'auto' keeps a batch that fits whole and leaves batch-norm statistics as they were", async () => {
  if (tf.getBackend() !== 'wasm') return;
  const m = model();
  const seen: number[] = [];
  const inner = step(m);
  const lines: string[] = [];
  await fit<B>({ modules: m, batches: batches(16), epochs: 1, progress: 'none', microBatch: 'auto', log: (l) => lines.push(l),
    step: (b, ctx) => { seen.push(b.x.shape[0]); return inner(b, ctx); } });
  assert.deepEqual(seen, [2, 4, 16, 16, 16]);
  assert.ok(!lines.some((l) => l.includes('does not fit')));
  m.dispose();
});

test("microBatch 'auto': one item that cannot fit is an error saying what to lower", async () => {
  if (tf.getBackend() !== 'wasm') return;
  const m = model();
  await assert.rejects(fit<B>({ modules: m, step: step(m), batches: batches(16), epochs: 1, progress: 'none', microBatch: 'auto',
    memoryBudget: 100 }), /one training item needs about .* lower what each item costs/);
  m.dispose();
});
