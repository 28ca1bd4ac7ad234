"""Reference values for metrics.pesq (lib/metrics/pesq/) from the ITU-T P.862 reference implementation.

The reference code is ITU-T's P.862 / P.862.2 C implementation as packaged by ludlows/PESQ (the `pesq`
Python package; https://github.com/ludlows/PESQ, used here at commit 65e68e7b, March 2026). Extract a
checkout, then run from the repository root with a python3 that has numpy and scipy (Debian: python3-numpy,
python3-scipy), and gcc:

    mkdir -p /tmp/pesq-ref
    git -C /work/.mirror/ludlows+PESQ/repo archive HEAD | tar -x -C /tmp/pesq-ref   # or: git clone ...
    python3 test/reference/metrics_pesq.py /tmp/pesq-ref

The script compiles the checkout's C files (pesq/dsp.c, pesqdsp.c, pesqmod.c) with a small driver of its
own into a temporary binary (never committed). The driver calls the reference entry point the way the
package's cypesq.pyx does: select_rate(fs), then pesq_measure() with input_filter 1 and NB_MODE for 'nb',
input_filter 2 and WB_MODE for 'wb', on float32 samples that the script has divided by the pair's shared
peak, as pesq._pesq._pesq_inner does: max(|ref|max, |deg|max), then (x / max).astype(float32). It
prints mapped_mos (P.862.1 MOS-LQO for 'nb', P.862.2 for 'wb') or the error code (-7: no utterances).

Pairs (all samples are int16 / 32768, so the WAVs hold exactly what was scored):
  - 8 kHz, narrow-band: data/enh test pairs (clean, noisy) resampled 16 -> 8 kHz with
    scipy.signal.resample_poly(x, 1, 2); data/sep utterances (native 8 kHz) with degradations;
  - 16 kHz, narrow- and wide-band: data/enh clean utterances with degradations;
  degradations: white noise at -5..20 dB SNR, low-pass, clipping, constant delays, a dropout (a gap of
  zeros), a step gain change, a delay jump (zeros inserted mid-signal: a variable delay that makes PESQ
  split an utterance), mu-law 8-bit quantisation, a short echo, babble-like noise; one long (> 1000
  frames) 8 kHz pair for the time weighting; pairs whose reference is too short or silent for PESQ.
WAVs the tests need that are not in data/ go to test/reference/fixtures/pesq/ (mono int16), the values
to test/reference/fixtures/metrics_pesq.json.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from scipy.io import wavfile
from scipy.signal import butter, lfilter, resample_poly

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, 'test', 'reference', 'fixtures')
WAV_DIR = os.path.join(FIXTURES, 'pesq')
ENH = 'data/enh/test_set/synthetic/no_reverb'

DRIVER = r'''
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pesqio.h"
#include "pesqmain.h"

/* One job per stdin line: "<fs> <nb|wb> <ref.f32> <deg.f32>" (raw float32 files); prints the MOS-LQO
   or "error <code>". */
static float *load(const char *path, long *n) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(2); }
  fseek(f, 0, SEEK_END);
  long bytes = ftell(f);
  fseek(f, 0, SEEK_SET);
  float *x = malloc(bytes);
  if (fread(x, 1, bytes, f) != (size_t) bytes) exit(3);
  fclose(f);
  *n = bytes / 4;
  return x;
}

int main(void) {
  char line[4096], mode[8], ref_path[2000], deg_path[2000];
  long fs;
  while (fgets(line, sizeof line, stdin)) {
    if (sscanf(line, "%ld %7s %1999s %1999s", &fs, mode, ref_path, deg_path) != 4) continue;
    long n_ref, n_deg, flag = 0;
    char *type = "unknown";
    float *ref = load(ref_path, &n_ref), *deg = load(deg_path, &n_deg);
    SIGNAL_INFO ref_info, deg_info;
    ERROR_INFO err_info;
    memset(&ref_info, 0, sizeof ref_info);
    memset(&deg_info, 0, sizeof deg_info);
    memset(&err_info, 0, sizeof err_info);
    select_rate(fs, &flag, &type);
    if (flag) { printf("error -2\n"); fflush(stdout); continue; }
    int wb = strcmp(mode, "wb") == 0;
    ref_info.Nsamples = n_ref; ref_info.data = ref; ref_info.input_filter = wb ? 2 : 1;
    deg_info.Nsamples = n_deg; deg_info.data = deg; deg_info.input_filter = wb ? 2 : 1;
    err_info.mode = wb ? WB_MODE : NB_MODE;
    pesq_measure(&ref_info, &deg_info, &err_info, &flag, &type);
    if (flag) printf("error %ld\n", flag); else printf("%.9g\n", err_info.mapped_mos);
    fflush(stdout);
    free(ref);
    free(deg);
  }
  return 0;
}
'''


def build_driver(checkout, workdir):
    src = os.path.join(checkout, 'pesq')
    for f in ('dsp.c', 'pesqdsp.c', 'pesqmod.c', 'pesqmain.h', 'pesqio.h'):
        if not os.path.exists(os.path.join(src, f)):
            sys.exit(f'{src}/{f} not found: pass the root of an extracted ludlows/PESQ checkout')
    driver = os.path.join(workdir, 'driver.c')
    with open(driver, 'w') as fh:
        fh.write(DRIVER)
    binary = os.path.join(workdir, 'pesq_reference')
    subprocess.run(['gcc', '-O2', '-w', '-I', src, driver] + [os.path.join(src, f) for f in ('dsp.c', 'pesqdsp.c', 'pesqmod.c')]
                   + ['-lm', '-o', binary], check=True)
    return binary


def read(rel):
    fs, x = wavfile.read(os.path.join(ROOT, rel))
    assert x.dtype == np.int16 and x.ndim == 1, rel
    return fs, x.astype(np.float64) / 32768


def quantise(x):
    return np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16).astype(np.float64) / 32768


def write(name, fs, x):
    """Stores x (already int16 / 32768) as test/reference/fixtures/pesq/<name>.wav; returns its path."""
    os.makedirs(WAV_DIR, exist_ok=True)
    wavfile.write(os.path.join(WAV_DIR, name + '.wav'), fs, np.round(x * 32768).astype(np.int16))
    return os.path.relpath(os.path.join(WAV_DIR, name + '.wav'), ROOT)


def at_snr(x, noise, snr_db):
    return x + noise * np.sqrt(np.sum(x ** 2) / np.sum(noise ** 2) / 10 ** (snr_db / 10))


def degradations(x, fs, rng):
    """Named degraded versions of x (same length, int16-quantised)."""
    n = len(x)
    white = rng.standard_normal(n)
    b, a = butter(4, 1500 / (fs / 2))
    gap = np.ones(n)
    gap[n // 2: n // 2 + fs // 10] = 0
    step = np.where(np.arange(n) < n // 2, 1.0, 0.3)
    jump = np.concatenate([x[: n // 2], np.zeros(int(0.03 * fs)), x[n // 2:]])[:n]
    cut = np.concatenate([x[: n // 2], x[n // 2 + int(0.04 * fs):], np.zeros(int(0.04 * fs))])
    jitter = np.concatenate([x[: n // 3], np.zeros(int(0.02 * fs)), x[n // 3: 2 * n // 3], x[2 * n // 3 + int(0.02 * fs):]])[:n]
    jitter = np.concatenate([jitter, np.zeros(n - len(jitter))])
    shifted = x.copy()
    s = int(0.008 * fs)
    shifted[n // 3: n // 3 + int(0.4 * fs)] = x[n // 3 - s: n // 3 + int(0.4 * fs) - s]
    mu = 255
    companded = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    companded = np.round(companded * 127) / 127
    mulaw = np.sign(companded) * np.expm1(np.abs(companded) * np.log1p(mu)) / mu
    echo = x.copy()
    d = int(0.05 * fs)
    echo[d:] += 0.4 * x[:-d]
    babble = lfilter([1.0], [1.0, -0.95], rng.standard_normal(n)) * (1 + 0.5 * np.sin(2 * np.pi * 3 * np.arange(n) / fs))
    peak = np.max(np.abs(x))
    out = {
        'white-m5dB': at_snr(x, white, -5),
        'white-5dB': at_snr(x, white, 5),
        'white-20dB': at_snr(x, white, 20),
        'lowpass1500': lfilter(b, a, x),
        'clipped': np.clip(x, -0.25 * peak, 0.25 * peak),
        'delay-12ms': np.concatenate([np.zeros(int(0.012 * fs)), x])[:n],
        'advance-40ms': np.concatenate([x[int(0.04 * fs):], np.zeros(int(0.04 * fs))]),
        'dropout-100ms': x * gap,
        'gain-step': x * step,
        'delay-jump-30ms': jump,
        'cut-40ms': cut,
        'jitter-20ms': jitter,
        'local-shift-8ms': shifted,
        'mulaw8': mulaw,
        'echo-50ms': echo,
        'babble-0dB': at_snr(x, babble, 0),
        'quiet-40dB': x * 0.01,
    }
    return {k: quantise(v / max(1.0, np.max(np.abs(v)) / 0.99)) for k, v in out.items()}


def make_cases():
    rng = np.random.RandomState(862)
    cases = []

    def add(name, fs, ref_path, deg_path, modes):
        cases.append({'name': name, 'sampleRate': fs, 'reference': ref_path, 'degraded': deg_path, 'modes': modes})

    # 8 kHz, narrow-band: enh test pairs resampled.
    for i in range(8):
        _, clean = read(f'{ENH}/clean/clean_fileid_{i}.wav')
        noisy_name = [f for f in sorted(os.listdir(os.path.join(ROOT, ENH, 'noisy'))) if f.endswith(f'_fileid_{i}.wav')][0]
        _, noisy = read(f'{ENH}/noisy/{noisy_name}')
        c8 = quantise(resample_poly(clean, 1, 2))
        n8 = quantise(resample_poly(noisy, 1, 2))
        add(f'8k-enh-{i}', 8000, write(f'8k-clean-{i}', 8000, c8), write(f'8k-noisy-{i}', 8000, n8), ['nb'])

    # 8 kHz, narrow-band: native 8 kHz utterances with degradations (references stay in data/sep).
    sep = ['data/sep/LibriSpeech/test-clean/1532/264/1532-264-0000.wav',
           'data/sep/LibriSpeech/test-clean/1532/132/1532-132-0000.wav']
    for j, rel in enumerate(sep):
        fs, x = read(rel)
        assert fs == 8000
        degs = degradations(x, fs, rng)
        keep = list(degs) if j == 0 else ['white-5dB', 'delay-jump-30ms', 'cut-40ms', 'dropout-100ms', 'gain-step', 'echo-50ms']
        for k in keep:
            add(f'8k-sep{j}-{k}', 8000, rel, write(f'8k-sep{j}-{k}', 8000, degs[k]), ['nb'])

    # 16 kHz, narrow- and wide-band: enh clean utterances with degradations (references stay in data/enh).
    for i, keep in [(6, None), (11, ['white-5dB', 'lowpass1500', 'delay-jump-30ms', 'cut-40ms', 'dropout-100ms', 'advance-40ms']),
                    (17, ['white-20dB', 'clipped', 'gain-step', 'jitter-20ms', 'mulaw8', 'babble-0dB'])]:
        rel = f'{ENH}/clean/clean_fileid_{i}.wav'
        fs, x = read(rel)
        degs = degradations(x, fs, rng)
        for k in (keep or list(degs)):
            add(f'16k-enh{i}-{k}', 16000, rel, write(f'16k-enh{i}-{k}', 16000, degs[k]), ['nb', 'wb'])

    # A long 8 kHz pair (> 1000 perceptual frames: the time weighting applies), with pauses, noise and a delay jump.
    parts = []
    for rel in sorted(os.path.join(dp, f) for dp, _, fs_ in os.walk(os.path.join(ROOT, 'data/sep/LibriSpeech/test-clean'))
                      for f in fs_ if f.endswith('.wav'))[:7]:
        _, x = read(os.path.relpath(rel, ROOT))
        parts += [x, np.zeros(2400)]
    long_ref = quantise(np.concatenate(parts))
    n = len(long_ref)
    long_deg = np.concatenate([long_ref[: n // 3], np.zeros(160), long_ref[n // 3:]])[:n]
    long_deg = quantise(at_snr(long_deg, rng.standard_normal(n), 15))
    add('8k-long', 8000, write('8k-long-ref', 8000, long_ref), write('8k-long-deg', 8000, long_deg), ['nb'])

    # No utterances: a silent reference; a reference whose only speech is shorter than 200 ms.
    fs, x = read(f'{ENH}/clean/clean_fileid_3.wav')
    silent = np.zeros(fs // 2)
    add('16k-silent-reference', 16000, write('16k-silent', 16000, silent),
        write('16k-noise', 16000, quantise(0.05 * rng.standard_normal(fs // 2))), ['nb', 'wb'])
    blip = np.zeros(fs)
    onset = int(np.argmax(np.abs(x) > 0.1 * np.max(np.abs(x))))
    blip[fs // 2: fs // 2 + int(0.1 * fs)] = x[onset: onset + int(0.1 * fs)]
    blip = quantise(blip)
    add('16k-blip-100ms', 16000, write('16k-blip', 16000, blip), write('16k-blip-noisy', 16000,
        quantise(blip + 0.001 * rng.standard_normal(fs))), ['nb', 'wb'])
    return cases


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    checkout = sys.argv[1]
    cases = make_cases()
    with tempfile.TemporaryDirectory() as work:
        binary = build_driver(checkout, work)
        jobs = []
        for i, c in enumerate(cases):
            fs_r, ref = read(c['reference'])
            fs_d, deg = read(c['degraded'])
            assert fs_r == fs_d == c['sampleRate'] and len(ref) == len(deg), c['name']
            peak = max(np.max(np.abs(ref)), np.max(np.abs(deg)))
            ref_path, deg_path = os.path.join(work, f'{i}.ref.f32'), os.path.join(work, f'{i}.deg.f32')
            (ref / peak).astype(np.float32).tofile(ref_path)
            (deg / peak).astype(np.float32).tofile(deg_path)
            for mode in c['modes']:
                jobs.append((c, mode, f"{c['sampleRate']} {mode} {ref_path} {deg_path}\n"))
        out = subprocess.run([binary], input=''.join(j[2] for j in jobs), capture_output=True, text=True, check=True)
        lines = out.stdout.split('\n')
        for (c, mode, _), line in zip(jobs, lines):
            if line.startswith('error'):
                c.setdefault('errors', {})[mode] = int(line.split()[1])
            else:
                c.setdefault('pesq', {})[mode] = float(line)
    for c in cases:
        del c['modes']
    fixture = {
        'about': 'PESQ MOS-LQO (P.862.1 for nb, P.862.2 for wb) from the ITU-T P.862 reference implementation '
                 '(ludlows/PESQ C code, commit 65e68e7b) by test/reference/metrics_pesq.py; both signals '
                 'divided by their shared peak first, as the pesq package does. Paths are relative to the '
                 'repository root; WAV values are int16 / 32768. errors: the reference code\'s error code '
                 '(-7: no utterances detected).',
        'cases': cases,
    }
    with open(os.path.join(FIXTURES, 'metrics_pesq.json'), 'w') as fh:
        json.dump(fixture, fh, indent=1)
    size = sum(os.path.getsize(os.path.join(WAV_DIR, f)) for f in os.listdir(WAV_DIR))
    print(f'{len(cases)} pairs, {len(jobs)} scores; {len(os.listdir(WAV_DIR))} WAVs, {size / 1e6:.2f} MB')
    for c in cases:
        print(f"{c['name']:28s} {c.get('pesq', '')} {c.get('errors', '')}")


if __name__ == '__main__':
    main()
