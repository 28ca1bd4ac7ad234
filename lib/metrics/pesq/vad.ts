/**
 * The P.862 voice activity detector used by the time alignment: the signal's power in windows of
 * `downsample` samples (4 ms) compared with a noise threshold found iteratively, then cleaned of short
 * bursts, weak bursts and short pauses, with soft onsets and offsets. Computed in float32 arithmetic,
 * as the reference implementation does, because every step ends in a threshold decision.
 */
import { f32 } from './dsp';
import { JOIN_SPEECH_WINDOWS, MIN_SPEECH_WINDOWS } from './tables';

/** VAD output, one value per window. */
export interface VoiceActivity {
  /** Window power where speech is detected (ramped at onsets and offsets), 0 elsewhere. */
  vad: Float32Array;
  /** log(vad / threshold) where vad exceeds the noise threshold, else 0: what the crude alignment correlates. */
  logVad: Float32Array;
}

/** Negates vad[from .. to): a speech run becomes non-speech (or back). */
function negate(vad: Float32Array, from: number, to: number): void {
  for (let i = from; i < to; i++) vad[i] = -vad[i];
}

/**
 * VAD over the first `nsamples` samples of `data` (floor(nsamples / downsample) windows). Speech is
 * marked by positive values during the clean-up passes and non-speech by negative ones.
 */
export function voiceActivity(data: Float32Array, nsamples: number, downsample: number): VoiceActivity {
  const n = Math.floor(nsamples / downsample);
  const vad = new Float32Array(n);
  for (let w = 0; w < n; w++) {
    let s = 0;
    for (let t = w * downsample, end = t + downsample; t < end; t++) s = f32(s + f32(data[t] * data[t]));
    vad[w] = f32(s / downsample);
  }

  let threshold = 0;
  let peak = 0;
  for (let w = 0; w < n; w++) {
    threshold = f32(threshold + vad[w]);
    if (vad[w] > peak) peak = vad[w];
  }
  threshold = f32(threshold / n);
  const floor = peak > 0 ? f32(peak * f32(1e-4)) : 1;
  for (let w = 0; w < n; w++) if (vad[w] < floor) vad[w] = floor;

  // Noise level and spread of the windows below the threshold, refined 12 times.
  let noise = 0;
  for (let it = 0; it < 12; it++) {
    noise = 0;
    let spread = 0;
    let count = 0;
    for (let w = 0; w < n; w++) {
      if (vad[w] <= threshold) { noise = f32(noise + vad[w]); count++; }
    }
    if (count > 0) {
      noise = f32(noise / count);
      for (let w = 0; w < n; w++) {
        if (vad[w] <= threshold) { const g = f32(vad[w] - noise); spread = f32(spread + f32(g * g)); }
      }
      spread = f32(Math.sqrt(f32(spread / count)));
    }
    threshold = f32(f32(1.001) * f32(noise + f32(2 * spread)));
  }

  let signal = 0;
  let count = 0;
  noise = 0;
  for (let w = 0; w < n; w++) {
    if (vad[w] > threshold) { signal = f32(signal + vad[w]); count++; } else noise = f32(noise + vad[w]);
  }
  if (count > 0) signal = f32(signal / count);
  else threshold = -1;
  noise = count < n ? f32(noise / (n - count)) : 1;

  for (let w = 0; w < n; w++) if (vad[w] <= threshold) vad[w] = -vad[w];
  vad[0] = -floor;
  vad[n - 1] = -floor;

  // Drop bursts of at most MIN_SPEECH_WINDOWS windows.
  let start = 0;
  for (let w = 1; w < n; w++) {
    if (vad[w] > 0 && vad[w - 1] <= 0) start = w;
    if (vad[w] <= 0 && vad[w - 1] > 0 && w - start <= MIN_SPEECH_WINDOWS) negate(vad, start, w);
  }
  // With a clean signal (30 dB between speech and noise), also drop bursts weaker than 3x the threshold.
  if (signal >= f32(noise * 1000)) {
    for (let w = 1; w < n; w++) {
      if (vad[w] > 0 && vad[w - 1] <= 0) start = w;
      if (vad[w] <= 0 && vad[w - 1] > 0) {
        let g = 0;
        for (let i = start; i < w; i++) g = f32(g + vad[i]);
        if (g < f32(f32(3 * threshold) * (w - start))) negate(vad, start, w);
      }
    }
  }
  // Fill pauses of at most JOIN_SPEECH_WINDOWS windows between bursts.
  start = 0;
  let finish = 0;
  for (let w = 1; w < n; w++) {
    if (vad[w] > 0 && vad[w - 1] <= 0) {
      start = w;
      if (finish > 0 && start - finish <= JOIN_SPEECH_WINDOWS) vad.fill(floor, finish, start);
    }
    if (vad[w] <= 0 && vad[w - 1] > 0) finish = w;
  }
  // No speech onset at all: the whole signal counts as speech.
  let onset = false;
  for (let w = 1; w < n && !onset; w++) onset = vad[w] > 0 && vad[w - 1] <= 0;
  if (!onset) {
    for (let w = 0; w < n; w++) vad[w] = Math.abs(vad[w]);
    vad[0] = -floor;
    vad[n - 1] = -floor;
  }
  // Soft onsets (0.1, 0.3 of the first speech window) and offsets (0.3, 0.1 of the last).
  for (let w = 3; w < n - 2; w++) {
    if (vad[w] > 0 && vad[w - 2] <= 0) {
      vad[w - 2] = f32(vad[w] * f32(0.1));
      vad[w - 1] = f32(vad[w] * f32(0.3));
      w++;
    }
    if (vad[w] <= 0 && vad[w - 1] > 0) {
      vad[w] = f32(vad[w - 1] * f32(0.3));
      vad[w + 1] = f32(vad[w - 1] * f32(0.1));
      w += 3;
    }
  }

  for (let w = 0; w < n; w++) if (vad[w] < 0) vad[w] = 0;
  if (threshold <= 0) threshold = floor;
  const logVad = new Float32Array(n);
  for (let w = 0; w < n; w++) logVad[w] = vad[w] <= threshold ? 0 : Math.log(f32(vad[w] / threshold));
  return { vad, logVad };
}
