import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, assertNoLeak, setupBackend } from '../helpers';
import { complexMul, magnitude, phase, polar, powerSpectrum } from '../../lib/audio/complex';

before(async () => { await setupBackend(); });

const z = () => ({ real: tf.tensor1d([3, 0, -1, -2]), imag: tf.tensor1d([4, 2, 0, -2]) });

test('powerSpectrum, magnitude and phase of known values', () => {
  const a = z();
  assertClose(powerSpectrum(a), [25, 4, 1, 8], { atol: 1e-6, label: 'power' });
  assertClose(magnitude(a), [5, 2, 1, Math.SQRT2 * 2], { atol: 1e-6, label: 'magnitude' });
  assertClose(magnitude(a, 1e-8), [5, 2, 1, Math.SQRT2 * 2], { atol: 1e-6, label: 'magnitude eps' });
  assertClose(phase(a), [Math.atan2(4, 3), Math.PI / 2, Math.PI, (-3 * Math.PI) / 4], { atol: 1e-6, label: 'phase' });
  // with eps the gradient at an exact zero is finite (0); without it, it is not
  const g = tf.grad((r: tf.Tensor) => magnitude({ real: r, imag: tf.zeros([1]) }, 1e-8).sum())(tf.zeros([1]));
  assert.equal(g.dataSync()[0], 0);
  tf.dispose([a.real, a.imag, g]);
});

test('complexMul and polar', () => {
  const a = { real: tf.tensor1d([1, 0]), imag: tf.tensor1d([2, 1]) };
  const b = { real: tf.tensor1d([3, 0]), imag: tf.tensor1d([4, 1]) };
  const p = complexMul(a, b);
  assertClose(p.real, [-5, -1], { atol: 1e-6, label: 'complexMul real' });
  assertClose(p.imag, [10, 0], { atol: 1e-6, label: 'complexMul imag' });
  const q = polar(tf.tensor1d([2]), tf.tensor1d([Math.PI / 3]));
  assertClose(q.real, [1], { atol: 1e-6, label: 'polar real' });
  assertClose(q.imag, [Math.sqrt(3)], { atol: 1e-6, label: 'polar imag' });
  assert.throws(() => complexMul(a, { real: tf.zeros([3]), imag: tf.zeros([2]) }), /real shape \[3\] differs from imag shape \[2\]/);
  tf.dispose([a.real, a.imag, b.real, b.imag, p.real, p.imag, q.real, q.imag]);
});

test('complex helpers leak no tensors', async () => {
  const a = z();
  await assertNoLeak(() => powerSpectrum(a), 'powerSpectrum');
  await assertNoLeak(() => magnitude(a, 1e-8), 'magnitude');
  await assertNoLeak(() => phase(a), 'phase');
  await assertNoLeak(() => complexMul(a, a), 'complexMul');
  await assertNoLeak(() => polar(a.real, a.imag), 'polar');
  tf.dispose([a.real, a.imag]);
});
