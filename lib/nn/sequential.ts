import * as tf from '@tensorflow/tfjs';
import { buildModule, Ctx, Module, ModuleSpec, registerModule } from './module';

/** Modules applied in order; children are named '0', '1', ... (torch.nn.Sequential). */
export class Sequential extends Module {
  readonly layers: Module[];

  constructor(layers: Module[]) {
    super();
    this.layers = layers.map((m, i) => this.addModule(String(i), m));
  }

  forward(x: tf.Tensor, ctx: Ctx): tf.Tensor {
    return tf.tidy(() => this.layers.reduce((h, m) => m.forward(h, ctx), x));
  }

  getConfig(): Record<string, unknown> {
    return { layers: this.layers.map((m) => m.spec()) };
  }
}
registerModule('Sequential', Sequential, (c) => new Sequential((c.layers as ModuleSpec[]).map(buildModule)));

/**
 * A list of modules registered as children '0', '1', ... with no forward of its own (torch.nn.ModuleList),
 * for models that loop over layers themselves.
 */
export class ModuleList extends Module {
  readonly items: Module[];

  constructor(items: Module[]) {
    super();
    this.items = items.map((m, i) => this.addModule(String(i), m));
  }

  forward(_x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    throw new Error('ModuleList has no forward: iterate over its items');
  }

  get length(): number {
    return this.items.length;
  }

  getConfig(): Record<string, unknown> {
    return { items: this.items.map((m) => m.spec()) };
  }
}
registerModule('ModuleList', ModuleList, (c) => new ModuleList((c.items as ModuleSpec[]).map(buildModule)));
