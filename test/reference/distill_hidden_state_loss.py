#!/usr/bin/python3
"""Reference values for distill.hiddenStateLoss, hiddenStateTerms and mse (lib/distill/hidden_state_loss.ts).

Run from the repository root with Debian's python3-torch (1.13):
    /usr/bin/python3 test/reference/distill_hidden_state_loss.py
It writes test/reference/fixtures/distill_hidden_state_loss.json. Everything is float64 autograd.

The loss is DPHuBERT's DistillLoss (pyf98/DPHuBERT, lightning.py), written out here with PyTorch's own
modules: nn.L1Loss and nn.MSELoss (means over every element) and nn.CosineSimilarity(dim=-1) (eps 1e-8,
one value per vector, then the mean over batch, layer and time):
    loss = l2 * MSE + l1 * L1 + cos_weight * COS,  COS = -mean(cos) ('raw') or -mean(log(sigmoid(cos))) ('log_sig')
Arrays are stored as {shape, data} with data flat in row-major order.
"""
import json
import os

import torch
import torch.nn as nn

torch.manual_seed(20240613)
torch.set_default_dtype(torch.float64)


def tensor(x):
    x = x.detach().to(torch.float64)
    return {"shape": list(x.shape), "data": x.reshape(-1).tolist()}


l1_loss, mse_loss, cos_sim = nn.L1Loss(), nn.MSELoss(), nn.CosineSimilarity(dim=-1)


def terms(s, t, cos_type):
    c = cos_sim(s, t)
    cos_term = -c.mean() if cos_type == "raw" else -c.sigmoid().log().mean()
    return l1_loss(s, t), mse_loss(s, t), cos_term


cases = []
specs = [
    # (name, shape, cos type, l1 weight, cos weight, l2 weight, how the teacher relates to the student)
    ("btf_raw", (3, 5, 8), "raw", 1.0, 1.0, 0.0, "independent"),
    ("btf_log_sig", (3, 5, 8), "log_sig", 1.0, 1.0, 0.0, "independent"),
    ("stacked_layers_raw_l2", (2, 3, 4, 6), "raw", 1.0, 1.0, 1.0, "independent"),  # DPHuBERT's [batch, layer, time, feature]
    ("weighted_log_sig", (2, 6, 5), "log_sig", 0.5, 2.0, 0.25, "correlated"),
    ("cos_only", (4, 7), "raw", 0.0, 1.0, 0.0, "correlated"),
    ("l1_only", (2, 3, 4), "raw", 1.0, 0.0, 0.0, "independent"),
]
for name, shape, cos_type, l1w, cw, l2w, relation in specs:
    s = torch.randn(*shape).float().double().requires_grad_(True)
    t0 = torch.randn(*shape)
    if relation == "correlated":
        t0 = 0.8 * s.detach() + 0.3 * t0  # cosines near 1, where log_sig and raw differ most in slope
    t = t0.float().double().requires_grad_(True)
    l1, mse, cos = terms(s, t, cos_type)
    loss = l2w * mse + l1w * l1 + cw * cos
    gs, gt = torch.autograd.grad(loss, (s, t))
    cases.append({"name": name, "cos": cos_type, "l1": l1w, "cosWeight": cw, "l2": l2w,
                  "student": tensor(s), "teacher": tensor(t), "loss": tensor(loss),
                  "term_l1": tensor(l1), "term_l2": tensor(mse), "term_cos": tensor(cos),
                  "grad_student": tensor(gs), "grad_teacher": tensor(gt)})

out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "distill_hidden_state_loss.json")
with open(out_path, "w") as f:
    json.dump({"generator": "test/reference/distill_hidden_state_loss.py", "torch": torch.__version__, "cases": cases},
              f, allow_nan=False)
print(f"wrote {out_path}: {len(cases)} cases")
