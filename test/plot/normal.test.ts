import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { assertClose, fixture } from '../helpers';
import { normalCdf, probit } from '../../lib/plot/normal';

// Written by test/reference/plot_det_roc.py: scipy.stats.norm.ppf and norm.cdf.
const fx = fixture<{
  probit: { p: number[]; ppf: number[] };
  cdf: { x: number[]; cdf: number[] };
}>('plot_det_roc');

test('normalCdf equals scipy.stats.norm.cdf with small relative error, down to Phi(-30) ~ 5e-198', () => {
  fx.cdf.x.forEach((x, i) => {
    const rel = Math.abs(normalCdf(x) / fx.cdf.cdf[i] - 1);
    assert.ok(rel < 1e-13, `normalCdf(${x}) = ${normalCdf(x)}, scipy ${fx.cdf.cdf[i]}, relative error ${rel}`);
  });
});

test('probit equals scipy.stats.norm.ppf from 1e-12 to 1 - 1e-9', () => {
  assertClose(fx.probit.p.map(probit), fx.probit.ppf, { atol: 1e-12, rtol: 1e-12, label: 'probit' });
  assert.equal(probit(0), -Infinity);
  assert.equal(probit(1), Infinity);
  assert.ok(Number.isNaN(probit(1.5)) && Number.isNaN(probit(-0.1)) && Number.isNaN(probit(NaN)));
});

test('probit: closed forms Phi^-1(0.5) = 0, Phi^-1(Phi(1)) = 1, and symmetry', () => {
  assert.ok(Math.abs(probit(0.5)) < 1e-15);
  // Phi(1) = (1 + erf(1/sqrt 2)) / 2, erf(1/sqrt 2) = 0.682689492137085897... (68-95-99.7 rule).
  const phi1 = (1 + 0.6826894921370859) / 2;
  assertClose(normalCdf(1), phi1, { atol: 1e-15, rtol: 1e-14 });
  assertClose(probit(phi1), 1, { atol: 1e-13, rtol: 0 });
  for (const p of [1e-7, 0.003, 0.2, 0.45]) assertClose(probit(1 - p), -probit(p), { atol: 1e-9, rtol: 1e-9 });
});
