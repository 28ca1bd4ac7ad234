/** Analysis windows, computed in float64. */

/**
 * Hann window: w[n] = 0.5 - 0.5 cos(2 pi n / D), n < length, with D = length (periodic, the default,
 * as `torch.hann_window(length)`) or D = length - 1 (symmetric, `periodic=false`). A length-1 window is [1].
 */
export function hannWindow(length: number, periodic = true): Float64Array {
  if (!Number.isInteger(length) || length < 1) throw new Error(`hannWindow: length must be a positive integer, got ${length}`);
  if (length === 1) return Float64Array.of(1);
  const d = periodic ? length : length - 1;
  return Float64Array.from({ length }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / d));
}

/**
 * cos and sin of 2 pi m / n for integer m, exact (0, +-1) at multiples of a quarter turn, so that DFT
 * bases have exact zeros where the maths has them (the imaginary DC and Nyquist rows).
 */
export function unitCircle(m: number, n: number): [number, number] {
  const r = ((m % n) + n) % n;
  if ((4 * r) % n === 0) {
    const q = (4 * r) / n;
    return [[1, 0, -1, 0][q], [0, 1, 0, -1][q]];
  }
  const a = (2 * Math.PI * r) / n;
  return [Math.cos(a), Math.sin(a)];
}
