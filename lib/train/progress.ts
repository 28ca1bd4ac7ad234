/** How progress is shown. */
export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none';

/** True inside a Jupyter kernel (tslab). */
export function inNotebook(): boolean {
  if (typeof process === 'undefined') return false;
  if (process.env.JPY_PARENT_PID) return true;
  return typeof require !== 'undefined' && Object.keys(require.cache ?? {}).some((k) => /[\\/]tslab[\\/]/.test(k));
}

function resolveMode(mode: ProgressMode): Exclude<ProgressMode, 'auto'> {
  if (mode !== 'auto') return mode;
  if (typeof process === 'undefined') return 'none';
  if (process.env.SLIMSPEECH_QUIET === '1') return 'none';
  if (inNotebook() || process.stderr.isTTY) return 'bar';
  return 'lines';
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(r).padStart(2, '0')}`;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toFixed(4);
}

/**
 * A progress display for long work: in a terminal or a notebook, one line rewritten with carriage returns
 * (epoch, step, a bar, loss and other numbers, rate, ETA), at most every `minIntervalMs`; in logs (no TTY),
 * one line per epoch; nothing when SLIMSPEECH_QUIET=1 or mode 'none'.
 */
export class Progress {
  private readonly mode: Exclude<ProgressMode, 'auto'>;
  private last = 0;
  private epochStart = Date.now();
  private readonly write: (s: string) => void;

  /**
   * @param log receives the epoch summaries and messages as plain lines (no carriage returns) whatever
   *   the display mode, e.g. for a log file
   */
  constructor(private readonly label: string, private readonly epochs: number, mode: ProgressMode = 'auto',
    private readonly minIntervalMs = 500, private readonly log?: (line: string) => void) {
    this.mode = resolveMode(mode);
    const nb = inNotebook();
    this.write = (s: string) => (nb ? process.stdout : process.stderr).write(s);
  }

  /** Marks the start of an epoch. */
  startEpoch(): void {
    this.epochStart = Date.now();
  }

  /** Shows the current position: `done` of `total` steps in epoch `epoch` (1-based), with named values. */
  update(epoch: number, done: number, total: number | undefined, values: Record<string, number>): void {
    if (this.mode !== 'bar') return;
    const now = Date.now();
    if (now - this.last < this.minIntervalMs && done !== total) return;
    this.last = now;
    const elapsed = (now - this.epochStart) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const width = 20;
    const bar = total ? `[${'#'.repeat(Math.round((width * done) / total)).padEnd(width, '.')}] ${done}/${total}` : `${done}`;
    const eta = total ? ` ETA ${clock((total - done) / rate)}` : '';
    const vals = Object.entries(values).map(([k, v]) => `${k} ${fmt(v)}`).join(' ');
    this.write(`\r${this.label} epoch ${epoch}/${this.epochs} ${bar} ${vals} ${rate.toFixed(1)} it/s${eta}   `);
  }

  /** Ends an epoch's line with its summary. */
  endEpoch(epoch: number, values: Record<string, number>): void {
    const vals = Object.entries(values).map(([k, v]) => `${k} ${fmt(v)}`).join(' ');
    const took = clock((Date.now() - this.epochStart) / 1000);
    this.log?.(`${this.label} epoch ${epoch}/${this.epochs} done in ${took}: ${vals}`);
    if (this.mode === 'none') return;
    this.write(`${this.mode === 'bar' ? '\r' : ''}${this.label} epoch ${epoch}/${this.epochs} done in ${took}: ${vals}${' '.repeat(20)}\n`);
  }

  /** A one-off message on its own line. */
  message(text: string): void {
    this.log?.(text);
    if (this.mode !== 'none') this.write(`${this.mode === 'bar' ? '\n' : ''}${text}\n`);
  }
}
