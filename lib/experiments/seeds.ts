import * as fs from 'fs';
import * as path from 'path';
import { evaluateClaim, formatClaims } from './claims';
import { applyOverrides, resolvePreset } from './presets';
import type { Recipe, RecipeConfig } from './recipe';
import { aggregateSeeds, formatTable, RecipeResults, writeResults } from './results';
import { openRun, RunOptions } from './run';

/** Options of {@link runRecipe}: those of a run, and how many seeds. */
export interface RunRecipeOptions extends RunOptions {
  /**
   * Run the whole recipe for this many seeds, s, s + 1, ... (s = the config's seed), each in
   * `<out>/seed-<k>/`; the run directory's results then pool them: rows as means with 95% t-intervals over
   * seeds, claims with intervals over seeds and items. Default 1 (one run directly in `out`).
   */
  seeds?: number;
}

/**
 * Runs every step of a recipe (the CLI's `run`): one seed in the run directory, or several pooled (see
 * {@link RunRecipeOptions.seeds}); resolves to the results written to `<out>/results.json`.
 */
export async function runRecipe<C extends RecipeConfig, S>(recipe: Recipe<C, S>, options: RunRecipeOptions = {}): Promise<RecipeResults> {
  const seeds = options.seeds ?? 1;
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`--seeds must be a positive integer, got ${seeds}`);
  const one = async (o: RunOptions) => {
    const run = openRun(recipe, o);
    try {
      return await run.all();
    } finally {
      run.dispose();
    }
  };
  if (seeds === 1) return one(options);
  const base = applyOverrides(resolvePreset(recipe.presets, options.preset ?? 'default', recipe.name), options.set ?? []).seed;
  const out = path.resolve(options.out ?? path.join('out', recipe.name));
  const print = options.quiet ? () => undefined : options.print ?? console.log;
  const perSeed: RecipeResults[] = [];
  for (let k = 0; k < seeds; k++) {
    const seed = base + k;
    print(`${recipe.name}: seed ${seed} (${k + 1} of ${seeds}) in ${path.join(out, `seed-${seed}`)}`);
    perSeed.push(await one({ ...options, set: [...(options.set ?? []), `seed=${seed}`], out: path.join(out, `seed-${seed}`) }));
  }
  const results = poolSeeds(perSeed, recipe.rowKey);
  writeResults(out, results);
  fs.appendFileSync(path.join(out, 'run.log'), `${new Date().toISOString()} pooled ${seeds} seeds\n`);
  print(formatTable(results.rows));
  print(formatClaims(results.claims));
  return results;
}

/**
 * Results of several seeds of one recipe pooled: rows by {@link aggregateSeeds} (mean and 95% t-interval
 * of every number), claims re-evaluated on the evidence of every seed (intervals over seeds and items),
 * and each seed's rows and verdicts kept under `perSeed`.
 */
export function poolSeeds(perSeed: RecipeResults[], rowKey: string[]): RecipeResults {
  const first = perSeed[0];
  const claims = first.claims.map((c) => {
    const evidence = perSeed.flatMap((r) => {
      const same = r.claims.find((x) => x.id === c.id);
      if (!same) throw new Error(`poolSeeds: seed ${r.seeds[0]} has no claim '${c.id}'`);
      return same.evidence;
    });
    const { id, statement, metric, variants, direction, threshold, display, strict, statistic } = c;
    return evaluateClaim({ id, statement, metric, variants, direction, threshold, display, strict, statistic }, evidence, { seed: first.seeds[0] });
  });
  return {
    ...first, seeds: perSeed.flatMap((r) => r.seeds), overrides: first.overrides.filter((o) => !o.startsWith('seed=')),
    rows: aggregateSeeds(perSeed.map((r) => r.rows), rowKey), claims,
    perSeed: perSeed.map((r) => ({ seed: r.seeds[0], rows: r.rows, claims: r.claims.map((c) => ({ id: c.id, difference: c.difference,
      interval: c.interval, verdict: c.verdict })) })),
  };
}
