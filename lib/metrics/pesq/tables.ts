/**
 * The tables and constants PESQ is defined by: ITU-T P.862 (02/2001) and its wide-band extension
 * P.862.2 (11/2005), as they appear in the recommendations' reference implementation (version 2.0,
 * October 2005). Transcribed value for value; nothing here is tuned.
 */

/** Frequency response points (Hz, dB), linearly interpolated between points and extrapolated beyond. */
export type ResponseCurve = ReadonlyArray<readonly [number, number]>;

/**
 * P.862 level alignment: the pass band (350 Hz to 3.25 kHz at 0 dB, everything else at -500 dB) over
 * which the power of each signal is measured before both are scaled to the same level.
 */
export const LEVEL_ALIGN_CURVE: ResponseCurve = [
  [0, -500], [50, -500], [100, -500], [125, -500], [160, -500], [200, -500], [250, -500], [300, -500],
  [350, 0], [400, 0], [500, 0], [600, 0], [630, 0], [800, 0], [1000, 0], [1250, 0], [1600, 0], [2000, 0],
  [2500, 0], [3000, 0], [3250, 0], [3500, -500], [4000, -500], [5000, -500], [6300, -500], [8000, -500],
];

/** P.862 modified IRS receive characteristic (narrow-band handset listening), dB relative to 1 kHz. */
export const IRS_RECEIVE_CURVE: ResponseCurve = [
  [0, -200], [50, -40], [100, -20], [125, -12], [160, -6], [200, 0], [250, 4], [300, 6], [350, 8], [400, 10],
  [500, 11], [600, 12], [700, 12], [800, 12], [1000, 12], [1300, 12], [1600, 12], [2000, 12], [2500, 12],
  [3000, 12], [3250, 12], [3500, 4], [4000, -200], [5000, -200], [6300, -200], [8000, -200],
];

/**
 * Second-order sections [b0, b1, b2, a1, a2] (y = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2)),
 * single-precision as in the reference implementation.
 */
export type Biquads = ReadonlyArray<readonly [number, number, number, number, number]>;

/** P.862 input filter used only for time alignment (the pass band the delay estimates rely on), 8 kHz. */
const ALIGN_INPUT_FILTER_8K: Biquads = [
  [0.885535424, -0.885535424, 0.0, -0.771070709, 0.0],
  [0.895092588, 1.292907193, 0.449260174, 1.268869037, 0.442025372],
  [4.04952794, -7.865190042, 3.815662102, -1.746859852, 0.786305963],
  [0.500002353, -0.500002353, 0.0, 0.0, 0.0],
  [0.565002834, -0.241585934, -0.306009671, 0.259688659, 0.249979657],
  [2.115237288, 0.919935084, 1.141240051, -1.587313419, 0.665935315],
  [0.912224584, -0.224397719, -0.641121413, -0.246029464, -0.55672059],
  [0.444617727, -0.307589321, 0.141638062, -0.996391149, 0.502251622],
];

/** The same input filter at 16 kHz. */
const ALIGN_INPUT_FILTER_16K: Biquads = [
  [0.325631521, -0.08678286, -0.238848661, -1.07941649, 0.434583902],
  [0.403961804, -0.556985881, 0.153024077, -0.415115835, 0.696590244],
  [4.736162769, 3.287251046, 1.753289019, -1.859599046, 0.876284034],
  [0.365373469, 0.0, 0.0, -0.634626531, 0.0],
  [0.884811506, 0.0, 0.0, -0.256725271, 0.141536777],
  [0.723593055, -1.447186099, 0.723593044, -1.129587469, 0.657232737],
  [1.644910855, -1.817280902, 1.249658063, -1.778403899, 0.801724355],
  [0.633692689, -0.284644314, -0.319789663, 0.0, 0.0],
  [1.032763031, 0.268428979, 0.602913323, 0.0, 0.0],
  [1.001616361, -0.823749013, 0.439731942, -0.885778255, 0.0],
  [0.752472096, -0.37538899, 0.188977609, -0.077258216, 0.247230734],
  [1.023700575, 0.001661628, 0.52128424, -0.183867259, 0.354324187],
];

