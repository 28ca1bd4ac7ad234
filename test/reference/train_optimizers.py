#!/usr/bin/python3
"""Parameter trajectories of torch.optim.Adam, AdamW and SGD on a fixed quadratic, with parameter groups
(one with a negative learning rate: gradient ascent), per-step learning-rate factors, and
torch.nn.utils.clip_grad_norm_.

Run with Debian's python3-torch:  /usr/bin/python3 test/reference/train_optimizers.py
Writes test/reference/fixtures/train_optimizers.json.
Loss at every step: L = sum(a * p^2) + sum(b * p) + sum(c * q^2) + sum(d * q) for two parameters p
(group 0) and q (group 1); the factors scale every group's learning rate (LambdaLR semantics).
"""
import json
import os

import torch

torch.set_default_dtype(torch.float64)
torch.manual_seed(7)
OUT = os.path.join(os.path.dirname(__file__), 'fixtures', 'train_optimizers.json')


def L(x):
    return [float('%.12g' % v) for v in x.reshape(-1).tolist()]


p0 = torch.randn(3, 2)
q0 = torch.randn(4)
a, b = torch.rand(3, 2) + 0.5, torch.randn(3, 2)
c, d = torch.rand(4) + 0.5, torch.randn(4)
factors = [0.25, 0.5, 1.0, 1.0, 0.8, 0.6, 0.3]

cases = []
configs = [
    ('adam', dict(betas=(0.9, 0.999), eps=1e-8), [dict(lr=0.05), dict(lr=-0.02)], None),
    ('adam', dict(betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1), [dict(lr=0.03), dict(lr=0.01, weight_decay=0.0)], None),
    ('adamw', dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05), [dict(lr=0.05), dict(lr=-0.01)], None),
    ('sgd', dict(momentum=0.9), [dict(lr=0.02), dict(lr=-0.01)], None),
    ('sgd', dict(momentum=0.9, nesterov=True, weight_decay=0.01), [dict(lr=0.02), dict(lr=0.05)], None),
    ('sgd', dict(), [dict(lr=0.1), dict(lr=0.1)], None),
    ('adam', dict(), [dict(lr=0.05), dict(lr=0.05)], 0.5),
]
for kind, kw, groups, clip in configs:
    p = p0.clone().requires_grad_(True)
    q = q0.clone().requires_grad_(True)
    cls = {'adam': torch.optim.Adam, 'adamw': torch.optim.AdamW, 'sgd': torch.optim.SGD}[kind]
    opt = cls([dict(params=[p], **groups[0]), dict(params=[q], **groups[1])], lr=0.001, **kw)
    base = [g['lr'] for g in opt.param_groups]
    norms = []
    for f in factors:
        for g, lr in zip(opt.param_groups, base):
            g['lr'] = lr * f
        opt.zero_grad()
        loss = (a * p * p).sum() + (b * p).sum() + (c * q * q).sum() + (d * q).sum()
        loss.backward()
        if clip is not None:
            norms.append(float(torch.nn.utils.clip_grad_norm_([p, q], clip)))
        opt.step()
    cases.append({'kind': kind, 'options': {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()},
                  'groups': groups, 'clip': clip, 'p': L(p.detach()), 'q': L(q.detach()), 'norms': norms})

json.dump({'generator': 'test/reference/train_optimizers.py', 'p0': L(p0), 'q0': L(q0), 'a': L(a), 'b': L(b),
           'c': L(c), 'd': L(d), 'factors': factors, 'cases': cases}, open(OUT, 'w'))
print(f'wrote {OUT}: {len(cases)} cases')
