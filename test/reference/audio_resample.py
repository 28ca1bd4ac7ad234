# Reference resampling for test/audio/resample.test.ts, from torchaudio.functional.resample (0.13.1) in
# float64.
#
# Run from the repository root with Debian's python (torch 1.13, torchaudio 0.13.1):
#   /usr/bin/python3 test/reference/audio_resample.py
# Writes test/reference/fixtures/audio_resample.json: per case the input x [.., time], orig/new rates,
# options, y = resample(x) and (for some) v and gradX = d/dx sum(resample(x) * v). torchaudio 0.13 names
# the methods 'sinc_interpolation' / 'kaiser_window' (later versions: 'sinc_interp_hann' / 'sinc_interp_kaiser').
import json
import os

import torch
import torchaudio.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'fixtures', 'audio_resample.json')


def tensor(t):
    t = t.detach().to(torch.float64)
    return {'shape': list(t.shape), 'data': t.reshape(-1).tolist()}


def f32(t):
    """Rounds to float32, the precision the tests feed in, so the reference sees the same input."""
    return t.detach().float().double()


def input_tensor(t):
    """A float32-exact input, written with the 9 significant digits that reproduce it."""
    return {'shape': list(t.shape), 'data': [float(f'{v:.9g}') for v in t.detach().reshape(-1).tolist()]}


def main():
    g = torch.Generator().manual_seed(0)
    configs = [
        # name, shape, orig, new, method, lowpass width, rolloff, beta, grad
        ('16k_to_8k', [2, 201], 16000, 8000, 'sinc_interpolation', 6, 0.99, None, True),
        ('8k_to_16k', [151], 8000, 16000, 'sinc_interpolation', 6, 0.99, None, False),
        ('44k1_to_16k', [1, 900], 44100, 16000, 'sinc_interpolation', 6, 0.99, None, False),
        ('22050_to_16000', [300], 22050, 16000, 'sinc_interpolation', 6, 0.99, None, True),
        ('kaiser_48k_to_16k', [2, 2, 150], 48000, 16000, 'kaiser_window', 6, 0.99, None, False),
        ('kaiser_custom_16k_to_12k', [233], 16000, 12000, 'kaiser_window', 4, 0.9, 8.0, False),
        ('hann_custom_width_rolloff', [200], 16000, 11025, 'sinc_interpolation', 3, 0.8, None, False),
    ]
    cases = []
    for name, shape, orig, new, method, width, rolloff, beta, grad in configs:
        x = f32(torch.randn(*shape, generator=g, dtype=torch.float64)).requires_grad_(True)
        y = F.resample(x, orig, new, lowpass_filter_width=width, rolloff=rolloff, resampling_method=method, beta=beta)
        case = {'name': name, 'orig': orig, 'new': new,
                'method': {'sinc_interpolation': 'sinc_interp_hann', 'kaiser_window': 'sinc_interp_kaiser'}[method],
                'lowpassFilterWidth': width, 'rolloff': rolloff, 'beta': beta, 'x': input_tensor(x), 'y': tensor(y)}
        if grad:
            v = f32(torch.randn(y.shape, generator=g, dtype=torch.float64))
            (gx,) = torch.autograd.grad((y * v).sum(), x)
            case.update({'v': input_tensor(v), 'gradX': tensor(gx)})
        cases.append(case)
    with open(OUT, 'w') as fh:
        json.dump({'cases': cases}, fh)
    print(f'wrote {OUT} ({os.path.getsize(OUT)} bytes)')


if __name__ == '__main__':
    main()
