/**
 * WAV reading and writing.
 *
 * Reading parses the RIFF structure itself so that every defect gets a precise error naming the file;
 * samples are scaled to [-1, 1] exactly as `torchaudio.load(path, normalize=True)` (sox_io) does.
 * Writing packs samples with the `wavefile` package.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { WaveFile } from 'wavefile';

/** How the samples of a WAV file are stored. */
export type WavEncoding = 'pcm' | 'float' | 'mulaw' | 'alaw';

/** What went wrong with a WAV file; part of {@link WavError}. */
export type WavProblem =
  | 'io' // the file could not be read
  | 'not-wav' // no RIFF/RIFX/RF64 header with form type WAVE
  | 'truncated' // a chunk runs past the end of the file
  | 'empty' // no sample frames
  | 'unsupported' // an encoding slimspeech does not decode (ADPCM, GSM, MP3, ...)
  | 'inconsistent' // header fields contradict each other, or a required chunk is missing
  | 'invalid-samples' // float samples that are NaN or infinite
  | 'sample-rate'; // the rate differs from ReadWavOptions.expectedSampleRate

/**
 * The error every WAV function throws for a bad file: the message starts with the file name (or
 * '<bytes>' for an in-memory buffer) followed by the problem, e.g.
 * `x.wav: truncated: data chunk declares 4000 bytes but only 1200 follow`.
 */
export class WavError extends Error {
  /** The file path, or '<bytes>'. */
  readonly file: string;
  /** The kind of problem, for callers that handle some kinds differently. */
  readonly problem: WavProblem;

  constructor(file: string, problem: WavProblem, detail: string) {
    super(`${file}: ${problem === 'io' || problem === 'sample-rate' ? '' : `${problem}: `}${detail}`);
    this.name = 'WavError';
    this.file = file;
    this.problem = problem;
  }
}

/** Decoded audio returned by {@link readWav}. */
export interface WavAudio {
  /** Samples per second. */
  sampleRate: number;
  /** One Float32Array per channel, each `numFrames` long, values scaled to [-1, 1] (float files as stored). */
  channelData: Float32Array[];
  /** Number of channels (`channelData.length`). */
  numChannels: number;
  /** Samples per channel. */
  numFrames: number;
  /** Storage encoding of the file. */
  encoding: WavEncoding;
  /** Bits per stored sample (the container size: 12-bit audio in 16-bit words reports 16). */
  bitsPerSample: number;
  /** RIFF (little-endian), RIFX (big-endian) or RF64 (64-bit sizes). */
  container: 'RIFF' | 'RIFX' | 'RF64';
  /**
   * True when the data chunk carried a streaming placeholder size (0, 0x7FFFF000 or 0xFFFFFFFF) and
   * the samples were read to the end of the file.
   */
  lengthFromFileSize: boolean;
}

/** Options of {@link readWav} and {@link readWavFile}. */
export interface ReadWavOptions {
  /** If set, a file at another sample rate is an error ('sample-rate'). Default: undefined (any rate). */
  expectedSampleRate?: number;
  /** Name used in error messages for in-memory input. Default: '<bytes>'. */
  name?: string;
}

const TAG_NAMES: Record<number, string> = {
  0x0002: 'Microsoft ADPCM', 0x0010: 'OKI ADPCM', 0x0011: 'IMA ADPCM', 0x0016: 'ITU G.723 ADPCM',
  0x0022: 'DSP Group TrueSpeech', 0x0031: 'GSM 6.10', 0x0040: 'ITU G.721 ADPCM', 0x0050: 'MPEG',
  0x0055: 'MPEG Layer 3', 0x0092: 'Dolby AC3 SPDIF', 0x00ff: 'AAC', 0x0161: 'Windows Media Audio',
  0x1610: 'MPEG-4 AAC', 0x2000: 'Dolby AC3', 0xf1ac: 'FLAC',
};

/** Data sizes that streaming writers leave in place of the real one (ffmpeg/most: 0 or ~0, sox: 0x7FFFF000). */
const PLACEHOLDER_SIZES = new Set([0, 0x7ffff000, 0xffffffff]);

