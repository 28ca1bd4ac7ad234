import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { sdr } from '../../lib/metrics/sdr';
import { setupBackend, fixture, fromFixture, assertClose, assertNoLeak, FixtureTensor } from '../helpers';

interface SdrCase {
  name: string; estimate: FixtureTensor; reference: FixtureTensor; cotangent: FixtureTensor;
  sdr: FixtureTensor; grad_estimate: FixtureTensor; grad_reference: FixtureTensor;
}
const { sdr: cases } = fixture<{ sdr: SdrCase[] }>('metrics_si_snr');

before(async () => { await setupBackend(); });

test('sdr equals 10 log10(|ref|^2 / |ref - est|^2) from torch float64, forward and gradients', () => {
  assert.ok(cases.length >= 2);
  for (const c of cases) {
    const est = fromFixture(c.estimate), rf = fromFixture(c.reference), w = fromFixture(c.cotangent);
    const v = sdr(est, rf);
    assertClose(v, c.sdr, { atol: 1e-4, rtol: 1e-5, label: `sdr ${c.name}` });
    const [ge, gr] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(sdr(a, b), w)))([est, rf]);
    assertClose(ge, c.grad_estimate, { atol: 1e-6, rtol: 1e-3, label: `sdr grad estimate ${c.name}` });
    assertClose(gr, c.grad_reference, { atol: 1e-6, rtol: 1e-3, label: `sdr grad reference ${c.name}` });
    tf.dispose([est, rf, w, v, ge, gr]);
  }
});

test('sdr is not scale-invariant: a silent estimate and a doubled reference both score 0 dB; 10% error scores 20 dB', () => {
  const r = tf.randomNormal([3, 800], 0, 1, 'float32', 31);
  assertClose(sdr(tf.zerosLike(r), r), [0, 0, 0], { atol: 1e-5, label: 'silent estimate' });
  assertClose(sdr(tf.mul(r, 2), r), [0, 0, 0], { atol: 1e-5, label: 'doubled estimate' });
  assertClose(sdr(tf.mul(r, 0.9), r), [20, 20, 20], { atol: 1e-4, label: '10% gain error' });
  assertClose(sdr(tf.zeros([4]), tf.zeros([4])), 0, { atol: 0, label: 'silence' });
  r.dispose();
});

test('sdr rejects mismatched shapes and leaks no tensors', async () => {
  assert.throws(() => sdr(tf.zeros([2, 8]), tf.zeros([8])), /estimate \[2, 8\] and reference \[8\]/);
  const r = tf.randomNormal([2, 64], 0, 1, 'float32', 32);
  const e = tf.randomNormal([2, 64], 0, 1, 'float32', 33);
  await assertNoLeak(() => sdr(e, r), 'sdr');
  await assertNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(sdr(a, b)))([e, r]), 'sdr grads');
  tf.dispose([r, e]);
});
