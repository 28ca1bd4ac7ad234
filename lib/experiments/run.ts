import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { currentBackend } from '../backend';
import type { Module } from '../nn/module';
import { saveModel } from '../nn/serialize';
import type { Figure } from '../plot/figure';
import { savePlot } from '../plot/html';
import { fit, FitOptions } from '../train/fit';
import type { History } from '../train/history';
import { ProgressMode } from '../train/progress';
import { packageRoot } from '../util/package_root';
import { ClaimEvidence, ClaimOptions, ClaimSpec, evaluateClaim, formatClaims } from './claims';
import { applyOverrides, PresetName, resolvePreset } from './presets';
import type { Recipe, RecipeConfig, StepDef } from './recipe';
import { formatTable, RecipeResults, ResultRow, TableColumn, writeFileAtomic, writeResults } from './results';

/** Options of {@link openRun}. */
export interface RunOptions {
  /** Preset. Default 'default'. */
  preset?: PresetName;
  /** `key=value` overrides on top of the preset (as `--set`). Default none. */
  set?: string[];
  /** The run directory. Default `out/<recipe name>`. */
  out?: string;
  /** Ignore cached steps and checkpoints, and remove the previous results, models and plots: recompute everything. Default false. */
  fresh?: boolean;
  /** No progress on the console (the run directory's run.log still gets every line). Default false. */
  quiet?: boolean;
  /** Progress display of trainings. Default 'auto' ('none' when quiet). */
  progress?: ProgressMode;
  /** Console output. Default console.log. */
  print?: (line: string) => void;
  /** Checkpoint every this many optimizer steps (besides every epoch's end). Default: epoch ends only. */
  checkpointEvery?: number;
}

/** What happened to a step in this process. */
export interface StepOutcome {
  name: string;
  title: string;
  /** 'ran': computed here; 'cached': loaded from the run directory (inputs unchanged). */
  status: 'ran' | 'cached';
  seconds: number;
  /** Optimizer steps the step's trainings took in this process (0 when cached). */
  optimizerSteps: number;
  /** Where a training resumed from a checkpoint, if it did. */
  resumed?: { epoch: number; batchIndex: number; step: number };
}

/** Step outcomes as table rows (notebooks show them with plot.table): step, what happened, seconds, optimizer steps. */
export function outcomeRows(outcomes: StepOutcome[]): Record<string, string | number>[] {
  return outcomes.map((o) => ({
    step: o.name, status: o.status === 'cached' ? 'reused (inputs unchanged)' : o.resumed
      ? `resumed at epoch ${o.resumed.epoch} after ${o.resumed.step} steps` : 'ran',
    seconds: Number(o.seconds.toFixed(1)), 'optimizer steps here': o.optimizerSteps,
  }));
}

/** A claim as a recipe's report step hands it over: what is claimed and the per-item evidence. */
export interface ClaimInput {
  spec: ClaimSpec;
  evidence: Omit<ClaimEvidence, 'seed'>;
}

/** What a recipe's report step passes to {@link Run.report}. */
export interface ReportInput {
  rows: ResultRow[];
  claims: ClaimInput[];
  baselines: Record<string, number>;
  /** Columns of the printed table. Default every field. */
  columns?: TableColumn[];
  /** Recipe-specific fields of results.json. */
  extra?: Record<string, unknown>;
}

function safeName(step: string): string {
  return step.replace(/[^A-Za-z0-9._-]/g, '_');
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return m ? `${m} min ${String(s % 60).padStart(2, '0')} s` : `${s} s`;
}

/** slimspeech's version, from its package.json. */
export function packageVersion(): string {
  return String(JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version);
}

/**
 * One run of a recipe: its resolved config, its run directory and the state its steps share.
 *
 * The run directory holds `config.json` (resolved config, preset, overrides, backend, seed, version),
 * `run.log` (every progress line), `results.json` and `results.csv`, `plots/*.html`, `models/`,
 * `checkpoints/<step>/` (trainings, through {@link Run.fit}) and `steps/<step>/` (cached step outputs).
 * Rerunning after an interruption continues where it stopped: cached steps load, the interrupted training
 * resumes from its last checkpoint, and the numbers end as an uninterrupted run's.
 */
