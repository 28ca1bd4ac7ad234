import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';

const MAGIC = 'SLIMSPEECH-CKPT-1\n';

/** A checkpoint: JSON-serialisable metadata and named tensors. */
export interface Checkpoint {
  meta: Record<string, unknown>;
  tensors: Map<string, tf.Tensor>;
}

/**
 * Writes a checkpoint as one file (magic line, header length, JSON header with the weights manifest, then
 * the tfjs-encoded weights), atomically: to a temporary file in the same folder, flushed, then renamed
 * over `file`. A crash mid-write leaves the previous checkpoint intact.
 */
export async function writeCheckpoint(file: string, ckpt: Checkpoint): Promise<void> {
  const named = [...ckpt.tensors].map(([name, tensor]) => ({ name, tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  const header = Buffer.from(JSON.stringify({ meta: ckpt.meta, specs }), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length, 0);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, Buffer.from(MAGIC, 'utf8'));
    fs.writeSync(fd, len);
    fs.writeSync(fd, header);
    fs.writeSync(fd, Buffer.from(data));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** Reads a checkpoint written by {@link writeCheckpoint}; errors name the file and what is wrong. */
export function readCheckpoint(file: string): Checkpoint {
  const buf = fs.readFileSync(file);
  if (buf.subarray(0, MAGIC.length).toString('utf8') !== MAGIC) throw new Error(`${file}: not a slimspeech checkpoint`);
  if (buf.length < MAGIC.length + 4) throw new Error(`${file}: truncated checkpoint`);
  const n = buf.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  if (buf.length < start + n) throw new Error(`${file}: truncated checkpoint header`);
  const { meta, specs } = JSON.parse(buf.subarray(start, start + n).toString('utf8')) as { meta: Record<string, unknown>; specs: tf.io.WeightsManifestEntry[] };
  const body = buf.subarray(start + n);
  const expected = specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * (w.dtype === 'int32' || w.dtype === 'float32' ? 4 : 1), 0);
  if (body.length !== expected) throw new Error(`${file}: checkpoint body is ${body.length} bytes, expected ${expected}`);
  const ab = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength);
  const tensors = new Map(Object.entries(tf.io.decodeWeights(ab, specs)));
  return { meta, tensors };
}
