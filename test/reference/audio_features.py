# Reference mel filterbanks, mel spectrograms, dB conversion and MFCCs for test/audio/features.test.ts,
# from torchaudio 0.13.1 in float64.
#
# Run from the repository root with Debian's python (torch 1.13, torchaudio 0.13.1):
#   /usr/bin/python3 test/reference/audio_features.py
# Writes test/reference/fixtures/audio_features.json:
#   fbanks[]: options + fb = torchaudio.functional.melscale_fbanks(...) [nFreqs, nMels];
#   dct[]: torchaudio.functional.create_dct(nMfcc, nMels, norm) [nMels, nMfcc];
#   mel[]: x, options, y = MelSpectrogram(**options)(x) transposed to [batch?, frames, nMels], and for
#          some W, gradX = d/dx sum(y * W) (autograd);
#   db[]: x (power values, [batch?, frames, freq]), options, y = F.amplitude_to_DB per example (scope
#         'example') or over the whole input (scope 'batch', what torchaudio does to a 3-D input);
#   mfcc[]: x, options, y = MFCC(...)(x) transposed to [batch?, frames, nMfcc], per example or batch-wide;
#           and for one case W, gradX.
import json
import math
import os

import torch
import torchaudio.functional as F
import torchaudio.transforms as T

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'fixtures', 'audio_features.json')


def tensor(t):
    t = t.detach().to(torch.float64)
    return {'shape': list(t.shape), 'data': t.reshape(-1).tolist()}


def f32(t):
    """Rounds to float32, the precision the tests feed in, so the reference sees the same input."""
    return t.detach().float().double()


def input_tensor(t):
    """A float32-exact input, written with the 9 significant digits that reproduce it."""
    return {'shape': list(t.shape), 'data': [float(f'{v:.9g}') for v in t.detach().reshape(-1).tolist()]}


def mel_kwargs(o):
    """slimspeech option names -> torchaudio MelSpectrogram keyword arguments."""
    names = {'sampleRate': 'sample_rate', 'nFft': 'n_fft', 'winLength': 'win_length', 'hopLength': 'hop_length',
             'fMin': 'f_min', 'fMax': 'f_max', 'pad': 'pad', 'nMels': 'n_mels', 'power': 'power',
             'normalized': 'normalized', 'center': 'center', 'norm': 'norm', 'melScale': 'mel_scale'}
    return {names[k]: v for k, v in o.items()}


def per_example(fn, x):
    """Applies fn to each example of a batch separately (torchaudio's result for one clip at a time)."""
    return torch.stack([fn(xi) for xi in x]) if x.dim() > 1 else fn(x)


def tone_and_noise(g, batch, n, sr, scales):
    t = torch.arange(n, dtype=torch.float64) / sr
    rows = []
    for i in range(batch):
        f = 300.0 + 700.0 * i
        rows.append(scales[i] * (0.5 * torch.sin(2 * math.pi * f * t) + 0.3 * torch.randn(n, generator=g, dtype=torch.float64)))
    return f32(torch.stack(rows))


