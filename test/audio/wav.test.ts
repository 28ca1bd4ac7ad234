import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { assertClose, fixture, FixtureTensor, setupBackend } from '../helpers';
import {
  decodeWav, encodeWav, readWav, readWavFile, WavError, WavProblem, writeWav, writeWavFile, WavSampleFormat,
} from '../../lib/audio/wav';

interface DecodeCase { wav: string; sampleRate: number; expected: FixtureTensor }
interface WavFixture {
  decode: Record<string, DecodeCase>;
  unsupported: Record<string, string>;
  encode: Record<string, { dataBase64: string }>;
  encodeInput: FixtureTensor;
  sampleRate: number;
}
// Written by test/reference/audio_wav.py: sox-written files decoded by torchaudio.load(normalize=True),
// and the data chunks torchaudio.save writes.
const fx = fixture<WavFixture>('audio_wav');
const bytesOf = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slimspeech-wav-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function flatChannels(ch: Float32Array[]): number[] {
  return ch.flatMap((c) => Array.from(c));
}

/** Byte offset of a chunk's payload and its declared size, found by walking the RIFF chunks. */
function findChunk(b: Uint8Array, id: string): { at: number; size: number } {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = String.fromCharCode(...b.subarray(0, 4)) !== 'RIFX';
  for (let pos = 12; pos + 8 <= b.length;) {
    const size = view.getUint32(pos + 4, le);
    if (String.fromCharCode(...b.subarray(pos, pos + 4)) === id) return { at: pos + 8, size };
    pos += 8 + size + (size & 1);
  }
  throw new Error(`no '${id}' chunk`);
}

