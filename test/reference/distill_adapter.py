#!/usr/bin/python3
"""Reference outputs of OS-KDFT's adapters for distill.Adapter (lib/distill/adapter.ts), computed by the classes of
the reference code itself (Jungwoo4021/OS-KDFT): `Adapter` of scripts/prev/models/student_w2v2.py (the wav2vec2
scripts: layer norm in, scale 0.1, its input added back) and `OS_KDFT_Adapter` of the HuBERT scripts' hubert_student.py
(down, ReLU, training noise, up). Both files import Hugging Face transformers, which Debian lacks, so only the two
class definitions are taken from them (with Python's ast) and run with torch.

    /usr/bin/python3 test/reference/distill_adapter.py /work/.mirror/Jungwoo4021+OS-KDFT/repo

writes test/reference/fixtures/distill_adapter.json: for random inputs [2, 5, 12] and random weights (the reference
initialises the up-projection to zero, which would hide everything), the wav2vec2 Adapter's output with and without
add_residual, and the HuBERT adapter's output in eval mode (no noise), with the weights in the reference's layouts.
"""
import ast
import json
import math
import os
import subprocess
import sys

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'distill_adapter.json')
W2V = 'scripts/prev/models/student_w2v2.py'
HUBERT = 'scripts/HuBERT_DistilHuBERT_SV_Vox1/train/exp_lib/module/ssl/hubert_student.py'


def read(repo, rel):
    if os.path.exists(os.path.join(repo, rel)):
        with open(os.path.join(repo, rel)) as f:
            return f.read()
    return subprocess.run(['git', '-C', repo, 'show', f'HEAD:{rel}'], check=True, capture_output=True, text=True).stdout


def load_class(source, name):
    tree = ast.parse(source)
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
    ns = {'torch': torch, 'nn': nn, 'math': math, 'random': __import__('random')}
    exec(compile(ast.Module(body=[node], type_ignores=[]), name, 'exec'), ns)
    return ns[name]


def t(x):
    return {'shape': list(x.shape), 'data': x.detach().double().reshape(-1).tolist()}


def randomise(m):
    with torch.no_grad():
        for p in m.parameters():
            p.uniform_(-0.5, 0.5)


def main():
    repo = sys.argv[1]
    Adapter = load_class(read(repo, W2V), 'Adapter')
    HubertAdapter = load_class(read(repo, HUBERT), 'OS_KDFT_Adapter')
    torch.manual_seed(0)
    x = torch.randn(2, 5, 12)
    a = Adapter(in_channels=12, hidden_channels=4, adapter_layernorm_option='in', adapter_scalar='0.1')
    randomise(a)
    a.eval()
    h = HubertAdapter(12, 4)
    randomise(h)
    h.eval()
    with torch.no_grad():
        out = {'x': t(x),
               'w2v2': {'state': {k: t(v) for k, v in a.state_dict().items()}, 'withResidual': t(a(x)), 'branch': t(a(x, add_residual=False))},
               'hubert': {'state': {k: t(v) for k, v in h.state_dict().items()}, 'eval': t(h(x))}}
    with open(OUT, 'w') as f:
        json.dump(out, f)
    print(f'wrote {OUT}')


if __name__ == '__main__':
    main()