def main():
    g = torch.Generator().manual_seed(0)
    out = {'fbanks': [], 'dct': [], 'mel': [], 'db': [], 'mfcc': []}

    for o in [
        {'nFreqs': 33, 'fMin': 0.0, 'fMax': 8000.0, 'nMels': 10, 'sampleRate': 16000, 'norm': None, 'melScale': 'htk'},
        {'nFreqs': 33, 'fMin': 0.0, 'fMax': 8000.0, 'nMels': 10, 'sampleRate': 16000, 'norm': 'slaney', 'melScale': 'slaney'},
        {'nFreqs': 41, 'fMin': 50.0, 'fMax': 7000.0, 'nMels': 12, 'sampleRate': 16000, 'norm': 'slaney', 'melScale': 'htk'},
        {'nFreqs': 29, 'fMin': 20.0, 'fMax': 4000.0, 'nMels': 8, 'sampleRate': 8001, 'norm': None, 'melScale': 'slaney'},
    ]:
        fb = F.melscale_fbanks(o['nFreqs'], o['fMin'], o['fMax'], o['nMels'], o['sampleRate'], o['norm'], o['melScale'])
        out['fbanks'].append({'options': o, 'fb': tensor(fb)})

    for n_mfcc, n_mels, norm in [(5, 8, 'ortho'), (4, 6, None)]:
        out['dct'].append({'nMfcc': n_mfcc, 'nMels': n_mels, 'norm': norm, 'dct': tensor(F.create_dct(n_mfcc, n_mels, norm))})

    for name, shape, o, grad in [
        ('defaults', [600], {}, False),
        ('batched_slaney', [2, 600], {'sampleRate': 8000, 'nFft': 256, 'hopLength': 80, 'winLength': 200, 'nMels': 20,
                                      'fMin': 30.0, 'fMax': 3800.0, 'norm': 'slaney', 'melScale': 'slaney'}, True),
        ('magnitude_normalized_pad', [2, 400], {'nFft': 64, 'hopLength': 16, 'nMels': 12, 'power': 1.0,
                                                'normalized': True, 'pad': 5}, True),
        ('no_center', [700], {'nFft': 128, 'hopLength': 50, 'nMels': 16, 'center': False}, False),
    ]:
        x = f32(0.5 * torch.randn(*shape, generator=g, dtype=torch.float64)).requires_grad_(True)
        y = T.MelSpectrogram(**mel_kwargs(o)).to(torch.float64)(x).transpose(-1, -2)
        case = {'name': name, 'options': o, 'x': input_tensor(x), 'y': tensor(y)}
        if grad:
            w = f32(torch.rand(y.shape, generator=g, dtype=torch.float64))
            (gx,) = torch.autograd.grad((y * w).sum(), x)
            case.update({'weights': input_tensor(w), 'gradX': tensor(gx)})
        out['mel'].append(case)

    # Power values spanning 150 dB, with some below amin, so that both clamps act.
    p = f32(10.0 ** (torch.rand(2, 6, 5, generator=g, dtype=torch.float64) * 15 - 13))
    p[1] *= 1e-3
    p[0, 0, 0] = 0.0
    for o, mult in [({'stype': 'power', 'topDb': 80.0}, 10.0), ({'stype': 'magnitude', 'topDb': 40.0, 'amin': 1e-5, 'ref': 2.0}, 20.0),
                    ({'stype': 'power'}, 10.0)]:
        amin = o.get('amin', 1e-10)
        ref = o.get('ref', 1.0)
        db_mult = math.log10(max(amin, ref))
        top = o.get('topDb')
        # amplitude_to_DB expects (..., freq, time); the clamp uses the max over the last three dims
        # of a 4-D input, i.e. per example for [batch, 1, freq, time], over everything for 3-D input.
        xin = p.transpose(-1, -2)
        ex = F.amplitude_to_DB(xin.unsqueeze(1), mult, amin, db_mult, top).squeeze(1).transpose(-1, -2)
        al = F.amplitude_to_DB(xin, mult, amin, db_mult, top).transpose(-1, -2)
        out['db'].append({'options': o, 'x': input_tensor(p), 'yExample': tensor(ex), 'yBatch': tensor(al)})

    for name, shape, o, scales, grad in [
        ('defaults', [1, 600], {}, [1.0], True),
        ('small_batch_scales_differ', [2, 600], {'nMfcc': 13, 'melOptions': {'nFft': 256, 'hopLength': 128, 'nMels': 24}},
         [1.0, 1e-3], False),
        ('log_mels_unnormalized_dct', [2, 400], {'nMfcc': 10, 'logMels': True, 'norm': None, 'sampleRate': 8000,
                                                 'melOptions': {'nFft': 128, 'hopLength': 64, 'nMels': 20}}, [1.0, 0.5], False),
    ]:
        x = tone_and_noise(g, shape[0], shape[1], o.get('sampleRate', 16000), scales).requires_grad_(True)
        mfcc = T.MFCC(sample_rate=o.get('sampleRate', 16000), n_mfcc=o.get('nMfcc', 40), norm=o.get('norm', 'ortho'),
                      log_mels=o.get('logMels', False), melkwargs=mel_kwargs(o.get('melOptions', {}))).to(torch.float64)
        y_ex = per_example(mfcc, x).transpose(-1, -2)
        y_all = mfcc(x).transpose(-1, -2)
        case = {'name': name, 'options': o, 'x': input_tensor(x), 'yExample': tensor(y_ex), 'yBatch': tensor(y_all)}
        if grad:
            w = f32(torch.randn(y_ex.shape, generator=g, dtype=torch.float64))
            (gx,) = torch.autograd.grad((y_ex * w).sum(), x)
            case.update({'weights': input_tensor(w), 'gradX': tensor(gx)})
        out['mfcc'].append(case)

    with open(OUT, 'w') as fh:
        json.dump(out, fh)
    print(f'wrote {OUT} ({os.path.getsize(OUT)} bytes)')


if __name__ == '__main__':
    main()
