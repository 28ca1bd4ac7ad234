import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';
import { envelopeIndices, waveform } from '../../lib/plot/waveform';

test('waveform: time axis in seconds from the sample rate; a [1, time] tensor is accepted', async () => {
  await setupBackend();
  const x = tf.tensor2d([[0, 0.5, -0.5, 1]]);
  const fig = await waveform(x, { sampleRate: 4 });
  x.dispose();
  assert.equal(fig.data.length, 1);
  assert.deepEqual(fig.data[0].x, [0, 0.25, 0.5, 0.75]);
  assert.deepEqual(fig.data[0].y, [0, 0.5, -0.5, 1]);
  assert.equal(fig.layout.xaxis?.title?.text, 'time (s)');
  assert.equal(fig.layout.yaxis?.title?.text, 'amplitude');
});

test('envelopeIndices keeps each chunk\'s minimum and maximum in time order, and all samples when short', () => {
  assert.deepEqual(envelopeIndices([1, 2, 3], 5), [0, 1, 2]);
  //                 chunk 0      chunk 1       chunk 2
  const x = [0, 5, -3, 1, 2, 9, -7, 4, 0, 0, 0, 0];
  assert.deepEqual(envelopeIndices(x, 6), [1, 2, 5, 6, 8]);
});

test('waveform: a long signal keeps its peaks within maxPoints', async () => {
  const n = 100000;
  const signal = new Float32Array(n);
  signal[54321] = 1;
  signal[77777] = -0.75;
  const fig = await waveform(signal, { maxPoints: 1000 });
  const y = fig.data[0].y as number[];
  assert.ok(y.length <= 1000, `${y.length} points`);
  assert.equal(Math.max(...y), 1);
  assert.equal(Math.min(...y), -0.75);
  assert.ok((fig.data[0].x as number[]).includes(54321 / 16000));
});

test('waveform: several signals stack in panels with linked time axes, or overlay with a legend', async () => {
  const sig = { noisy: [0, 1, 0], enhanced: [0, 0.5, 0], clean: [0, 0.4, 0] };
  const stacked = await waveform(sig);
  assert.equal(stacked.data.length, 3);
  assert.deepEqual(stacked.data.map((t) => t.yaxis), ['y', 'y2', 'y3']);
  assert.equal((stacked.layout.yaxis2 as { title: { text: string } }).title.text, 'enhanced');
  assert.equal((stacked.layout.xaxis3 as { matches: string }).matches, 'x');
  assert.equal((stacked.layout.xaxis3 as { title: { text: string } }).title.text, 'time (s)');
  assert.equal(stacked.layout.showlegend, false);
  const over = await waveform(sig, { arrange: 'overlay' });
  assert.ok(over.data.every((t) => t.yaxis === undefined));
  assert.equal(over.layout.showlegend, true);
  await assert.rejects(waveform([1], { sampleRate: -1 }), /sampleRate must be a positive number, received -1/);
});
