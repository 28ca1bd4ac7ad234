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

  /** The records as a danfojs DataFrame ('epochs' or 'steps'); danfojs-node is loaded on first use. */
  async toDataFrame(which: 'epochs' | 'steps' = 'epochs'): Promise<unknown> {
    const rows = which === 'epochs' ? this.epochs : this.steps;
    if (!rows.length) throw new Error(`History.toDataFrame: no ${which} recorded`);
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const dfd = require('danfojs-node') as { DataFrame: new (rows: object[]) => unknown };
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