/** P.862.2 wide-band input filter (replaces the IRS receive filter): a 100 Hz high-pass at 16 kHz. */
const WIDEBAND_HIGHPASS_16K: Biquads = [[2.740826, -5.4816519, 2.740826, -1.9444777, 0.94597794]];

// Bark band tables. The 8 kHz model uses the first 42 of the 16 kHz bands, except that its last band
// gathers 11 FFT bins (not 12) with its own power density correction.

/** FFT bins summed into each Bark band (Nf / 2 bins in all: 128 at 8 kHz, 256 at 16 kHz). */
const BINS_PER_BAND_16K = [
  1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3,
  3, 4, 3, 4, 5, 4, 5, 6, 6, 7, 8, 9, 9, 12, 12, 15, 16, 18, 21, 25, 20,
];

/** Band centres in Bark. */
const CENTRE_BARK = [
  0.078672, 0.316341, 0.636559, 0.961246, 1.29045, 1.624217, 1.962597,
  2.305636, 2.653383, 3.005889, 3.363201, 3.725371, 4.092449, 4.464486,
  4.841533, 5.223642, 5.610866, 6.003256, 6.400869, 6.803755, 7.211971,
  7.625571, 8.044611, 8.469146, 8.899232, 9.334927, 9.776288, 10.223374,
  10.676242, 11.134952, 11.599563, 12.070135, 12.546731, 13.029408, 13.518232,
  14.013264, 14.514566, 15.022202, 15.536238, 16.056736, 16.583761, 17.117382,
  17.657663, 18.204674, 18.758478, 19.319147, 19.886751, 20.461355, 21.043034,
];

/** Band widths in Bark (the weights of the Lp norms over frequency). */
const WIDTH_BARK = [
  0.157344, 0.317994, 0.322441, 0.326934, 0.331474, 0.336061, 0.340697,
  0.345381, 0.350114, 0.354897, 0.359729, 0.364611, 0.369544, 0.374529,
  0.379565, 0.384653, 0.389794, 0.394989, 0.400236, 0.405538, 0.410894,
  0.416306, 0.421773, 0.427297, 0.432877, 0.438514, 0.444209, 0.449962,
  0.455774, 0.461645, 0.467577, 0.473569, 0.479621, 0.485736, 0.491912,
  0.498151, 0.504454, 0.510819, 0.51725, 0.523745, 0.530308, 0.536934,
  0.543629, 0.55039, 0.55722, 0.564119, 0.571085, 0.578125, 0.585232,
];

/** Power density correction: scales a band's summed bin powers to a density per Bark. */
const POW_DENS_CORRECTION_16K = [
  100.0, 99.999992, 100.0, 100.000008, 100.000008, 100.000015, 99.999992,
  99.999969, 50.000027, 100.0, 99.999969, 100.000015, 99.999947, 100.000061,
  53.047077, 110.000046, 117.991989, 65.0, 68.760147, 69.999931, 71.428818,
  75.000038, 76.843384, 80.968781, 88.646126, 63.864388, 68.15535, 72.547775,
  75.584831, 58.379192, 80.950836, 64.135651, 54.384785, 73.821884, 64.437073,
  59.176456, 65.521278, 61.399822, 58.144047, 57.004543, 64.126297, 54.311001,
  61.114979, 55.077751, 56.849335, 55.628868, 53.137054, 54.985844, 79.546974,
];

/** Absolute hearing threshold per band, as a power density. */
const ABS_THRESHOLD_POWER = [
  51286152.0, 2454709.5, 70794.59375, 4897.788574, 1174.897705, 389.045166, 104.71286,
  45.70882, 17.782795, 9.772372, 4.897789, 3.090296, 1.905461, 1.258925,
  0.977237, 0.724436, 0.562341, 0.457088, 0.389045, 0.331131, 0.295121,
  0.269153, 0.25704, 0.251189, 0.251189, 0.251189, 0.251189, 0.263027,
  0.288403, 0.30903, 0.338844, 0.371535, 0.398107, 0.436516, 0.467735,
  0.489779, 0.501187, 0.501187, 0.512861, 0.524807, 0.524807, 0.524807,
  0.512861, 0.47863, 0.42658, 0.371535, 0.363078, 0.416869, 0.537032,
];

