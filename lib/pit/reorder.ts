import * as tf from '@tensorflow/tfjs';
import { assignmentMask } from './pit_loss';

function checkPerm(fn: string, perm: tf.Tensor): void {
  if (perm.rank !== 2 || perm.dtype !== 'int32') {
    throw new Error(`${fn}: perm must be an int32 [batch, sources] tensor, got ${perm.dtype} [${perm.shape}]`);
  }
}

/**
 * The inverse of each row's permutation, inv[b, perm[b, i]] = i: turns slimspeech's assignment (perm[b][i], the
 * reference of estimate i) into asteroid's `batch_indices` (the estimate of reference k), and back. On the device.
 *
 * @param perm int32 [batch, S], each row a permutation of 0..S-1
 * @returns int32 [batch, S]
 */
export function invertPermutation(perm: tf.Tensor): tf.Tensor2D {
  checkPerm('invertPermutation', perm);
  // mask[b, i, k] where perm[b, i] = k: the argmax over i of column k is inv[b, k].
  return tf.tidy(() => tf.cast(tf.argMax(tf.cast(assignmentMask(perm), 'int32'), 1), 'int32') as tf.Tensor2D);
}

/**
 * Estimates reordered to follow the references: output k is the estimate assigned to reference k,
 *
 *   out[b, k] = estimates[b, inv[b, k]]  with  perm[b, inv[b, k]] = k,
 *
 * so that out[b, k] pairs with references[b, k] (asteroid's `PITLossWrapper.reorder_source(est, batch_indices)`,
 * which indexes est with batch_indices = inv directly). A gather on the device, differentiable with respect to
 * the estimates.
 *
 * @param estimates [batch, S, ...] (e.g. [batch, S, time])
 * @param perm int32 [batch, S] from {@link pitLoss}: perm[b][i] the reference of estimate i
 * @returns [batch, S, ...]
 */
export function reorderSources(estimates: tf.Tensor, perm: tf.Tensor): tf.Tensor {
  checkPerm('reorderSources', perm);
  if (estimates.rank < 2 || estimates.shape[0] !== perm.shape[0] || estimates.shape[1] !== perm.shape[1]) {
    throw new Error(`reorderSources: estimates must be [batch, sources, ...] matching perm [batch, sources], got [${estimates.shape}] and [${perm.shape}]`);
  }
  const [B, S, ...rest] = estimates.shape;
  // A gather on the flattened [batch * S, ...] rows: the wasm backend's gather with batchDims is unreliable.
  return tf.tidy(() => {
    const rows = tf.add(invertPermutation(perm), tf.reshape(tf.range(0, B * S, S, 'int32'), [B, 1]));  // [B, S]
    return tf.reshape(tf.gather(tf.reshape(estimates, [B * S, ...rest]), tf.reshape(rows, [B * S])), estimates.shape);
  });
}
