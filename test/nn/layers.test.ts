// Every layer's output and gradients (input and parameters) against the equivalent torch.nn module on
// the same weights: test/reference/nn_layers.py. Runs on the backend under test (wasm by default).
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, fixture, fromFixture, assertClose, FixtureTensor } from '../helpers';
import { buildModule, Ctx, LSTM, MultiHeadAttention } from '../../lib/nn';
import { countParams } from '../../lib/metrics/size';

interface Case {
  name: string; type: string; config: Record<string, unknown>; train: boolean;
  state: Record<string, FixtureTensor>; x: FixtureTensor; y: FixtureTensor; r: FixtureTensor; dx: FixtureTensor;
  dparams: Record<string, FixtureTensor>; buffersAfter?: Record<string, FixtureTensor>; yEval?: FixtureTensor;
  keyPaddingMask?: FixtureTensor; numParams: number; finalState?: boolean;
}
const { cases } = fixture<{ cases: Case[] }>('nn_layers');

before(async () => {
  await setupBackend();
});

for (const c of cases) {
  test(`${c.name}: output and gradients equal torch.nn's`, () => {
    const m = buildModule({ type: c.type, config: c.config });
    const state = new Map(Object.entries(c.state).map(([k, v]) => [k, fromFixture(v)]));
    m.loadStateDict(state);
    tf.dispose([...state.values()]);
    // Everything the test creates from here on is disposed before the leak check at the end.
    const before = tf.memory().numTensors;
    const ctx: Ctx = { training: c.train };
    const x = fromFixture(c.x);
    const r = fromFixture(c.r);
    const mask = c.keyPaddingMask ? fromFixture(c.keyPaddingMask) : undefined;
    const run = (inp: tf.Tensor) => {
      // attend() hands over the output and the attention weights: keep only the output.
      if (mask) return tf.tidy(() => (m as MultiHeadAttention).attend(inp, inp, inp, ctx, { keyPaddingMask: mask }).output);
      if (c.finalState) {
        // The final hidden and cell states, both differentiable (the fused wasm kernel returns them too).
        // run() hands over the output sequence and both states: keep only the states' concatenation.
        return tf.tidy(() => {
          const { h, c: cell } = (m as LSTM).cells[0][0].run(inp as tf.Tensor3D);
          return tf.concat([h, cell!], -1);
        });
      }
      return m.forward(inp, ctx);
    };
    const params = m.namedParameters();
    const { value, grads } = params.length
      ? tf.variableGrads(() => tf.sum(tf.mul(run(x), r)), params.map(([, v]) => v))
      : { value: tf.scalar(0), grads: {} as tf.NamedTensorMap };
    value.dispose();
    assert.deepEqual(params.map(([n]) => n).sort(), Object.keys(c.dparams).sort(), `${c.name}: parameter names`);
    assert.equal(countParams(m), c.numParams, `${c.name}: parameter count equals torch's`);
    // The input gradient comes from a second pass; batch norm's buffers are checked after the first.
    if (c.buffersAfter) {
      const buffers = new Map(m.namedBuffers());
      for (const [k, v] of Object.entries(c.buffersAfter)) {
        assertClose(buffers.get(k)!, v, { atol: 1e-5, label: `${c.name} ${k}` });
      }
    }
    for (const [name] of params) {
      assertClose(grads[params.find(([n]) => n === name)![1].name], c.dparams[name], { atol: 2e-4, rtol: 2e-4, label: `${c.name} d${name}` });
    }
    tf.dispose(Object.values(grads));
    const bufferCopies = m.namedBuffers().map(([k, v]) => [k, v.clone()] as const);
    const y = run(x);
    assertClose(y, c.y, { atol: 1e-4, rtol: 1e-4, label: `${c.name} y` });
    const dx = tf.grad((inp: tf.Tensor) => tf.sum(tf.mul(run(inp), r)))(x);
    assertClose(dx, c.dx, { atol: 2e-4, rtol: 2e-4, label: `${c.name} dx` });
    if (c.yEval) {
      for (const [k, v] of bufferCopies) new Map(m.namedBuffers()).get(k)!.assign(v);
      const yEval = m.forward(x, { training: false });
      assertClose(yEval, c.yEval, { atol: 1e-4, rtol: 1e-4, label: `${c.name} eval` });
      yEval.dispose();
    }
    tf.dispose([y, dx, x, r, ...bufferCopies.map(([, v]) => v)]);
    if (mask) mask.dispose();
    // Eval mode keeps derived tensors (batch norm's scale and shift) for the next call: released here.
    m.clearEvalCache();
    assert.equal(tf.memory().numTensors, before, `${c.name}: ${tf.memory().numTensors - before} tensors left over`);
    m.dispose();
  });
}
