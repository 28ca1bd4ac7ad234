// slimspeech enhance: chunked enhancement equals one pass for a pointwise model, files at another rate come
// back at their own rate and length, the model's rate comes from its metadata, errors name the file.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ROOT, setupBackend } from '../helpers';
import { readWav, writeWav } from '../../lib/audio/wav';
import { Ctx, Module, registerModule } from '../../lib/nn/module';
import { saveModel } from '../../lib/nn/serialize';
import { enhanceFiles, enhanceSignal } from '../../lib/experiments/enhance';
import { Rng } from '../../lib/util/rng';

before(async () => {
  await setupBackend();
});

/** A stand-in enhancement model: halves the waveform. */
class Half extends Module {
  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    return tf.tidy(() => tf.mul(x, 0.5));
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}
registerModule('TestHalf', Half);

/** A stand-in with context: every output sample is the mean of its chunk (so chunks disagree near a step). */
class ChunkMean extends Module {
  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    return tf.tidy(() => tf.mul(tf.onesLike(x), tf.mean(x, 1, true)));
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
}

const tone = (n: number, rate: number) => Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / rate));

test('chunks cross-faded over their overlap give what one pass gives, for any chunk and overlap', () => {
  const m = new Half();
  const r = new Rng(1);
  const x = Float32Array.from({ length: 10007 }, () => r.normal(0, 0.2));
  const whole = enhanceSignal(m, x, 20000, 0);
  for (const [chunk, overlap] of [[1000, 100], [3000, 0], [999, 998]]) {
    const parts = enhanceSignal(m, x, chunk, overlap);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(parts[i] - whole[i]));
    assert.ok(worst < 1e-5, `chunk ${chunk}, overlap ${overlap}: ${worst}`);
  }
});

test('overlaps are cross-faded: a model whose chunks disagree gives a continuous output', () => {
  const x = Float32Array.from({ length: 4000 }, (_, i) => (i < 1900 ? 0 : 1));
  const y = enhanceSignal(new ChunkMean(), x, 1000, 200);
  let jump = 0;
  for (let i = 1; i < y.length; i++) jump = Math.max(jump, Math.abs(y[i] - y[i - 1]));
  // Adjacent chunk means differ by at most 0.9 (a step inside one chunk); a linear fade over 200 samples moves
  // by at most 0.9 / 201 per sample, a hard switch by half the difference at once.
  assert.ok(jump <= 0.9 / 201 + 1e-6, `largest jump ${jump}`);
  assert.ok(Math.abs(y[0]) < 1e-6 && Math.abs(y[3999] - 1) < 1e-6);
});

test('enhanceFiles resamples in and back out, keeps length and channels, reads the rate from the metadata', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-enh-'));
  await saveModel(new Half(), path.join(dir, 'model'), { metadata: { sampleRate: 16000 } });
  writeWav(path.join(dir, 'a.wav'), tone(8000 * 3, 8000), 8000);
  writeWav(path.join(dir, 'b.wav'), [tone(44100, 44100), tone(44100, 44100)], 44100);
  const done = await enhanceFiles(path.join(dir, 'model'), [path.join(dir, 'a.wav'), path.join(dir, 'b.wav')],
    { outDir: path.join(dir, 'out'), chunkSeconds: 1, progress: 'none' });
  assert.equal(done.length, 2);
  const a = readWav(path.join(dir, 'out', 'a.wav'));
  assert.equal(a.sampleRate, 8000);
  assert.equal(a.channelData[0].length, 24000);
  const b = readWav(path.join(dir, 'out', 'b.wav'));
  assert.equal(b.channelData.length, 2);
  assert.equal(b.sampleRate, 44100);
  // Half the input, up to the resampling round trip and 16-bit storage, away from the edges.
  const x = tone(24000, 8000);
  let worst = 0;
  for (let i = 400; i < 23600; i++) worst = Math.max(worst, Math.abs(a.channelData[0][i] - 0.5 * x[i]));
  assert.ok(worst < 2e-3, `worst ${worst}`);
});

test('enhance errors: the file that is not a WAV, a model without a sample rate, the CLI without --out', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-enh-err-'));
  await saveModel(new Half(), path.join(dir, 'model'), { metadata: { sampleRate: 16000 } });
  await saveModel(new Half(), path.join(dir, 'bare'));
  fs.writeFileSync(path.join(dir, 'junk.wav'), 'not audio');
  await assert.rejects(enhanceFiles(path.join(dir, 'model'), [path.join(dir, 'junk.wav')], { outDir: path.join(dir, 'o'), progress: 'none' }),
    /junk\.wav/);
  await assert.rejects(enhanceFiles(path.join(dir, 'bare'), [path.join(dir, 'junk.wav')], { outDir: path.join(dir, 'o'), progress: 'none' }),
    /does not say the model's sample rate .*--sample-rate/);
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'enhance', path.join(dir, 'model'), path.join(dir, 'junk.wav')],
    { encoding: 'utf8', env: { ...process.env, SLIMSPEECH_BACKEND: 'wasm' } });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /enhance needs --out DIR/);
});
