"""Reference values for metrics.crossEntropy (lib/metrics/cross_entropy.ts).

Run from the repository root with Debian's python (torch 1.13):
    /usr/bin/python3 test/reference/metrics_cross_entropy.py
It writes test/reference/fixtures/metrics_cross_entropy.json from torch.nn.functional.cross_entropy in
float64 (class-index targets and class-probability targets, label smoothing, every reduction) and its
autograd gradient with respect to the logits. Arrays are {shape, data}, data flat row-major.
slimspeech keeps classes on the last axis; torch wants them on axis 1, so rank-3 logits are moved.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(7)


def tensor(x):
    x = x.detach().to(torch.float64)
    return {"shape": list(x.shape), "data": x.reshape(-1).tolist()}


def torch_ce(logits, target, smoothing, reduction):
    if logits.dim() == 3:  # [batch, frames, classes] -> torch's [batch, classes, frames]
        logits = logits.permute(0, 2, 1)
        if target.dim() == 3:
            target = target.permute(0, 2, 1)
    return F.cross_entropy(logits, target, label_smoothing=smoothing, reduction=reduction)


cases = []
specs = [
    # (name, logits shape, target kind, label smoothing, reduction, logit scale)
    ("index_mean", (8, 5), "index", 0.0, "mean", 2.0),
    ("index_sum", (8, 5), "index", 0.0, "sum", 2.0),
    ("index_none", (8, 5), "index", 0.0, "none", 2.0),
    ("index_smooth0.1", (16, 12), "index", 0.1, "mean", 3.0),
    ("index_smooth0.3_none", (6, 4), "index", 0.3, "none", 1.0),
    ("index_large_logits", (4, 10), "index", 0.1, "mean", 80.0),
    ("onehot_mean", (8, 5), "onehot", 0.0, "mean", 2.0),
    ("onehot_smooth0.1", (8, 5), "onehot", 0.1, "mean", 2.0),
    ("probs_mean", (7, 6), "probs", 0.0, "mean", 2.0),
    ("probs_smooth0.2_sum", (7, 6), "probs", 0.2, "sum", 2.0),
    ("frames_index", (2, 3, 4), "index", 0.1, "mean", 2.0),
    ("frames_probs_none", (2, 3, 4), "probs", 0.0, "none", 2.0),
]
for name, shape, kind, smoothing, reduction, scale in specs:
    logits = (torch.randn(*shape, dtype=torch.float64) * scale).float().double().requires_grad_(True)
    classes = shape[-1]
    index = torch.randint(0, classes, shape[:-1])
    if kind == "index":
        target = index
        stored = tensor(index.double())
    elif kind == "onehot":
        target = F.one_hot(index, classes).double()
        stored = tensor(target)
    else:
        target = F.softmax(torch.randn(*shape, dtype=torch.float64) * 2, dim=-1).float().double()
        stored = tensor(target)
    loss = torch_ce(logits, target, smoothing, reduction)
    w = torch.randn(loss.shape, dtype=torch.float64).float().double()
    (grad,) = torch.autograd.grad((loss * w).sum(), (logits,))
    cases.append({
        "name": name, "kind": kind, "label_smoothing": smoothing, "reduction": reduction,
        "logits": tensor(logits), "labels": stored, "cotangent": tensor(w),
        "loss": tensor(loss), "grad_logits": tensor(grad),
    })

out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "metrics_cross_entropy.json")
with open(out_path, "w") as f:
    json.dump({"generator": "test/reference/metrics_cross_entropy.py", "torch": torch.__version__, "cases": cases},
              f, allow_nan=False)
print(f"wrote {out_path}: {len(cases)} cases")
