/**
 * Framing and overlap-add along the last axis, built only from slice, concat, pad and reshape, so
 * both are differentiable on every backend (no gather, whose gradient the wasm backend lacks).
 */
import * as tf from '@tensorflow/tfjs';

function checkLengths(frameLength: number, hopLength: number, where: string): void {
  if (!Number.isInteger(frameLength) || frameLength < 1) throw new Error(`${where}: frameLength must be a positive integer, got ${frameLength}`);
  if (!Number.isInteger(hopLength) || hopLength < 1) throw new Error(`${where}: hopLength must be a positive integer, got ${hopLength}`);
}

/** Number of whole frames of `frameLength` samples, `hopLength` apart, in `length` samples: 1 + floor((length - frameLength) / hop). */
export function numFrames(length: number, frameLength: number, hopLength: number): number {
  return length < frameLength ? 0 : 1 + Math.floor((length - frameLength) / hopLength);
}

/**
 * Cuts the last axis into overlapping frames: `out[..., f, n] = x[..., f * hopLength + n]` for
 * f < 1 + floor((time - frameLength) / hopLength), n < frameLength (as torch `x.unfold(-1, L, hop)` and
 * `tf.signal.frame` without padding).
 *
 * The signal is cut into blocks of `hopLength` samples and frame f is blocks f .. f + k - 1 laid end to
 * end (k = ceil(frameLength / hopLength)), trimmed to frameLength: k slices and one concat.
 * @param x [..., time] with time >= frameLength.
 * @returns [..., frames, frameLength].
 */
export function frame(x: tf.Tensor, frameLength: number, hopLength: number): tf.Tensor {
  checkLengths(frameLength, hopLength, 'frame');
  if (x.rank < 1) throw new Error(`frame: expected a tensor [..., time], got shape [${x.shape.join(', ')}]`);
  const time = x.shape[x.rank - 1];
  if (time < frameLength) {
    throw new Error(`frame: signal of ${time} samples (shape [${x.shape.join(', ')}]) is shorter than one frame of ${frameLength}`);
  }
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    const rows = lead.reduce((a, b) => a * b, 1);
    const frames = numFrames(time, frameLength, hopLength);
    const k = Math.ceil(frameLength / hopLength);
    const blocks = frames + k - 1;
    const needed = blocks * hopLength;
    let x2 = x.reshape([rows, time]);
    x2 = needed > time ? x2.pad([[0, 0], [0, needed - time]]) : x2.slice([0, 0], [rows, needed]);
    const b3 = x2.reshape([rows, blocks, hopLength]);
    const parts = Array.from({ length: k }, (_, j) => b3.slice([0, j, 0], [rows, frames, hopLength]));
    let out = k === 1 ? parts[0] : tf.concat(parts, 2);
    if (k * hopLength !== frameLength) out = out.slice([0, 0, 0], [rows, frames, frameLength]);
    return out.reshape([...lead, frames, frameLength]);
  });
}

/**
 * Overlap-add, the adjoint of {@link frame}: `out[..., f * hopLength + n] += frames[..., f, n]`, output
 * length (frames - 1) * hopLength + frameLength.
 *
 * Each frame is padded to k whole blocks of hopLength samples; block j of frame f lands on output
 * block f + j, so the result is a sum of k shifted (zero-padded) copies.
 * @param frames [..., frames, frameLength].
 * @returns [..., (frames - 1) * hopLength + frameLength].
 */
export function overlapAdd(frames: tf.Tensor, hopLength: number): tf.Tensor {
  if (frames.rank < 2) throw new Error(`overlapAdd: expected a tensor [..., frames, frameLength], got shape [${frames.shape.join(', ')}]`);
  const [nFrames, frameLength] = frames.shape.slice(-2);
  checkLengths(frameLength, hopLength, 'overlapAdd');
  if (nFrames < 1) throw new Error(`overlapAdd: no frames in shape [${frames.shape.join(', ')}]`);
  return tf.tidy(() => {
    const lead = frames.shape.slice(0, -2);
    const rows = lead.reduce((a, b) => a * b, 1);
    const k = Math.ceil(frameLength / hopLength);
    const blocks = nFrames + k - 1;
    let f3 = frames.reshape([rows, nFrames, frameLength]);
    if (k * hopLength !== frameLength) f3 = f3.pad([[0, 0], [0, 0], [0, k * hopLength - frameLength]]);
    const f4 = f3.reshape([rows, nFrames, k, hopLength]);
    const shifted = Array.from({ length: k }, (_, j) =>
      f4.slice([0, 0, j, 0], [rows, nFrames, 1, hopLength]).reshape([rows, nFrames, hopLength])
        .pad([[0, 0], [j, k - 1 - j], [0, 0]]));
    const summed = k === 1 ? shifted[0] : tf.addN(shifted);
    const total = (nFrames - 1) * hopLength + frameLength;
    return summed.reshape([rows, blocks * hopLength]).slice([0, 0], [rows, total]).reshape([...lead, total]);
  });
}
