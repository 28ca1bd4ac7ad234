#!/usr/bin/python3
"""A small model mixing Conv2d, BatchNorm, LSTM and multi-head attention (test/nn/mixed_model.ts has
the same architecture in slimspeech): loss and every parameter's gradient for one training batch.

Run with Debian's python3-torch:  /usr/bin/python3 test/reference/nn_mixed_model.py
Writes test/reference/fixtures/nn_mixed_model.json (state in slimspeech names and layouts).
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(31)
torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(__file__), 'fixtures', 'nn_mixed_model.json')
B, T, FR, C, H, E, K = 4, 12, 8, 4, 8, 8, 3


class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, C, 3, padding=1)
        self.bn = nn.BatchNorm2d(C)
        self.lstm = nn.LSTM(C * FR // 2, H, batch_first=True)
        self.attn = nn.MultiheadAttention(E, 2, batch_first=True)
        self.head = nn.Linear(E, K)

    def forward(self, x):                      # x [B, T, F, 1] channels last, as slimspeech
        h = F.relu(self.bn(self.conv(x.permute(0, 3, 1, 2))))          # [B, C, T, F]
        h = F.max_pool2d(h, (1, 2))                                    # [B, C, T, F/2]
        h = h.permute(0, 2, 3, 1).reshape(x.shape[0], T, -1)           # [B, T, F/2 * C]
        h, _ = self.lstm(h)
        h = h + self.attn(h, h, h, need_weights=False)[0]
        return self.head(h.mean(1))


def T_(t):
    t = t.detach().contiguous()
    return {'shape': list(t.shape), 'data': [float('%.9g' % v) for v in t.reshape(-1).tolist()]}


m = Mixed()
with torch.no_grad():
    m.attn.in_proj_bias.uniform_(-0.2, 0.2)
x = torch.randn(B, T, FR, 1)
y = torch.tensor([0, 2, 1, 2])
loss = F.cross_entropy(m(x), y)
loss.backward()
E_ = E
W, b = m.attn.in_proj_weight, m.attn.in_proj_bias
conv = {
    'conv.weight': lambda w: w.permute(2, 3, 1, 0), 'conv.bias': None, 'bn.weight': None, 'bn.bias': None,
    'lstm.l0.weightIh': ('lstm.weight_ih_l0', lambda w: w.t()), 'lstm.l0.weightHh': ('lstm.weight_hh_l0', lambda w: w.t()),
    'lstm.l0.biasIh': ('lstm.bias_ih_l0', None), 'lstm.l0.biasHh': ('lstm.bias_hh_l0', None),
    'attn.qProj.weight': ('attn.in_proj_weight', lambda w: w[:E_].t()), 'attn.qProj.bias': ('attn.in_proj_bias', lambda v: v[:E_]),
    'attn.kProj.weight': ('attn.in_proj_weight', lambda w: w[E_:2 * E_].t()), 'attn.kProj.bias': ('attn.in_proj_bias', lambda v: v[E_:2 * E_]),
    'attn.vProj.weight': ('attn.in_proj_weight', lambda w: w[2 * E_:].t()), 'attn.vProj.bias': ('attn.in_proj_bias', lambda v: v[2 * E_:]),
    'attn.outProj.weight': ('attn.out_proj.weight', lambda w: w.t()), 'attn.outProj.bias': ('attn.out_proj.bias', None),
    'head.weight': ('head.weight', lambda w: w.t()), 'head.bias': ('head.bias', None),
}
params = dict(m.named_parameters())
state, grads = {}, {}
for ours, spec in conv.items():
    name, f = (ours, spec) if not isinstance(spec, tuple) else spec
    f = f or (lambda t: t)
    state[ours] = T_(f(params[name]))
    grads[ours] = T_(f(params[name].grad))
state['bn.runningMean'] = T_(torch.zeros(C))
state['bn.runningVar'] = T_(torch.ones(C))
json.dump({'generator': 'test/reference/nn_mixed_model.py', 'x': T_(x), 'labels': y.tolist(), 'loss': float(loss),
           'state': state, 'grads': grads, 'numParams': sum(p.numel() for p in m.parameters())}, open(OUT, 'w'))
print(f'wrote {OUT}')
