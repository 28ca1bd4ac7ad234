#!/usr/bin/python3
"""HardConcrete gates as DPHuBERT's reference code computes them (wav2vec2/components... hardconcrete.py,
written out here in torch float64): expected L0, a training sample for given noise u and its gradient,
and the deterministic evaluation mask.

Run with Debian's python3-torch:  /usr/bin/python3 test/reference/prune_hard_concrete.py
Writes test/reference/fixtures/prune_hard_concrete.json.
"""
import json
import math
import os

import torch

torch.manual_seed(17)
torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(__file__), 'fixtures', 'prune_hard_concrete.json')
beta, l, r = 2 / 3, -0.1, 1.1

cases = []
for n, spread in [(12, 3.0), (8, 0.5), (20, 6.0)]:
    log_alpha = (torch.randn(n) * spread).requires_grad_(True)
    l0 = torch.sigmoid(log_alpha - beta * math.log(-l / r)).sum()
    u = torch.rand(n) * 0.98 + 0.01
    s = torch.sigmoid((torch.log(u / (1 - u)) + log_alpha) / beta) * (r - l) + l
    sample = s.clamp(0, 1)
    w = torch.randn(n)
    (sample * w).sum().backward()
    grad_sample = log_alpha.grad.clone()
    with torch.no_grad():
        num_zeros = round(n - float(l0))
        soft = torch.sigmoid(log_alpha / beta * 0.8)
        if num_zeros > 0:
            _, idx = torch.topk(soft, k=num_zeros, largest=False)
            soft[idx] = 0.
    cases.append({'logAlpha': [float(v) for v in log_alpha.detach()], 'l0': float(l0), 'u': [float(v) for v in u],
                  'w': [float(v) for v in w], 'sample': [float(v) for v in sample.detach()],
                  'gradSample': [float(v) for v in grad_sample], 'evalMask': [float(v) for v in soft]})
json.dump({'generator': 'test/reference/prune_hard_concrete.py', 'cases': cases}, open(OUT, 'w'))
print(f'wrote {OUT}')
