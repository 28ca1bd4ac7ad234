// Axis ticks Plotly does not choose well by itself: readable log axes and integer-only (epoch) axes.
import { Axis } from './figure';

/** Rounds away binary noise (2 * 10 ** -2 = 0.020000000000000004) so that tick values compare and print cleanly. */
function clean(v: number): number {
  return Number(v.toPrecision(12));
}

/**
 * A number with an SI suffix and at most three significant digits, trailing zeros dropped: 20000 as
 * '20k', 1500000 as '1.5M', 0.05 as '0.05'; values under 0.001 in exponent form ('1e-4').
 */
export function formatSi(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  const units: Array<[number, string]> = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [scale, suffix] of units) {
    if (a >= scale) return `${Number((v / scale).toPrecision(3))}${suffix}`;
  }
  if (a < 1e-3) return v.toExponential().replace(/\.?0+e/, 'e').replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

/** Ticks of a log axis: the labelled values with their texts, and unlabelled minor ticks. */
export interface LogTicks {
  tickvals: number[];
  ticktext: string[];
  minor: number[];
}

/**
 * Ticks for a log axis over [lo, hi] (data units, 0 < lo <= hi). Up to about three decades: labelled
 * ticks in 1-2-5 steps (5k, 10k, 20k, 50k, ...); over a narrower range where 1-2-5 gives fewer than
 * three, every digit (2k, 3k, 4k, ...). Wider ranges: decades only (1k, 10k, 100k, ...; every second or
 * third decade past nine). Minor ticks, unlabelled, at every other digit times a power of ten. Texts use
 * SI suffixes (formatSi), never Plotly's '2 3 ... 9 10k 2 3'.
 */
export function logTicks(lo: number, hi: number): LogTicks {
  if (!(lo > 0 && hi >= lo && Number.isFinite(hi))) {
    throw new Error(`logTicks: expected 0 < lo <= hi, received [${lo}, ${hi}]`);
  }
  const e0 = Math.floor(Math.log10(lo)) - 1;
  const e1 = Math.ceil(Math.log10(hi)) + 1;
  const inRange = (v: number) => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  const series = (mantissas: number[], stepDecades = 1): number[] => {
    const out: number[] = [];
    for (let e = e0; e <= e1; e++) {
      if (stepDecades > 1 && ((e % stepDecades) + stepDecades) % stepDecades !== 0) continue;
      for (const m of mantissas) {
        const v = clean(m * 10 ** e);
        if (inRange(v)) out.push(v);
      }
    }
    return out;
  };
  const decades = Math.log10(hi / lo);
  let major: number[];
  if (decades > 3.2) {
    major = series([1], Math.max(1, Math.ceil(decades / 9)));
  } else {
    major = series([1, 2, 5]);
    if (major.length < 3) major = series([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  }
  const labelled = new Set(major);
  const minor = series([1, 2, 3, 4, 5, 6, 7, 8, 9]).filter((v) => !labelled.has(v));
  return { tickvals: major, ticktext: major.map(formatSi), minor };
}

/**
 * Tick settings that keep an axis on whole numbers when every value is an integer (epochs, steps):
 * Plotly would put ticks at 1.5 and 2.5 on a three-epoch run. Spans up to 30 get a fixed step of 1, 2 or
 * 5 (at most about ten ticks); longer ones only a whole-number tick format, since Plotly's own steps are
 * whole there. Returns {} when some value is not an integer.
 */
export function integerTicks(values: number[]): Partial<Axis> {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0 || !finite.every(Number.isInteger)) return {};
  const span = Math.max(...finite) - Math.min(...finite);
  if (span > 30) return { tickformat: 'd' };
  const dtick = [1, 2, 5].find((d) => span / d <= 10) ?? 5;
  return { tickmode: 'linear', tick0: 0, dtick, tickformat: 'd' };
}
