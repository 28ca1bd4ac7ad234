import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from './module';
import { fanInUniform } from './init';
import { dropout } from './dropout';
import { hasFusedLstm, lstmSequence } from './fused';

/** Arguments of {@link LSTM} and {@link GRU} (torch.nn.LSTM / GRU with batch_first=True). */
export interface RecurrentArgs {
  /** Features per time step (last axis of the input). */
  inputSize: number;
  /** Hidden units per direction. */
  hiddenSize: number;
  /** Stacked layers. Default 1. */
  numLayers?: number;
  /** Run a second, time-reversed direction and concatenate both. Default false. */
  bidirectional?: boolean;
  /** Dropout on the outputs of every layer but the last, in training. Default 0. */
  dropout?: number;
}

type Kind = 'lstm' | 'gru';

/**
 * One layer, one direction of an LSTM or GRU. Parameters as PyTorch's (weight_ih, weight_hh, bias_ih,
 * bias_hh, gates stacked i|f|g|o for LSTM and r|z|n for GRU) with the weights stored transposed:
 * weightIh [input, G*H], weightHh [H, G*H]. Initialised U(-1/sqrt(H), 1/sqrt(H)) like PyTorch.
 */
export class RecurrentLayer extends Module {
  readonly kind: Kind;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly reverse: boolean;
  readonly weightIh: tf.Variable;
  readonly weightHh: tf.Variable;
  readonly biasIh: tf.Variable;
  readonly biasHh: tf.Variable;

  constructor(args: { kind: Kind; inputSize: number; hiddenSize: number; reverse?: boolean }) {
    super();
    this.kind = args.kind;
    this.inputSize = args.inputSize;
    this.hiddenSize = args.hiddenSize;
    this.reverse = args.reverse ?? false;
    const G = (this.kind === 'lstm' ? 4 : 3) * this.hiddenSize;
    const H = this.hiddenSize;
    this.weightIh = this.addParameter('weightIh', fanInUniform(this.inputSize * G, H), [this.inputSize, G]);
    this.weightHh = this.addParameter('weightHh', fanInUniform(H * G, H), [H, G]);
    this.biasIh = this.addParameter('biasIh', fanInUniform(G, H), [G]);
    this.biasHh = this.addParameter('biasHh', fanInUniform(G, H), [G]);
  }

  /**
   * Runs the layer over x [batch, time, input] from zero state (or `h0`/`c0` [batch, H]).
   * Returns the outputs [batch, time, H] (in input time order, also for the reverse direction) and the
   * final state.
   */
  run(x: tf.Tensor3D, h0?: tf.Tensor2D, c0?: tf.Tensor2D): { output: tf.Tensor3D; h: tf.Tensor2D; c?: tf.Tensor2D } {
    return this.sequence(x, h0, c0, true) as { output: tf.Tensor3D; h: tf.Tensor2D; c?: tf.Tensor2D };
  }

  /** The outputs, and the final state when `withState` (slicing it out costs a kernel per state on the fused path). */
  private sequence(x: tf.Tensor3D, h0: tf.Tensor2D | undefined, c0: tf.Tensor2D | undefined, withState: boolean):
    { output: tf.Tensor3D; h?: tf.Tensor2D; c?: tf.Tensor2D } {
    const [B, T] = x.shape;
    const H = this.hiddenSize;
    return tf.tidy(() => {
      const xs = this.reverse ? tf.reverse(x, 1) : x;
      // Both biases go into the input projection, which is one matmul over all steps.
      const bias = this.kind === 'lstm' ? tf.add(this.biasIh, this.biasHh) : this.biasIh;
      const xw = tf.reshape(tf.fused.matMul({ a: tf.reshape(xs, [B * T, this.inputSize]) as tf.Tensor2D,
        b: this.weightIh as tf.Tensor2D, bias }), [B, T, -1]);
      if (this.kind === 'lstm' && !h0 && !c0 && hasFusedLstm()) {
        // One fused kernel for the whole recurrence (and one for its backward pass) on wasm.
        const { hs, cs } = lstmSequence(xw as tf.Tensor3D, this.weightHh as tf.Tensor2D, { cells: withState });
        const output = this.reverse ? tf.reverse(hs, 1) as tf.Tensor3D : hs;
        if (!withState) return { output };
        const h = tf.reshape(tf.slice(hs, [0, T - 1, 0], [B, 1, H]), [B, H]) as tf.Tensor2D;
        const c = tf.reshape(tf.slice(cs!, [0, T - 1, 0], [B, 1, H]), [B, H]) as tf.Tensor2D;
        return { output, h, c };
      }
      // Time-major before unstacking: slices along the leading axis are contiguous.
      const steps = tf.unstack(tf.transpose(xw, [1, 0, 2])) as tf.Tensor2D[];
      let h: tf.Tensor2D = h0 ?? tf.zeros([B, H]);
      let c: tf.Tensor2D = c0 ?? tf.zeros([B, H]);
      const outs: tf.Tensor2D[] = [];
      for (let t = 0; t < T; t++) {
        if (this.kind === 'lstm') {
          const g = tf.add(steps[t], tf.matMul(h, this.weightHh as tf.Tensor2D));
          const s = tf.sigmoid(g);
          const i = tf.slice(s, [0, 0], [B, H]);
          const f = tf.slice(s, [0, H], [B, H]);
          const o = tf.slice(s, [0, 3 * H], [B, H]);
          const gg = tf.tanh(tf.slice(g, [0, 2 * H], [B, H]));
          c = tf.add(tf.mul(f, c), tf.mul(i, gg));
          h = tf.mul(o, tf.tanh(c));
        } else {
          const hw = tf.fused.matMul({ a: h, b: this.weightHh as tf.Tensor2D, bias: this.biasHh });
          const rz = tf.sigmoid(tf.add(tf.slice(steps[t], [0, 0], [B, 2 * H]), tf.slice(hw, [0, 0], [B, 2 * H])));
          const r = tf.slice(rz, [0, 0], [B, H]);
          const z = tf.slice(rz, [0, H], [B, H]);
          const n = tf.tanh(tf.add(tf.slice(steps[t], [0, 2 * H], [B, H]), tf.mul(r, tf.slice(hw, [0, 2 * H], [B, H]))));
          h = tf.add(n, tf.mul(z, tf.sub(h, n)));
        }
        outs.push(h);
      }
      let output = tf.stack(outs, 1) as tf.Tensor3D;
      if (this.reverse) output = tf.reverse(output, 1);
      return this.kind === 'lstm' ? { output, h, c } : { output, h };
    });
  }

