import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from '../nn/module';

/** Arguments of {@link LagrangianController}. */
export interface LagrangianControllerArgs {
  /** The sparsity to reach, in [0, 1): 1 - parameters / the original model's. */
  targetSparsity: number;
  /** Optimizer steps over which the target ramps linearly from 0 to targetSparsity (DPHuBERT: 5k of 50k). Default 0. */
  warmupSteps?: number;
}

/**
 * The Lagrangian relaxation of a sparsity constraint (Wang et al. 2020; DPHuBERT's reference code):
 * loss = l1 * (s - t) + l2 * (s - t)^2, with s the expected sparsity (differentiable, from the gates), t the
 * target at this step (linear from 0 over `warmupSteps`, then constant), and the multipliers l1, l2 (both
 * starting at 0) trained by gradient *ascent*: give them an optimizer group with a negative learning rate
 * (DPHuBERT: AdamW at -0.02, train.fit's groups accept it), while the model's parameters descend. The
 * multipliers grow while the sparsity misses the target, pushing the gates to close.
 */
export class LagrangianController extends Module {
  readonly targetSparsity: number;
  readonly warmupSteps: number;
  readonly lambda1: tf.Variable;
  readonly lambda2: tf.Variable;

  constructor(args: LagrangianControllerArgs) {
    super();
    if (!(args.targetSparsity >= 0 && args.targetSparsity < 1)) {
      throw new Error(`LagrangianController: targetSparsity must be in [0, 1), got ${args.targetSparsity}`);
    }
    this.targetSparsity = args.targetSparsity;
    this.warmupSteps = args.warmupSteps ?? 0;
    if (!(this.warmupSteps >= 0)) throw new Error(`LagrangianController: warmupSteps must be >= 0, got ${args.warmupSteps}`);
    this.lambda1 = this.addParameter('lambda1', new Float32Array(1), []);
    this.lambda2 = this.addParameter('lambda2', new Float32Array(1), []);
  }

  /** The target sparsity at optimizer step `step` (0-based). */
  target(step: number): number {
    if (this.warmupSteps <= 0) return this.targetSparsity;
    return this.targetSparsity * Math.min(1, step / this.warmupSteps);
  }

  /** l1 (s - t) + l2 (s - t)^2 for the expected sparsity s (a scalar tensor) at `step`. */
  loss(expectedSparsity: tf.Scalar, step: number): tf.Scalar {
    const t = this.target(step);
    return tf.tidy(() => {
      const gap = tf.sub(expectedSparsity, t);
      return tf.add(tf.mul(this.lambda1, gap), tf.mul(this.lambda2, tf.square(gap))) as tf.Scalar;
    });
  }

  forward(_x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    throw new Error('LagrangianController has no forward: call loss(expectedSparsity, step)');
  }

  getConfig(): Record<string, unknown> {
    return { targetSparsity: this.targetSparsity, warmupSteps: this.warmupSteps };
  }
}
registerModule('LagrangianController', LagrangianController);
