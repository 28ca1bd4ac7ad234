import { parameterRng } from './module';

/** Float32Array of `n` draws from U(-bound, bound), from the parameter generator. */
export function uniform(n: number, bound: number): Float32Array {
  const rng = parameterRng();
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng.next() * 2 - 1) * bound;
  return out;
}

/**
 * PyTorch's default for Linear and Conv weights and biases (kaiming_uniform_ with a = sqrt(5), and the
 * bias rule): U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
 */
export function fanInUniform(n: number, fanIn: number): Float32Array {
  return uniform(n, fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0);
}

/** Xavier/Glorot uniform: U(-a, a), a = gain * sqrt(6 / (fanIn + fanOut)) (torch.nn.init.xavier_uniform_). */
export function xavierUniform(n: number, fanIn: number, fanOut: number, gain = 1): Float32Array {
  return uniform(n, gain * Math.sqrt(6 / (fanIn + fanOut)));
}

/** A Float32Array of `n` copies of `value`. */
export function filled(n: number, value: number): Float32Array {
  return new Float32Array(n).fill(value);
}
