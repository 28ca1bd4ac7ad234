/**
 * The one-third-octave band matrix of STOI, as pystoi 0.4.1's `thirdoct` (after Taal's `thirdoct.m`).
 */

/** One-third-octave bands over the bins of a real FFT, as {@link thirdOctaveBands} returns them. */
export interface ThirdOctaveBands {
  /** First FFT bin of each band. */
  lo: Int32Array;
  /** One past the last FFT bin of each band (band b sums bins lo[b] .. hi[b] - 1). */
  hi: Int32Array;
  /** Centre frequencies in Hz: minFreq * 2^(k / 3). */
  centerFrequencies: Float64Array;
}

/**
 * One-third-octave bands k = 0 .. numBands - 1 with centres minFreq * 2^(k/3) and edges
 * minFreq * 2^((2k -+ 1) / 6), each edge moved to the nearest of the FFT bin frequencies
 * f_i = i * sampleRate / nFft, i = 0 .. nFft/2 (the lower bin on a tie, as numpy's argmin). Band k's row
 * of pystoi's matrix is 1 on bins [lo, hi): the upper edge bin belongs to the next band, as in Taal's
 * `thirdoct.m` (`A(i, fl_ii:(fr_ii-1)) = 1`).
 *
 * @param sampleRate Hz (10000 for STOI)
 * @param nFft FFT size (512 for STOI)
 * @param numBands number of bands (15 for STOI)
 * @param minFreq centre of the lowest band in Hz (150 for STOI)
 */
export function thirdOctaveBands(sampleRate: number, nFft: number, numBands: number, minFreq: number): ThirdOctaveBands {
  const nBins = Math.floor(nFft / 2) + 1;
  const step = sampleRate / nFft;
  const nearest = (freq: number): number => {
    let best = 0;
    let bestD = Infinity;
    for (let i = 0; i < nBins; i++) {
      const d = (i * step - freq) ** 2;
      if (d < bestD) { bestD = d; best = i; }
    }
    return best;
  };
  const lo = new Int32Array(numBands);
  const hi = new Int32Array(numBands);
  const centerFrequencies = new Float64Array(numBands);
  for (let k = 0; k < numBands; k++) {
    centerFrequencies[k] = Math.pow(2 ** (1 / 3), k) * minFreq;
    lo[k] = nearest(minFreq * 2 ** ((2 * k - 1) / 6));
    hi[k] = nearest(minFreq * 2 ** ((2 * k + 1) / 6));
  }
  return { lo, hi, centerFrequencies };
}
