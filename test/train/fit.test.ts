// The training loop: learning, determinism, crash-and-resume, accumulation, NaN guard, history, leaks.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertClose } from '../helpers';
import { Activation, BatchNorm, Dropout, Linear, manualSeed, Module, Sequential } from '../../lib/nn';
import { fit, FitOptions, History, NonFiniteLossError, Rng } from '../../lib/train';

// A fixed 3-class problem: 64 points in 4-D around three centres.
const data = (() => {
  const r = new Rng(99);
  const xs: number[][] = [], ys: number[] = [];
  for (let i = 0; i < 64; i++) {
    const y = i % 3;
    xs.push([0, 1, 2, 3].map((k) => (k === y ? 2 : 0) + r.normal(0, 0.7)));
    ys.push(y);
  }
  return { xs, ys };
})();

function batches(batchSize: number) {
  return (_epoch: number, rng: Rng) => {
    const idx = rng.shuffle([...Array(64).keys()]);
    const out: { x: tf.Tensor2D; y: tf.Tensor1D }[] = [];
    for (let i = 0; i < 64; i += batchSize) {
      const b = idx.slice(i, i + batchSize);
      out.push({ x: tf.tensor2d(b.map((j) => data.xs[j])), y: tf.tensor1d(b.map((j) => data.ys[j]), 'int32') });
    }
    return out;
  };
}

function model(seed: number, withNoise = true): Module {
  manualSeed(seed);
  return new Sequential(withNoise
    ? [new Linear({ inFeatures: 4, outFeatures: 16 }), new BatchNorm({ numFeatures: 16 }), new Activation('relu'),
      new Dropout({ p: 0.2 }), new Linear({ inFeatures: 16, outFeatures: 3 })]
    : [new Linear({ inFeatures: 4, outFeatures: 16 }), new Activation('tanh'), new Linear({ inFeatures: 16, outFeatures: 3 })]);
}

const step = (m: Module) => (b: { x: tf.Tensor2D; y: tf.Tensor1D }, ctx: Parameters<FitOptions<unknown>['step']>[1]) => {
  const logits = m.forward(b.x, ctx);
  const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(b.y, 3), logits) as tf.Scalar;
  return { loss, terms: { logitMean: tf.mean(logits) as tf.Scalar } };
};

const base = (m: Module, extra: Partial<FitOptions<{ x: tf.Tensor2D; y: tf.Tensor1D }>> = {}) => ({
  modules: m, step: step(m), batches: batches(8), epochs: 3, seed: 5, progress: 'none' as const,
  optimizer: { kind: 'adam' as const, lr: 0.01 }, ...extra,
});

/** [from, from + 1, ..., to]. */
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const weights = (m: Module) => m.stateDict();
function assertSameWeights(a: Module, b: Module, exact = true) {
  const wa = weights(a), wb = weights(b);
  for (const [k, v] of wa) assertClose(wb.get(k)!, v, exact ? { atol: 0, rtol: 0, label: k } : { atol: 1e-5, rtol: 1e-5, label: k });
}

before(async () => {
  await setupBackend();
});

test('fit learns: loss falls, history has steps and epochs, terms are logged, DataFrame works', async () => {
  const m = model(1);
  const h = await fit(base(m, { epochs: 8 }));
  assert.equal(h.epochs.length, 8);
  assert.equal(h.steps.length, 64);
  assert.ok(h.epochs[7].loss < 0.6 * h.epochs[0].loss, `loss ${h.series('loss').map((v) => v.toFixed(3))}`);
  assert.ok('logitMean' in h.epochs[0] && 'logitMean' in h.steps[0]);
  const df = await h.toDataFrame() as { shape: number[]; columns: string[] };
  assert.deepEqual(df.shape, [8, 4]);
  assert.ok(df.columns.includes('loss'));
  m.dispose();
});

test('same seed, same numbers; another seed, other numbers', async () => {
  const a = model(1), b = model(1), c = model(1);
  await fit(base(a));
  await fit(base(b));
  await fit(base(c, { seed: 6 }));
  assertSameWeights(a, b);
  const d = weights(a).get('0.weight')!.sub(weights(c).get('0.weight')!).abs().max().dataSync()[0];
  assert.ok(d > 1e-4, 'a different seed changes data order and dropout');
  [a, b, c].forEach((m) => m.dispose());
});

test('a crashed run resumed from its checkpoint ends with the uninterrupted run\'s weights and history', async () => {
  const dirA = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-fit-a-'));
  const dirB = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-fit-b-'));
  const a = model(2);
  const ha = await fit(base(a, { checkpoint: { dir: dirA, everySteps: 4 } }));
  // Run B crashes at step 14 (mid epoch 2); its last checkpoint is from step 12.
  const b = model(2);
  await assert.rejects(fit(base(b, { checkpoint: { dir: dirB, everySteps: 4 },
    onStep: (r) => { if (r.step === 14) throw new Error('simulated crash'); } })), /simulated crash/);
  b.dispose();
  // A new process would rebuild the model from scratch: so do we, then resume. Training is deterministic,
  // so equal weights alone would not show a resume (a restart from step 0 ends the same): count the steps.
  const b2 = model(2);
  const ran: number[] = [];
  const hb = await fit(base(b2, { checkpoint: { dir: dirB, everySteps: 4 }, onStep: (r) => { ran.push(r.step); } }));
  assert.deepEqual(ran, range(13, 24), 'the resumed run runs only the steps after its checkpoint');
  assertSameWeights(a, b2);
  assert.deepEqual(hb.epochs.map((e) => e.loss), ha.epochs.map((e) => e.loss));
  assert.deepEqual(hb.steps.map((s) => s.loss), ha.steps.map((s) => s.loss));
  // Resuming a finished run does nothing more.
  const again: number[] = [];
  const h3 = await fit(base(b2, { checkpoint: { dir: dirB }, onStep: (r) => { again.push(r.step); } }));
  assert.deepEqual(again, [], 'a finished run runs no step');
  assert.equal(h3.steps.length, ha.steps.length);
  a.dispose(); b2.dispose();
});

