import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, setupBackend } from '../helpers';
import { spectrogram } from '../../lib/plot/spectrogram';

test('spectrogram: [frames, bins] becomes z[bin][frame] with time and frequency axes', async () => {
  await setupBackend();
  const spec = tf.tensor2d([[1, 2, 3], [4, 5, 6]]); // 2 frames, 3 bins
  const fig = await spectrogram(spec, { frameSeconds: 0.01, binHz: 31.25 });
  spec.dispose();
  assert.equal(fig.data.length, 1);
  const hm = fig.data[0];
  assert.deepEqual(hm.z, [[1, 4], [2, 5], [3, 6]]);
  assert.deepEqual([hm.x0, hm.dx, hm.y0, hm.dy], [0, 0.01, 0, 31.25]);
  assert.equal(fig.layout.xaxis?.title?.text, 'time (s)');
  assert.equal(fig.layout.yaxis?.title?.text, 'frequency (Hz)');
  assert.notEqual(fig.layout.yaxis?.autorange, 'reversed');
  const plain = await spectrogram([[0, 1]]);
  assert.equal(plain.layout.xaxis?.title?.text, 'frame');
  assert.equal(plain.layout.yaxis?.title?.text, 'bin');
});

test('spectrogram: before/after side by side in dB, floored dbRange below the common maximum', async () => {
  const fig = await spectrogram({ noisy: [[1, 0.1], [0.01, 0]], enhanced: [[10, 1e-3]] }, { db: true, dbRange: 50 });
  assert.equal(fig.data.length, 2);
  assert.deepEqual(fig.data.map((t) => t.name), ['noisy', 'enhanced']);
  // max is 20 log10(10) = 20 dB, so everything is floored at -30 dB.
  assertClose(fig.data[0].z!.flat() as number[], [0, -30, -20, -30]);
  assertClose(fig.data[1].z!.flat() as number[], [20, -30]);
  const ca = fig.layout.coloraxis as { cmin: number; cmax: number; colorbar: { title: { text: string } } };
  assertClose([ca.cmin, ca.cmax], [-30, 20]);
  assert.equal(ca.colorbar.title.text, 'dB');
  assert.equal((fig.layout.xaxis2 as { matches?: string }).matches, undefined, 'different shapes are not linked');
});

test('spectrogram rejects bad options and empty input', async () => {
  await assert.rejects(spectrogram([[1]], { frameSeconds: 0 }), /options.frameSeconds must be a positive number, received 0/);
  await assert.rejects(spectrogram({ a: [] }), /spectrogram: specs.a is empty/);
});

test('spectrogram: the colour bar says what it shows: dB, the caller\'s unit, else "value"', async () => {
  const title = (f: { layout: Record<string, unknown> }) =>
    (f.layout.coloraxis as { colorbar: { title: { text: string } } }).colorbar.title.text;
  assert.equal(title(await spectrogram([[1, 2]])), 'value');
  assert.equal(title(await spectrogram([[1, 2]], { colorbarTitle: 'log-mel energy' })), 'log-mel energy');
  assert.equal(title(await spectrogram([[1, 2]], { db: true, colorbarTitle: 'dB re 1' })), 'dB re 1');
  const timed = await spectrogram([[1, 2], [3, 4]], { frameSeconds: 0.01 });
  assert.equal(timed.layout.xaxis?.dtick, undefined, 'seconds keep Plotly ticks');
  assert.equal(timed.layout.yaxis?.dtick, 1, 'bins are whole numbers');
});
