// The experiments namespace: the kit every recipe is built on (presets, steps over one run state, the run
// directory, claims with intervals, results writers) and the recipes themselves, one per paper.
export * from './presets';
export * from './recipe';
export * from './run';
export * from './seeds';
export * from './claims';
export * from './results';
export * from './evaluation';
export * from './notebooks';
export * from './enhance';
export * from './separate';
export * from './verify';
export { RECIPES, getRecipe } from './recipes';
export * as slimmableKws from './slimmable_kws';
export * as distilDccrn from './distil_dccrn';
export * as dsdLo from './dsd_lo';
export * as dphubert from './dphubert';
export * as osKdft from './os_kdft';