/** KSDATAFORMAT_SUBTYPE_* GUIDs share these 14 bytes after the 2-byte format tag. */
const SUBTYPE_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

interface Fmt {
  tag: number;
  channels: number;
  sampleRate: number;
  byteRate: number;
  blockAlign: number;
  bits: number;
}

function fourCC(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
}

function printable(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

function toBytes(src: Uint8Array | ArrayBuffer): Uint8Array {
  return src instanceof Uint8Array ? src : new Uint8Array(src);
}

/**
 * Decodes WAV bytes (see {@link readWav} for formats and error rules).
 * @param bytes the whole file.
 * @param name how errors name the source; default '<bytes>'.
 */
export function decodeWav(bytes: Uint8Array | ArrayBuffer, name = '<bytes>', opts: ReadWavOptions = {}): WavAudio {
  const b = toBytes(bytes);
  const fail = (problem: WavProblem, detail: string): never => { throw new WavError(name, problem, detail); };
  if (b.length < 12) {
    fail(b.length === 0 ? 'empty' : 'not-wav', b.length === 0 ? 'the file is empty (0 bytes)' : `only ${b.length} bytes, too short for a RIFF/WAVE header`);
  }
  const container = fourCC(b, 0);
  if ((container !== 'RIFF' && container !== 'RIFX' && container !== 'RF64') || fourCC(b, 8) !== 'WAVE') {
    fail('not-wav', `not a RIFF/WAVE file (starts with '${printable(fourCC(b, 0))}' ... '${printable(fourCC(b, 8))}')`);
  }
  const le = container !== 'RIFX';
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);

  let fmt: Fmt | undefined;
  let ds64DataSize: number | undefined;
  let dataStart = -1;
  let dataBytes = 0;
  let streamed = false;
  let pos = 12;
  while (pos + 8 <= b.length && (fmt === undefined || dataStart < 0)) {
    const id = fourCC(b, pos);
    const declared = view.getUint32(pos + 4, le);
    const start = pos + 8;
    const remaining = b.length - start;
    if (id === 'data') {
      let size = declared;
      const fromDs64 = container === 'RF64' && declared === 0xffffffff && ds64DataSize !== undefined;
      if (fromDs64) size = ds64DataSize as number;
      if (size > remaining || (size === 0 && remaining > 0 && !looksLikeChunk(b, view, start, le))) {
        if (fromDs64 || !PLACEHOLDER_SIZES.has(declared)) {
          fail('truncated', `data chunk declares ${size} bytes but only ${remaining} follow`);
        }
        size = remaining;
        streamed = true;
      }
      dataStart = start;
      dataBytes = size;
      if (streamed) break;
    } else {
      if (declared > remaining) {
        fail('truncated', `'${printable(id)}' chunk at byte ${pos} declares ${declared} bytes but only ${remaining} follow`);
      }
      if (id === 'fmt ') fmt = parseFmt(b, view, start, declared, le, fail);
      else if (id === 'ds64' && declared >= 24) ds64DataSize = view.getUint32(start + 8, true) + view.getUint32(start + 12, true) * 2 ** 32;
    }
    pos = start + declared + (declared & 1);
  }
  if (fmt === undefined) fail('inconsistent', `no 'fmt ' chunk${dataStart < 0 ? ' and no \'data\' chunk' : ''}`);
  if (dataStart < 0) fail('inconsistent', "no 'data' chunk");
  const f = fmt as Fmt;
  if (opts.expectedSampleRate !== undefined && f.sampleRate !== opts.expectedSampleRate) {
    fail('sample-rate', `sample rate ${f.sampleRate} Hz, expected ${opts.expectedSampleRate} Hz`);
  }
  if (streamed) {
    dataBytes -= dataBytes % f.blockAlign;
  } else if (dataBytes % f.blockAlign !== 0) {
    fail('inconsistent', `data chunk size ${dataBytes} is not a multiple of the block align ${f.blockAlign}`);
  }
  const numFrames = dataBytes / f.blockAlign;
  if (numFrames === 0) fail('empty', 'the data chunk holds no sample frames');

  const encoding: WavEncoding = f.tag === 3 ? 'float' : f.tag === 6 ? 'alaw' : f.tag === 7 ? 'mulaw' : 'pcm';
  const bytesPer = f.blockAlign / f.channels;
  const channelData = Array.from({ length: f.channels }, () => new Float32Array(numFrames));
  const read = sampleReader(view, encoding, bytesPer, le);
  for (let i = 0, at = dataStart; i < numFrames; i++) {
    for (let c = 0; c < f.channels; c++, at += bytesPer) channelData[c][i] = read(at);
  }
  if (encoding === 'float') {
    for (let c = 0; c < f.channels; c++) {
      const ch = channelData[c];
      for (let i = 0; i < numFrames; i++) {
        if (!Number.isFinite(ch[i])) fail('invalid-samples', `sample ${i} of channel ${c} is ${ch[i]}`);
      }
    }
  }
  return {
    sampleRate: f.sampleRate, channelData, numChannels: f.channels, numFrames, encoding,
    bitsPerSample: bytesPer * 8, container: container as WavAudio['container'], lengthFromFileSize: streamed,
  };
}

