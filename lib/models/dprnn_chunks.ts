import * as tf from '@tensorflow/tfjs';

/**
 * Segmentation and overlap-add of the dual-path RNN (Luo et al. 2020, arXiv 1910.06379), laid out as
 * asteroid's DPRNN does it with torch's unfold/fold: the sequence is zero-padded by `chunkSize` frames on
 * both sides and cut into chunks of `chunkSize` frames every `hopSize` frames,
 * nChunks = floor((frames + chunkSize) / hopSize) + 1; chunk c holds frames c * hopSize - chunkSize ..
 * c * hopSize - 1 (zeros outside the sequence). `hopSize` must divide `chunkSize`: both directions then take
 * chunkSize / hopSize slices, pads and adds instead of a gather or a scatter.
 */
export function numChunks(frames: number, chunkSize: number, hopSize: number): number {
  return Math.floor((frames + chunkSize) / hopSize) + 1;
}

function check(who: string, chunkSize: number, hopSize: number): number {
  if (!Number.isInteger(chunkSize) || !Number.isInteger(hopSize) || hopSize < 1 || chunkSize % hopSize !== 0) {
    throw new Error(`${who}: hopSize must be a positive integer dividing chunkSize, got chunkSize ${chunkSize}, hopSize ${hopSize}`);
  }
  return chunkSize / hopSize;
}

/**
 * Cuts x [batch, frames, channels] into overlapping chunks [batch, nChunks, chunkSize, channels] (see
 * {@link numChunks}; asteroid: `unfold(x, (K, 1), padding=(K, 0), stride=(hop, 1))`).
 */
export function chunkFrames(x: tf.Tensor, chunkSize: number, hopSize: number): tf.Tensor4D {
  if (x.rank !== 3) throw new Error(`chunkFrames: expected [batch, frames, channels], got [${x.shape}]`);
  const r = check('chunkFrames', chunkSize, hopSize);
  const [B, frames, C] = x.shape;
  const n = numChunks(frames, chunkSize, hopSize);
  const segments = n - 1 + r;   // hop-long segments covering every chunk
  return tf.tidy(() => {
    // Right padding: what the last chunk reaches, at most chunkSize (frames past it are never read).
    const padded = tf.pad(x, [[0, 0], [chunkSize, segments * hopSize - frames - chunkSize], [0, 0]]);
    const seg = tf.reshape(padded, [B, segments, hopSize, C]);
    if (r === 1) return seg as tf.Tensor4D;
    // Chunk c is segments c .. c + r - 1.
    const parts = Array.from({ length: r }, (_, j) => tf.slice(seg, [0, j, 0, 0], [B, n, hopSize, C]));
    return tf.concat(parts, 2) as tf.Tensor4D;
  });
}

/**
 * Overlap-adds chunks [batch, nChunks, chunkSize, channels] back to [batch, frames, channels], summing where
 * chunks overlap: the adjoint of {@link chunkFrames} (asteroid: `fold` with the same arguments).
 */
export function overlapAdd(chunks: tf.Tensor, frames: number, hopSize: number): tf.Tensor3D {
  if (chunks.rank !== 4) throw new Error(`overlapAdd: expected [batch, nChunks, chunkSize, channels], got [${chunks.shape}]`);
  const [B, n, chunkSize, C] = chunks.shape;
  const r = check('overlapAdd', chunkSize, hopSize);
  if (n !== numChunks(frames, chunkSize, hopSize)) {
    throw new Error(`overlapAdd: ${frames} frames make ${numChunks(frames, chunkSize, hopSize)} chunks of ${chunkSize} every ${hopSize}, got ${n}`);
  }
  const segments = n - 1 + r;
  return tf.tidy(() => {
    // Slice j of chunk c lands on segment c + j.
    const parts = Array.from({ length: r }, (_, j) => tf.pad(tf.slice(chunks, [0, 0, j * hopSize, 0], [B, n, hopSize, C]),
      [[0, 0], [j, r - 1 - j], [0, 0], [0, 0]]));
    const sum = parts.length === 1 ? parts[0] : tf.addN(parts);
    return tf.slice(tf.reshape(sum, [B, segments * hopSize, C]), [0, chunkSize, 0], [B, frames, C]) as tf.Tensor3D;
  });
}
