#!/usr/bin/python3
"""Reference values for distill.alignTime (lib/distill/align_time.ts).

Run from the repository root with Debian's python3-torch (1.13):
    /usr/bin/python3 test/reference/distill_align_time.py
It writes test/reference/fixtures/distill_align_time.json. Everything is float64 autograd.

'avg-pool' is F.adaptive_avg_pool1d and 'linear' is F.interpolate(mode='linear', align_corners=False),
both on the resampled axis moved to the last place of an [N, C, L] view (PyTorch resamples the last axis).
The inputs are channels-last features; the gradient is that of sum(y * w) for a fixed random w.
Arrays are stored as {shape, data} with data flat in row-major order.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20240614)
torch.set_default_dtype(torch.float64)


def tensor(x):
    x = x.detach().to(torch.float64)
    return {"shape": list(x.shape), "data": x.reshape(-1).tolist()}


def resample(x, length, axis, method):
    moved = x.movedim(axis, -1)  # [..., L]
    flat = moved.reshape(1, -1, moved.shape[-1])  # [1, rest, L]
    if method == "avg-pool":
        y = F.adaptive_avg_pool1d(flat, length)
    else:
        y = F.interpolate(flat, size=length, mode="linear", align_corners=False)
    return y.reshape(*moved.shape[:-1], length).movedim(-1, axis)


cases = []
specs = [
    # (name, shape, length, axis, method)
    ("pool_integer_ratio", (2, 12, 3), 4, 1, "avg-pool"),
    ("pool_non_integer", (2, 10, 3), 4, 1, "avg-pool"),
    ("pool_upsample", (2, 5, 3), 8, 1, "avg-pool"),
    ("pool_to_one", (1, 7, 2), 1, 1, "avg-pool"),
    ("linear_down", (2, 12, 3), 5, 1, "linear"),
    ("linear_up", (2, 5, 3), 11, 1, "linear"),
    ("linear_factor_two", (2, 6, 2), 3, 1, "linear"),
    ("pool_freq_axis", (2, 3, 9, 2), 4, 2, "avg-pool"),
    ("linear_freq_axis", (2, 3, 4, 2), 7, 2, "linear"),
    ("pool_time_rank4", (2, 8, 3, 2), 4, 1, "avg-pool"),
]
for name, shape, length, axis, method in specs:
    x = torch.randn(*shape).float().double().requires_grad_(True)
    y = resample(x, length, axis, method)
    w = torch.randn(y.shape).float().double()
    (g,) = torch.autograd.grad((y * w).sum(), (x,))
    cases.append({"name": name, "length": length, "axis": axis, "method": method,
                  "x": tensor(x), "cotangent": tensor(w), "y": tensor(y), "grad": tensor(g)})

out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "distill_align_time.json")
with open(out_path, "w") as f:
    json.dump({"generator": "test/reference/distill_align_time.py", "torch": torch.__version__, "cases": cases},
              f, allow_nan=False)
print(f"wrote {out_path}: {len(cases)} cases")
