import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';

/** One tensor's entry in a safetensors header. */
export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  /** Byte range [begin, end) in the data section. */
  data_offsets: [number, number];
}

/** A parsed safetensors header: the entries by name and the free-form `__metadata__` strings. */
export interface SafetensorsHeader {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  /** Byte offset of the data section in the file. */
  dataStart: number;
}

const ELEMENT_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

function where(source: string | Uint8Array): string {
  return typeof source === 'string' ? `'${source}'` : 'the given bytes';
}

/**
 * Reads the header of a safetensors file (https://github.com/huggingface/safetensors: an unsigned 64-bit
 * little-endian header length N, N bytes of JSON mapping each tensor name to its dtype, shape and byte
 * offsets into the data section that follows, plus an optional `__metadata__` map of strings).
 */
export function readSafetensorsHeader(bytes: Uint8Array, name = 'the given bytes'): SafetensorsHeader {
  if (bytes.length < 8) throw new Error(`loadSafetensors: ${name} is ${bytes.length} bytes long: not a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n < 2 || 8 + n > bytes.length) {
    throw new Error(`loadSafetensors: ${name} declares a ${n}-byte header in a ${bytes.length}-byte file: not a safetensors file (or truncated)`);
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`loadSafetensors: the header of ${name} is not JSON (${(e as Error).message}): not a safetensors file`);
  }
  const tensors = new Map<string, SafetensorsEntry>();
  const dataLength = bytes.length - 8 - n;
  let metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (key === '__metadata__') {
      metadata = value as Record<string, string>;
      continue;
    }
    const e = value as SafetensorsEntry;
    const size = ELEMENT_BYTES[e?.dtype];
    if (!size) throw new Error(`loadSafetensors: tensor '${key}' in ${name} has dtype ${e?.dtype}, not one of ${Object.keys(ELEMENT_BYTES).join(', ')}`);
    const [begin, end] = e.data_offsets ?? [];
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (!(begin >= 0 && end <= dataLength && end - begin === count * size)) {
      throw new Error(`loadSafetensors: tensor '${key}' in ${name} ([${e.shape}] ${e.dtype}) has byte range [${begin}, ${end}) ` +
        `outside the ${dataLength}-byte data section or of the wrong size (truncated file?)`);
    }
    tensors.set(key, e);
  }
  return { tensors, metadata, dataStart: 8 + n };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** One entry's values as float32 (floats) or int32 (integers and booleans). */
function decode(raw: Uint8Array, e: SafetensorsEntry, key: string): Float32Array | Int32Array {
  const copy = new Uint8Array(raw);   // a copy, aligned (Buffer.slice would share the memory)
  const buf = copy.buffer;
  switch (e.dtype) {
    case 'F32': return new Float32Array(buf);
    case 'F64': return Float32Array.from(new Float64Array(buf));
    case 'F16': return Float32Array.from(new Uint16Array(buf), halfToFloat);
    case 'BF16': {
      const bits = new Uint32Array(Uint16Array.from(new Uint16Array(buf)));
      for (let i = 0; i < bits.length; i++) bits[i] <<= 16;
      return new Float32Array(bits.buffer);
    }
    case 'I32': return new Int32Array(buf);
    case 'I16': return Int32Array.from(new Int16Array(buf));
    case 'I8': return Int32Array.from(new Int8Array(buf));
    case 'U8': case 'BOOL': return Int32Array.from(new Uint8Array(buf));
    case 'I64': {
      const big = new BigInt64Array(buf);
      const out = new Int32Array(big.length);
      for (let i = 0; i < big.length; i++) {
        if (big[i] > 2147483647n || big[i] < -2147483648n) throw new Error(`loadSafetensors: tensor '${key}' holds ${big[i]}, beyond int32`);
        out[i] = Number(big[i]);
      }
      return out;
    }
    default: throw new Error(`loadSafetensors: tensor '${key}' has dtype ${e.dtype}`);
  }
}

/**
 * Loads every tensor of a safetensors file (a path, or the file's bytes) as TensorFlow.js tensors: floats
 * (F32, F16, BF16, F64) as float32, integers and booleans as int32. The caller owns the tensors (dispose
 * them, e.g. after `Wav2Vec2Model.fromStateDict`). Errors name the file and the tensor: not a safetensors
 * file, a truncated file, an unsupported dtype.
 */
export function loadSafetensors(source: string | Uint8Array): Map<string, tf.Tensor> {
  let bytes: Uint8Array;
  if (typeof source === 'string') {
    if (!fs.existsSync(source)) throw new Error(`loadSafetensors: no file '${source}'`);
    bytes = fs.readFileSync(source);
  } else {
    bytes = source;
  }
  const header = readSafetensorsHeader(bytes, where(source));
  const out = new Map<string, tf.Tensor>();
  for (const [key, e] of header.tensors) {
    const [begin, end] = e.data_offsets;
    const values = decode(bytes.subarray(header.dataStart + begin, header.dataStart + end), e, key);
    out.set(key, tf.tensor(values, e.shape, values instanceof Float32Array ? 'float32' : 'int32'));
  }
  return out;
}

/**
 * Writes tensors as a safetensors file (float32 as F32, int32 as I32, bool as BOOL), in the order given,
 * with optional `__metadata__` strings, readable by the `safetensors` Python package and by
 * {@link loadSafetensors}.
 */
export async function saveSafetensors(path: string, tensors: Map<string, tf.Tensor> | Record<string, tf.Tensor>,
  metadata?: Record<string, string>): Promise<void> {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [key, t] of entries) {
    const dtype = t.dtype === 'float32' ? 'F32' : t.dtype === 'int32' ? 'I32' : t.dtype === 'bool' ? 'BOOL' : null;
    if (!dtype) throw new Error(`saveSafetensors: tensor '${key}' has dtype ${t.dtype}; float32, int32 and bool are written`);
    const values = await t.data();
    const data = dtype === 'BOOL' ? Uint8Array.from(values as Uint8Array)
      : new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    header[key] = { dtype, shape: t.shape, data_offsets: [offset, offset + data.length] };
    chunks.push(data);
    offset += data.length;
  }
  if (metadata) header.__metadata__ = metadata;
  // The data section starts 8-byte aligned (the header is padded with spaces).
  const json = Buffer.from(JSON.stringify(header));
  const text = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const head = new Uint8Array(8);
  new DataView(head.buffer).setBigUint64(0, BigInt(text.length), true);
  fs.writeFileSync(path, Buffer.concat([head, text, ...chunks]));
}