/** Everything in PESQ that depends on the sample rate. */
export interface PesqRateTables {
  /** Sample rate in Hz (8000 or 16000). */
  sampleRate: number;
  /** Samples per VAD / alignment window (4 ms): 32 or 64. */
  downsample: number;
  /** FFT length of the fine (sample-level) delay estimation: 512 or 1024. */
  alignNfft: number;
  /** Frame length of the perceptual model (32 ms, Hann window, 50% overlap): 256 or 512. */
  frameLength: number;
  /** Second-order sections of the input filter used for time alignment. */
  alignInputFilter: Biquads;
  /** P.862.2 wide-band input filter (100 Hz high-pass); only used at 16 kHz. */
  widebandHighpass: Biquads;
  /** Number of Bark bands: 42 or 49. */
  bands: number;
  binsPerBand: readonly number[];
  centreBark: readonly number[];
  widthBark: readonly number[];
  powDensCorrection: readonly number[];
  absThresholdPower: readonly number[];
  /** Pitch power density scale Sp (maps FFT bin powers to the model's calibrated units). */
  sp: number;
  /** Loudness scale Sl (sone scaling of the Zwicker law). */
  sl: number;
}

const RATE_8K: PesqRateTables = {
  sampleRate: 8000,
  downsample: 32,
  alignNfft: 512,
  frameLength: 256,
  alignInputFilter: ALIGN_INPUT_FILTER_8K,
  widebandHighpass: [[2.6657628, -5.3315255, 2.6657628, -1.8890331, 0.89487434]],
  bands: 42,
  binsPerBand: [...BINS_PER_BAND_16K.slice(0, 41), 11],
  centreBark: CENTRE_BARK.slice(0, 42),
  widthBark: WIDTH_BARK.slice(0, 42),
  powDensCorrection: [...POW_DENS_CORRECTION_16K.slice(0, 41), 59.248363],
  absThresholdPower: ABS_THRESHOLD_POWER.slice(0, 42),
  sp: 2.764344e-5,
  sl: 1.866055e-1,
};

const RATE_16K: PesqRateTables = {
  sampleRate: 16000,
  downsample: 64,
  alignNfft: 1024,
  frameLength: 512,
  alignInputFilter: ALIGN_INPUT_FILTER_16K,
  widebandHighpass: WIDEBAND_HIGHPASS_16K,
  bands: 49,
  binsPerBand: BINS_PER_BAND_16K,
  centreBark: CENTRE_BARK,
  widthBark: WIDTH_BARK,
  powDensCorrection: POW_DENS_CORRECTION_16K,
  absThresholdPower: ABS_THRESHOLD_POWER,
  sp: 6.910853e-6,
  sl: 1.866055e-1,
};

/** The tables of a supported sample rate, or undefined. */
export function rateTables(sampleRate: number): PesqRateTables | undefined {
  return sampleRate === 8000 ? RATE_8K : sampleRate === 16000 ? RATE_16K : undefined;
}

/** Alignment windows (of `downsample` samples) of silence padded before and after each signal. */
export const SEARCH_BUFFER = 75;
/** Extra zeros (ms) after each signal's end padding, room for the FFT filters' tails. */
export const DATA_PADDING_MS = 320;
/** VAD: speech bursts of at most this many windows are discarded. */
export const MIN_SPEECH_WINDOWS = 4;
/** VAD: pauses of at most this many windows between bursts are filled. */
export const JOIN_SPEECH_WINDOWS = 50;
/** An utterance is at least this many VAD windows of speech (200 ms). */
export const MIN_UTTERANCE_WINDOWS = 50;
/** At most this many utterances (the reference's array size; the last slot is its scratch space). */
export const MAX_UTTERANCES = 50;
/** Level alignment target: the mean power both signals are scaled to in the 350 Hz - 3.25 kHz band. */
export const TARGET_AVG_POWER = 1e7;