/** True when the 8 bytes at `at` read as a chunk header (four printable characters, a size that fits). */
function looksLikeChunk(b: Uint8Array, view: DataView, at: number, le: boolean): boolean {
  if (at + 8 > b.length) return false;
  for (let i = 0; i < 4; i++) if (b[at + i] < 0x20 || b[at + i] > 0x7e) return false;
  return view.getUint32(at + 4, le) <= b.length - at - 8;
}

function parseFmt(
  b: Uint8Array, view: DataView, at: number, size: number, le: boolean, fail: (p: WavProblem, d: string) => never,
): Fmt {
  if (size < 16) fail('inconsistent', `'fmt ' chunk is ${size} bytes, at least 16 are needed`);
  let tag = view.getUint16(at, le);
  const fmt: Fmt = {
    tag,
    channels: view.getUint16(at + 2, le),
    sampleRate: view.getUint32(at + 4, le),
    byteRate: view.getUint32(at + 8, le),
    blockAlign: view.getUint16(at + 12, le),
    bits: view.getUint16(at + 14, le),
  };
  if (tag === 0xfffe) {
    if (size < 40) fail('inconsistent', `WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is ${size} bytes, 40 are needed`);
    tag = view.getUint16(at + 24, le);
    const tail = Array.from(b.subarray(at + 26, at + 40));
    if (tail.some((v, i) => v !== SUBTYPE_TAIL[i])) {
      fail('unsupported', `WAVE_FORMAT_EXTENSIBLE with a non-standard subformat GUID (${tail.map((v) => v.toString(16).padStart(2, '0')).join('')})`);
    }
    const valid = view.getUint16(at + 18, le);
    if (valid > fmt.bits) fail('inconsistent', `${valid} valid bits in ${fmt.bits}-bit samples`);
    fmt.tag = tag;
  }
  const tagName = `format tag 0x${tag.toString(16).padStart(4, '0')}`;
  if (tag !== 1 && tag !== 3 && tag !== 6 && tag !== 7) {
    fail('unsupported', `${TAG_NAMES[tag] ?? 'unknown encoding'} (${tagName}); only PCM, IEEE float, mu-law and A-law are decoded`);
  }
  if (fmt.channels === 0) fail('inconsistent', 'the header declares 0 channels');
  if (fmt.sampleRate === 0) fail('inconsistent', 'the header declares a sample rate of 0');
  if (fmt.bits === 0) fail('inconsistent', 'the header declares 0 bits per sample');
  const okBits = tag === 1 ? fmt.bits <= 32 : tag === 3 ? fmt.bits === 32 || fmt.bits === 64 : fmt.bits === 8;
  if (!okBits) {
    const what = tag === 1 ? 'PCM' : tag === 3 ? 'IEEE float' : tag === 6 ? 'A-law' : 'mu-law';
    fail('unsupported', `${fmt.bits}-bit ${what} (${tagName})`);
  }
  const bytesPer = Math.ceil(fmt.bits / 8);
  if (fmt.blockAlign !== fmt.channels * bytesPer) {
    fail('inconsistent', `block align ${fmt.blockAlign} does not match ${fmt.channels} channel(s) of ${fmt.bits}-bit samples (expected ${fmt.channels * bytesPer})`);
  }
  if (fmt.byteRate !== fmt.sampleRate * fmt.blockAlign) {
    fail('inconsistent', `byte rate ${fmt.byteRate} does not match sample rate ${fmt.sampleRate} x block align ${fmt.blockAlign} (expected ${fmt.sampleRate * fmt.blockAlign})`);
  }
  return fmt;
}

