#!/usr/bin/python3
"""Reference outputs of OS-KDFT's ECAPA-TDNN and AAM-softmax for models.EcapaTdnn and models.AamSoftmax
(lib/models/ecapa_tdnn.ts), computed by the reference code itself (Jungwoo4021/OS-KDFT:
exp_lib/module/ssl_backend/ecapa_tdnn.py and exp_lib/loss/classification.py of the HuBERT scripts).

The reference code is fetched, never committed. Run from the repository root with Debian's python3-torch,
giving the checkout (a bare git directory is accepted):
    /usr/bin/python3 test/reference/models_ecapa.py /work/.mirror/Jungwoo4021+OS-KDFT/repo
It writes test/reference/fixtures/models_ecapa.json:
  - counts: the parameter count of the reference SmallEcapaTdnn (C = 512, hard-coded there) for an input width
    of 768 and 1024, with and without the weighted sum of 13 hidden states;
  - cases: small models (the reference's Bottle2neck and SEModule, its forward method, with C, the attention
    width and the embedding size shrunk) with their state_dict (batch-norm statistics and affine parameters
    randomised), a fixed random input, the output in eval mode and in train mode (batch statistics), and in
    train mode the gradient of sum(out * r) with respect to the input for a fixed random r;
  - aam: the reference AAMSoftmax (margin 0.2, scale 30) on random embeddings and labels: its weight, the loss,
    and the gradients with respect to the embeddings and the weight.
"""
import importlib
import json
import os
import subprocess
import sys
import tempfile
import types

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'models_ecapa.json')
BASE = 'scripts/HuBERT_DistilHuBERT_SV_Vox1/train/exp_lib'
FILES = [f'{BASE}/module/ssl_backend/ecapa_tdnn.py', f'{BASE}/module/ssl_backend/tft.py', f'{BASE}/loss/classification.py']


def import_reference(path):
    tmp = tempfile.mkdtemp(prefix='oskdft-ref-')
    if os.path.isdir(os.path.join(path, 'scripts')):
        for f in FILES:
            os.makedirs(os.path.join(tmp, os.path.dirname(f)), exist_ok=True)
            with open(os.path.join(path, f), 'rb') as src, open(os.path.join(tmp, f), 'wb') as dst:
                dst.write(src.read())
    else:
        archive = subprocess.run(['git', '-C', path, 'archive', 'HEAD', *FILES], check=True, capture_output=True).stdout
        subprocess.run(['tar', '-x', '-C', tmp], input=archive, check=True)
    pkg = types.ModuleType('refpkg')
    pkg.__path__ = [os.path.join(tmp, BASE, 'module', 'ssl_backend')]
    sys.modules['refpkg'] = pkg
    ecapa = importlib.import_module('refpkg.ecapa_tdnn')
    sys.path.insert(0, os.path.join(tmp, BASE, 'loss'))
    classification = importlib.import_module('classification')
    return ecapa, classification


def t(x):
    return {'shape': list(x.shape), 'data': x.detach().double().reshape(-1).tolist()}


def small_model(ecapa, D, C, H, E, layers):
    """The reference SmallEcapaTdnn with C, the attention width and the embedding size shrunk; its own forward."""
    m = ecapa.SmallEcapaTdnn.__new__(ecapa.SmallEcapaTdnn)
    nn.Module.__init__(m)
    m.norm = nn.InstanceNorm1d(D)
    m.weighted_sum = layers > 0
    if layers > 0:
        m.w = nn.Parameter(torch.rand(1, layers, 1, 1))
    m.conv1 = nn.Conv1d(D, C, kernel_size=5, stride=1, padding=2)
    m.relu = nn.ReLU()
    m.bn1 = nn.BatchNorm1d(C)
    m.layer1 = ecapa.Bottle2neck(C, C, 3, 2, 8)
    m.layer2 = ecapa.Bottle2neck(C, C, 3, 3, 8)
    m.layer3 = ecapa.Bottle2neck(C, C, 3, 4, 8)
    m.layer4 = nn.Conv1d(3 * C, 3 * C, kernel_size=1)
    m.attention = nn.Sequential(nn.Conv1d(9 * C, H, kernel_size=1), nn.ReLU(), nn.BatchNorm1d(H), nn.Tanh(),
                                nn.Conv1d(H, 3 * C, kernel_size=1), nn.Softmax(dim=2))
    m.bn5 = nn.BatchNorm1d(6 * C)
    m.fc6 = nn.Linear(6 * C, E)
    m.bn6 = nn.BatchNorm1d(E)
    m.use_TTT = False
    return m


def main():
    ecapa, classification = import_reference(sys.argv[1])
    torch.manual_seed(0)
    counts = []
    for D in (768, 1024):
        for ws in (False, True):
            m = ecapa.SmallEcapaTdnn(12, D, 192, weighted_sum=ws)
            counts.append({'inputDim': D, 'layerWeights': 13 if ws else 0, 'params': sum(p.numel() for p in m.parameters())})
    cases = []
    for (D, C, H, E, L, B, T) in [(16, 24, 12, 16, 0, 3, 29), (12, 16, 8, 10, 3, 2, 25)]:
        m = small_model(ecapa, D, C, H, E, L)
        with torch.no_grad():
            for mod in m.modules():
                if isinstance(mod, nn.BatchNorm1d):
                    mod.running_mean.uniform_(-0.5, 0.5)
                    mod.running_var.uniform_(0.5, 1.5)
                    mod.weight.uniform_(0.5, 1.5)
                    mod.bias.uniform_(-0.3, 0.3)
        x = torch.randn(B, L, T, D) if L else torch.randn(B, T, D)
        # The weights as evaluated (the train-mode pass below updates the running statistics).
        sd = {k: t(v) for k, v in m.state_dict().items() if not k.endswith('num_batches_tracked')}
        m.eval()
        with torch.no_grad():
            y_eval = m(x)
        m.train()
        xg = x.clone().requires_grad_(True)
        y_train = m(xg)
        r = torch.randn_like(y_train)
        (y_train * r).sum().backward()
        cases.append({'args': {'inputDim': D, 'channels': C, 'attentionHidden': H, 'embeddingDim': E, 'layerWeights': L},
                      'params': sum(p.numel() for p in m.parameters()), 'stateDict': sd, 'x': t(x), 'yEval': t(y_eval),
                      'yTrain': t(y_train), 'r': t(r), 'dx': t(xg.grad)})
    aam = classification.AAMSoftmax(16, 7, 0.2, 30)
    emb = torch.randn(5, 16, requires_grad=True)
    labels = torch.tensor([0, 3, 6, 3, 1])
    loss = aam(emb, labels)
    loss.backward()
    out = {'counts': counts, 'cases': cases, 'aam': {'weight': t(aam.fc), 'x': t(emb), 'labels': labels.tolist(), 'loss': loss.item(),
                                                    'dx': t(emb.grad), 'dweight': t(aam.fc.grad)}}
    with open(OUT, 'w') as f:
        json.dump(out, f)
    print(f'wrote {OUT}: {len(cases)} cases, counts {[c["params"] for c in counts]}, aam loss {loss.item():.6f}')


if __name__ == '__main__':
    main()