  forward(x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    return tf.tidy(() => this.sequence(x as tf.Tensor3D, undefined, undefined, false).output);
  }

  override macs(inShape: number[], _outShape?: number[], _ctx?: Ctx): number {
    const G = (this.kind === 'lstm' ? 4 : 3) * this.hiddenSize;
    return inShape[0] * inShape[1] * G * (this.inputSize + this.hiddenSize);
  }

  getConfig(): Record<string, unknown> {
    return { kind: this.kind, inputSize: this.inputSize, hiddenSize: this.hiddenSize, reverse: this.reverse };
  }
}
registerModule('RecurrentLayer', RecurrentLayer);

abstract class Recurrent extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bidirectional: boolean;
  readonly dropoutP: number;
  readonly cells: RecurrentLayer[][] = [];

  constructor(args: RecurrentArgs, kind: Kind) {
    super();
    this.inputSize = args.inputSize;
    this.hiddenSize = args.hiddenSize;
    this.numLayers = args.numLayers ?? 1;
    this.bidirectional = args.bidirectional ?? false;
    this.dropoutP = args.dropout ?? 0;
    const dirs = this.bidirectional ? 2 : 1;
    for (let l = 0; l < this.numLayers; l++) {
      const inSize = l === 0 ? this.inputSize : this.hiddenSize * dirs;
      const layer = [this.addModule(`l${l}`, new RecurrentLayer({ kind, inputSize: inSize, hiddenSize: this.hiddenSize }))];
      if (this.bidirectional) {
        layer.push(this.addModule(`l${l}_reverse`, new RecurrentLayer({ kind, inputSize: inSize, hiddenSize: this.hiddenSize, reverse: true })));
      }
      this.cells.push(layer);
    }
  }

  /** [batch, time, inputSize] -> [batch, time, hiddenSize * directions]. */
  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.inputSize) {
      throw new Error(`${this.constructor.name}${this.path ? ` '${this.path}'` : ''}: expected [batch, time, ${this.inputSize}], got [${x.shape}]`);
    }
    return tf.tidy(() => {
      let h = x;
      this.cells.forEach((dirs, l) => {
        const outs = dirs.map((cell) => cell.forward(h, ctx));
        h = outs.length === 1 ? outs[0] : tf.concat(outs, 2);
        if (l < this.numLayers - 1) h = dropout(h, this.dropoutP, ctx);
      });
      return h;
    });
  }

  getConfig(): Record<string, unknown> {
    return { inputSize: this.inputSize, hiddenSize: this.hiddenSize, numLayers: this.numLayers,
      bidirectional: this.bidirectional, dropout: this.dropoutP };
  }
}

/** LSTM over [batch, time, features] (torch.nn.LSTM, batch_first=True, zero initial state). */
export class LSTM extends Recurrent {
  constructor(args: RecurrentArgs) {
    super(args, 'lstm');
  }
}
registerModule('LSTM', LSTM);

/** GRU over [batch, time, features] (torch.nn.GRU, batch_first=True, zero initial state). */
export class GRU extends Recurrent {
  constructor(args: RecurrentArgs) {
    super(args, 'gru');
  }
}
registerModule('GRU', GRU);
