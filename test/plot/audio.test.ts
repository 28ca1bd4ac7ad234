// Inline audio players: the data URI is a valid 16-bit WAV of the samples, the HTML is escaped and
// parses into playable <audio> elements in Chromium, errors name the argument, tensors leak nothing.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../helpers';
import { readWav } from '../../lib/audio/wav';
import { audio, audioHtml } from '../../lib/plot/audio';
import { count, renderDom } from './chromium';
import { startFakeTslab } from './fake_tslab';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slimspeech-plot-audio-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/** A chirp-like test signal in (-1, 1). */
function clip(n: number, rate: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 0.8 * Math.sin(2 * Math.PI * (200 + i / 20) * (i / rate)));
}

/** The WAV bytes of every data URI in the HTML, in order. */
function wavs(html: string): Uint8Array[] {
  return [...html.matchAll(/src="data:audio\/wav;base64,([A-Za-z0-9+/=]+)"/g)].map((m) => new Uint8Array(Buffer.from(m[1], 'base64')));
}

test('audioHtml: the data URI is a 16-bit PCM WAV that readWav decodes back to the samples within quantisation', async () => {
  const x = clip(4000, 8000);
  x[10] = 1.5; // beyond full scale: clipped by the encoding
  const html = await audioHtml(x, 8000);
  const [bytes] = wavs(html);
  assert.ok(bytes, 'no WAV data URI in the HTML');
  const w = readWav(bytes);
  assert.equal(w.sampleRate, 8000);
  assert.equal(w.channelData.length, 1);
  assert.equal(w.channelData[0].length, x.length);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(w.channelData[0][i] - Math.min(x[i], 32767 / 32768)));
  assert.ok(worst <= 0.5 / 32768 + 1e-9, `worst deviation ${worst} exceeds half a 16-bit step`);
  assert.equal(new DataView(bytes.buffer).getUint16(34, true), 16, 'bits per sample');
  assert.match(html, /0\.50 s, 8 kHz/);
});

test('audioHtml: tensors [time] and [1, time] and plain arrays give the same player, and no tensor leaks', async () => {
  await setupBackend();
  const x = clip(800, 16000);
  const t1 = tf.tensor1d(x);
  const t2 = tf.tensor2d(x, [1, x.length]);
  const before = tf.memory().numTensors;
  const a = await audioHtml(x, 16000);
  const b = await audioHtml(t1, 16000);
  const c = await audioHtml(t2, 16000);
  const d = await audioHtml(Array.from(x), 16000);
  assert.equal(tf.memory().numTensors, before);
  assert.ok(!t1.isDisposed && !t2.isDisposed, 'the caller\'s tensors are not disposed');
  tf.dispose([t1, t2]);
  assert.equal(b, a);
  assert.equal(c, a);
  assert.equal(d, a);
});

test('audioHtml: named signals become captioned players in a row; labels and names are escaped', async () => {
  const html = await audioHtml({ 'noisy <in>': clip(1600, 16000), clean: clip(800, 16000) }, 16000, { label: 'A & B "pair"' });
  assert.equal(count(html, '<audio controls'), 2);
  assert.equal(wavs(html).length, 2);
  assert.match(html, /A &amp; B &quot;pair&quot;/);
  assert.match(html, /noisy &lt;in&gt; · 0\.10 s, 16 kHz/);
  assert.match(html, /clean · 0\.05 s, 16 kHz/);
  assert.ok(!html.includes('<in>'));
});

test('audioHtml: normalize scales the peak to 0.99 and says so', async () => {
  const x = new Float32Array([0, 0.01, -0.02, 0.005]);
  const html = await audioHtml(x, 16000, { normalize: true });
  const y = readWav(wavs(html)[0]).channelData[0];
  assert.ok(Math.abs(y[2] + 0.99) <= 1 / 32768, `peak ${y[2]}`);
  assert.ok(Math.abs(y[1] - 0.495) <= 1 / 32768);
  assert.match(html, /peak-normalised/);
  assert.equal(x[2], Math.fround(-0.02), 'the input is not modified');
});

test('audioHtml: errors name the argument and the problem', async () => {
  await setupBackend();
  await assert.rejects(audioHtml(clip(10, 8000), 0), /sampleRate must be a positive integer, received 0/);
  await assert.rejects(audioHtml(clip(10, 8000), 8000.5), /sampleRate/);
  await assert.rejects(audioHtml(new Float32Array(0), 8000), /samples: received no samples/);
  await assert.rejects(audioHtml({ a: new Float32Array([0, NaN]) }, 8000), /samples\.a: sample 1 is NaN/);
  const stereo = tf.zeros([2, 10]);
  await assert.rejects(audioHtml(stereo, 8000), /\[time\] or \[1, time\], received \[2, 10\]/);
  stereo.dispose();
  await assert.rejects(audioHtml({}, 8000), /empty record/);
  await assert.rejects(audioHtml('loud' as unknown as Float32Array, 8000), /expected samples/);
});

test('the players parse in Chromium, which decodes each WAV and reports its duration', async () => {
  const html = await audioHtml({ a: clip(8000, 16000), b: clip(2000, 8000) }, 16000);
  const probe = '<script>document.querySelectorAll("audio").forEach(function (a) {' +
    'a.addEventListener("loadedmetadata", function () { a.setAttribute("data-duration", String(a.duration)); });' +
    'a.addEventListener("error", function () { a.setAttribute("data-error", String(a.error && a.error.code)); }); });</script>';
  const file = path.join(tmp, 'players.html');
  fs.writeFileSync(file, `<!doctype html><html><body>${html}${probe}</body></html>`);
  const dom = renderDom(file, 5000);
  assert.equal(count(dom, /<audio controls=""/), 2, 'both <audio> elements are in the parsed DOM');
  assert.equal(count(dom, 'data-error="'), 0, 'Chromium failed to decode a WAV');
  assert.match(dom, /data-duration="0\.5"/);
  assert.match(dom, /data-duration="0\.125"/);
  assert.match(dom, /<figcaption[^>]*>b · 0\.13 s, 16 kHz<\/figcaption>/);
});

test('audio: shows the players in a tslab kernel and returns nothing; elsewhere it shows nothing', async () => {
  assert.equal(await audio(clip(100, 8000), 8000), undefined);
  const kernel = startFakeTslab();
  kernel.setReady(true);
  assert.equal(await audio(clip(100, 8000), 8000, { label: 'one' }), undefined);
  assert.equal(kernel.outputs.length, 1);
  assert.match(kernel.outputs[0], /^<div class="slimspeech-audio">.*<audio controls preload="metadata" src="data:audio\/wav;base64,/);
  assert.ok(!kernel.outputs[0].includes('<script'), 'a player needs no script (and no plotly.js)');
});
