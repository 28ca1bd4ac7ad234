// The experiments namespace: one recipe per paper, runnable from notebooks and the CLI.
import { Experiment } from './types';

export * from './types';
export * from './notebooks';

/** Every registered experiment by name. */
export const registry = new Map<string, Experiment<any>>(); // eslint-disable-line @typescript-eslint/no-explicit-any

/** Registers an experiment for the CLI (`npx slimspeech run <name>`). */
export function registerExperiment<C extends object>(e: Experiment<C>): void {
  registry.set(e.name, e as Experiment<any>); // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** The experiment called `name`, or an error listing the known ones. */
export function getExperiment(name: string): Experiment<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const e = registry.get(name);
  if (!e) throw new Error(`unknown experiment '${name}'; known: ${[...registry.keys()].join(', ') || '(none)'}`);
  return e;
}
// Last: each recipe imports registerExperiment from this module and registers itself when loaded.
export * as slimmableKws from './slimmable-kws';