/** A function reading one sample at a byte offset, scaled like torchaudio.load(normalize=True). */
function sampleReader(view: DataView, encoding: WavEncoding, bytesPer: number, le: boolean): (at: number) => number {
  if (encoding === 'float') return bytesPer === 4 ? (at) => view.getFloat32(at, le) : (at) => view.getFloat64(at, le);
  if (encoding === 'mulaw') return (at) => MULAW[view.getUint8(at)];
  if (encoding === 'alaw') return (at) => ALAW[view.getUint8(at)];
  switch (bytesPer) {
    case 1: return (at) => (view.getUint8(at) - 128) / 128;
    case 2: return (at) => view.getInt16(at, le) / 32768;
    case 3: return le
      ? (at) => ((view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getUint8(at + 2) << 16)) << 8 >> 8) / 8388608
      : (at) => ((view.getUint8(at + 2) | (view.getUint8(at + 1) << 8) | (view.getUint8(at) << 16)) << 8 >> 8) / 8388608;
    default: return (at) => view.getInt32(at, le) / 2147483648;
  }
}

/**
 * ITU-T G.711 mu-law expansion to 16-bit linear (range +-32124), scaled by 1/32768: the 8-bit code is
 * complemented, and (mantissa * 8 + 132) << exponent, less the bias 132, gives the magnitude.
 */
const MULAW = Float32Array.from({ length: 256 }, (_, code) => {
  const u = ~code & 0xff;
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4)) - 0x84;
  return ((u & 0x80) ? -magnitude : magnitude) / 32768;
});

/**
 * ITU-T G.711 A-law expansion to 16-bit linear (range +-32256), scaled by 1/32768: even bits are
 * inverted (xor 0x55); segment 0 is linear, segment s > 0 is (mantissa * 16 + 264) << (s - 1).
 */
const ALAW = Float32Array.from({ length: 256 }, (_, code) => {
  const a = code ^ 0x55;
  const seg = (a & 0x70) >> 4;
  let magnitude = (a & 0x0f) << 4;
  magnitude = seg === 0 ? magnitude + 8 : (magnitude + 0x108) << (seg - 1);
  return ((a & 0x80) ? magnitude : -magnitude) / 32768;
});

/**
 * Reads a WAV file (path, or the file's bytes) into per-channel Float32Arrays.
 *
 * Decodes 8-bit unsigned PCM ((u - 128) / 128), 16/24/32-bit signed PCM (v / 2^(bits-1); samples of
 * other widths such as 12 or 20 bits are read from their whole-byte container), 32- and 64-bit IEEE
 * float (as stored), and G.711 mu-law / A-law (expanded to 16-bit, / 32768), in RIFF, big-endian RIFX
 * and RF64 containers, plain or WAVE_FORMAT_EXTENSIBLE, any channel count. Values equal
 * `torchaudio.load(path, normalize=True)` (sox_io backend). Chunks other than 'fmt ', 'data' and
 * 'ds64' are skipped (odd sizes padded to even, as RIFF requires).
 *
 * Length rules: a data chunk whose declared size runs past the end of the file is an error
 * ('truncated'), except when the size is a placeholder that streaming writers leave because they
 * cannot seek back (0, 0x7FFFF000 as sox writes, 0xFFFFFFFF as ffmpeg and others write): then the
 * samples run to the end of the file, a trailing partial frame is dropped, and `lengthFromFileSize` is
 * true. A declared size of 0 followed by another chunk is a genuinely empty file. Otherwise a data size
 * that is not a whole number of frames is 'inconsistent'. The RIFF size field is not checked (writers
 * often get it wrong and it carries no information the chunks do not).
 *
 * Throws {@link WavError} naming the file (or '<bytes>') and the problem: 'not-wav', 'truncated',
 * 'empty', 'unsupported' (ADPCM, GSM, MP3 ... with the format's name and tag), 'inconsistent' (missing
 * 'fmt ' or 'data' chunk, zero channels, rate or bits, block align or byte rate that contradict the
 * channel count, rate and sample width), 'invalid-samples' (NaN or infinite floats), 'sample-rate'
 * (when `expectedSampleRate` is given and differs), 'io' (the file cannot be read). It never returns
 * silence or garbage in place of an error.
 */
