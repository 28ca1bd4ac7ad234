import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../util/package_root';

/** One optimizer step: position, loss, learning rate and the step function's named terms. */
export interface StepRecord {
  epoch: number;
  step: number;
  loss: number;
  lr: number;
  [term: string]: number;
}

/** One epoch: mean training loss (and terms), validation metrics, seconds taken. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  seconds: number;
  [metric: string]: number;
}

/**
 * What a training run recorded, as plain records (JSON-serialisable, stored in checkpoints) and as
 * danfojs DataFrames for notebooks.
 */
export class History {
  steps: StepRecord[] = [];
  epochs: EpochRecord[] = [];

  /**
   * The records as a danfojs DataFrame ('epochs' or 'steps'). danfojs-node is an optional peer of
   * slimspeech, loaded on first use: without it this rejects with the package.json lines to add.
   */
  async toDataFrame(which: 'epochs' | 'steps' = 'epochs'): Promise<unknown> {
    const rows = which === 'epochs' ? this.epochs : this.steps;
    if (!rows.length) throw new Error(`History.toDataFrame: no ${which} recorded`);
    const dfd = requireDanfo('History.toDataFrame') as { DataFrame: new (rows: object[]) => unknown };
    const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    return new dfd.DataFrame(rows.map((r) => Object.fromEntries(keys.map((k) => [k, (r as Record<string, number>)[k] ?? NaN]))));
  }

  /** Values of one field over the epochs (or steps). */
  series(field: string, which: 'epochs' | 'steps' = 'epochs'): number[] {
    return (which === 'epochs' ? this.epochs : this.steps).map((r) => (r as Record<string, number>)[field]);
  }

  toJSON(): { steps: StepRecord[]; epochs: EpochRecord[] } {
    return { steps: this.steps, epochs: this.epochs };
  }

  static fromJSON(j: { steps: StepRecord[]; epochs: EpochRecord[] }): History {
    const h = new History();
    h.steps = j.steps ?? [];
    h.epochs = j.epochs ?? [];
    return h;
  }
}

/** danfojs-node's version and override as slimspeech's own package.json declares them (it uses both). */
function danfoInstallLines(): { version: string; override: Record<string, string> } {
  const fallback = { version: '1.1.2', override: { '@tensorflow/tfjs-node': 'npm:@tensorflow/tfjs@4.22.0' } };
  try {
    const pj = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8'));
    return {
      version: pj.devDependencies?.['danfojs-node'] ?? fallback.version,
      override: pj.overrides?.['danfojs-node'] ?? fallback.override,
    };
  } catch {
    return fallback;
  }
}

/**
 * Loads danfojs-node, slimspeech's optional peer for DataFrames, for the function named `caller`. When it
 * is missing or fails to load, throws an error giving the exact package.json lines that install it: the
 * dependency, and the override that points its `@tensorflow/tfjs-node@3` dependency at the TensorFlow.js
 * slimspeech uses (without it, npm installs a second, older TensorFlow.js whose install script downloads
 * libtensorflow). npm applies overrides only from the root project, so they go in the user's package.json.
 */
export function requireDanfo(caller: string): unknown {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require('danfojs-node');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const missing = err.code === 'MODULE_NOT_FOUND' && /['"]danfojs-node['"]/.test(err.message.split('\n')[0]);
    const { version, override } = danfoInstallLines();
    const lines = [
      `  "dependencies": { "danfojs-node": "${version}" },`,
      `  "overrides": { "danfojs-node": { ${Object.entries(override).map(([k, v]) => `"${k}": "${v}"`).join(', ')} } }`,
    ].join('\n');
    const what = missing
      ? `${caller} needs danfojs-node, an optional peer dependency of slimspeech that is not installed.`
      : `${caller}: danfojs-node is installed but failed to load (${err.message.split('\n')[0]}).`;
    throw new Error(`${what} Add these lines to your project's package.json (merge them into the fields you have), ` +
      `then run npm install:\n${lines}\nThe override makes danfojs-node use slimspeech's TensorFlow.js instead of ` +
      '@tensorflow/tfjs-node 3, whose install script downloads libtensorflow; npm reads overrides only from your ' +
      'own package.json. Without danfojs, History.toJSON() gives the same records as plain objects.');
  }
}
