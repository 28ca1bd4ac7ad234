// The inference cache (lib/nn/eval_cache.ts): batch norm's eval-mode scale and shift are computed once and reused
// until a parameter or running statistic changes; results equal the uncached computation exactly.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';
import { BatchNorm, Ctx, Module } from '../../lib/nn';
import { SwitchableBatchNorm } from '../../lib/slim';

before(async () => {
  await setupBackend();
});
after(() => {
  delete process.env.SLIMSPEECH_EVAL_CACHE;
});

/** `fn` with the cache off (SLIMSPEECH_EVAL_CACHE=0): the plain computation. */
function uncached<T>(fn: () => T): T {
  process.env.SLIMSPEECH_EVAL_CACHE = '0';
  try {
    return fn();
  } finally {
    delete process.env.SLIMSPEECH_EVAL_CACHE;
  }
}

function randomBn(c: number): BatchNorm {
  const bn = new BatchNorm({ numFeatures: c });
  bn.weight!.assign(tf.randomUniform([c], 0.5, 1.5));
  bn.bias!.assign(tf.randomNormal([c]));
  bn.runningMean!.assign(tf.randomNormal([c]));
  bn.runningVar!.assign(tf.randomUniform([c], 0.5, 2));
  return bn;
}

const same = (a: tf.Tensor, b: tf.Tensor, label: string) =>
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()), `${label}: cached and uncached outputs differ`);

test('BatchNorm eval: cached output equals the uncached one, and follows every change of its tensors', () => {
  const bn = randomBn(6);
  const x = tf.randomNormal([3, 5, 6]);
  const ref = uncached(() => bn.forward(x, { training: false }));
  const a = bn.forward(x, { training: false });
  const b = bn.forward(x, { training: false });
  same(a, ref, 'first call');
  same(b, ref, 'second call');
  // Each of the four tensors it derives from: a new value must show in the next eval output.
  for (const v of [bn.weight!, bn.bias!, bn.runningMean!, bn.runningVar!]) {
    v.assign(tf.add(v, 0.25));
    const want = uncached(() => bn.forward(x, { training: false }));
    const got = bn.forward(x, { training: false });
    same(got, want, `after changing ${v.name}`);
    assert.notDeepEqual(Array.from(got.dataSync()), Array.from(ref.dataSync()));
    tf.dispose([want, got]);
  }
  // A training step updates the running statistics: eval afterwards uses the new ones.
  tf.dispose(bn.forward(tf.mul(x, 3), { training: true }));
  const want = uncached(() => bn.forward(x, { training: false }));
  same(bn.forward(x, { training: false }), want, 'after a training step');
  tf.dispose([x, ref, a, b, want]);
  bn.dispose();
});

test('BatchNorm eval under a gradient tape: gradients reach gamma and beta as without the cache', () => {
  const bn = randomBn(4);
  const x = tf.randomNormal([2, 3, 4]);
  tf.dispose(bn.forward(x, { training: false })); // fills the cache
  const grads = (off: boolean) => {
    const f = () => tf.variableGrads(() => tf.sum(tf.square(bn.forward(x, { training: false }))) as tf.Scalar,
      [bn.weight!, bn.bias!]);
    return off ? uncached(f) : f();
  };
  const g = grads(false), r = grads(true);
  for (const v of [bn.weight!, bn.bias!]) {
    assert.ok(g.grads[v.name], `${v.name} has a gradient`);
    same(g.grads[v.name], r.grads[v.name], `d${v.name}`);
  }
  assert.ok(Math.abs(tf.sum(g.grads[bn.weight!.name]).dataSync()[0]) > 0);
  tf.dispose([x, g.value, r.value, ...Object.values(g.grads), ...Object.values(r.grads)]);
  bn.dispose();
});

test('SwitchableBatchNorm eval: one cache entry per width, each equal to the uncached output', () => {
  const sbn = new SwitchableBatchNorm({ numFeatures: 8, widths: [0.5, 1] });
  for (const [, v] of sbn.namedParameters()) v.assign(tf.randomUniform(v.shape, 0.5, 1.5));
  for (const [n, v] of sbn.namedBuffers()) v.assign(n.endsWith('runningVar') ? tf.randomUniform(v.shape, 0.5, 2) : tf.randomNormal(v.shape));
  for (const width of [0.5, 1, 0.5]) {
    const x = tf.randomNormal([2, 3, width === 1 ? 8 : 4]);
    const want = uncached(() => sbn.forward(x, { training: false, width }));
    const got = sbn.forward(x, { training: false, width });
    same(got, want, `width ${width}`);
    tf.dispose([x, want, got]);
  }
  sbn.dispose();
});

test('with the cache off (or under a tape) an eval-mode batch norm leaves no tensor behind', () => {
  const bn = randomBn(3);
  const x = tf.randomNormal([2, 3]);
  const base = tf.memory().numTensors;
  uncached(() => tf.dispose(bn.forward(x, { training: false })));
  assert.equal(tf.memory().numTensors, base);
  tf.dispose([x]);
  bn.dispose();
});

test('the cache holds a fixed number of tensors: repeated eval calls add none, clearEvalCache and dispose release them', () => {
  const model = new (class extends Module {
    readonly a = this.addModule('a', randomBn(5));
    readonly b = this.addModule('b', randomBn(5));
    getConfig(): Record<string, unknown> {
      return {};
    }

    forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
      return tf.tidy(() => this.b.forward(this.a.forward(x, ctx), ctx));
    }
  })();
  const x = tf.randomNormal([4, 5]);
  const base = tf.memory().numTensors;
  tf.dispose(model.forward(x, { training: false }));
  const cached = tf.memory().numTensors - base;
  assert.equal(cached, 4, 'two batch norms keep a scale and a shift each');
  for (let i = 0; i < 5; i++) tf.dispose(model.forward(x, { training: false }));
  assert.equal(tf.memory().numTensors - base, cached, 'no growth over repeated eval calls');
  model.clearEvalCache();
  assert.equal(tf.memory().numTensors, base, 'clearEvalCache releases them');
  tf.dispose(model.forward(x, { training: false }));
  model.dispose();
  assert.equal(tf.memory().numTensors, base - 8, 'dispose releases the cache with the parameters and buffers');
  x.dispose();
});
