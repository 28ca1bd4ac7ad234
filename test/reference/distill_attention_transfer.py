#!/usr/bin/python3
"""Reference values for distill.attentionMap and distill.attentionTransfer (lib/distill/attention_transfer.ts).

Run from the repository root with Debian's python3-torch (1.13):
    /usr/bin/python3 test/reference/distill_attention_transfer.py
It writes test/reference/fixtures/distill_attention_transfer.json. Everything is float64 autograd.

The features are stored channels-last ([batch, time, channels] or [batch, time, freq, channels]) as slimspeech
takes them; this script transposes them to channels-first (NCL / NCHW), the layout torchdistill's ATLoss
works in, and writes its two formulas out independently (torchdistill/losses/mid_level.py, ATLoss):
    'code':  a = normalize(mean_c x^2 flattened),  loss = mean((a_s - a_t)^2)
    'paper': a = normalize(sum_c x^2 flattened),   loss = sum_b ||a_s[b] - a_t[b]||_2 / batch
with normalize = F.normalize(dim=1) (eps 1e-12). For p != 2 the energy is |x|^p (the paper's |A|^p).
Arrays are stored as {shape, data} with data flat in row-major order.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20240612)
torch.set_default_dtype(torch.float64)


def tensor(x):
    x = x.detach().to(torch.float64)
    return {"shape": list(x.shape), "data": x.reshape(-1).tolist()}


def channels_first(x):
    # [B, T, C] -> [B, C, T]; [B, T, F, C] -> [B, C, T, F]
    return x.permute(0, x.dim() - 1, *range(1, x.dim() - 1))


def energy(x_cf, p):
    return x_cf.pow(2) if p == 2 else x_cf.abs().pow(p)


def at_map(x_cl, p, reduce):
    e = energy(channels_first(x_cl), p)
    r = e.mean(1) if reduce == "mean" else e.sum(1)
    return F.normalize(r.flatten(1), p=2, dim=1)


def at_loss(s_cl, t_cl, mode, p):
    if mode == "code":
        return (at_map(s_cl, p, "mean") - at_map(t_cl, p, "mean")).pow(2).mean()
    a_s, a_t = at_map(s_cl, p, "sum"), at_map(t_cl, p, "sum")
    return torch.norm(a_s - a_t, dim=1).sum() / s_cl.shape[0]


def features(shape, kind):
    x = torch.randn(*shape)
    if kind == "relu":
        x = x.clamp_min(0)  # exact zeros, as after a ReLU
    return x.float().double().requires_grad_(True)


transfer = []
transfer_specs = [
    # (name, student shape, teacher shape, mode, p, kind)
    ("rank3_code", (3, 7, 4), (3, 7, 6), "code", 2, "normal"),
    ("rank3_paper", (3, 7, 4), (3, 7, 6), "paper", 2, "normal"),
    ("rank4_code", (2, 5, 3, 4), (2, 5, 3, 8), "code", 2, "normal"),
    ("rank4_paper", (2, 5, 3, 4), (2, 5, 3, 8), "paper", 2, "normal"),
    ("rank4_relu_paper", (2, 4, 6, 3), (2, 4, 6, 5), "paper", 2, "relu"),
    ("rank3_p3_code", (2, 6, 5), (2, 6, 3), "code", 3, "normal"),
    ("rank3_p1_paper", (2, 6, 5), (2, 6, 3), "paper", 1, "normal"),
    ("single_row_code", (1, 9, 2), (1, 9, 2), "code", 2, "normal"),
]
for name, s_shape, t_shape, mode, p, kind in transfer_specs:
    s = features(s_shape, kind)
    t = features(t_shape, kind)
    loss = at_loss(s, t, mode, p)
    gs, gt = torch.autograd.grad(loss, (s, t))
    transfer.append({"name": name, "mode": mode, "p": p, "student": tensor(s), "teacher": tensor(t),
                     "loss": tensor(loss), "grad_student": tensor(gs), "grad_teacher": tensor(gt)})


def attention_map(x_cl, over, p, reduce, normalize):
    e = energy(channels_first(x_cl), p)  # [B, C, T(, F)]
    if over == "position":
        dims = (1,)
    elif over == "time":
        dims = (1,) + tuple(range(3, e.dim()))
    else:  # channel
        dims = tuple(range(2, e.dim()))
    r = e.mean(dims) if reduce == "mean" else e.sum(dims)
    r = r.flatten(1)
    if normalize == "l2":
        return F.normalize(r, p=2, dim=1)
    if normalize == "sum":
        return r / r.sum(1, keepdim=True).clamp_min(1e-12)
    return r


maps = []
map_specs = [
    # (name, shape, over, p, reduce, normalize)
    ("rank3_position", (2, 6, 4), "position", 2, "mean", "l2"),
    ("rank4_position_sum", (2, 4, 3, 5), "position", 2, "sum", "l2"),
    ("rank4_time_l2", (2, 4, 3, 5), "time", 2, "mean", "l2"),
    ("rank4_time_sum_norm", (2, 4, 3, 5), "time", 2, "mean", "sum"),
    ("rank4_channel_l2", (2, 4, 3, 5), "channel", 2, "mean", "l2"),
    ("rank4_channel_none_p3", (2, 4, 3, 5), "channel", 3, "sum", "none"),
    ("rank3_channel_sum_norm", (3, 7, 4), "channel", 2, "sum", "sum"),
    ("rank3_time_none", (3, 7, 4), "time", 2, "mean", "none"),
]
for name, shape, over, p, reduce, normalize in map_specs:
    x = features(shape, "normal")
    a = attention_map(x, over, p, reduce, normalize)
    w = torch.randn(a.shape).float().double()
    (g,) = torch.autograd.grad((a * w).sum(), (x,))
    maps.append({"name": name, "over": over, "p": p, "reduce": reduce, "normalize": normalize,
                 "feature": tensor(x), "cotangent": tensor(w), "map": tensor(a), "grad": tensor(g)})

out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "distill_attention_transfer.json")
with open(out_path, "w") as f:
    json.dump({"generator": "test/reference/distill_attention_transfer.py", "torch": torch.__version__,
               "transfer": transfer, "maps": maps}, f, allow_nan=False)
print(f"wrote {out_path}: {len(transfer)} transfer cases, {len(maps)} map cases")
