#!/usr/bin/python3
"""Reference parameter counts, outputs, layer-wise outputs and gradients of DPRNN-TasNet for models.Dprnn
(lib/models/dprnn.ts), from asteroid's own DPRNNTasNet (asteroid/models/dprnn_tasnet.py,
asteroid/masknn/recurrent.py, norms.py) with asteroid_filterbanks' free filterbank.

asteroid and asteroid_filterbanks are fetched, never committed. Extract both and run from the repository
root with Debian's python3-torch (1.13):
    mkdir -p /tmp/asteroid-ref
    git -C /work/.mirror/asteroid-team+asteroid/repo archive HEAD asteroid | tar -x -C /tmp/asteroid-ref
    git -C /work/.mirror/asteroid-team+asteroid-filterbanks/repo archive HEAD asteroid_filterbanks | tar -x -C /tmp/asteroid-ref
    /usr/bin/python3 test/reference/models_dprnn.py /tmp/asteroid-ref
(one directory holding both packages; bare git directories of the two checkouts are accepted too:
    /usr/bin/python3 test/reference/models_dprnn.py ASTEROID_GIT_DIR FILTERBANKS_GIT_DIR).
Only the modules DPRNNTasNet needs are imported: asteroid's package __init__ files, which pull in
soundfile, huggingface_hub and the rest, are replaced by empty packages, and the two names
base_models.py imports from them but DPRNNTasNet never calls (separate, hub_utils) by stubs.
It writes test/reference/fixtures/models_dprnn.json:
  - counts: the parameter count of DPRNNTasNet for the presets (paper, small), asteroid's defaults, the
    paper's 2-sample window and the cases below; models are built, never run;
  - input: one fixed random mixture [2, 203] (not a whole number of encoder hops, so the zero-padded tail is
    exercised);
  - cases: small configurations with their state_dict (asteroid's names and layouts; PReLU slopes and gLN
    gains and biases randomised so that every parameter matters) and their output on the input; the first
    also holds the layer-wise outputs, the model's output with its blocks cut after block i (asteroid's
    forward with masker.net truncated: the shared-head separation after each block), and the gradients of
    sum(output * r) with respect to every parameter, in float64, for a fixed random r.
"""
import importlib
import json
import os
import subprocess
import sys
import tempfile
import types

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'models_dprnn.json')


def extract(git_dir, what, into):
    archive = subprocess.run(['git', '-C', git_dir, 'archive', 'HEAD', what], check=True, capture_output=True).stdout
    subprocess.run(['tar', '-x', '-C', into], input=archive, check=True)


def import_reference(paths):
    if len(paths) == 1 and os.path.isdir(os.path.join(paths[0], 'asteroid')):
        root = paths[0]
    elif len(paths) == 2:
        root = tempfile.mkdtemp(prefix='asteroid-ref-')
        extract(paths[0], 'asteroid', root)
        extract(paths[1], 'asteroid_filterbanks', root)
    else:
        sys.exit(__doc__)
    sys.path.insert(0, root)
    pkg_dir = os.path.join(root, 'asteroid')

    def package(name, path=None, **attrs):
        m = types.ModuleType(name)
        if path:
            m.__path__ = [path]
        for k, v in attrs.items():
            setattr(m, k, v)
        sys.modules[name] = m
        return m

    package('asteroid', pkg_dir)
    utils = package('asteroid.utils', os.path.join(pkg_dir, 'utils'))
    utils.has_arg = importlib.import_module('asteroid.utils.generic_utils').has_arg
    package('asteroid.separate')
    package('asteroid.utils.hub_utils', cached_download=None, SR_HASHTABLE={})
    masknn = package('asteroid.masknn', os.path.join(pkg_dir, 'masknn'))
    masknn.DPRNN = importlib.import_module('asteroid.masknn.recurrent').DPRNN
    package('asteroid.models', os.path.join(pkg_dir, 'models'))
    return importlib.import_module('asteroid.models.dprnn_tasnet').DPRNNTasNet


def T(t):
    t = t.detach().double().contiguous()
    return {'shape': list(t.shape), 'data': [float('%.9g' % v) for v in t.reshape(-1).tolist()]}


CAMEL = {'n_src': 'numSources', 'n_filters': 'encoderDim', 'kernel_size': 'kernelSize', 'bn_chan': 'bottleneck',
         'hid_size': 'hidden', 'chunk_size': 'chunkSize', 'hop_size': 'hopSize', 'n_repeats': 'numBlocks',
         'bidirectional': 'bidirectional', 'mask_act': 'maskAct', 'encoder_activation': 'encoderActivation'}


