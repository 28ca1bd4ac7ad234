"""Reference values for distill.klDivergence (lib/distill/kl_divergence.ts).

Run from the repository root with Debian's python (torch 1.13):
    /usr/bin/python3 test/reference/distill_kl_divergence.py
It writes test/reference/fixtures/distill_kl_divergence.json. Everything is computed in float64 with
PyTorch's own kl_div / log_softmax / autograd, the expression DESIGN.md names:
    kl_div(log_softmax(s / T), softmax(t / T), reduction='batchmean') * T * T
Arrays are stored as {shape, data} with data flat in row-major order.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20240611)


def tensor(x):
    x = x.detach().to(torch.float64)
    return {"shape": list(x.shape), "data": x.reshape(-1).tolist()}


def kd(s, t, temperature, reduction):
    log_q = F.log_softmax(s / temperature, dim=-1)
    p = F.softmax(t / temperature, dim=-1)
    if reduction == "batchmean":
        return F.kl_div(log_q, p, reduction="batchmean") * temperature * temperature
    if reduction == "sum":
        return F.kl_div(log_q, p, reduction="sum") * temperature * temperature
    # 'none' in slimspeech is the per-row KL (summed over the class axis), scaled by T^2.
    return F.kl_div(log_q, p, reduction="none").sum(-1) * temperature * temperature


cases = []
specs = [
    # (name, shape, logit scale, temperature, reduction)
    ("small_T1", (4, 5), 1.0, 1.0, "batchmean"),
    ("small_T2", (4, 5), 1.0, 2.0, "batchmean"),
    ("kws_T4", (16, 12), 3.0, 4.0, "batchmean"),
    ("wide_T0.5", (3, 35), 2.0, 0.5, "batchmean"),
    ("large_logits_T1", (5, 10), 60.0, 1.0, "batchmean"),  # softmax would overflow without log-softmax
    ("large_logits_T3", (5, 10), 200.0, 3.0, "batchmean"),
    ("single_row", (1, 7), 1.5, 2.0, "batchmean"),
    ("sum_T2", (6, 8), 2.0, 2.0, "sum"),
    ("none_T2", (6, 8), 2.0, 2.0, "none"),
    ("frames_rank3_T2", (2, 3, 6), 2.0, 2.0, "batchmean"),  # [batch, frames, classes]: batchmean divides by batch
]
for name, shape, scale, temperature, reduction in specs:
    s = (torch.randn(*shape, dtype=torch.float64) * scale).float().double().requires_grad_(True)
    t = (torch.randn(*shape, dtype=torch.float64) * scale).float().double().requires_grad_(True)
    out = kd(s, t, temperature, reduction)
    # A fixed random cotangent so that gradients of 'none' are checked per row, not only summed.
    w = torch.randn(out.shape, dtype=torch.float64).float().double()
    gs, gt = torch.autograd.grad((out * w).sum(), (s, t))
    cases.append({
        "name": name, "temperature": temperature, "reduction": reduction,
        "student": tensor(s), "teacher": tensor(t), "cotangent": tensor(w),
        "loss": tensor(out), "grad_student": tensor(gs), "grad_teacher": tensor(gt),
    })

out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "distill_kl_divergence.json")
with open(out_path, "w") as f:
    json.dump({"generator": "test/reference/distill_kl_divergence.py", "torch": torch.__version__, "cases": cases},
              f, allow_nan=False)
print(f"wrote {out_path}: {len(cases)} cases")
