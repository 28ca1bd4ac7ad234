#!/usr/bin/python3
"""torchaudio.functional.compute_deltas (win_length 5) on fixed random features, for ssl.deltas
(lib/ssl/hubert.ts). Run from the repository root: /usr/bin/python3 test/reference/ssl_deltas.py
(Debian's python3-torchaudio); writes test/reference/fixtures/ssl_deltas.json."""
import json
import os

import torch
import torchaudio

torch.manual_seed(0)
x = torch.randn(2, 7, 3)                       # [batch, frames, features]
d = torchaudio.functional.compute_deltas(x.transpose(1, 2)).transpose(1, 2)   # deltas along frames
dd = torchaudio.functional.compute_deltas(d.transpose(1, 2)).transpose(1, 2)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'ssl_deltas.json')
with open(out, 'w') as f:
    json.dump({'x': x.tolist(), 'deltas': d.tolist(), 'deltaDeltas': dd.tolist()}, f)
print('wrote', out)
