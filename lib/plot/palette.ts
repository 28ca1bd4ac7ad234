// Paired colours: a group (a width, a method) fixes a series' colour in every figure drawn with the same
// palette; a variant (slimmable, independent) fixes its dash, marker and fill within that colour.
import { PALETTE, describe } from './figure';

/** How one variant is drawn, in the colour of its group. */
export interface VariantStyle {
  /** Line dash of curves and Pareto fronts (Plotly line.dash). */
  dash: 'solid' | 'dash' | 'dot' | 'dashdot' | 'longdash' | 'longdashdot';
  /** Marker symbol (Plotly marker.symbol): filled for the first variant, open for the second, ... */
  symbol: string;
  /** Opacity of lines, markers and bars, in (0, 1]. */
  opacity: number;
  /** Bar fill pattern (Plotly marker.pattern.shape): '' solid, '/' hatched, ... */
  pattern: '' | '/' | '\\' | 'x' | '-' | '|' | '+' | '.';
}

/**
 * The styles of variants 1, 2, ... of a palette: solid line, filled circle, solid bar; then dashed, open
 * circle, hatched bar; then dotted, diamond, dotted bar; ...
 */
export const VARIANT_STYLES: readonly VariantStyle[] = [
  { dash: 'solid', symbol: 'circle', opacity: 1, pattern: '' },
  { dash: 'dash', symbol: 'circle-open', opacity: 1, pattern: '/' },
  { dash: 'dot', symbol: 'diamond', opacity: 1, pattern: '.' },
  { dash: 'dashdot', symbol: 'square-open', opacity: 1, pattern: 'x' },
  { dash: 'longdash', symbol: 'triangle-up', opacity: 1, pattern: '\\' },
  { dash: 'longdashdot', symbol: 'cross', opacity: 1, pattern: '-' },
];

/** A group key: a width (0.5) or a name ('KWT'). Keys compare as strings, so 0.5 and '0.5' are one group ('0.5×' another). */
export type GroupKey = string | number;

/** Options of `palette`. */
export interface PaletteOptions {
  /**
   * Variant names in style order (see VARIANT_STYLES): the first solid with filled markers, the second
   * dashed with open markers and hatched bars, ... At most six. Default: none (a series without a
   * variant is drawn in the first style; naming a variant is then an error).
   */
  variants?: string[];
  /** Colours of the groups, in order (CSS colours); at least as many as groups. Default: Plotly's ten (PALETTE). */
  colors?: string[];
  /** Overrides of the styles of some variants, by name, e.g. {independent: {opacity: 0.6}}. Default: none. */
  styles?: Record<string, Partial<VariantStyle>>;
}

/**
 * A fixed mapping from groups to colours and from variants to styles; pass the same palette to every
 * figure of a notebook (options.palette of trainingCurves, perWidthBars and pareto) so that a group keeps
 * its colour whichever figure draws it and in whatever order.
 */
export interface Palette {
  /** The groups, as strings, in colour order. */
  readonly groups: readonly string[];
  /** The variants in style order. */
  readonly variants: readonly string[];
  /** The colour of a group; throws for a group the palette does not have. */
  color(group: GroupKey): string;
  /** The style of a variant (the first style when `variant` is undefined); throws for an unknown variant. */
  style(variant?: string): VariantStyle;
}

function keyOf(group: unknown, where: string): string {
  if (typeof group === 'string' || (typeof group === 'number' && Number.isFinite(group))) return String(group);
  throw new Error(`${where}: a group key must be a string or a finite number, received ${describe(group)}`);
}

/**
 * A palette over a fixed list of groups, e.g. every width and every method a notebook draws:
 * `palette([0.25, 0.5, 0.75, 1, 'DS-CNN', 'KWT'], {variants: ['slimmable', 'independent']})`. Group i gets
 * colors[i], so its colour depends only on its place in this list. One palette per notebook, over all
 * its groups, also keeps one colour from meaning two things (a width in one figure, a method in another).
 */
