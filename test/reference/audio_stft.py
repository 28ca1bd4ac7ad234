# Reference STFT / iSTFT values and gradients for test/audio/stft.test.ts, from torch.stft / torch.istft
# in float64.
#
# Run from the repository root with Debian's python (torch 1.13):
#   /usr/bin/python3 test/reference/audio_stft.py
# Writes test/reference/fixtures/audio_stft.json with, per case:
#   config {nFft, hopLength, winLength, center}, x (the input), real/imag (torch.stft with a periodic
#   hann_window(winLength), pad_mode='reflect', return_complex=True, transposed to [batch?, frames, freq]),
#   weights W and gradX = d/dx sum(|STFT(x)|^2 * W) (autograd);
#   for iSTFT cases: specReal/specImag (an arbitrary spectrum, not the STFT of a signal), length,
#   y = torch.istft(spec, ...), V and gradReal/gradImag = d/dspec sum(istft(spec) * V);
#   windows: torch.hann_window(n, periodic) for a few n.
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'fixtures', 'audio_stft.json')


def tensor(t):
    t = t.detach().to(torch.float64)
    return {'shape': list(t.shape), 'data': t.reshape(-1).tolist()}


def f32(t):
    """Rounds to float32, the precision the tests feed in, so the reference sees the same input."""
    return t.detach().float().double()


def input_tensor(t):
    """A float32-exact input, written with the 9 significant digits that reproduce it."""
    return {'shape': list(t.shape), 'data': [float(f'{v:.9g}') for v in t.detach().reshape(-1).tolist()]}


def stft(x, n_fft, hop, win, center):
    spec = torch.stft(x, n_fft, hop_length=hop, win_length=win, window=torch.hann_window(win, dtype=x.dtype),
                      center=center, pad_mode='reflect', return_complex=True)
    return spec.transpose(-1, -2)  # [batch?, frames, freq]


def istft(spec, n_fft, hop, win, center, length):
    return torch.istft(spec.transpose(-1, -2), n_fft, hop_length=hop, win_length=win,
                       window=torch.hann_window(win, dtype=torch.float64), center=center, length=length)


def main():
    g = torch.Generator().manual_seed(0)
    cases = []
    configs = [
        # name, x shape, nFft, hop, winLength, center
        ('even_unbatched', [50], 16, 4, 16, True),
        ('odd_nfft_short_window_batched', [2, 47], 15, 5, 11, True),
        ('hop_not_dividing_no_center', [3, 40], 12, 5, 8, False),
        ('speech_sized', [1, 400], 256, 128, 256, True),
        ('hop_larger_than_window', [33], 8, 9, 6, True),
    ]
    for name, shape, n_fft, hop, win, center in configs:
        x = f32(torch.randn(*shape, generator=g, dtype=torch.float64)).requires_grad_(True)
        spec = stft(x, n_fft, hop, win, center)
        w = f32(torch.rand(spec.shape, generator=g, dtype=torch.float64))
        loss = (spec.abs() ** 2 * w).sum()
        (grad_x,) = torch.autograd.grad(loss, x)
        cases.append({
            'name': name, 'config': {'nFft': n_fft, 'hopLength': hop, 'winLength': win, 'center': center},
            'x': input_tensor(x), 'real': tensor(spec.real), 'imag': tensor(spec.imag), 'weights': input_tensor(w),
            'gradX': tensor(grad_x),
        })

    inverse = []
    iconfigs = [
        # name, batch shape, frames, nFft, hop, winLength, center, length
        ('even_center_default_length', [], 9, 16, 4, 16, True, None),
        ('odd_batched_length_shorter', [2], 10, 15, 5, 11, True, 40),
        ('longer_than_frames_pads_zeros', [], 6, 12, 3, 12, True, 30),
        ('no_center_short_window', [2], 7, 12, 4, 8, False, None),
    ]
    for name, batch, frames, n_fft, hop, win, center, length in iconfigs:
        f = n_fft // 2 + 1
        re = f32(torch.randn(*batch, frames, f, generator=g, dtype=torch.float64)).requires_grad_(True)
        im = f32(torch.randn(*batch, frames, f, generator=g, dtype=torch.float64)).requires_grad_(True)
        if not center:
            # With center=False the Hann window's overlap-add envelope is 0 at the first sample, so
            # torch.istft refuses (NOLA check): record that it fails (y = None).
            inverse.append({'name': name, 'config': {'nFft': n_fft, 'hopLength': hop, 'winLength': win, 'center': center},
                            'specReal': input_tensor(re), 'specImag': input_tensor(im), 'length': length, 'y': None})
            try:
                istft(torch.complex(re, im), n_fft, hop, win, center, length)
                raise AssertionError('torch.istft was expected to fail the NOLA check')
            except RuntimeError as e:
                assert 'window overlap add min' in str(e), e
            continue
        y = istft(torch.complex(re, im), n_fft, hop, win, center, length)
        v = f32(torch.randn(y.shape, generator=g, dtype=torch.float64))
        gr, gi = torch.autograd.grad((y * v).sum(), [re, im])
        inverse.append({
            'name': name, 'config': {'nFft': n_fft, 'hopLength': hop, 'winLength': win, 'center': center},
            'specReal': input_tensor(re), 'specImag': input_tensor(im), 'length': length, 'y': tensor(y), 'v': input_tensor(v),
            'gradReal': tensor(gr), 'gradImag': tensor(gi),
        })

    with open(OUT, 'w') as fh:
        windows = [{'length': n, 'periodic': p, 'values': tensor(torch.hann_window(n, periodic=p, dtype=torch.float64))}
                   for n, p in [(1, True), (7, True), (8, True), (8, False), (5, False)]]
        json.dump({'stft': cases, 'istft': inverse, 'windows': windows}, fh)
    print(f'wrote {OUT} ({os.path.getsize(OUT)} bytes)')


if __name__ == '__main__':
    main()
