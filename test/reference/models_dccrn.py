#!/usr/bin/python3
"""Reference parameter counts, outputs and gradients of DCCRN for models.Dccrn (lib/models/dccrn.ts),
from the DCCRN reference code itself (huyanxin/DeepComplexCRN: dc_crn.py, complexnn.py, conv_stft.py).

The reference code is fetched, never committed. Extract it and run from the repository root with
Debian's python3-torch:
    git -C /work/.mirror/huyanxin+DeepComplexCRN/repo archive HEAD dc_crn.py complexnn.py conv_stft.py show.py \\
        | tar -x -C /tmp/dccrn-ref
    /usr/bin/python3 test/reference/models_dccrn.py /tmp/dccrn-ref
(a bare git directory of the checkout is accepted too: the four files are extracted from its HEAD).
It writes test/reference/fixtures/models_dccrn.json:
  - counts: the parameter count of the reference DCCRN for paper-size arguments (DCCRN-CL, DCCRN-E/R/C as
    in the reference's __main__, the constructor's defaults, the ~1.1M student of Distil-DCCRN) and for
    the small cases below; models are built, never run;
  - cases: small configurations with their state_dict (the reference's names and layouts: the test maps
    them with Dccrn.loadReferenceStateDict; the fixed STFT buffers stft.* and istft.* are left out), and the output waveform for one fixed random input
    [2, 2050] (not a multiple of the hops, so the reference's shorter output is exercised) with each
    listed masking mode in eval mode, and for some also in train mode (batch statistics in batch norm). Batch-norm statistics and affine
    parameters, PReLU slopes and conv biases are randomised so that every parameter matters;
  - the smallest case also holds the gradients of sum(wav * r) with respect to every parameter, in
    float64 (train mode, masking C), for a fixed random r.
conv_stft.py needs scipy only for scipy.signal.get_window('hann', N, fftbins=True); where scipy is
missing it is replaced by the same computation (scipy's general_cosine with a = [0.5, 0.5]).
"""
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import types

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'models_dccrn.json')
FILES = ['dc_crn.py', 'complexnn.py', 'conv_stft.py', 'show.py']


def hann_like_scipy(kind, M, fftbins=True):
    if kind != 'hann':
        raise ValueError(f'only the hann window is stubbed, got {kind!r}')
    M1 = M + 1 if fftbins else M
    fac = np.linspace(-np.pi, np.pi, M1)
    w = np.zeros(M1)
    for k, a in enumerate([0.5, 0.5]):
        w += a * np.cos(k * fac)
    return w[:M] if fftbins else w


def import_reference(path):
    if not os.path.exists(os.path.join(path, 'dc_crn.py')):
        tmp = tempfile.mkdtemp(prefix='dccrn-ref-')
        archive = subprocess.run(['git', '-C', path, 'archive', 'HEAD', *FILES], check=True, capture_output=True).stdout
        subprocess.run(['tar', '-x', '-C', tmp], input=archive, check=True)
        path = tmp
    try:
        import scipy.signal  # noqa: F401
    except ImportError:
        scipy = types.ModuleType('scipy')
        signal = types.ModuleType('scipy.signal')
        signal.get_window = hann_like_scipy
        scipy.signal = signal
        sys.modules['scipy'] = scipy
        sys.modules['scipy.signal'] = signal
    sys.path.insert(0, path)
    import dc_crn
    return dc_crn.DCCRN


def T(t):
    t = t.detach().double().contiguous()
    return {'shape': list(t.shape), 'data': [float('%.9g' % v) for v in t.reshape(-1).tolist()]}


def camel(kw):
    names = {'kernel_num': 'kernelNum', 'rnn_units': 'rnnUnits', 'rnn_layers': 'rnnLayers', 'use_clstm': 'useClstm',
             'masking_mode': 'maskingMode', 'kernel_size': 'kernelSize', 'win_len': 'winLen', 'win_inc': 'winInc',
             'fft_len': 'fftLen'}
    return {names[k]: v for k, v in kw.items()}


def build(DCCRN, **kw):
    with contextlib.redirect_stdout(io.StringIO()):   # the reference prints its structure and size
        return DCCRN(**kw)


def count(m):
    return sum(p.numel() for p in m.parameters())