def camel(kw):
    # models.Dprnn's stride is always kernelSize / 2.
    assert kw['stride'] == kw['kernel_size'] // 2, kw
    return {CAMEL[k]: v for k, v in kw.items() if k != 'stride'}


def count(m):
    return sum(p.numel() for p in m.parameters())


def randomise(m, g):
    """Random PReLU slopes and gLN gains and biases (their initial values would hide a swap)."""
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith(('.gamma',)):
                p.copy_(torch.rand(p.shape, generator=g) * 0.5 + 0.75)
            elif name.endswith('.beta'):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            elif name == 'masker.first_out.0.weight':
                p.copy_(torch.rand(p.shape, generator=g) * 0.3 + 0.1)


PAPER = dict(n_src=2, n_filters=64, kernel_size=16, stride=8, bn_chan=64, hid_size=128, chunk_size=100, hop_size=50,
             n_repeats=6, bidirectional=True, mask_act='sigmoid')
SMALL = dict(n_src=2, n_filters=64, kernel_size=16, stride=8, bn_chan=64, hid_size=64, chunk_size=50, hop_size=25,
             n_repeats=3, bidirectional=True, mask_act='sigmoid')
COUNTS = [
    ('paper', PAPER),
    ('small', SMALL),
    # DPRNNTasNet(n_src=2) with its defaults written out.
    ('asteroid-defaults', dict(PAPER, bn_chan=128)),
    # The paper's best window: 2 samples, chunks of 250.
    ('paper-window-2', dict(PAPER, kernel_size=2, stride=1, chunk_size=250, hop_size=125)),
    ('small-3src-uni', dict(SMALL, n_src=3, bidirectional=False)),
]

CASES = [
    ('bi', dict(n_src=2, n_filters=8, kernel_size=4, stride=2, bn_chan=6, hid_size=5, chunk_size=6, hop_size=3, n_repeats=2,
                bidirectional=True, mask_act='sigmoid')),
    ('uni-relu-3src-hop-quarter', dict(n_src=3, n_filters=6, kernel_size=6, stride=3, bn_chan=4, hid_size=3, chunk_size=8,
                                       hop_size=2, n_repeats=3, bidirectional=False, mask_act='relu', encoder_activation='relu')),
    ('no-overlap', dict(n_src=2, n_filters=4, kernel_size=2, stride=1, bn_chan=4, hid_size=4, chunk_size=5, hop_size=5,
                        n_repeats=1, bidirectional=True, mask_act='sigmoid')),
]


def main():
    DPRNNTasNet = import_reference(sys.argv[1:])
    torch.manual_seed(2024)
    g = torch.Generator().manual_seed(11)
    counts = [{'name': name, 'args': camel(kw), 'params': count(DPRNNTasNet(**kw))} for name, kw in COUNTS]
    x = torch.randn(2, 203, generator=g) * 0.5
    cases = []
    for i, (name, kw) in enumerate(CASES):
        net = DPRNNTasNet(**kw)
        randomise(net, g)
        net.eval()
        counts.append({'name': name, 'args': camel(kw), 'params': count(net)})
        state = {k: v.clone() for k, v in net.state_dict().items()}
        with torch.no_grad():
            out = net(x)
        case = {'name': name, 'args': camel(kw), 'stateDict': {k: T(v) for k, v in state.items()}, 'output': T(out)}
        if i == 0:
            blocks = list(net.masker.net)
            layers = []
            with torch.no_grad():
                for b in range(len(blocks)):
                    net.masker.net = torch.nn.Sequential(*blocks[:b + 1])
                    layers.append(net(x))
            net.masker.net = torch.nn.Sequential(*blocks)
            assert torch.equal(layers[-1], out)
            case['layers'] = [T(y) for y in layers]
            d = DPRNNTasNet(**kw).double()
            d.load_state_dict(state)
            y = d(x.double())
            r = torch.randn(y.shape, generator=g, dtype=torch.float64)
            (y * r).sum().backward()
            case['grad'] = {'r': T(r), 'grads': {n: T(p.grad) for n, p in d.named_parameters()}}
        cases.append(case)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump({'torch': torch.__version__, 'counts': counts, 'input': T(x), 'cases': cases}, f, separators=(',', ':'))
    print(f'wrote {OUT}: ' + ', '.join(f"{c['name']} {c['params']}" for c in counts))


if __name__ == '__main__':
    main()
