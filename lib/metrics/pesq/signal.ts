/**
 * The buffer layout every PESQ stage works on, as in the P.862 reference implementation: each signal
 * sits between SEARCH_BUFFER alignment windows of zeros on either side, followed by DATA_PADDING_MS of
 * further zeros (room for filter tails and for frames that reach past the end).
 */
import { DATA_PADDING_MS, PesqRateTables, SEARCH_BUFFER } from './tables';

/** A signal in the PESQ buffer layout. */
export interface PaddedSignal {
  /** [searchPad zeros][samples][searchPad zeros][tailPad zeros], float32 as in the reference. */
  data: Float32Array;
  /** samples + 2 * searchPad: the extent the alignment stages look at (the reference's Nsamples). */
  nsamples: number;
}

/** Zeros before and after the samples: SEARCH_BUFFER windows of `downsample` samples (300 ms). */
export function searchPad(rate: PesqRateTables): number {
  return SEARCH_BUFFER * rate.downsample;
}

/** Further zeros after the end padding (320 ms). */
export function tailPad(rate: PesqRateTables): number {
  return (DATA_PADDING_MS * rate.sampleRate) / 1000;
}

/** Places `samples` (already float32) in the PESQ layout. */
export function padSignal(samples: Float32Array, rate: PesqRateTables): PaddedSignal {
  const pad = searchPad(rate);
  const nsamples = samples.length + 2 * pad;
  const data = new Float32Array(nsamples + tailPad(rate));
  data.set(samples, pad);
  return { data, nsamples };
}

/** A copy with its own buffer. */
export function copySignal(s: PaddedSignal): PaddedSignal {
  return { data: s.data.slice(), nsamples: s.nsamples };
}
