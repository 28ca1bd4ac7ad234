// The slimmable KWT supernet: shapes, pooling, presets, parameter counts under 250k at every width, MACs
// monotone in width, rebuilding from its config, errors, leaks.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertClose, assertNoLeak } from '../helpers';
import { buildModule, manualSeed } from '../../lib/nn';
import { countMacs, countParams } from '../../lib/metrics/size';
import { extractSubnet } from '../../lib/slim';
import { KWT_PRESETS, SlimKwt, slimKwt } from '../../lib/models';

before(async () => {
  await setupBackend();
});

const WIDTHS = [0.25, 0.5, 0.75, 1];

test('KWT: logits at every width; patches of several frames; mean pooling; errors', () => {
  const m = slimKwt();
  const x = tf.randomNormal([2, 98, 40]);
  for (const w of WIDTHS) tf.tidy(() => assert.deepEqual(m.forward(x, { training: false, width: w }).shape, [2, 12]));
  assert.deepEqual(m.posEmbed.shape, [99, 64], 'one token per frame plus the class token');
  const patched = slimKwt({ preset: 'quick', patchFrames: 2, pooling: 'mean' });
  assert.equal(patched.clsToken, undefined);
  assert.deepEqual(patched.posEmbed.shape, [49, 16]);
  tf.tidy(() => assert.deepEqual(patched.forward(x, { training: false, width: 0.5 }).shape, [2, 12]));
  assert.throws(() => slimKwt({ patchFrames: 3 }), /patchFrames 3 must divide frames 98/);
  assert.throws(() => m.forward(tf.zeros([2, 98]), { training: false }), /expected log-mel \[batch, 98, 40\], got \[2,98\]/);
  x.dispose();
  m.dispose();
  patched.dispose();
});

for (const preset of ['default', 'paper'] as const) {
  test(`KWT '${preset}': every subnet has under 250k parameters; parameters and MACs grow with width`, () => {
    const m = slimKwt({ preset });
    let prev = { params: 0, macs: 0 };
    for (const w of WIDTHS) {
      const sub = extractSubnet(m, w);
      const params = countParams(sub);
      const macs = countMacs(m, [1, 98, 40], { training: false, width: w });
      assert.ok(params < 250_000, `width ${w}: ${params} parameters`);
      assert.ok(params > prev.params && macs > prev.macs, `width ${w}: ${params} params, ${macs} MACs grow`);
      prev = { params, macs };
      sub.dispose();
    }
    m.dispose();
  });
}

test('KWT: parameter count by formula; the config rebuilds the same architecture; width 1 needs no slicing', () => {
  manualSeed(2);
  const m = slimKwt();
  const E = 64, F = 128, L = 2;
  const layer = 4 * (E * E + E) + (E * F + F) + (F * E + E) + 4 * E;
  assert.equal(countParams(m), 40 * E + E + L * layer + 2 * E + E * 12 + 12 + E + 99 * E);
  const rebuilt = buildModule(m.spec()) as SlimKwt;
  assert.deepEqual([...rebuilt.stateDict()].map(([k, v]) => `${k}:${v.shape}`), [...m.stateDict()].map(([k, v]) => `${k}:${v.shape}`));
  const x = tf.randomNormal([2, 98, 40]);
  tf.tidy(() => assertClose(m.forward(x, { training: false }), m.forward(x, { training: false, width: 1 }), { atol: 0, rtol: 0 }));
  assert.deepEqual(KWT_PRESETS.paper, { dModel: 64, numHeads: 4, dimFeedforward: 256, numLayers: 4 });
  x.dispose();
  m.dispose();
  rebuilt.dispose();
});

test('KWT: forward leaks no tensors', async () => {
  const m = slimKwt({ preset: 'quick' });
  const x = tf.randomNormal([2, 98, 40]);
  await assertNoLeak(() => m.forward(x, { training: true, width: 0.5 }), 'KWT forward');
  await assertNoLeak(() => slimKwt({ preset: 'quick' }).dispose(), 'KWT construction');
  x.dispose();
  m.dispose();
});
