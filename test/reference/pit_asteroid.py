#!/usr/bin/python3
"""Reference PIT values from asteroid's own PITLossWrapper (pit_from='pw_mtx') and pairwise_neg_sisdr, on random
inputs, in float64 torch: the pairwise loss matrix, the batch loss and its gradient, the best assignment, the
reordered estimates (return_est=True), for S = 2 and 3 (asteroid's exhaustive search) and S = 4 and 5 (asteroid's
Hungarian path, scipy's linear_sum_assignment); and reorder_source on given assignments.

asteroid is not vendored: extract its losses from the mirror and pass the folder (its code is never committed here):
    mkdir -p /tmp/asteroid-ref
    git -C /work/.mirror/asteroid-team+asteroid/repo archive HEAD asteroid/losses | tar -x -C /tmp/asteroid-ref
    /usr/bin/python3 test/reference/pit_asteroid.py /tmp/asteroid-ref
(Debian's python3-torch and python3-scipy.) pit_wrapper.py and sdr.py are loaded as files, so the rest of
asteroid (and its package __init__, which imports optional dependencies) is not needed.
Writes test/reference/fixtures/pit_asteroid.json.

Directions. asteroid's pw_mtx losses are [batch, estimate, target] (its docstring says the opposite; the code of
PairwiseNegSDR unsqueezes estimates on axis 2), and its best assignment `batch_indices[b][k]` is the estimate
given to target k. slimspeech's perm[b][i] is the target given to estimate i: the inverse permutation, which
this script also writes ('perm').
"""
import importlib.util
import itertools
import json
import os
import sys

import torch

if len(sys.argv) != 2:
    sys.exit(__doc__)
ROOT = os.path.join(sys.argv[1], 'asteroid', 'losses')


def load(name):
    spec = importlib.util.spec_from_file_location(f'asteroid_ref_{name}', os.path.join(ROOT, f'{name}.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


sdr = load('sdr')
pit_wrapper = load('pit_wrapper')
PITLossWrapper = pit_wrapper.PITLossWrapper

torch.manual_seed(11)
torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'pit_asteroid.json')


def T(t):
    t = t.detach().contiguous()
    return {'shape': list(t.shape), 'data': [float('%.9g' % v) for v in t.reshape(-1).tolist()]}


def inverse(p):
    inv = [0] * len(p)
    for k, i in enumerate(p):
        inv[i] = k
    return inv


def margin(pw):
    """Gap between the best and second-best assignment's mean pair loss, smallest over the batch (so that float32
    cannot flip the argmin)."""
    S = pw.shape[-1]
    gaps = []
    for m in pw:
        losses = sorted(float(sum(m[i, p[i]] for i in range(S)) / S) for p in itertools.permutations(range(S)))
        gaps.append(losses[1] - losses[0])
    return min(gaps)


loss_func = PITLossWrapper(sdr.pairwise_neg_sisdr, pit_from='pw_mtx')
cases = []
# (batch, sources, time, kind): 'random' estimates are independent of the references (no obvious assignment);
# 'shuffled' are noisy copies of the references in a random order (a clear, non-identity best assignment).
for B, S, L, kind in [(4, 2, 64, 'random'), (3, 2, 80, 'shuffled'), (4, 3, 64, 'random'), (3, 3, 72, 'shuffled'),
                      (3, 4, 64, 'random'), (3, 4, 64, 'shuffled'), (2, 5, 48, 'random'), (2, 5, 56, 'shuffled')]:
    while True:
        ref = torch.randn(B, S, L)
        if kind == 'random':
            est = torch.randn(B, S, L)
        else:
            est = torch.stack([ref[b, torch.randperm(S)] + 0.8 * torch.randn(S, L) for b in range(B)])
        pw = sdr.pairwise_neg_sisdr(est, ref)
        if margin(pw) > 1e-2:
            break
    est.requires_grad_(True)
    pw = sdr.pairwise_neg_sisdr(est, ref)
    min_loss, batch_indices = PITLossWrapper.find_best_perm(pw)
    loss, reordered = loss_func(est, ref, return_est=True)
    grad, = torch.autograd.grad(loss, est)
    cases.append({
        'kind': kind, 'solver': 'exhaustive' if S <= 3 else 'hungarian',
        'est': T(est), 'ref': T(ref), 'pairwise': T(pw), 'loss': float(loss), 'perExample': T(min_loss),
        'batchIndices': batch_indices.tolist(), 'perm': [inverse(p) for p in batch_indices.tolist()],
        'reordered': T(reordered), 'grad': T(grad),
    })

# reorder_source alone, on assignments drawn at random.
reorder = []
for B, S, L in [(3, 3, 5), (2, 4, 6)]:
    src = torch.randn(B, S, L)
    idx = torch.stack([torch.randperm(S) for _ in range(B)])
    reorder.append({'source': T(src), 'batchIndices': idx.tolist(), 'perm': [inverse(p) for p in idx.tolist()],
                    'reordered': T(PITLossWrapper.reorder_source(src, idx))})

json.dump({'generator': 'test/reference/pit_asteroid.py', 'cases': cases, 'reorder': reorder}, open(OUT, 'w'))
print(f'wrote {OUT}')
