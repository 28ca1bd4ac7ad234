// The list of recipes: the one place the CLI and notebooks find them by name.
import type { Recipe, RecipeConfig } from './recipe';
import { recipe as slimmableKws } from './slimmable_kws';
import { recipe as distilDccrn } from './distil_dccrn';
import { recipe as dsdLo } from './dsd_lo';
import { recipe as dphubert } from './dphubert';
import { recipe as osKdft } from './os_kdft';

/** Every recipe, in the order of the papers. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const RECIPES: readonly Recipe<any, any>[] = [slimmableKws, dphubert, osKdft, distilDccrn, dsdLo];

/** The recipe called `name`, or an error listing the known ones. */
export function getRecipe(name: string): Recipe<RecipeConfig, unknown> {
  const r = RECIPES.find((x) => x.name === name);
  if (!r) throw new Error(`unknown experiment '${name}'; known: ${RECIPES.map((x) => x.name).join(', ')}`);
  return r;
}