export function readWav(pathOrBytes: string | Uint8Array | ArrayBuffer, opts: ReadWavOptions = {}): WavAudio {
  if (typeof pathOrBytes === 'string') {
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(pathOrBytes);
    } catch (e) {
      throw new WavError(pathOrBytes, 'io', `cannot read the file (${(e as Error).message})`);
    }
    return decodeWav(bytes, pathOrBytes, opts);
  }
  if (!(pathOrBytes instanceof Uint8Array) && !(pathOrBytes instanceof ArrayBuffer)) {
    throw new TypeError(`readWav: expected a path, Uint8Array or ArrayBuffer, got ${Object.prototype.toString.call(pathOrBytes)}`);
  }
  return decodeWav(pathOrBytes, opts.name ?? '<bytes>', opts);
}

/** Asynchronous {@link readWav} for a path (reads with fs.promises, so many files can load concurrently). */
export async function readWavFile(path: string, opts: ReadWavOptions = {}): Promise<WavAudio> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.promises.readFile(path);
  } catch (e) {
    throw new WavError(path, 'io', `cannot read the file (${(e as Error).message})`);
  }
  return decodeWav(bytes, path, opts);
}

/** Sample formats {@link writeWav} can write. */
export type WavSampleFormat = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';

/** Options of {@link writeWav} and {@link encodeWav}. */
export interface WriteWavOptions {
  /**
   * Stored sample format: 8-bit unsigned PCM, 16/24/32-bit signed PCM or 32/64-bit IEEE float.
   * Default: 'pcm16'.
   */
  format?: WavSampleFormat;
}

/** Audio accepted by the writers: mono samples, one array per channel, or a [time] / [channels, time] tensor. */
export type WavSamples = Float32Array | Float32Array[] | tf.Tensor;

const FORMAT_CODES: Record<WavSampleFormat, { code: string; bits: number; float: boolean }> = {
  pcm8: { code: '8', bits: 8, float: false }, pcm16: { code: '16', bits: 16, float: false },
  pcm24: { code: '24', bits: 24, float: false }, pcm32: { code: '32', bits: 32, float: false },
  float32: { code: '32f', bits: 32, float: true }, float64: { code: '64', bits: 64, float: true },
};

function tensorShapeCheck(t: tf.Tensor, where: string): void {
  if (t.rank !== 1 && t.rank !== 2) {
    throw new Error(`${where}: expected a tensor of shape [time] or [channels, time], got [${t.shape.join(', ')}]`);
  }
}

function splitChannels(values: Float32Array, shape: number[]): Float32Array[] {
  if (shape.length === 1) return [values];
  const [c, n] = shape;
  return Array.from({ length: c }, (_, i) => values.slice(i * n, (i + 1) * n));
}

function channelsOf(samples: WavSamples, where: string): Float32Array[] {
  if (samples instanceof tf.Tensor) {
    tensorShapeCheck(samples, where);
    // Synchronous by design (see writeWav); writeWavFile reads tensors asynchronously.
    return splitChannels(Float32Array.from(samples.dataSync() as ArrayLike<number>), samples.shape);
  }
  return samples instanceof Float32Array ? [samples] : samples;
}

