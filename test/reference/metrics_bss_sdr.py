"""Reference values for metrics.bssSdr (lib/metrics/bss_sdr.ts): mir_eval's BSS-eval v3 SDR.

Run from the repository root with Debian's python, which has numpy, scipy and mir_eval once installed
(apt-get install python3-mir-eval):
    /usr/bin/python3 test/reference/metrics_bss_sdr.py
It writes test/reference/fixtures/metrics_bss_sdr.json.

For each case: two reference sources and two estimates of one length; mir_eval.separation.bss_eval_sources
(compute_permutation=False, so estimate j is scored against reference j) gives the SDR of each pair, with its
512-tap distortion filter. slimspeech's bssSdr scores one pair at a time; its SDR only involves the target
reference (mir_eval's SDR is ||s_target + e_spat||^2 / ||e_interf + e_artif||^2, i.e. the projection onto the
target's delayed copies against the rest), so the interfering reference does not change it.

Cases: speech from data/sep (recorded LibriSpeech utterances, 8 kHz) as references; estimates made from them
by mixing in the other source at several levels, FIR filtering (which BSS-eval forgives and SI-SNR does not),
white noise, delays, and a gain; one short random case and a case with filterLength 64 (bss_eval_sources'
internal _bss_decomp_mtifilt with flen 64). Signals are float32, stored base64 (little-endian float32, row-major).
"""
import base64
import json
import os

import numpy as np
import scipy.signal
from mir_eval import separation
from scipy.io import wavfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
rng = np.random.default_rng(2024)


def speech(rel, n, offset=0):
    sr, x = wavfile.read(os.path.join(ROOT, 'data', 'sep', 'LibriSpeech', rel))
    assert sr == 8000, rel
    x = x.astype(np.float64) / 32768.0
    return x[offset:offset + n]


def f32(x):
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def b64(x):
    return base64.b64encode(np.asarray(x, dtype='<f4').tobytes()).decode('ascii')


def sdr_pairs(refs, ests, flen=512):
    if flen == 512:
        sdr = separation.bss_eval_sources(refs, ests, compute_permutation=False)[0]
        return [float(v) for v in sdr]
    out = []
    for j in range(refs.shape[0]):
        s_true, e_spat, e_interf, e_artif = separation._bss_decomp_mtifilt(refs, ests[j], j, flen)
        sdr = separation._bss_source_crit(s_true, e_spat, e_interf, e_artif)[0]
        out.append(float(sdr))
    return out


def main():
    n = 4000
    a = speech('test-clean/1532/264/1532-264-0000.wav', n, 2000)
    b = speech('test-clean/1532/132/1532-132-0000.wav', n, 1000)
    refs = np.stack([f32(a), f32(b)])
    fir = scipy.signal.firwin(31, 0.3)
    cases = []

    def add(name, r, e, flen=512):
        r = np.stack([f32(x) for x in r])
        e = np.stack([f32(x) for x in e])
        cases.append({'name': name, 'filterLength': flen, 'shape': list(r.shape), 'references': b64(r), 'estimates': b64(e),
                      'sdr': sdr_pairs(r, e, flen)})

    add('other source at -10 dB and -20 dB', refs, [a + 0.3 * b, b + 0.1 * a])
    add('FIR-filtered copies (forgiven up to the filter)', refs, [np.convolve(a, fir)[:n], np.convolve(b, fir[::-1] * 0.5)[:n]])
    add('white noise', refs, [a + 0.05 * rng.standard_normal(n), b + 0.01 * rng.standard_normal(n)])
    add('delayed by 3 and 40 samples, gain 2', refs, [np.concatenate([np.zeros(3), a[:-3]]), 2 * np.concatenate([np.zeros(40), b[:-40]])])
    add('mixture as both estimates', refs, [a + b, a + b])
    m = 700
    r = rng.standard_normal((2, m))
    add('short random signals', r, [r[0] + 0.5 * rng.standard_normal(m), 0.2 * r[0] + r[1] + 0.1 * rng.standard_normal(m)])
    add('filter of 64 taps', refs, [np.convolve(a, fir)[:n] + 0.2 * b, b + 0.02 * rng.standard_normal(n)], flen=64)
    out = {'mir_eval': __import__('mir_eval').__version__, 'numpy': np.__version__, 'scipy': scipy.__version__, 'cases': cases}
    path = os.path.join(ROOT, 'test', 'reference', 'fixtures', 'metrics_bss_sdr.json')
    with open(path, 'w') as f:
        json.dump(out, f)
    for c in cases:
        print(c['name'], c['sdr'])


if __name__ == '__main__':
    main()
