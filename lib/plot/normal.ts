// The standard normal distribution: CDF and its inverse (probit), for DET axes.

const SQRT2 = Math.SQRT2;
const INV_SQRT_PI = 1 / Math.sqrt(Math.PI);

/**
 * e^{-x^2 / 2} without the error of rounding x^2 (which grows with x^2 in relative terms): x is split
 * into a head with few bits, whose square is exact, and the remainder.
 */
function expHalfSquare(x: number): number {
  const hi = Math.round(x * 16) / 16;
  const lo = x - hi;
  return Math.exp(-0.5 * hi * hi) * Math.exp(-0.5 * lo * (2 * hi + lo));
}

/**
 * erfc(z) for z >= 0 given e = e^{-z^2}, with small relative error over the whole range (also deep in
 * the tail).
 */
function erfcNonNegative(z: number, e: number): number {
  if (z < 2) {
    // erf(z) = 2/sqrt(pi) e^{-z^2} sum_n (2 z^2)^n z / (1 * 3 * ... * (2n + 1)): positive terms, no
    // cancellation; erfc = 1 - erf stays above erfc(2) = 0.0047 here, so its relative error is ~1e-14.
    const z2 = z * z;
    let term = z;
    let sum = z;
    for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
      term *= (2 * z2) / (2 * n + 1);
      sum += term;
    }
    return 1 - 2 * INV_SQRT_PI * e * sum;
  }
  // Continued fraction erfc(z) = e^{-z^2}/sqrt(pi) * 1/(z + (1/2)/(z + (2/2)/(z + (3/2)/(z + ...)))),
  // evaluated with the modified Lentz method; for z >= 2 it converges in a few dozen terms.
  const tiny = 1e-300;
  let f = z;
  let c = z;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = z + a * d;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = z + a / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (INV_SQRT_PI * e) / f;
}

/** Standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2, accurate in relative terms in the lower tail. */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const z = -x / SQRT2;
  const e = expHalfSquare(x);
  return z >= 0 ? erfcNonNegative(z, e) / 2 : 1 - erfcNonNegative(-z, e) / 2;
}

/**
 * The probit function, Phi^{-1}(p): the inverse of the standard normal CDF (scipy.stats.norm.ppf), which
 * spaces the axes of a DET plot. probit(0) = -Infinity, probit(1) = Infinity, NaN outside [0, 1].
 * Computed as a rational first guess (Abramowitz & Stegun 26.2.23, error < 4.5e-4) refined by Halley
 * steps on Phi(x) - p, to about 1e-14 relative error; probit(p) = -probit(1 - p) above 1/2.
 */
export function probit(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p > 0.5) return -probit(1 - p);
  const t = Math.sqrt(-2 * Math.log(p));
  let x = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t));
  for (let i = 0; i < 4; i++) {
    const density = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    const u = (normalCdf(x) - p) / density;
    // Halley's step for f(x) = Phi(x) - p, using f'' = -x f'.
    const step = u / (1 + (x * u) / 2);
    x -= step;
    if (Math.abs(step) <= 1e-15 * Math.abs(x)) break;
  }
  return x;
}
