#!/usr/bin/python3
"""Reference values for distill.atKl and distill.channelKl (lib/distill/at_kl.ts).

Run from the repository root with Debian's python3-torch (1.13):
    /usr/bin/python3 test/reference/distill_at_kl.py
It writes test/reference/fixtures/distill_at_kl.json. Everything is float64 autograd, written out from the
formulas in the docs of lib/distill/at_kl.ts (Distil-DCCRN's AT-KL as slimspeech defines it, and
channel-wise distillation, Shu et al. 2021), on channels-last features [B, T, C] or [B, T, F, C]:
    a_time[b, t] = mean_{f,c} |x|^p,  a_chan[b, c] = mean_{t,f} |x|^p
    P = a^(1/T) / sum a^(1/T);  AT-KL = sum_d w_d * mean_b KL(P_teacher || P_student)
    channelKl: P_c = softmax over positions of x[..., c] / T;  T^2 * mean_{b,c} KL(P_teacher || P_student)
Arrays are stored as {shape, data} with data flat in row-major order.
"""
import json
import os

import torch

torch.manual_seed(20261130)
torch.set_default_dtype(torch.float64)
EPS = 1e-12


def tensor(x):
    x = x.detach().to(torch.float64)
    return {"shape": list(x.shape), "data": x.reshape(-1).tolist()}


def energy_map(x, over, p):
    e = x.abs().pow(p)
    last = x.dim() - 1
    if over == 'time':
        dims = list(range(2, last + 1))
    else:
        dims = list(range(1, last))
    return e.mean(dim=dims)


def dist_log(a, temperature):
    z = torch.log(a + EPS) / temperature
    return z - torch.logsumexp(z, dim=-1, keepdim=True)


def kl(log_t, log_s):
    return (log_t.exp() * (log_t - log_s)).sum(-1)


def at_kl(s, t, over, weights, p, temperature):
    total = 0
    for d in over:
        total = total + weights.get(d, 1.0) * kl(dist_log(energy_map(t, d, p), temperature),
                                                   dist_log(energy_map(s, d, p), temperature)).mean()
    return total


def channel_kl(s, t, temperature):
    b, c = s.shape[0], s.shape[-1]
    fs = s.reshape(b, -1, c).transpose(1, 2) / temperature
    ft = t.reshape(b, -1, c).transpose(1, 2) / temperature
    return temperature ** 2 * kl(torch.log_softmax(ft, -1), torch.log_softmax(fs, -1)).mean()


def main():
    cases = []
    specs = [
        ([2, 6, 5], {}, 'at'),
        ([2, 7, 4, 3], {}, 'at'),
        ([3, 5, 4, 6], {'over': ['time'], 'temperature': 2.0}, 'at'),
        ([2, 6, 3, 4], {'over': ['channel'], 'p': 1.0, 'weights': {'channel': 0.5}}, 'at'),
        ([2, 8, 3, 5], {'weights': {'time': 2.0, 'channel': 0.25}, 'temperature': 0.5}, 'at'),
        ([2, 6, 5], {}, 'ckl'),
        ([2, 5, 4, 3], {'temperature': 4.0}, 'ckl'),
    ]
    for shape, opts, kind in specs:
        s = torch.randn(shape, requires_grad=True)
        t = (0.7 * s.detach() + 0.5 * torch.randn(shape)).requires_grad_(True)
        if kind == 'at':
            loss = at_kl(s, t, opts.get('over', ['time', 'channel']), opts.get('weights', {}), opts.get('p', 2.0),
                         opts.get('temperature', 1.0))
        else:
            loss = channel_kl(s, t, opts.get('temperature', 1.0))
        gs, gt = torch.autograd.grad(loss, [s, t])
        cases.append({"kind": kind, "options": opts, "student": tensor(s), "teacher": tensor(t),
                      "loss": loss.item(), "gradStudent": tensor(gs), "gradTeacher": tensor(gt)})
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'distill_at_kl.json')
    with open(out, 'w') as f:
        json.dump({"generator": "test/reference/distill_at_kl.py", "torch": torch.__version__, "cases": cases}, f)
    print(f'wrote {out}: {len(cases)} cases')


if __name__ == '__main__':
    main()