export class Run<C extends RecipeConfig, S> {
  readonly state: S;
  readonly steps: StepDef<C, S>[];
  /** Outcomes of the steps done in this process, by name. */
  readonly done = new Map<string, StepOutcome>();
  /** results.json's content once the report step ran. */
  results?: RecipeResults;
  private current?: { step: StepDef<C, S>; outcome: StepOutcome; index: number; fits: Set<string> };
  private readonly keys = new Map<string, string>();

  constructor(readonly recipe: Recipe<C, S>, readonly config: C, readonly preset: PresetName, readonly overrides: string[],
    readonly dir: string, private readonly options: RunOptions = {}) {
    recipe.check?.(config);
    this.steps = recipe.steps(config);
    const names = new Set<string>();
    for (const s of this.steps) {
      if (names.has(s.name)) throw new Error(`${recipe.name}: two steps are called '${s.name}'`);
      for (const a of s.after ?? []) if (!names.has(a)) throw new Error(`${recipe.name}: step '${s.name}' comes after '${a}', which is not an earlier step`);
      names.add(s.name);
    }
    this.state = recipe.initialState();
    fs.mkdirSync(dir, { recursive: true });
    if (options.fresh) {
      for (const sub of ['steps', 'checkpoints', 'models', 'plots', 'results.json', 'results.csv']) {
        fs.rmSync(path.join(dir, sub), { recursive: true, force: true });
      }
    }
  }

  /** The seed of this run (config.seed). */
  get seed(): number {
    return this.config.seed;
  }

  /** A path inside the run directory. */
  path(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }

  /** Writes a progress line to the console (unless quiet) and to run.log. */
  log(line: string): void {
    fs.appendFileSync(this.path('run.log'), `${new Date().toISOString()} ${line}\n`);
    if (!this.options.quiet) (this.options.print ?? console.log)(line);
  }

  /**
   * The cache key of a step: a hash of its config inputs, the seed, the keys of the steps it consumes,
   * slimspeech's version and the backend (numbers differ between backends in their last bits).
   */
  keyOf(name: string): string {
    const known = this.keys.get(name);
    if (known) return known;
    const step = this.steps.find((s) => s.name === name);
    if (!step) throw new Error(`${this.recipe.name}: no step '${name}'`);
    const inputs = step.inputs ? step.inputs(this.config) : this.config;
    const key = createHash('sha256').update(JSON.stringify({
      recipe: this.recipe.name, step: name, seed: this.config.seed, inputs: inputs ?? null, version: packageVersion(),
      backend: currentBackend()?.name ?? tf.getBackend(),
      after: (step.after ?? []).map((a) => this.keyOf(a)),
    })).digest('hex').slice(0, 24);
    this.keys.set(name, key);
    return key;
  }

  /** Names of the steps `name` selects: the step itself, or every `name:...` step of a group. */
  select(name: string): string[] {
    const hit = this.steps.filter((s) => s.name === name || s.name.startsWith(`${name}:`)).map((s) => s.name);
    if (!hit.length) throw new Error(`${this.recipe.name}: no step or group '${name}'; steps: ${this.steps.map((s) => s.name).join(', ')}`);
    return hit;
  }

  /**
   * Runs the step called `name` (or every step of the group `name`, e.g. 'train' for 'train:...'), after
   * any earlier step not done yet, in the recipe's order. A done step is not run twice in one process.
   */
  async step(name: string): Promise<StepOutcome[]> {
    const wanted = new Set(this.select(name));
    const last = Math.max(...this.steps.map((s, i) => (wanted.has(s.name) ? i : -1)));
    const out: StepOutcome[] = [];
    for (let i = 0; i <= last; i++) {
      const s = this.steps[i];
      if (this.done.has(s.name)) {
        if (wanted.has(s.name)) out.push(this.done.get(s.name)!);
        continue;
      }
      const o = await this.runStep(s, i);
      if (wanted.has(s.name)) out.push(o);
    }
    return out;
  }

