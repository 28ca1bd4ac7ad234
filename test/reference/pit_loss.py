#!/usr/bin/python3
"""Reference PIT losses: brute force over itertools.permutations of the mean negative SI-SNR (torchmetrics
formula, zero-mean, eps 1e-8), in float64 torch, with the gradient of the minimum.

Run with Debian's python3-torch:  /usr/bin/python3 test/reference/pit_loss.py
Writes test/reference/fixtures/pit_loss.json.
"""
import itertools
import json
import os

import torch

torch.manual_seed(5)
torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(__file__), 'fixtures', 'pit_loss.json')


def T(t):
    t = t.detach().contiguous()
    return {'shape': list(t.shape), 'data': [float('%.9g' % v) for v in t.reshape(-1).tolist()]}


def si_snr(est, ref, eps=1e-8):
    est = est - est.mean(-1, keepdim=True)
    ref = ref - ref.mean(-1, keepdim=True)
    a = ((est * ref).sum(-1, keepdim=True) + eps) / ((ref * ref).sum(-1, keepdim=True) + eps)
    t = a * ref
    n = est - t
    return 10 * torch.log10(((t * t).sum(-1) + eps) / ((n * n).sum(-1) + eps))


cases = []
for B, S, L in [(3, 2, 200), (2, 3, 160), (2, 4, 96)]:
    ref = torch.randn(B, S, L)
    # Estimates: a shuffled, noisy copy of the references, so the best assignment is known and not identity.
    shuffle = [list(torch.randperm(S).tolist()) for _ in range(B)]
    est = torch.stack([ref[b, shuffle[b]] + 0.7 * torch.randn(S, L) for b in range(B)]).requires_grad_(True)
    losses, perms = [], []
    for b in range(B):
        best = min(itertools.permutations(range(S)),
                   key=lambda p: float(-si_snr(est[b], ref[b, list(p)]).mean()))
        losses.append(-si_snr(est[b], ref[b, list(best)]).mean())
        perms.append(list(best))
    loss = torch.stack(losses).mean()
    loss.backward()
    cases.append({'est': T(est), 'ref': T(ref), 'loss': float(loss), 'perm': perms, 'grad': T(est.grad),
                  'perExample': [float(v) for v in torch.stack(losses)]})
json.dump({'generator': 'test/reference/pit_loss.py', 'cases': cases}, open(OUT, 'w'))
print(f'wrote {OUT}')
