"""Reference values for metrics.siSnr, metrics.siSnrImprovement and metrics.sdr (lib/metrics/si_snr.ts, sdr.ts).

Run from the repository root with Debian's python (torch 1.13):
    /usr/bin/python3 test/reference/metrics_si_snr.py
It writes test/reference/fixtures/metrics_si_snr.json. torchmetrics is not packaged in Debian, so its
scale_invariant_signal_noise_ratio formula (torchmetrics 1.x, functional/audio/sdr.py) is written out
below in torch float64, with eps = 1e-8 as slimspeech's default (torchmetrics itself uses
torch.finfo(dtype).eps; the difference is far below float32 resolution for signals of non-zero energy):
    zero-mean both along time; alpha = (<est, ref> + eps) / (||ref||^2 + eps); target = alpha * ref;
    noise = target - est; si_snr = 10 log10((||target||^2 + eps) / (||noise||^2 + eps)).
The plain SDR is 10 log10((||ref||^2 + eps) / (||ref - est||^2 + eps)) (no projection, not bss_eval).
Gradients come from torch autograd with respect to the estimate and the reference, contracted with a
fixed random cotangent. Arrays are {shape, data}, data flat row-major.
"""
import json
import os

import torch

torch.manual_seed(1234)
EPS = 1e-8


def tensor(x):
    x = x.detach().to(torch.float64)
    return {"shape": list(x.shape), "data": x.reshape(-1).tolist()}


def input_tensor(x):
    """A float32-valued input, written with the shortest decimal that rounds back to the same float32."""
    x = x.detach().to(torch.float32)
    return {"shape": list(x.shape), "data": [float(str(v)) for v in x.reshape(-1).numpy()]}


def f32(x):
    return x.float().double()


def si_snr(preds, target, eps=EPS, zero_mean=True):
    if zero_mean:
        target = target - torch.mean(target, dim=-1, keepdim=True)
        preds = preds - torch.mean(preds, dim=-1, keepdim=True)
    alpha = (torch.sum(preds * target, dim=-1, keepdim=True) + eps) / (
        torch.sum(target ** 2, dim=-1, keepdim=True) + eps)
    target_scaled = alpha * target
    noise = target_scaled - preds
    val = (torch.sum(target_scaled ** 2, dim=-1) + eps) / (torch.sum(noise ** 2, dim=-1) + eps)
    return 10 * torch.log10(val)


def sdr(preds, target, eps=EPS):
    return 10 * torch.log10((torch.sum(target ** 2, dim=-1) + eps) / (torch.sum((target - preds) ** 2, dim=-1) + eps))


def noisy_copy(ref, snr_db, gain, offset):
    """gain * ref plus white noise at snr_db relative to ref, plus a DC offset."""
    noise = torch.randn_like(ref)
    noise = noise * torch.sqrt((ref ** 2).sum(-1, keepdim=True) / (noise ** 2).sum(-1, keepdim=True)) * 10 ** (-snr_db / 20)
    return gain * (ref + noise) + offset


def with_grads(fn, inputs, **kw):
    inputs = [x.clone().requires_grad_(True) for x in inputs]
    out = fn(*inputs, **kw)
    w = f32(torch.randn(out.shape, dtype=torch.float64))
    grads = torch.autograd.grad((out * w).sum(), inputs)
    return inputs, out, w, grads


cases = []
# (name, shape, snr in dB per signal (cycled), gain, dc offset, zero_mean, eps)
specs = [
    ("batch4", (4, 600), [-5.0, 5.0, 15.0, 30.0], 0.7, 0.3, True, EPS),
    ("sources_rank3", (2, 3, 300), [0.0, 10.0, 20.0], 1.3, -0.2, True, EPS),
    ("single_rank1", (600,), [12.0], 2.0, 0.5, True, EPS),
    ("no_zero_mean", (3, 400), [3.0, 8.0, 25.0], 0.5, 0.4, False, EPS),
    ("negative_gain", (2, 400), [10.0, 0.0], -1.5, 0.0, True, EPS),
    ("eps_1e-3_quiet", (2, 300), [6.0, 20.0], 1.0, 0.0, True, 1e-3),
]
for name, shape, snrs, gain, offset, zero_mean, eps in specs:
    ref = torch.randn(*shape, dtype=torch.float64)
    if name == "eps_1e-3_quiet":
        ref = ref * 1e-2  # energies comparable to eps, so eps visibly matters
    flat = ref.reshape(-1, shape[-1])
    est = torch.stack([noisy_copy(flat[i], snrs[i % len(snrs)], gain, offset) for i in range(flat.shape[0])])
    ref, est = f32(ref), f32(est.reshape(shape))
    (e, r), val, w, (ge, gr) = with_grads(si_snr, [est, ref], eps=eps, zero_mean=zero_mean)
    cases.append({"name": name, "zero_mean": zero_mean, "eps": eps, "estimate": input_tensor(e), "reference": input_tensor(r),
                  "cotangent": input_tensor(w), "si_snr": tensor(val), "grad_estimate": tensor(ge), "grad_reference": tensor(gr)})

improvement = []
# Two-source mixtures: estimates are noisy copies of each source; SI-SNRi = SI-SNR(est) - SI-SNR(mixture).
for name, mix_shape in [("full_mixture", "full"), ("broadcast_mixture", "broadcast")]:
    refs = f32(torch.randn(3, 2, 256, dtype=torch.float64))
    mixture = f32(refs.sum(1, keepdim=True))
    ests = f32(torch.stack([torch.stack([noisy_copy(refs[b, s], 8.0 + 4 * s + b, 0.9, 0.1) for s in range(2)]) for b in range(3)]))
    mix_in = mixture.expand_as(refs).contiguous() if mix_shape == "full" else mixture
    val = si_snr(ests, refs) - si_snr(mixture.expand_as(refs), refs)
    improvement.append({"name": name, "estimate": input_tensor(ests), "reference": input_tensor(refs), "mixture": input_tensor(mix_in),
                        "si_snri": tensor(val)})

sdr_cases = []
for name, shape, snrs, gain, offset in [("batch3", (3, 500), [0.0, 10.0, 20.0], 1.0, 0.0),
                                          ("gain_and_offset", (2, 2, 256), [5.0, 15.0], 0.6, 0.2)]:
    ref = torch.randn(*shape, dtype=torch.float64)
    flat = ref.reshape(-1, shape[-1])
    est = torch.stack([noisy_copy(flat[i], snrs[i % len(snrs)], gain, offset) for i in range(flat.shape[0])])
    ref, est = f32(ref), f32(est.reshape(shape))
    (e, r), val, w, (ge, gr) = with_grads(sdr, [est, ref])
    sdr_cases.append({"name": name, "estimate": input_tensor(e), "reference": input_tensor(r), "cotangent": input_tensor(w),
                      "sdr": tensor(val), "grad_estimate": tensor(ge), "grad_reference": tensor(gr)})

out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "metrics_si_snr.json")
with open(out_path, "w") as f:
    json.dump({"generator": "test/reference/metrics_si_snr.py", "torch": torch.__version__,
               "si_snr": cases, "si_snri": improvement, "sdr": sdr_cases}, f, allow_nan=False)
print(f"wrote {out_path}: {len(cases)} si_snr, {len(improvement)} si_snri, {len(sdr_cases)} sdr cases")
