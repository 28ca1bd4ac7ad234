// slimspeech separate: consecutive chunks' sources are matched on their overlap (a model whose source order
// flips from chunk to chunk still gives continuous sources), files at another rate come back at their own
// rate and length, one file per source, errors name the problem.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';
import { readWav, writeWav } from '../../lib/audio/wav';
import { Ctx, Module, registerModule } from '../../lib/nn/module';
import { saveModel } from '../../lib/nn/serialize';
import { matchSources, separateFiles, separateSignal } from '../../lib/experiments/separate';

before(async () => {
  await setupBackend();
});

/** A stand-in separator whose source order depends on its chunk: [x, -x] or [-x, x] by the sign of its first samples. */
class FlipSeparator extends Module {
  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    return tf.tidy(() => {
      const sign = tf.sign(tf.sum(tf.slice(x, [0, 0], [-1, 10]), 1, true)); // [B, 1]
      const a = tf.mul(x, tf.where(tf.greaterEqual(sign, 0), tf.onesLike(sign), tf.neg(tf.onesLike(sign))));
      return tf.stack([a, tf.neg(a)], 1);
    });
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}
registerModule('TestFlipSeparator', FlipSeparator);

test('matchSources finds the order that continues the previous chunk', () => {
  const a = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i / 3));
  const b = Float32Array.from({ length: 100 }, (_, i) => Math.cos(i / 7));
  const c = Float32Array.from({ length: 100 }, (_, i) => ((i * 7919) % 13) - 6);
  assert.deepEqual(matchSources([a, b, c], 40, [c.slice(40), a.slice(40), b.slice(40)], 60), [1, 2, 0]);
});

test('sources stay continuous across chunks although the model flips their order', () => {
  const x = Float32Array.from({ length: 20000 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * i) / 1370));
  const [s1, s2] = separateSignal(new FlipSeparator(), x, 3000, 500);
  const first = Math.sign(s1[100] / x[100]);
  for (let i = 0; i < x.length; i++) {
    if (Math.abs(x[i]) < 1e-3) continue;
    assert.ok(Math.abs(s1[i] - first * x[i]) < 1e-5, `sample ${i}: ${s1[i]} vs ${first * x[i]}`);
    assert.ok(Math.abs(s2[i] + first * x[i]) < 1e-5);
  }
});

test('separateFiles writes one file per source at the input rate and length; errors name the problem', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-sep-'));
  await saveModel(new FlipSeparator(), path.join(dir, 'model'), { metadata: { sampleRate: 8000 } });
  const x = Float32Array.from({ length: 16000 * 3 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 300 * i) / 16000));
  writeWav(path.join(dir, 'mix.wav'), x, 16000);
  const [done] = await separateFiles(path.join(dir, 'model'), [path.join(dir, 'mix.wav')], { outDir: path.join(dir, 'out'),
    chunkSeconds: 1, overlapSeconds: 0.25, progress: 'none' });
  assert.deepEqual(done.outputs.map((f) => path.basename(f)), ['mix_s1.wav', 'mix_s2.wav']);
  for (const f of done.outputs) {
    const w = readWav(f);
    assert.equal(w.sampleRate, 16000);
    assert.equal(w.channelData[0].length, x.length);
  }
  fs.writeFileSync(path.join(dir, 'bad.wav'), 'RIFF');
  await assert.rejects(separateFiles(path.join(dir, 'model'), [path.join(dir, 'bad.wav')], { outDir: path.join(dir, 'o'), progress: 'none' }),
    /bad\.wav/);
  await assert.rejects(separateFiles(path.join(dir, 'model'), [path.join(dir, 'mix.wav')], { outDir: path.join(dir, 'o'), chunkSeconds: 1,
    overlapSeconds: 1, progress: 'none' }), /chunkSeconds > overlapSeconds > 0/);
});