export function palette(groups: GroupKey[], opts: PaletteOptions = {}): Palette {
  const { variants = [], colors = PALETTE, styles = {} } = opts;
  if (!Array.isArray(groups) || groups.length === 0) {
    throw new Error(`palette: groups must be a non-empty array of names or numbers, received ${describe(groups)}`);
  }
  const keys = groups.map((g, i) => keyOf(g, `palette: groups[${i}]`));
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup !== undefined) throw new Error(`palette: group '${dup}' is listed twice`);
  if (colors.length < keys.length) {
    throw new Error(`palette: ${keys.length} groups but only ${colors.length} colours; pass options.colors with one per group`);
  }
  if (variants.length > VARIANT_STYLES.length) {
    throw new Error(`palette: ${variants.length} variants but only ${VARIANT_STYLES.length} styles`);
  }
  const dupVariant = variants.find((v, i) => variants.indexOf(v) !== i);
  if (dupVariant !== undefined) throw new Error(`palette: variant '${dupVariant}' is listed twice`);
  for (const name of Object.keys(styles)) {
    if (!variants.includes(name)) throw new Error(`palette: options.styles names '${name}', which is not one of the variants [${variants.join(', ')}]`);
  }
  const variantStyles = variants.map((v, i) => ({ ...VARIANT_STYLES[i], ...styles[v] }));
  return {
    groups: keys,
    variants: [...variants],
    color(group: GroupKey): string {
      const k = keyOf(group, 'palette.color');
      const i = keys.indexOf(k);
      if (i < 0) throw new Error(`palette: group '${k}' is not one of the palette's groups [${keys.join(', ')}]`);
      return colors[i];
    },
    style(variant?: string): VariantStyle {
      if (variant === undefined) return variantStyles[0] ?? VARIANT_STYLES[0];
      const i = variants.indexOf(variant);
      if (i < 0) throw new Error(`palette: variant '${variant}' is not one of the palette's variants [${variants.join(', ')}]`);
      return variantStyles[i];
    },
  };
}

/** A series' place in a paired colour scheme. */
export interface SeriesKey {
  /** Fixes the colour: a width (0.5) or a method ('KWT'). */
  group: GroupKey;
  /** Fixes dash, marker and fill, e.g. 'slimmable' or 'independent'. Default: the palette's first style. */
  variant?: string;
}

/** Each series' key by series name, or a function from the series name to its key. */
export type SeriesKeys = Record<string, SeriesKey> | ((seriesName: string) => SeriesKey);

/** Options of the helpers that draw series in paired colours (trainingCurves, perWidthBars, pareto). */
export interface PairedOptions {
  /**
   * Per series its group (colour) and variant (dash, marker, fill), e.g.
   * `{'slimmable 0.5×': {group: 0.5, variant: 'slimmable'}, 'independent 0.5×': {group: 0.5, variant: 'independent'}}`
   * or `(name) => ({group: Number(name.split(' ')[1]), variant: name.split(' ')[0]})`.
   * Default: with a palette, every series is the group of its own name; without, one colour per series in order.
   */
  keys?: SeriesKeys;
  /**
   * The palette to draw with; the same palette in every figure keeps each group's colour. Default: a
   * palette of this figure's groups and variants in order of first appearance (stable within the figure only).
   */
  palette?: Palette;
}

/** A series' resolved colour and variant style. */
export interface SeriesStyle {
  color: string;
  variant: VariantStyle;
}

/**
 * The colour and style of each named series under `opts` (see PairedOptions), or undefined when neither
 * keys nor a palette is given (the helper then keeps its one-colour-per-series default). `where` names
 * the helper in errors.
 */
export function seriesStyles(names: string[], opts: PairedOptions, where: string): SeriesStyle[] | undefined {
  const { keys, palette: given } = opts;
  if (keys === undefined && given === undefined) return undefined;
  const resolved: SeriesKey[] = names.map((name) => {
    let key: SeriesKey | undefined;
    if (keys === undefined) key = { group: name };
    else if (typeof keys === 'function') key = keys(name);
    else if (typeof keys === 'object' && keys !== null) key = keys[name];
    else throw new Error(`${where}: options.keys must be a record or a function of the series name, received ${describe(keys)}`);
    if (key === undefined) {
      throw new Error(`${where}: options.keys has no entry for series '${name}' (it has ${Object.keys(keys as object).join(', ')})`);
    }
    if (typeof key !== 'object' || key === null || !('group' in key)) {
      throw new Error(`${where}: the key of series '${name}' must be {group, variant?}, received ${describe(key)}`);
    }
    return key;
  });
  const pal = given ?? palette(
    [...new Set(resolved.map((k, i) => keyOf(k.group, `${where}: the group of series '${names[i]}'`)))],
    { variants: [...new Set(resolved.flatMap((k) => (k.variant === undefined ? [] : [k.variant])))] });
  return resolved.map((k, i) => {
    try {
      return { color: pal.color(k.group), variant: pal.style(k.variant) };
    } catch (e) {
      throw new Error(`${where}: series '${names[i]}': ${(e as Error).message}`);
    }
  });
}