def randomise(m, g):
    """Random batch-norm statistics and affine parameters, PReLU slopes and conv biases."""
    with torch.no_grad():
        for name, mod in m.named_modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
                mod.running_var.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
                mod.weight.copy_(torch.rand(mod.num_features, generator=g) * 0.4 + 0.8)
                mod.bias.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
            elif isinstance(mod, torch.nn.PReLU):
                mod.weight.copy_(torch.rand(mod.weight.shape, generator=g) * 0.3 + 0.1)
            elif isinstance(mod, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                mod.bias.copy_(torch.randn(mod.bias.shape, generator=g) * 0.05)


# Paper sizes (counts only). DCCRN-E/R/C as the reference's __main__ builds them; the student halves
# DCCRN-CL's channels with rnn_units 192: 1,126,413 parameters, 30.7% of DCCRN-CL's 3,671,053.
PAPER = [
    ('DCCRN-CL', dict(rnn_units=256, masking_mode='E', use_clstm=True, kernel_num=[32, 64, 128, 256, 256, 256])),
    ('DCCRN-E', dict(rnn_units=256, masking_mode='E')),
    ('DCCRN-R', dict(rnn_units=256, masking_mode='R')),
    ('DCCRN-C', dict(rnn_units=256, masking_mode='C')),
    ('defaults', dict()),
    ('student', dict(rnn_units=192, masking_mode='E', use_clstm=True, kernel_num=[16, 32, 64, 128, 128, 128])),
]

# Small configurations whose weights and outputs are stored: masking mode -> whether the train-mode
# output is stored too (the eval-mode output always is).
CASES = [
    ('clstm', dict(rnn_units=16, use_clstm=True, kernel_num=[2, 4, 8, 8, 16, 16]), {'E': True, 'C': False, 'R': False}),
    ('lstm-320-160', dict(rnn_units=16, use_clstm=False, kernel_num=[2, 4, 4, 8], win_len=320, win_inc=160, fft_len=512),
     {'E': True}),
    ('clstm3-256-64', dict(rnn_units=8, rnn_layers=3, use_clstm=True, kernel_num=[4, 8], win_len=256, win_inc=64,
                           fft_len=256), {'C': True, 'E': False}),
]
GRAD_CASE = 'clstm3-256-64'

# Counted after the cases (so that the cases' weights do not depend on them): the real LSTM has two layers
# whatever rnn_layers says.
LATE_COUNTS = [
    ('lstm-rnn_layers-3', dict(rnn_units=16, rnn_layers=3, use_clstm=False, kernel_num=[2, 4, 4, 8])),
]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    DCCRN = import_reference(sys.argv[1])
    torch.manual_seed(2024)
    g = torch.Generator().manual_seed(7)
    counts = [{'name': name, 'args': camel(kw), 'params': count(build(DCCRN, **kw))} for name, kw in PAPER]
    x = torch.randn(2, 2050, generator=g) * 0.1
    cases = []
    for name, kw, modes in CASES:
        net = build(DCCRN, **kw)
        randomise(net, g)
        state = {k: v.clone() for k, v in net.state_dict().items()}
        # The STFT kernels are fixed buffers computed from the arguments; they are not stored.
        stored = {k: T(v) for k, v in state.items() if not k.startswith(('stft.', 'istft.'))}
        counts.append({'name': name, 'args': camel(kw), 'params': count(net)})
        outputs = {}
        for mode, with_train in modes.items():
            m = build(DCCRN, **{**kw, 'masking_mode': mode})
            m.load_state_dict(state)
            res = {}
            with torch.no_grad():
                m.eval()
                res['eval'] = T(m(x)[1])
                if with_train:
                    m.train()
                    res['train'] = T(m(x)[1])
            outputs[mode] = res
        case = {'name': name, 'args': camel(kw), 'stateDict': stored, 'outputs': outputs}
        if name == GRAD_CASE:
            m = build(DCCRN, **{**kw, 'masking_mode': 'C'}).double()
            m.load_state_dict(state)
            m.train()
            xd = x.double()
            wav = m(xd)[1]
            r = torch.randn(wav.shape, generator=g, dtype=torch.float64)
            (wav * r).sum().backward()
            case['grad'] = {'mode': 'C', 'r': T(r), 'grads': {n: T(p.grad) for n, p in m.named_parameters()}}
        cases.append(case)
    counts += [{'name': name, 'args': camel(kw), 'params': count(build(DCCRN, **kw))} for name, kw in LATE_COUNTS]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump({'torch': torch.__version__, 'counts': counts, 'input': T(x), 'cases': cases}, f, separators=(',', ':'))
    print(f'wrote {OUT}: ' + ', '.join(f"{c['name']} {c['params']}" for c in counts))


if __name__ == '__main__':
    main()
