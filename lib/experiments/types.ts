/** The three presets every experiment has (DESIGN.md "Experiments, CLI and notebooks"). */
export type PresetName = 'quick' | 'default' | 'paper';

/** A run's context: where it writes and how it reports. */
export interface RunContext {
  /** Output folder (results.json, results.csv, plots, models). */
  outDir: string;
  /** Progress lines. Default: console.log unless SLIMSPEECH_QUIET=1. */
  log: (line: string) => void;
}

/** One row of a results table: plain numbers and strings. */
export type ResultRow = Record<string, number | string | boolean | null>;

/** What every experiment's report holds (results.json). */
export interface ExperimentResults {
  experiment: string;
  preset: PresetName | 'custom';
  backend: string;
  rows: ResultRow[];
  claim: { statement: string; holds: boolean; detail?: string };
  [extra: string]: unknown;
}

/** A recipe runnable from the CLI and from notebooks. */
export interface Experiment<C extends object = object> {
  name: string;
  description: string;
  presets: Record<PresetName, C>;
  /** Runs every step and writes the outputs into ctx.outDir; returns the results. */
  run(config: C, ctx: RunContext, preset: PresetName | 'custom'): Promise<ExperimentResults>;
}

/**
 * Applies `key=value` overrides to a config (dotted keys reach nested fields; values are parsed as JSON
 * when they parse, else kept as strings). Unknown keys are refused with the known ones listed.
 */
export function applyOverrides<C extends object>(config: C, sets: string[]): C {
  const out = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new Error(`--set expects key=value, got '${s}'`);
    const keys = s.slice(0, eq).split('.');
    const raw = s.slice(eq + 1);
    let value: unknown;
    try { value = JSON.parse(raw); } catch { value = raw; }
    let node = out;
    keys.forEach((k, i) => {
      const at = keys.slice(0, i + 1).join('.');
      if (!Object.prototype.hasOwnProperty.call(node, k)) throw new Error(`--set ${s}: unknown key '${at}'; known: ${Object.keys(node).join(', ')}`);
      if (i === keys.length - 1) {
        node[k] = value;
      } else {
        const next = node[k];
        if (next === null || typeof next !== 'object' || Array.isArray(next)) {
          throw new Error(`--set ${s}: '${at}' is ${next === null ? 'null' : Array.isArray(next) ? 'a list' : typeof next}, not a group of settings; set it whole (--set ${at}=<JSON>)`);
        }
        node = next as Record<string, unknown>;
      }
    });
  }
  return out as C;
}

/** The preset named by SLIMSPEECH_PRESET (notebooks read it), default 'default'. */
export function presetFromEnv(): PresetName {
  const p = (typeof process !== 'undefined' && process.env.SLIMSPEECH_PRESET) || 'default';
  if (p !== 'quick' && p !== 'default' && p !== 'paper') throw new Error(`SLIMSPEECH_PRESET must be quick, default or paper, got '${p}'`);
  return p;
}