test('maxSteps stops mid-epoch with a checkpoint that resumes exactly', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-fit-c-'));
  const a = model(3), b = model(3);
  await fit(base(a));
  const first: number[] = [], rest: number[] = [];
  await fit(base(b, { maxSteps: 11, checkpoint: { dir }, onStep: (r) => { first.push(r.step); } }));
  assert.deepEqual(first, range(1, 11));
  const b2 = model(3);
  await fit(base(b2, { checkpoint: { dir }, onStep: (r) => { rest.push(r.step); } }));
  assert.deepEqual(rest, range(12, 24), 'the resumed run continues after step 11');
  assertSameWeights(a, b2);
  [a, b, b2].forEach((m) => m.dispose());
});

test('accumulating 2 half batches equals one full batch (mean loss)', async () => {
  const a = model(4, false), b = model(4, false);
  const sameOrder = (size: number) => (_e: number) => batches(size)(1, new Rng(0));
  await fit({ ...base(a, { epochs: 2 }), batches: sameOrder(8) });
  await fit({ ...base(b, { epochs: 2 }), batches: sameOrder(4), accumulate: 2 });
  assertSameWeights(a, b, false);
  a.dispose(); b.dispose();
});

test('a NaN loss stops training naming the step and terms; the checkpoint stays as it was', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-fit-nan-'));
  const m = model(5);
  const good = step(m);
  let calls = 0;
  const before = fs.existsSync(path.join(dir, 'checkpoint.ckpt'));
  assert.equal(before, false);
  const err = await fit(base(m, {
    checkpoint: { dir, everySteps: 4 },
    step: (b, ctx) => {
      calls += 1;
      const out = good(b, ctx);
      return calls === 6 ? { loss: tf.div(out.loss, 0) as tf.Scalar, terms: { kd: tf.scalar(NaN) as tf.Scalar } } : out;
    },
  })).then(() => undefined, (e) => e);
  assert.ok(err instanceof NonFiniteLossError, String(err));
  assert.match(err.message, /epoch 1, step 6 \(batch 5\): loss is Infinity \(kd NaN\)/);
  assert.match(err.message, /last checkpoint .* is intact/);
  assert.equal(err.step, 6);
  const ck = fs.readFileSync(path.join(dir, 'checkpoint.ckpt'));
  assert.ok(ck.includes(Buffer.from('"globalStep":4')), 'the checkpoint is the one from step 4');
  m.dispose();
});

test('gradient clipping records the norm; parameter groups with their own rates', async () => {
  const m = model(6, false);
  const first = (m as Sequential).layers[0] as Linear;
  const w0 = first.weight.clone();
  const h = await fit(base(m, { epochs: 1, clipNorm: 0.5,
    optimizer: { kind: 'sgd', lr: 0.1, groups: [{ params: [first.weight, first.bias!], lr: 0 },
      { params: m.parameters().slice(2) }] } }));
  assert.ok(h.steps.every((s) => s.gradNorm > 0));
  assertClose(first.weight, w0, { atol: 0, rtol: 0, label: 'a group with lr 0 does not move' });
  w0.dispose();
  m.dispose();
});

test('progress in log mode prints one line per epoch', async () => {
  const m = model(7);
  const lines: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  (process.stderr as unknown as { write: (s: string) => boolean }).write = (s: string) => { lines.push(s); return true; };
  try {
    await fit(base(m, { epochs: 2, progress: 'lines', label: 'demo' }));
  } finally {
    (process.stderr as unknown as { write: typeof orig }).write = orig;
  }
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^demo epoch 1\/2 done in 0:\d\d: loss \d\.\d{4} logitMean/);
  m.dispose();
});

test('fit leaks no tensors (batches and optimizer state are disposed)', async () => {
  const m = model(8);
  await fit(base(m, { epochs: 1 }));
  const before = tf.memory().numTensors;
  await fit(base(m, { epochs: 2 }));
  assert.equal(tf.memory().numTensors, before);
  m.dispose();
});

test('History round-trips through JSON', () => {
  const h = new History();
  h.steps.push({ epoch: 1, step: 1, loss: 2, lr: 0.1 });
  h.epochs.push({ epoch: 1, loss: 2, seconds: 1 });
  assert.deepEqual(History.fromJSON(JSON.parse(JSON.stringify(h))).toJSON(), h.toJSON());
});

test('stopping on the last batch of an epoch still completes that epoch (validation, onEpoch)', async () => {
  const m = model(9);
  let validated = 0, epochs = 0;
  const h = await fit(base(m, { epochs: 3, maxSteps: 8, validate: () => { validated++; return { acc: 1 }; },
    onEpoch: () => { epochs++; } }));
  assert.equal(h.steps.length, 8);
  assert.equal(h.epochs.length, 1);
  assert.equal(validated, 1);
  assert.equal(epochs, 1);
  m.dispose();
});
