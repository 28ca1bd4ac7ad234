// The slimmable DS-CNN supernet: shapes, presets, parameter counts under 250k at every width, MACs
// monotone in width, rebuilding from its config, errors, leaks.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertNoLeak } from '../helpers';
import { buildModule, manualSeed } from '../../lib/nn';
import { countMacs, countParams } from '../../lib/metrics/size';
import { extractSubnet } from '../../lib/slim';
import { DS_CNN_PRESETS, SlimDsCnn, slimDsCnn } from '../../lib/models';

before(async () => {
  await setupBackend();
});

const WIDTHS = [0.25, 0.5, 0.75, 1];

test('DS-CNN: logits [batch, classes] at every width from log-mel [batch, frames, mels]', () => {
  const m = slimDsCnn();
  assert.deepEqual(m.args.widths, WIDTHS);
  assert.deepEqual([m.args.frames, m.args.mels, m.args.numClasses], [98, 40, 12]);
  const x = tf.randomNormal([2, 98, 40]);
  for (const w of WIDTHS) tf.tidy(() => assert.deepEqual(m.forward(x, { training: false, width: w }).shape, [2, 12]));
  assert.throws(() => m.forward(tf.zeros([2, 40, 98]), { training: false }), /expected log-mel \[batch, 98, 40\], got \[2,40,98\]/);
  assert.throws(() => slimDsCnn({ preset: 'huge' as 'paper' }), /unknown preset 'huge'/);
  x.dispose();
  m.dispose();
});

for (const preset of ['default', 'paper'] as const) {
  test(`DS-CNN '${preset}': every subnet has under 250k parameters; parameters and MACs grow with width`, () => {
    const m = slimDsCnn({ preset });
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
    assert.ok(countParams(m) < 250_000, 'the supernet itself too');
    m.dispose();
  });
}

test('DS-CNN: the default preset is DS-CNN-S sized; the config rebuilds the same architecture', () => {
  manualSeed(1);
  const m = slimDsCnn();
  const full = extractSubnet(m, 1);
  // stem 10*4*1*64, 4 blocks of depthwise 3*3*64 and pointwise 64*64, BN 2*64 per norm, head 64*12+12.
  assert.equal(countParams(full), 10 * 4 * 64 + 4 * (9 * 64 + 64 * 64) + 9 * 2 * 64 + 64 * 12 + 12);
  const rebuilt = buildModule(m.spec()) as SlimDsCnn;
  assert.deepEqual([...rebuilt.stateDict()].map(([k, v]) => `${k}:${v.shape}`), [...m.stateDict()].map(([k, v]) => `${k}:${v.shape}`));
  assert.deepEqual(DS_CNN_PRESETS.paper.channels, [172, 172, 172, 172, 172]);
  for (const x of [m, full, rebuilt]) x.dispose();
});

test('DS-CNN: forward and construction leak no tensors', async () => {
  const m = slimDsCnn({ preset: 'quick' });
  const x = tf.randomNormal([2, 98, 40]);
  await assertNoLeak(() => m.forward(x, { training: true, width: 0.5 }), 'DS-CNN forward');
  await assertNoLeak(() => slimDsCnn({ preset: 'quick' }).dispose(), 'DS-CNN construction');
  x.dispose();
  m.dispose();
});