/**
 * Encodes audio as the bytes of a WAV file (RIFF, 'fmt ' + 'data' chunks, written by `wavefile`).
 *
 * Float samples are quantised as torchaudio.save does: PCM code = round(x * 2^(bits-1)) with ties
 * rounded up, clipped to [-2^(bits-1), 2^(bits-1) - 1]; 8-bit adds the offset 128. Values outside
 * [-1, 1] are clipped for PCM and stored as given for float formats.
 * @param samples Float32Array (mono), Float32Array[] (one per channel, equal lengths) or a tensor
 *   [time] / [channels, time] (read synchronously).
 * @param sampleRate positive integer, samples per second.
 * @throws Error if channels differ in length, there are no samples, or a sample is NaN or infinite.
 */
export function encodeWav(samples: WavSamples, sampleRate: number, opts: WriteWavOptions = {}): Uint8Array {
  return encodeChannels(channelsOf(samples, 'encodeWav'), sampleRate, opts, 'encodeWav');
}

function encodeChannels(channels: Float32Array[], sampleRate: number, opts: WriteWavOptions, where: string): Uint8Array {
  const format = opts.format ?? 'pcm16';
  const spec = FORMAT_CODES[format];
  if (!spec) throw new Error(`${where}: unknown format '${format}' (expected one of ${Object.keys(FORMAT_CODES).join(', ')})`);
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new Error(`${where}: sample rate must be a positive integer, got ${sampleRate}`);
  if (channels.length === 0) throw new Error(`${where}: no channels given`);
  const n = channels[0].length;
  if (n === 0) throw new Error(`${where}: no samples to write (channels of length 0)`);
  channels.forEach((ch, c) => {
    if (ch.length !== n) throw new Error(`${where}: channel ${c} has ${ch.length} samples, channel 0 has ${n}`);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(ch[i])) throw new Error(`${where}: sample ${i} of channel ${c} is ${ch[i]}`);
    }
  });
  const coded = channels.map((ch) => quantise(ch, spec.bits, spec.float));
  const wav = new WaveFile();
  wav.fromScratch(channels.length, sampleRate, spec.code, coded);
  return wav.toBuffer();
}

function quantise(ch: Float32Array, bits: number, float: boolean): Float64Array | Int32Array {
  if (float) return Float64Array.from(ch);
  const scale = 2 ** (bits - 1);
  const offset = bits === 8 ? 128 : 0;
  const out = new Int32Array(ch.length);
  for (let i = 0; i < ch.length; i++) {
    out[i] = Math.min(scale - 1, Math.max(-scale, Math.round(ch[i] * scale))) + offset;
  }
  return out;
}

/**
 * Writes audio to a WAV file, synchronously, so that a `readWav` right after sees the file (a tensor is
 * read with dataSync for that reason; use {@link writeWavFile} inside async code). Quantisation as in
 * {@link encodeWav}; default 16-bit PCM.
 * @param path file to create or overwrite.
 * @param samples Float32Array (mono), Float32Array[] (one per channel) or a tensor [time] / [channels, time].
 * @param sampleRate positive integer, samples per second.
 */
export function writeWav(path: string, samples: WavSamples, sampleRate: number, opts: WriteWavOptions = {}): void {
  fs.writeFileSync(path, encodeChannels(channelsOf(samples, `writeWav(${path})`), sampleRate, opts, `writeWav(${path})`));
}

/** Asynchronous {@link writeWav}: reads a tensor with `await data()` and writes with fs.promises. */
export async function writeWavFile(path: string, samples: WavSamples, sampleRate: number, opts: WriteWavOptions = {}): Promise<void> {
  const where = `writeWavFile(${path})`;
  let channels: Float32Array[];
  if (samples instanceof tf.Tensor) {
    tensorShapeCheck(samples, where);
    channels = splitChannels(Float32Array.from(await samples.data() as ArrayLike<number>), samples.shape);
  } else {
    channels = channelsOf(samples, where);
  }
  await fs.promises.writeFile(path, encodeChannels(channels, sampleRate, opts, where));
}
