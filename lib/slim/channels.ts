import { Ctx } from '../nn/module';

/** The width list of the slimmable-KWS paper (Akhtar et al., arXiv 2304.12183) and of slimspeech's supernets. */
export const DEFAULT_WIDTHS: readonly number[] = Object.freeze([0.25, 0.5, 0.75, 1.0]);

/**
 * Active channels of a slimmable layer with `channels` channels at width multiplier `width`:
 *
 *   slimChannels(c, w) = min(c, max(1, round(w * c)))       (round half up)
 *
 * The first `slimChannels(c, w)` channels of the full weight are the active ones. Every slimmable layer,
 * every supernet and {@link extractSubnet} use this one rule, so neighbouring layers always agree on the
 * channel count between them, and `slimChannels(slimChannels(c, w), 1) = slimChannels(c, w)` (a subnet
 * extracted at w runs at width 1). The reference code (Yu et al.) rounds to multiples of 8
 * (`make_divisible`), which suits ImageNet MobileNets on GPUs; KWS models have 16-64 channels, where
 * multiples of 8 would merge widths, so slimspeech rounds to the nearest integer and leaves divisibility to
 * the channel counts of the config (64 channels give 16, 32, 48, 64 at the default widths).
 * A tiny epsilon absorbs floating-point products such as 0.35 * 10 = 3.4999999999999996.
 */
export function slimChannels(channels: number, width: number): number {
  checkWidth(width, 'slimChannels');
  return Math.min(channels, Math.max(1, Math.floor(width * channels + 0.5 + 1e-9)));
}

/** Throws unless `width` is a number in (0, 1]. */
export function checkWidth(width: number, who: string): void {
  if (!(width > 0 && width <= 1)) throw new Error(`${who}: width must be in (0, 1], got ${width}`);
}

/** The width of a call: `ctx.width`, default 1, checked to lie in (0, 1]. */
export function widthOf(ctx: Ctx, who = 'slimmable layer'): number {
  const w = ctx.width ?? 1;
  checkWidth(w, who);
  return w;
}

/** A width list sorted ascending without duplicates, every entry checked to lie in (0, 1]. */
export function normalizeWidths(widths: readonly number[], who: string): number[] {
  if (!widths.length) throw new Error(`${who}: the width list is empty`);
  for (const w of widths) checkWidth(w, who);
  const sorted = [...widths].sort((a, b) => a - b);
  return sorted.filter((w, i) => i === 0 || !sameWidth(w, sorted[i - 1]));
}

/** True when two widths are the same up to floating-point noise (1e-9). */
export function sameWidth(a: number, b: number): boolean {
  return Math.abs(a - b) < 1e-9;
}