  /** Runs every remaining step; resolves to results.json's content. */
  async all(): Promise<RecipeResults> {
    if (this.steps.length) await this.step(this.steps[this.steps.length - 1].name);
    if (!this.results) throw new Error(`${this.recipe.name}: the steps ran but none reported results (Run.report)`);
    return this.results;
  }

  private async runStep(s: StepDef<C, S>, index: number): Promise<StepOutcome> {
    const t0 = Date.now();
    const tag = `[${index + 1}/${this.steps.length}] ${s.name}`;
    const outcome: StepOutcome = { name: s.name, title: s.title, status: 'ran', seconds: 0, optimizerSteps: 0 };
    const cacheDir = this.path('steps', safeName(s.name));
    const marker = path.join(cacheDir, 'step.json');
    const key = this.keyOf(s.name);
    if (s.save && s.load && fs.existsSync(marker)) {
      let cached = false;
      try {
        const m = JSON.parse(fs.readFileSync(marker, 'utf8')) as { key: string };
        if (m.key === key) {
          await s.load(this, cacheDir);
          cached = true;
        }
      } catch (e) {
        this.log(`${tag}: the cached result in ${cacheDir} could not be read (${(e as Error).message}); recomputing`);
      }
      if (cached) {
        outcome.status = 'cached';
        outcome.seconds = (Date.now() - t0) / 1000;
        this.log(`${tag}: ${s.title}: reused from ${path.relative(this.dir, cacheDir)} (inputs unchanged)`);
        this.done.set(s.name, outcome);
        return outcome;
      }
    }
    this.log(`${tag}: ${s.title}`);
    this.current = { step: s, outcome, index, fits: new Set() };
    try {
      await s.run(this);
    } catch (e) {
      this.log(`${tag}: failed after ${clock((Date.now() - t0) / 1000)}: ${(e as Error).message}`);
      throw e;
    } finally {
      this.current = undefined;
    }
    outcome.seconds = (Date.now() - t0) / 1000;
    if (s.save && s.load) {
      fs.rmSync(cacheDir, { recursive: true, force: true });
      fs.mkdirSync(cacheDir, { recursive: true });
      await s.save(this, cacheDir);
      writeFileAtomic(marker, JSON.stringify({ step: s.name, key, seconds: outcome.seconds, finished: new Date().toISOString() }, null, 1));
    }
    const trained = outcome.optimizerSteps ? `, ${outcome.optimizerSteps} optimizer steps run here` +
      `${outcome.resumed ? ` (resumed at epoch ${outcome.resumed.epoch}, after ${outcome.resumed.step} steps)` : ''}` : '';
    this.log(`${tag}: done in ${clock(outcome.seconds)}${trained}`);
    this.done.set(s.name, outcome);
    return outcome;
  }

  /**
   * train.fit for the step now running, with the kit's wiring: checkpoints in `checkpoints/<step>/`
   * (resumed when their step key is unchanged, discarded otherwise), the progress label `[k/n] step`, the
   * run's log, the config's microBatch and seed. The step records how many optimizer steps ran here.
   */
  async fit<B>(opts: Omit<FitOptions<B>, 'checkpoint'> & { label?: string }): Promise<History> {
    const cur = this.current;
    if (!cur) throw new Error('Run.fit: call it from inside a step');
    const dir = this.path('checkpoints', safeName(cur.step.name) + (opts.label ? `.${safeName(opts.label)}` : ''));
    if (cur.fits.has(dir)) {
      throw new Error(`Run.fit: step '${cur.step.name}' trains twice with the same label ('${opts.label ?? ''}'), so both would share ` +
        `one checkpoint; give each training of a step its own label`);
    }
    cur.fits.add(dir);
    const keyFile = path.join(dir, 'key.json');
    const key = this.keyOf(cur.step.name);
    if (fs.existsSync(keyFile) && JSON.parse(fs.readFileSync(keyFile, 'utf8')).key !== key) fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    writeFileAtomic(keyFile, JSON.stringify({ step: cur.step.name, key }));
    const label = `[${cur.index + 1}/${this.steps.length}] ${cur.step.name}${opts.label ? ` ${opts.label}` : ''}`;
    return fit<B>({
      seed: this.config.seed, progress: this.options.quiet ? 'none' : this.options.progress ?? 'auto',
      ...(this.config.microBatch !== null && opts.microBatch === undefined ? { microBatch: this.config.microBatch } : {}),
      ...opts,
      label,
      checkpoint: { dir, everySteps: this.options.checkpointEvery },
      // Written synchronously: a training loop on wasm awaits only microtasks, so a stream would not
      // flush before the training ends.
      log: (l) => {
        fs.appendFileSync(this.path('run.log'), `${new Date().toISOString()} ${l}\n`);
        opts.log?.(l);
      },
      onStep: (r) => {
        cur.outcome.optimizerSteps += 1;
        return opts.onStep?.(r);
      },
      onResume: (info) => {
        cur.outcome.resumed ??= { epoch: info.epoch, batchIndex: info.batchIndex, step: info.step };
        opts.onResume?.(info);
      },
    });
  }