function assertWavError(fn: () => unknown, problem: WavProblem, pattern: RegExp, file = '<bytes>'): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof WavError, `expected WavError, got ${e}`);
    assert.equal(e.problem, problem, e.message);
    assert.ok(e.message.startsWith(`${file}: `), `message should name ${file}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

const META: Record<string, { encoding: string; bits: number; container: string }> = {
  pcm_u8_mono: { encoding: 'pcm', bits: 8, container: 'RIFF' },
  pcm_u8: { encoding: 'pcm', bits: 8, container: 'RIFF' },
  pcm_s16: { encoding: 'pcm', bits: 16, container: 'RIFF' },
  pcm_s16_rifx: { encoding: 'pcm', bits: 16, container: 'RIFX' },
  pcm_s16_3ch_extensible: { encoding: 'pcm', bits: 16, container: 'RIFF' },
  pcm_s16_list_chunk: { encoding: 'pcm', bits: 16, container: 'RIFF' },
  pcm_s24_extensible: { encoding: 'pcm', bits: 24, container: 'RIFF' },
  pcm_s24: { encoding: 'pcm', bits: 24, container: 'RIFF' },
  pcm_s32: { encoding: 'pcm', bits: 32, container: 'RIFF' },
  float32: { encoding: 'float', bits: 32, container: 'RIFF' },
  float64: { encoding: 'float', bits: 64, container: 'RIFF' },
  mulaw: { encoding: 'mulaw', bits: 8, container: 'RIFF' },
  alaw: { encoding: 'alaw', bits: 8, container: 'RIFF' },
  rf64_s16: { encoding: 'pcm', bits: 16, container: 'RF64' },
  pcm_12_in_16: { encoding: 'pcm', bits: 16, container: 'RIFF' },
};

test('readWav decodes every format like torchaudio.load(normalize=True)', () => {
  assert.deepEqual(Object.keys(fx.decode).sort(), Object.keys(META).sort());
  for (const [name, c] of Object.entries(fx.decode)) {
    const wav = readWav(bytesOf(c.wav));
    const [channels, frames] = c.expected.shape;
    assert.equal(wav.sampleRate, c.sampleRate, name);
    assert.equal(wav.numChannels, channels, name);
    assert.equal(wav.channelData.length, channels, name);
    assert.equal(wav.numFrames, frames, name);
    assert.equal(wav.encoding, META[name].encoding, name);
    assert.equal(wav.bitsPerSample, META[name].bits, name);
    assert.equal(wav.container, META[name].container, name);
    assert.equal(wav.lengthFromFileSize, false, name);
    // Codes of up to 24 bits map to float32 exactly. torchaudio rounds 32-bit codes to float32 with an
    // error of up to one float32 ulp (ours are correctly rounded), and sox reads 64-bit floats through
    // 32-bit integers: those two cases agree to one float32 ulp (6e-8 below 1).
    const atol = name === 'float64' || name === 'pcm_s32' ? 6e-8 : 0;
    assertClose(flatChannels(wav.channelData), c.expected.data, { atol, rtol: 0, label: `readWav ${name}` });
  }
});

test('readWav takes a path, an ArrayBuffer, and readWavFile reads asynchronously', async () => {
  const c = fx.decode.pcm_s24_extensible;
  const file = path.join(tmp, 'in.wav');
  fs.writeFileSync(file, bytesOf(c.wav));
  const fromBuffer = readWav(bytesOf(c.wav).slice().buffer);
  for (const wav of [readWav(file), await readWavFile(file), fromBuffer]) {
    assertClose(flatChannels(wav.channelData), c.expected.data, { atol: 0, rtol: 0, label: 'readWav sources' });
  }
  assertWavError(() => readWav(path.join(tmp, 'missing.wav')), 'io', /cannot read the file/, path.join(tmp, 'missing.wav'));
  await assert.rejects(readWavFile(path.join(tmp, 'missing.wav')), /missing\.wav: cannot read the file/);
  assertWavError(() => readWav(file, { expectedSampleRate: 8000 }), 'sample-rate', /sample rate 16000 Hz, expected 8000 Hz/, file);
  assert.equal(readWav(file, { expectedSampleRate: 16000 }).sampleRate, 16000);
});

function withDataSize(b: Uint8Array, size: number, extra: number[] = []): Uint8Array {
  const out = new Uint8Array(b.length + extra.length);
  out.set(b);
  out.set(extra, b.length);
  new DataView(out.buffer).setUint32(findChunk(b, 'data').at - 4, size, true);
  return out;
}

test('streaming placeholder data sizes read to the end of the file, dropping a partial frame', () => {
  const c = fx.decode.pcm_s16;
  for (const size of [0, 0x7ffff000, 0xffffffff]) {
    const wav = readWav(withDataSize(bytesOf(c.wav), size, [1, 2, 3]));
    assert.equal(wav.lengthFromFileSize, true);
    assertClose(flatChannels(wav.channelData), c.expected.data, { atol: 0, rtol: 0, label: `placeholder ${size}` });
  }
});

/** A 16-bit stereo file with its fmt fields changed. */
function patchFmt(fields: Partial<Record<'tag' | 'channels' | 'rate' | 'byteRate' | 'blockAlign' | 'bits', number>>): Uint8Array {
  const b = bytesOf(fx.decode.pcm_s16.wav).slice();
  const view = new DataView(b.buffer);
  const at = findChunk(b, 'fmt ').at;
  const offsets = { tag: [at, 2], channels: [at + 2, 2], rate: [at + 4, 4], byteRate: [at + 8, 4], blockAlign: [at + 12, 2], bits: [at + 14, 2] } as const;
  for (const [k, v] of Object.entries(fields)) {
    const [o, n] = offsets[k as keyof typeof offsets];
    if (n === 2) view.setUint16(o, v as number, true); else view.setUint32(o, v as number, true);
  }
  return b;
}

function renameChunk(b: Uint8Array, id: string, to: string): Uint8Array {
  const out = b.slice();
  const at = findChunk(b, id).at - 8;
  for (let i = 0; i < 4; i++) out[at + i] = to.charCodeAt(i);
  return out;
}

test('broken files throw a WavError naming the problem', () => {
  const good = bytesOf(fx.decode.pcm_s16.wav);
  const dataAt = findChunk(good, 'data').at;
  assertWavError(() => readWav(new Uint8Array(0)), 'empty', /the file is empty \(0 bytes\)/);
  assertWavError(() => readWav(good.slice(0, 10)), 'not-wav', /only 10 bytes, too short/);
  assertWavError(() => readWav(Buffer.from('OggS\0\0\0\0vorbis and more bytes')), 'not-wav', /not a RIFF\/WAVE file \(starts with 'OggS'/);
  const avi = good.slice();
  avi.set([0x41, 0x56, 0x49, 0x20], 8); // 'AVI '
  assertWavError(() => readWav(avi), 'not-wav', /'AVI '/);
  assertWavError(() => readWav(good.slice(0, good.length - 9)), 'truncated', /data chunk declares 148 bytes but only 139 follow/);
  assertWavError(() => readWav(good.slice(0, 30)), 'truncated', /'fmt ' chunk at byte 12 declares 16 bytes but only 10 follow/);
  assertWavError(() => readWav(good.slice(0, dataAt)), 'truncated', /data chunk declares 148 bytes but only 0 follow/);
  assertWavError(() => readWav(withDataSize(good.slice(0, dataAt), 0)), 'empty', /no sample frames/);
  // a zero-size data chunk followed by another chunk is empty, not a stream
  const listAfter = Buffer.concat([withDataSize(good.slice(0, dataAt), 0), Buffer.from('LIST\x04\0\0\0INFO', 'latin1')]);
  assertWavError(() => readWav(listAfter), 'empty', /no sample frames/);
  assertWavError(() => readWav(renameChunk(good, 'fmt ', 'fmx ')), 'inconsistent', /no 'fmt ' chunk/);
  assertWavError(() => readWav(renameChunk(good, 'data', 'dada')), 'inconsistent', /no 'data' chunk/);
  assertWavError(() => readWav(good.slice(0, 12)), 'inconsistent', /no 'fmt ' chunk and no 'data' chunk/);
  assertWavError(() => readWav(patchFmt({ channels: 0 })), 'inconsistent', /declares 0 channels/);
  assertWavError(() => readWav(patchFmt({ rate: 0 })), 'inconsistent', /sample rate of 0/);
  assertWavError(() => readWav(patchFmt({ bits: 0 })), 'inconsistent', /0 bits per sample/);
  assertWavError(() => readWav(patchFmt({ blockAlign: 2 })), 'inconsistent', /block align 2 does not match 2 channel\(s\) of 16-bit samples \(expected 4\)/);
  assertWavError(() => readWav(patchFmt({ bits: 24 })), 'inconsistent', /block align 4 does not match 2 channel\(s\) of 24-bit samples \(expected 6\)/);
  assertWavError(() => readWav(patchFmt({ channels: 1 })), 'inconsistent', /block align 4 does not match 1 channel\(s\)/);
  assertWavError(() => readWav(patchFmt({ byteRate: 32000 })), 'inconsistent', /byte rate 32000 does not match sample rate 16000 x block align 4 \(expected 64000\)/);
  assertWavError(() => readWav(patchFmt({ tag: 0x1234 })), 'unsupported', /unknown encoding \(format tag 0x1234\)/);
  assertWavError(() => readWav(patchFmt({ tag: 3 })), 'unsupported', /16-bit IEEE float/);
  assertWavError(() => readWav(patchFmt({ bits: 48, blockAlign: 12, byteRate: 192000 })), 'unsupported', /48-bit PCM/);
  assertWavError(() => readWav(withDataSize(good, 147)), 'inconsistent', /data chunk size 147 is not a multiple of the block align 4/);
  const shortFmt = good.slice();
  new DataView(shortFmt.buffer).setUint32(16, 14, true);
  assertWavError(() => readWav(shortFmt), 'inconsistent', /'fmt ' chunk is 14 bytes, at least 16 are needed/);
});

test('extensible headers and float samples are validated too', () => {
  const ext = bytesOf(fx.decode.pcm_s24_extensible.wav);
  const fmtAt = findChunk(ext, 'fmt ').at;
  const oddGuid = ext.slice();
  oddGuid[fmtAt + 30] ^= 0xff;
  assertWavError(() => readWav(oddGuid), 'unsupported', /non-standard subformat GUID/);
  const adpcmSub = ext.slice();
  new DataView(adpcmSub.buffer).setUint16(fmtAt + 24, 0x0011, true);
  assertWavError(() => readWav(adpcmSub), 'unsupported', /IMA ADPCM \(format tag 0x0011\)/);
  const moreValid = ext.slice();
  new DataView(moreValid.buffer).setUint16(fmtAt + 18, 32, true);
  assertWavError(() => readWav(moreValid), 'inconsistent', /32 valid bits in 24-bit samples/);

  const f32 = bytesOf(fx.decode.float32.wav).slice();
  new DataView(f32.buffer).setFloat32(findChunk(f32, 'data').at + 4 * 5, NaN, true);
  assertWavError(() => readWav(f32), 'invalid-samples', /sample 2 of channel 1 is NaN/);
});

/** Rewrites a file's 'fmt ' chunk as WAVE_FORMAT_EXTENSIBLE (40 bytes, subformat = the old tag). */
function toExtensible(b: Uint8Array): Uint8Array {
  const fmt = findChunk(b, 'fmt ');
  const data = findChunk(b, 'data');
  const src = new DataView(b.buffer, b.byteOffset);
  const out = new Uint8Array(12 + 48 + 8 + data.size);
  const view = new DataView(out.buffer);
  out.set(b.subarray(0, 12));
  out.set([0x66, 0x6d, 0x74, 0x20], 12);
  view.setUint32(16, 40, true);
  out.set(b.subarray(fmt.at, fmt.at + 16), 20);
  view.setUint16(20, 0xfffe, true);
  view.setUint16(36, 22, true); // cbSize
  view.setUint16(38, src.getUint16(fmt.at + 14, true), true); // valid bits
  view.setUint32(40, 3, true); // channel mask: front left + right
  view.setUint16(44, src.getUint16(fmt.at, true), true); // subformat tag
  out.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 46);
  out.set(b.subarray(data.at - 8, data.at + data.size), 60);
  view.setUint32(4, out.length - 8, true);
  return out;
}

test('WAVE_FORMAT_EXTENSIBLE float and mu-law decode like the plain headers', () => {
  for (const name of ['float32', 'mulaw', 'alaw', 'pcm_u8']) {
    const c = fx.decode[name];
    const wav = readWav(toExtensible(bytesOf(c.wav)));
    assert.equal(wav.encoding, META[name].encoding);
    assertClose(flatChannels(wav.channelData), c.expected.data, { atol: 0, rtol: 0, label: `extensible ${name}` });
  }
});

test('ADPCM and GSM files written by sox are refused by name', () => {
  const expected: Record<string, RegExp> = {
    ima_adpcm: /IMA ADPCM \(format tag 0x0011\)/, ms_adpcm: /Microsoft ADPCM \(format tag 0x0002\)/, gsm: /GSM 6\.10 \(format tag 0x0031\)/,
  };
  assert.deepEqual(Object.keys(fx.unsupported).sort(), Object.keys(expected).sort());
  for (const [name, b64] of Object.entries(fx.unsupported)) {
    const file = path.join(tmp, `${name}.wav`);
    fs.writeFileSync(file, bytesOf(b64));
    assertWavError(() => readWav(file), 'unsupported', expected[name], file);
  }
});

function interleave(channels: Float32Array[]): Float32Array {
  const n = channels[0].length;
  const out = new Float32Array(n * channels.length);
  channels.forEach((ch, c) => ch.forEach((v, i) => { out[i * channels.length + c] = v; }));
  return out;
}

const ENCODE: Record<string, WavSampleFormat> = { 8: 'pcm8', 16: 'pcm16', 24: 'pcm24', 32: 'pcm32', '32f': 'float32' };

test('encodeWav writes the sample bytes torchaudio.save writes', () => {
  const [channels, frames] = fx.encodeInput.shape;
  const x = Float32Array.from(fx.encodeInput.data);
  const perChannel = Array.from({ length: channels }, (_, c) => x.slice(c * frames, (c + 1) * frames));
  for (const [key, format] of Object.entries(ENCODE)) {
    const bytes = encodeWav(perChannel, fx.sampleRate, { format });
    const { at, size } = findChunk(bytes, 'data');
    const expected = bytesOf(fx.encode[key].dataBase64);
    assert.equal(size, expected.length, `${format} data size`);
    const written = bytes.subarray(at, at + size);
    if (key === '32f') {
      // torchaudio.save passes floats through sox's 32-bit integers (one float32 ulp off); ours are
      // the input values themselves.
      const ours = new Float32Array(written.slice().buffer);
      assert.deepEqual(Array.from(ours), Array.from(interleave(perChannel)));
      assertClose(ours, new Float32Array(expected.slice().buffer), { atol: 6e-8, rtol: 0, label: 'encodeWav float32' });
    } else {
      assert.deepEqual(Array.from(written), Array.from(expected), `${format} data bytes`);
    }
    const back = readWav(bytes);
    assert.equal(back.sampleRate, fx.sampleRate);
    assert.equal(back.bitsPerSample, key === '32f' ? 32 : Number(key));
    // Reading back loses at most half a quantisation step.
    const step = key === '32f' ? 0 : 2 ** (1 - Number(key));
    assertClose(flatChannels(back.channelData), x, { atol: step / 2 + 1e-12, rtol: 0, label: `round trip ${format}` });
  }
});

test('writeWav accepts arrays and tensors, and clips PCM', async () => {
  await setupBackend();
  const a = Float32Array.from([0, 0.25, -0.5, 1.5, -2, 0.999]);
  const b = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
  const fileA = path.join(tmp, 'a.wav');
  const fileT = path.join(tmp, 't.wav');
  const fileAsync = path.join(tmp, 'async.wav');
  writeWav(fileA, [a, b], 8000);
  const t = tf.tensor2d([Array.from(a), Array.from(b)]);
  writeWav(fileT, t, 8000);
  await writeWavFile(fileAsync, t, 8000);
  t.dispose();
  assert.deepEqual(fs.readFileSync(fileT), fs.readFileSync(fileA));
  assert.deepEqual(fs.readFileSync(fileAsync), fs.readFileSync(fileA));
  const back = readWav(fileA);
  assert.equal(back.numChannels, 2);
  assert.deepEqual(Array.from(back.channelData[0]), [0, 0.25, -0.5, 32767 / 32768, -1, Math.round(0.999 * 32768) / 32768]);
  // 8-bit mono with an odd byte count needs a pad byte; the file must still read back.
  const odd = encodeWav(Float32Array.from([0.5, -0.5, 0]), 8000, { format: 'pcm8' });
  assert.deepEqual(Array.from(readWav(odd).channelData[0]), [0.5, -0.5, 0]);
  const f64 = readWav(encodeWav(a, 8000, { format: 'float64' }));
  assert.equal(f64.encoding, 'float');
  assert.deepEqual(Array.from(f64.channelData[0]), Array.from(a));
  const mono = tf.tensor1d([0.5, -0.25]);
  writeWav(fileT, mono, 16000);
  mono.dispose();
  assert.deepEqual(Array.from(readWav(fileT).channelData[0]), [0.5, -0.25]);
});

test('writeWav rejects bad input with a message naming the problem', () => {
  const file = path.join(tmp, 'bad.wav');
  assert.throws(() => writeWav(file, [new Float32Array(3), new Float32Array(4)], 8000), /bad\.wav\): channel 1 has 4 samples, channel 0 has 3/);
  assert.throws(() => writeWav(file, Float32Array.from([0, NaN]), 8000), /sample 1 of channel 0 is NaN/);
  assert.throws(() => writeWav(file, new Float32Array(0), 8000), /no samples to write/);
  assert.throws(() => writeWav(file, new Float32Array(2), 0), /sample rate must be a positive integer, got 0/);
  assert.throws(() => writeWav(file, [], 8000), /no channels given/);
  const t3 = tf.zeros([1, 2, 3]);
  assert.throws(() => writeWav(file, t3, 8000), /\[time\] or \[channels, time\], got \[1, 2, 3\]/);
  t3.dispose();
  assert.throws(() => encodeWav(new Float32Array(2), 8000, { format: 'pcm12' as WavSampleFormat }), /unknown format 'pcm12'/);
  assert.throws(() => readWav(42 as unknown as string), /expected a path, Uint8Array or ArrayBuffer/);
});

test('decodeWav names in-memory sources as asked', () => {
  assertWavError(() => decodeWav(new Uint8Array(20), 'clip-7'), 'not-wav', /not a RIFF/, 'clip-7');
  assertWavError(() => readWav(new Uint8Array(20), { name: 'member.wav' }), 'not-wav', /not a RIFF/, 'member.wav');
});
