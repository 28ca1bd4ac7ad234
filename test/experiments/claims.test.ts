// Claims: the paired bootstrap interval against a normal-theory check and its pooling over seeds, the
// three-way verdict in both directions, preconditions, and input errors.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ClaimSpec, evaluateClaim, pairedBootstrap } from '../../lib/experiments/claims';
import type { RecipeResults } from '../../lib/experiments/results';
import { poolSeeds } from '../../lib/experiments/seeds';
import { eer } from '../../lib/metrics/eer';
import { Rng } from '../../lib/util/rng';

const spec = (direction: 'higher' | 'lower', threshold: number): ClaimSpec => ({
  id: 't', statement: 'A is not worse than B', metric: 'accuracy', variants: ['A', 'B'], direction, threshold,
  display: { scale: 100, unit: 'points' },
});

function sample(n: number, mean: number, sd: number, seed: string): number[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => r.normal(mean, sd));
}

test('pairedBootstrap: the interval of a mean of n values is about mean -/+ 1.96 sd / sqrt(n), and only the differences matter', () => {
  const d = sample(400, 0.3, 1, 'a');
  const m = d.reduce((a, b) => a + b, 0) / d.length;
  const sd = Math.sqrt(d.reduce((a, v) => a + (v - m) ** 2, 0) / (d.length - 1));
  const [lo, hi] = pairedBootstrap([d], { resamples: 4000 });
  const half = (1.96 * sd) / Math.sqrt(d.length);
  assert.ok(Math.abs(lo - (m - half)) < 0.2 * half && Math.abs(hi - (m + half)) < 0.2 * half, `[${lo}, ${hi}] vs ${m} -/+ ${half}`);
  assert.deepEqual(pairedBootstrap([d], { seed: 3 }), pairedBootstrap([d], { seed: 3 }), 'seeded');
  // Pairing: a large per-item offset shared by A and B leaves the interval of A - B unchanged.
  const b = sample(400, 0, 5, 'b');
  const a = b.map((v, i) => v + d[i]);
  const c = evaluateClaim(spec('higher', 0), [{ seed: 0, a, b }], { resamples: 4000 });
  assert.ok(Math.abs(c.interval[0] - lo) < 1e-9 && Math.abs(c.interval[1] - hi) < 1e-9);
});

test('pairedBootstrap over seeds widens the interval when seeds disagree', () => {
  const one = sample(200, 0.1, 0.5, 'x');
  const agree = [one, sample(200, 0.1, 0.5, 'y'), sample(200, 0.1, 0.5, 'z')];
  const disagree = [sample(200, -0.5, 0.5, 'x'), sample(200, 0.1, 0.5, 'y'), sample(200, 0.7, 0.5, 'z')];
  const w = (iv: [number, number]) => iv[1] - iv[0];
  assert.ok(w(pairedBootstrap(disagree)) > 3 * w(pairedBootstrap(agree)), `${w(pairedBootstrap(disagree))} vs ${w(pairedBootstrap(agree))}`);
});

test('verdict: holds when the whole interval clears the threshold, does not hold when it misses it, else inconclusive', () => {
  const b = sample(300, 0.7, 0.1, 'b');
  const shift = (delta: number, sd: number, seed: string) => b.map((v, i) => v + delta + sample(300, 0, sd, seed)[i]);
  const clear = evaluateClaim(spec('higher', -0.01), [{ seed: 0, a: shift(0.02, 0.05, 'c'), b }]);
  assert.equal(clear.verdict, 'holds');
  assert.ok(clear.interval[0] >= -0.01);
  assert.match(clear.reason, /whole interval is at least -1\.0 points/);
  const miss = evaluateClaim(spec('higher', -0.01), [{ seed: 0, a: shift(-0.05, 0.05, 'd'), b }]);
  assert.equal(miss.verdict, 'does not hold');
  assert.ok(miss.interval[1] < -0.01);
  const noisy = evaluateClaim(spec('higher', -0.01), [{ seed: 0, a: shift(-0.01, 0.5, 'e'), b }]);
  assert.equal(noisy.verdict, 'inconclusive', `interval ${noisy.interval}`);
  assert.ok(noisy.interval[0] < -0.01 && noisy.interval[1] > -0.01);
  // 'lower' mirrors it: an error rate at most 0.5 points worse.
  assert.equal(evaluateClaim(spec('lower', 0.005), [{ seed: 0, a: shift(-0.02, 0.05, 'f'), b }]).verdict, 'holds');
  assert.equal(evaluateClaim(spec('lower', 0.005), [{ seed: 0, a: shift(0.05, 0.05, 'g'), b }]).verdict, 'does not hold');
  assert.ok(Math.abs(clear.difference - (clear.meanA - clear.meanB)) < 1e-12);
  assert.equal(clear.items, 300);
  assert.equal(clear.perSeed.length, 1);
});

