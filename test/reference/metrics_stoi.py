"""Reference values for metrics.stoi / metrics.stoiBatch (lib/metrics/stoi.ts, stoi_resample.ts, stoi_bands.ts).

Run from the repository root with any python that has numpy (Debian's /usr/bin/python3 does):
    python3 test/reference/metrics_stoi.py [--pystoi PATH_TO_PYSTOI_GIT_DIR]
It writes test/reference/fixtures/metrics_stoi.json. --pystoi also needs scipy (which Debian's python3 may
lack); the committed fixture was written with --pystoi /work/.mirror/mpariente+pystoi/repo by a python 3.11
with numpy 2.4 and scipy 1.17 (versions recorded in the fixture).

This is an independent numpy implementation of STOI (Taal, Hendriks, Heusdens, Jensen, IEEE TASLP 2011)
and ESTOI (Jensen & Taal, IEEE TASLP 2016) in the variant pystoi 0.4.1 computes, written from the papers
and from pystoi's documented procedure, not from its code:
  - resample to 10 kHz with the Octave-style filter (Kaiser-windowed sinc, 60 dB rejection, roll-off a
    tenth of the cutoff, normalised to unit sum) applied as scipy's resample_poly applies a given window
    (here: upsample with zeros, full convolution by FFT, pick every down-th sample from the centred offset);
  - MATLAB hanning(256) frames every 128 samples, starting at range(0, len - 256, 128) (pystoi leaves the
    last full frame out); frames more than 40 dB below the loudest clean frame are dropped from both
    signals and the kept windowed frames overlap-added;
  - 512-point FFT of the Hann-windowed frames of the overlap-added signals, 15 one-third-octave bands from
    150 Hz (edges snapped to the nearest bin, upper edge bin excluded), band envelopes sqrt(sum |X|^2);
  - segments of 30 frames; STOI: clip y' = min(a y, x (1 + 10^0.75)) with a = |x| / (|y| + eps), mean
    correlation over bands and segments; ESTOI: row- then column-normalised segments (without pystoi's
    eps-scaled random noise; a zero-norm row or column stays zero), mean over segments of sum(Xn Yn) / 30;
  - fewer than 30 frames after silence removal -> 1e-5 (also for input too short for one frame, where
    pystoi raises an IndexError/AxisError instead).

Test signals: speech pairs (clean / noisy) from data/enh, cropped, brought to 8, 10, 16, 22.05, 44.1 and
48 kHz with a Fourier resampler (only to make inputs; any resampler would do), quantised to int16 and
stored base64 (little-endian int16; values are int16 / 32768), plus synthetic cases: long digital and
near-digital silences, short inputs (< 30 frames), the exact 29/30-frame boundary, identical, scaled and
inverted copies, and an all-zero estimate. Also stored: resampleOct outputs on short random signals and
the band edges, for the helpers' own tests.

With --pystoi, the script also cross-checks every case against the real pystoi 0.4.1: it extracts
pystoi/*.py from that checkout (a bare git directory, e.g. /work/.mirror/mpariente+pystoi/repo) into a
temporary folder, imports it (this needs scipy), and records the largest deviations in the fixture under
"pystoi_check"; it fails if STOI differs by more than 1e-9 or ESTOI by more than 1e-9 on any case except
those marked estoi_random (an all-zero estimate, where pystoi's ESTOI is random noise).
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "fixtures", "metrics_stoi.json")

FS = 10000
N_FRAME = 256
HOP = 128
NFFT = 512
NUM_BANDS = 15
MIN_FREQ = 150
N_SEG = 30
BETA = -15.0
DYN_RANGE = 40.0
EPS = np.finfo(np.float64).eps
SHORT_VALUE = 1e-5


# ---------------------------------------------------------------------------------------------- resampling
def octave_filter(p, q):
    """Kaiser-windowed ideal low-pass for resampling by p/q (Octave's resample.m design), unit sum."""
    g = np.gcd(p, q)
    p, q = p // g, q // g
    fc = 1.0 / (2 * max(p, q))
    rejection_db = 60.0
    L = int(np.ceil((rejection_db - 8) / (28.714 * fc / 10)))
    t = np.arange(-L, L + 1, dtype=np.float64)
    beta = 0.1102 * (rejection_db - 8.7)
    h = np.kaiser(2 * L + 1, beta) * 2 * p * fc * np.sinc(2 * fc * t)
    return p, q, h / h.sum()


def resample_to(x, p, q):
    """x (rate q) -> rate p: upsample by `up` with zeros, filter with up * h, keep every down-th sample.

    The output is centred the way scipy's resample_poly centres a given window of odd length 2L + 1:
    output k is the filtered signal at index (k + skip) * down - pre, pre = down - L % down,
    skip = (L + pre) / down, for k < ceil(len(x) * up / down)."""
    up, down, h = octave_filter(p, q)
    if up == down == 1:
        return np.array(x, dtype=np.float64)
    L = (len(h) - 1) // 2
    xu = np.zeros(len(x) * up)
    xu[::up] = x
    n = len(xu) + len(h) - 1
    nfft = 1 << int(np.ceil(np.log2(n)))
    full = np.fft.irfft(np.fft.rfft(xu, nfft) * np.fft.rfft(h * up, nfft), nfft)[:n]
    pre = down - L % down
    skip = (L + pre) // down
    n_out = -(-len(x) * up // down)
    idx = (np.arange(n_out) + skip) * down - pre
    return full[idx]


# --------------------------------------------------------------------------------------------- STOI pieces
def hann_matlab(n):
    k = np.arange(1, n + 1)
    return 0.5 - 0.5 * np.cos(2 * np.pi * k / (n + 1))


WIN = hann_matlab(N_FRAME)


def frame_starts(length):
    return list(range(0, length - N_FRAME, HOP))


def drop_silence(x, y):
    starts = frame_starts(len(x))
    if not starts:
        return np.zeros(0), np.zeros(0)
    xf = np.stack([WIN * x[s:s + N_FRAME] for s in starts])
    yf = np.stack([WIN * y[s:s + N_FRAME] for s in starts])
    energy = 20 * np.log10(np.sqrt((xf ** 2).sum(1)) + EPS)
    keep = energy > energy.max() - DYN_RANGE
    xf, yf = xf[keep], yf[keep]
    length = (len(xf) - 1) * HOP + N_FRAME
    xo, yo = np.zeros(length), np.zeros(length)
    for i in range(len(xf)):
        xo[i * HOP:i * HOP + N_FRAME] += xf[i]
        yo[i * HOP:i * HOP + N_FRAME] += yf[i]
    return xo, yo


def band_edges():
    """[lo, hi) FFT bins of the 15 one-third-octave bands (edges 150 * 2^((2k -+ 1)/6) snapped to a bin)."""
    freqs = np.arange(NFFT // 2 + 1) * (FS / NFFT)
    k = np.arange(NUM_BANDS)
    lo = [int(np.argmin(np.abs(freqs - f))) for f in MIN_FREQ * 2.0 ** ((2 * k - 1) / 6)]
    hi = [int(np.argmin(np.abs(freqs - f))) for f in MIN_FREQ * 2.0 ** ((2 * k + 1) / 6)]
    return lo, hi


LO, HI = band_edges()


def envelopes(x):
    starts = frame_starts(len(x))
    spec = np.abs(np.fft.rfft(np.stack([WIN * x[s:s + N_FRAME] for s in starts]), NFFT, axis=1)) ** 2  # [T, 257]
    return np.sqrt(np.stack([spec[:, LO[b]:HI[b]].sum(1) for b in range(NUM_BANDS)]))  # [15, T]


def segments(env):
    # [J, 15, 30]: segment j covers frames j .. j + 29
    return np.stack([env[:, m - N_SEG:m] for m in range(N_SEG, env.shape[1] + 1)])


def unit(v, axis):
    v = v - v.mean(axis=axis, keepdims=True)
    norm = np.sqrt((v ** 2).sum(axis=axis, keepdims=True))
    return np.divide(v, norm, out=np.zeros_like(v), where=norm > 0)


def stoi_value(estimate, reference, fs, extended):
    x = np.asarray(reference, dtype=np.float64)
    y = np.asarray(estimate, dtype=np.float64)
    if fs != FS:
        x, y = resample_to(x, FS, fs), resample_to(y, FS, fs)
    x, y = drop_silence(x, y)
    if len(frame_starts(len(x))) < N_SEG:
        return SHORT_VALUE
    X, Y = segments(envelopes(x)), segments(envelopes(y))
    if extended:
        xn, yn = unit(unit(X, 2), 1), unit(unit(Y, 2), 1)
        return float((xn * yn).sum(axis=(1, 2)).mean() / N_SEG)
    a = np.sqrt((X ** 2).sum(2, keepdims=True)) / (np.sqrt((Y ** 2).sum(2, keepdims=True)) + EPS)
    yp = np.minimum(a * Y, X * (1 + 10 ** (-BETA / 20)))
    xc = X - X.mean(2, keepdims=True)
    yc = yp - yp.mean(2, keepdims=True)
    corr = (xc * yc).sum(2) / ((np.sqrt((xc ** 2).sum(2)) + EPS) * (np.sqrt((yc ** 2).sum(2)) + EPS))
    return float(corr.mean())


# ------------------------------------------------------------------------------------------------ signals
def read_wav(rel):
    with wave.open(os.path.join(ROOT, rel)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, rel
        return w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768


def fourier_resample(x, fs_in, fs_out):
    n_out = int(round(len(x) * fs_out / fs_in))
    spec = np.fft.rfft(x)
    keep = min(len(spec), n_out // 2 + 1)
    out = np.zeros(n_out // 2 + 1, dtype=complex)
    out[:keep] = spec[:keep]
    return np.fft.irfft(out, n_out) * (n_out / len(x))


def quantise(x):
    return np.clip(np.round(np.asarray(x) * 32768), -32768, 32767).astype("<i2")


def b64(q):
    return base64.b64encode(q.astype("<i2").tobytes()).decode("ascii")


def speech_pair(fileid, seconds, start=0.0):
    clean_dir = "data/enh/test_set/synthetic/no_reverb/clean"
    noisy_dir = "data/enh/test_set/synthetic/no_reverb/noisy"
    noisy = [f for f in sorted(os.listdir(os.path.join(ROOT, noisy_dir))) if f.endswith(f"_fileid_{fileid}.wav")][0]
    fs, clean = read_wav(f"{clean_dir}/clean_fileid_{fileid}.wav")
    _, deg = read_wav(f"{noisy_dir}/{noisy}")
    a, b = int(start * fs), int((start + seconds) * fs)
    return fs, clean[a:b], deg[a:b], f"{clean_dir}/clean_fileid_{fileid}.wav", f"{noisy_dir}/{noisy}"


def build_cases(rng):
    cases = []

    def add(name, fs, est, ref, about, estoi_random=False, pystoi_fails=False):
        qe, qr = quantise(est), quantise(ref)
        cases.append({"name": name, "sampleRate": fs, "about": about, "length": int(len(qr)),
                      "estimate": b64(qe), "reference": b64(qr),
                      "_e": qe.astype(np.float64) / 32768, "_r": qr.astype(np.float64) / 32768,
                      "estoi_random": estoi_random, "pystoi_fails": pystoi_fails})

    for fileid, fs_out in [(6, 16000), (7, 8000), (8, 22050), (9, 44100), (10, 48000), (11, 10000)]:
        seconds = 0.7 if fs_out > 16000 else 1.0
        fs, clean, deg, cpath, npath = speech_pair(fileid, seconds, 0.2)
        if fs_out != fs:
            clean, deg = fourier_resample(clean, fs, fs_out), fourier_resample(deg, fs, fs_out)
        add(f"speech-noisy-{fs_out}", fs_out, deg, clean,
            f"{seconds} s from 0.2 s of {npath} (estimate) and {cpath} (reference), Fourier-resampled to {fs_out} Hz")

    fs, clean, deg, cpath, npath = speech_pair(12, 0.5, 0.3)
    gap = np.zeros(int(0.6 * fs))
    lead = int(0.3 * fs)
    ref = np.concatenate([gap[:lead], clean, gap, clean[::-1]])
    noise = rng.standard_normal(len(ref)) * np.sqrt(np.mean(clean ** 2)) * 10 ** (-10 / 20)
    add("long-digital-silence-16000", fs, ref + noise, ref,
        "0.3 s of zeros, 0.5 s speech, 0.6 s of zeros, 0.5 s speech reversed; estimate adds white noise at 10 dB "
        "throughout")
    quiet = rng.standard_normal(len(ref)) * 10 ** (-70 / 20) * np.sqrt(np.mean(clean ** 2))
    quiet[: lead + len(clean)] = 0
    quiet[-len(clean):] = 0
    ramp = np.linspace(0, 1, len(gap)) ** 3
    quiet[lead + len(clean):lead + len(clean) + len(gap)] *= 10 ** (45 / 20 * ramp)
    add("rising-noise-floor-16000", fs, 0.5 * (ref + quiet) + 0.02 * noise, ref + quiet,
        "as long-digital-silence but the middle gap holds noise rising from -70 dB to -25 dB re speech, so the 40 dB "
        "rule keeps only its end; estimate is half the reference plus faint noise")

    fs, clean, deg, cpath, npath = speech_pair(13, 0.25, 0.3)
    add("short-0.25s-16000", fs, deg, clean, "0.25 s of speech: fewer than 30 frames -> 1e-5")
    fs, clean, deg, cpath, npath = speech_pair(14, 0.2, 0.4)
    ref = np.concatenate([np.zeros(int(0.4 * fs)), clean, np.zeros(int(0.4 * fs))])
    add("short-by-silence-16000", fs, ref + 1e-3 * rng.standard_normal(len(ref)), ref,
        "0.2 s of speech between two 0.4 s stretches of zeros: fewer than 30 frames after silence removal -> 1e-5")
    add("one-frame-short-8000", 8000, rng.standard_normal(100) * 0.1, rng.standard_normal(100) * 0.1,
        "100 samples at 8 kHz, 125 at 10 kHz: no frame at all (pystoi raises; slimspeech returns 1e-5)",
        pystoi_fails=True)

    # Boundary: a 10 kHz noise carrier with slow modulation (no frame is silent): frames = ceil((L - 256) / 128)
    # and the overlap-added signal gives frames - 1 STFT frames, so L = 4224 gives 30 (one segment), 4096 gives 29.
    for length, label in [(4224, "30-frames"), (4096, "29-frames")]:
        t = np.arange(length) / FS
        ref = 0.2 * rng.standard_normal(length) * (1.2 + np.sin(2 * np.pi * 3 * t))
        est = ref + 0.1 * rng.standard_normal(length)
        add(f"boundary-{label}-10000", FS, est, ref,
            f"{length} samples of modulated noise at 10 kHz: {label} after silence removal "
            f"({'one segment' if length == 4224 else '-> 1e-5'})")

    fs, clean, deg, cpath, npath = speech_pair(15, 0.6, 0.2)
    add("identical-16000", fs, clean, clean, "estimate == reference: STOI and ESTOI 1 up to rounding")
    add("scaled-copy-16000", fs, 0.25 * clean, clean, "estimate = 0.25 * reference (both quantised)")
    add("inverted-copy-16000", fs, -clean, clean, "estimate = -reference: same magnitude spectra")
    add("zero-estimate-16000", fs, np.zeros_like(clean), clean,
        "all-zero estimate: STOI 0; ESTOI 0 here, random (eps-noise) in pystoi", estoi_random=True)
    fs, clean, deg, cpath, npath = speech_pair(16, 0.8, 0.1)
    smooth = np.convolve(deg, np.ones(9) / 9, mode="same")
    add("smoothed-noisy-22050", 22050, fourier_resample(smooth, fs, 22050), fourier_resample(clean, fs, 22050),
        f"{npath} smoothed by a 9-tap moving average, Fourier-resampled to 22.05 kHz")
    return cases


def resample_cases(rng):
    out = []
    for fs, n in [(8000, 301), (16000, 400), (22050, 257), (44100, 700), (48000, 333), (12345, 500)]:
        x = rng.standard_normal(n)
        out.append({"p": FS, "q": fs, "x": x.tolist(), "y": resample_to(x, FS, fs).tolist(),
                    "filterLength": len(octave_filter(FS, fs)[2])})
    return out


# ---------------------------------------------------------------------------------------- pystoi cross-check
def load_pystoi(git_dir, tmp):
    pkg = os.path.join(tmp, "pystoi")
    os.makedirs(pkg)
    for name in ["__init__.py", "stoi.py", "utils.py"]:
        src = subprocess.run(["git", "--git-dir", git_dir, "show", f"HEAD:pystoi/{name}"], check=True,
                             capture_output=True).stdout
        with open(os.path.join(pkg, name), "wb") as f:
            f.write(src)
    version = subprocess.run(["git", "--git-dir", git_dir, "log", "-1", "--format=%h %s"], check=True,
                             capture_output=True, text=True).stdout.strip()
    sys.path.insert(0, tmp)
    from pystoi import stoi as pystoi_fn  # noqa: E402
    from pystoi import utils as pystoi_utils  # noqa: E402
    return pystoi_fn, pystoi_utils, version


def cross_check(cases, resamples, git_dir):
    import warnings
    with tempfile.TemporaryDirectory() as tmp:
        pystoi_fn, utils, version = load_pystoi(git_dir, tmp)
        worst = {"stoi": 0.0, "estoi": 0.0, "resample": 0.0}
        rows = []
        for c in cases:
            if c["pystoi_fails"]:
                try:
                    pystoi_fn(c["_r"], c["_e"], c["sampleRate"])
                    raise SystemExit(f"{c['name']}: expected pystoi to fail")
                except Exception as e:  # pystoi indexes an empty frame array
                    rows.append(f"{c['name']}: pystoi raises {type(e).__name__}; slimspeech returns 1e-5")
                continue
            np.random.seed(0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s = pystoi_fn(c["_r"], c["_e"], c["sampleRate"])
                e = pystoi_fn(c["_r"], c["_e"], c["sampleRate"], extended=True)
            ds, de = abs(s - c["stoi"]), abs(e - c["estoi"])
            worst["stoi"] = max(worst["stoi"], ds)
            if not c["estoi_random"]:
                worst["estoi"] = max(worst["estoi"], de)
            rows.append(f"{c['name']}: pystoi {s:.12f} / {e:.12f}, numpy {c['stoi']:.12f} / {c['estoi']:.12f}"
                        f"{' (ESTOI random in pystoi)' if c['estoi_random'] else ''}")
        for r in resamples:
            y = utils.resample_oct(np.array(r["x"]), r["p"], r["q"])
            worst["resample"] = max(worst["resample"], float(np.max(np.abs(y - np.array(r["y"])))))
        print("\n".join(rows))
        print(f"pystoi {version}: worst |numpy - pystoi| STOI {worst['stoi']:.2e}, ESTOI {worst['estoi']:.2e}, "
              f"resample_oct {worst['resample']:.2e}")
        if max(worst.values()) > 1e-9:
            raise SystemExit("numpy reference disagrees with pystoi")
        import scipy
        return {"pystoi": version, "scipy": scipy.__version__, "max_abs_stoi": worst["stoi"], "max_abs_estoi": worst["estoi"],
                "max_abs_resample": worst["resample"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pystoi", help="bare git dir of a pystoi checkout to cross-check against (needs scipy)")
    args = ap.parse_args()
    rng = np.random.default_rng(20240611)
    cases = build_cases(rng)
    for c in cases:
        c["stoi"] = stoi_value(c["_e"], c["_r"], c["sampleRate"], False)
        c["estoi"] = stoi_value(c["_e"], c["_r"], c["sampleRate"], True)
        print(f"{c['name']}: STOI {c['stoi']:.6f} ESTOI {c['estoi']:.6f}")
    resamples = resample_cases(rng)
    out = {"generator": "test/reference/metrics_stoi.py", "numpy": np.__version__,
           "bands": {"lo": LO, "hi": HI}, "resample": resamples}
    if args.pystoi:
        out["pystoi_check"] = cross_check(cases, resamples, args.pystoi)
    out["cases"] = [{k: v for k, v in c.items() if not k.startswith("_")} for c in cases]
    with open(OUT, "w") as f:
        json.dump(out, f, allow_nan=False)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes), {len(cases)} cases")


if __name__ == "__main__":
    main()