  /**
   * The report: evaluates the claims (interval and verdict), writes results.json and results.csv, logs
   * the table and the verdicts, and keeps the results on the run.
   */
  report(input: ReportInput, options: ClaimOptions = {}): RecipeResults {
    const claims = input.claims.map((c) => evaluateClaim(c.spec, [{ ...c.evidence, seed: this.seed }], { seed: this.seed, ...options }));
    const results: RecipeResults = {
      experiment: this.recipe.name, preset: this.preset, overrides: this.overrides,
      backend: currentBackend()?.name ?? tf.getBackend(), version: packageVersion(), seeds: [this.seed],
      rows: input.rows, claims, baselines: input.baselines, ...(input.extra ?? {}),
    };
    writeResults(this.dir, results);
    this.results = results;
    this.log(formatTable(input.rows, input.columns));
    this.log(`baselines: ${Object.entries(input.baselines).map(([k, v]) => `${k} ${+v.toFixed(4)}`).join(', ')}`);
    this.log(formatClaims(claims));
    return results;
  }

  /** Saves figures as standalone offline HTML, `plots/<name>.html` (one plotly.js beside them); resolves to the paths. */
  async savePlots(figs: Record<string, Figure[]>): Promise<string[]> {
    const out: string[] = [];
    for (const [name, list] of Object.entries(figs)) {
      if (list.length) out.push(await savePlot(list, this.path('plots', `${name}.html`), { plotlyJs: 'sibling', title: `${this.recipe.name}: ${name}` }));
    }
    return out;
  }

  /**
   * Saves a model to `models/<name>/` (saveModel: reloadable with loadModel at its own size) with the run's
   * identity in its metadata; resolves to the path relative to the run directory.
   */
  async saveModel(name: string, module: Module, metadata: Record<string, unknown> = {}): Promise<string> {
    const rel = path.join('models', name);
    await saveModel(module, this.path(rel), { metadata: { experiment: this.recipe.name, preset: this.preset, seed: this.seed, ...metadata } });
    return rel;
  }

  /** Frees the state's models and tensors. */
  dispose(): void {
    this.recipe.dispose(this.state);
  }
}

/**
 * Opens a run of `recipe`: resolves the preset and overrides, creates the run directory and writes its
 * config.json. Nothing runs until {@link Run.step} or {@link Run.all}.
 */
export function openRun<C extends RecipeConfig, S>(recipe: Recipe<C, S>, options: RunOptions = {}): Run<C, S> {
  const preset = options.preset ?? 'default';
  const overrides = options.set ?? [];
  const config = applyOverrides(resolvePreset(recipe.presets, preset, recipe.name), overrides);
  const dir = path.resolve(options.out ?? path.join('out', recipe.name));
  const run = new Run(recipe, config, preset, overrides, dir, options);
  writeFileAtomic(run.path('config.json'), JSON.stringify({
    experiment: recipe.name, preset, overrides, seed: config.seed, backend: currentBackend()?.name ?? tf.getBackend(),
    version: packageVersion(), config,
  }, null, 1));
  return run;
}