test('a strict claim ("A beats B") does not hold for identical variants, and holds only strictly above the threshold', () => {
  const b = sample(200, 0.7, 0.1, 'b');
  const strict = { ...spec('higher', 0), strict: true };
  const same = evaluateClaim(strict, [{ seed: 0, a: [...b], b }]);
  assert.deepEqual(same.interval, [0, 0]);
  assert.equal(same.verdict, 'does not hold', same.reason);
  assert.match(same.reason, /misses above \+0\.0 points/);
  assert.equal(evaluateClaim(spec('higher', 0), [{ seed: 0, a: [...b], b }]).verdict, 'holds', 'the non-strict claim "at least" holds');
  assert.equal(evaluateClaim(strict, [{ seed: 0, a: b.map((v) => v + 0.01), b }]).verdict, 'holds');
  assert.equal(evaluateClaim({ ...spec('lower', 0), strict: true }, [{ seed: 0, a: [...b], b }]).verdict, 'does not hold');
});

test('a failed precondition makes any difference inconclusive, with the reason', () => {
  const a = new Array(100).fill(1), b = new Array(100).fill(0);
  const c = evaluateClaim(spec('higher', 0), [{ seed: 4, a, b, precondition: { ok: false, reason: 'both models are at chance' } }]);
  assert.equal(c.verdict, 'inconclusive');
  assert.match(c.reason, /both models are at chance \(seed 4\)/);
  assert.equal(evaluateClaim(spec('higher', 0), [{ seed: 4, a, b, precondition: { ok: true, reason: '' } }]).verdict, 'holds');
});

test('claims refuse unpaired, empty or non-finite evidence', () => {
  assert.throws(() => evaluateClaim(spec('higher', 0), []), /no evidence/);
  assert.throws(() => evaluateClaim(spec('higher', 0), [{ seed: 0, a: [1, 2], b: [1] }]), /same non-zero number of items.*2 and 1/);
  assert.throws(() => evaluateClaim(spec('higher', 0), [{ seed: 0, a: [NaN], b: [1] }]), /not finite/);
});

test('an EER claim: per-trial scores and labels, the EER of each system, a paired bootstrap over trials', () => {
  const r = new Rng('eer-claim');
  const labels = Array.from({ length: 400 }, (_, i) => (i % 2 ? 1 : 0));
  const good = labels.map((l) => (l ? 1 : 0) + r.normal(0, 0.6));      // EER about 20%
  const poor = labels.map((l) => (l ? 1 : 0) + r.normal(0, 2));        // EER about 40%
  const s: ClaimSpec = { id: 'e', statement: 'A verifies with an EER at most B\'s', metric: 'EER over trials', variants: ['A', 'B'],
    direction: 'lower', threshold: 0, statistic: 'eer', display: { scale: 100, unit: 'points' } };
  const c = evaluateClaim(s, [{ seed: 0, a: good, b: poor, labels }], { resamples: 500 });
  assert.equal(c.meanA, eer(good, labels).eer, 'meanA is the EER of A on all trials');
  assert.equal(c.meanB, eer(poor, labels).eer);
  assert.ok(c.meanA > 0.1 && c.meanA < 0.3 && c.meanB > 0.3, `EERs ${c.meanA}, ${c.meanB}`);
  const [lo, hi] = c.interval;
  assert.ok(lo < c.difference && c.difference < hi && hi < 0, `interval [${lo}, ${hi}] around ${c.difference}, below 0`);
  assert.equal(c.verdict, 'holds');
  assert.equal(c.items, 400);
  const same = evaluateClaim({ ...s, strict: true }, [{ seed: 0, a: good, b: good, labels }], { resamples: 200 });
  assert.deepEqual(same.interval, [0, 0]);
  assert.equal(same.verdict, 'does not hold', 'identical systems: a strict "lower" claim does not hold');
  assert.throws(() => evaluateClaim(s, [{ seed: 0, a: good, b: poor }]), /statistic 'eer' needs one label \(0 or 1\) per trial/);
  // Pooling seeds keeps the statistic and strictness.
  const pooled = poolSeeds([0, 1].map((seed) => ({ experiment: 'x', preset: 'quick', overrides: [], seeds: [seed], rows: [], baselines: {},
    claims: [evaluateClaim({ ...s, strict: true }, [{ seed, a: good, b: poor, labels }], { resamples: 100 })] }) as unknown as RecipeResults), []);
  assert.equal(pooled.claims[0].statistic, 'eer');
  assert.equal(pooled.claims[0].strict, true);
  assert.equal(pooled.claims[0].meanA, eer(good, labels).eer);
});
