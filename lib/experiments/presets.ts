/** The three presets every recipe has (DESIGN.md "Experiments, CLI and notebooks"). */
export type PresetName = 'quick' | 'default' | 'paper';

/** The preset names in order of size. */
export const PRESET_NAMES: readonly PresetName[] = ['quick', 'default', 'paper'];

/** A recipe config with every field optional, recursively (arrays are replaced whole, never merged). */
export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/**
 * A recipe's presets: `default` in full (minutes on a 2-core CPU with the embedded data), `quick` (seconds,
 * for tests) and `paper` (paper scale, real data, a GPU) written as differences from it.
 */
export interface Presets<C> {
  default: C;
  quick: DeepPartial<C>;
  paper: DeepPartial<C>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * `base` with `diff` laid over it: objects are merged key by key, everything else (numbers, strings,
 * arrays, null) is replaced. A key of `diff` that `base` lacks is an error naming its path, so a preset
 * cannot misspell a setting. Neither argument is modified.
 */
export function mergeConfig<C>(base: C, diff: DeepPartial<C>, where = 'preset'): C {
  const walk = (b: unknown, d: unknown, at: string): unknown => {
    if (!isPlainObject(d) || !isPlainObject(b)) return structuredClone(d);
    const out: Record<string, unknown> = structuredClone(b);
    for (const [k, v] of Object.entries(d)) {
      if (!Object.prototype.hasOwnProperty.call(b, k)) throw new Error(`${where}: unknown key '${at}${k}'; known: ${Object.keys(b).join(', ')}`);
      out[k] = v === undefined ? out[k] : walk(b[k], v, `${at}${k}.`);
    }
    return out;
  };
  return walk(base, diff, '') as C;
}

/** The full config of preset `name` (quick and paper merged over default), a fresh copy. */
export function resolvePreset<C>(presets: Presets<C>, name: PresetName, where = 'preset'): C {
  if (!PRESET_NAMES.includes(name)) throw new Error(`${where}: preset must be one of ${PRESET_NAMES.join(', ')}; got '${name}'`);
  return name === 'default' ? structuredClone(presets.default) : mergeConfig(presets.default, presets[name], `${where} '${name}'`);
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
        checkGroupKeys(node[k], value, `--set ${s}`, at);
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

/**
 * A group of settings replaced whole (`--set group=<JSON>`) must use the group's own keys: a misspelt key
 * would otherwise be accepted and ignored. Checked recursively wherever the old value is an object.
 */
function checkGroupKeys(old: unknown, value: unknown, where: string, at: string): void {
  if (!isPlainObject(old) || !isPlainObject(value)) return;
  for (const [k, v] of Object.entries(value)) {
    if (!Object.prototype.hasOwnProperty.call(old, k)) throw new Error(`${where}: unknown key '${at}.${k}'; known: ${Object.keys(old).join(', ')}`);
    checkGroupKeys(old[k], v, where, `${at}.${k}`);
  }
}

/** Checks a preset name given on a command line or in a variable. */
export function checkPresetName(p: string, where = '--preset'): PresetName {
  if (!(PRESET_NAMES as readonly string[]).includes(p)) throw new Error(`${where} must be quick, default or paper, got '${p}'`);
  return p as PresetName;
}

/** The preset named by SLIMSPEECH_PRESET (notebooks read it), default 'default'. */
export function presetFromEnv(): PresetName {
  return checkPresetName((typeof process !== 'undefined' && process.env.SLIMSPEECH_PRESET) || 'default', 'SLIMSPEECH_PRESET');
}
