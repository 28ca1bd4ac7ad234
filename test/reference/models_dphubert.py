#!/usr/bin/python3
"""DPHuBERT's own wav2vec2 model (pyf98/DPHuBERT, wav2vec2/model.py and components.py) as the reference for
pruned-size Wav2Vec2Models and for slimspeech's export in its format (lib/models/wav2vec2_dphubert.ts).

The reference code is fetched, never committed. Run from the repository root with Debian's python3-torch:
    /usr/bin/python3 test/reference/models_dphubert.py DPHUBERT_DIR
writes test/reference/fixtures/wav2vec2/dphubert_pruned.{config.json,safetensors,json}: a model built by
DPHuBERT's wav2vec2_model from a pruned config (conv channels, heads, FFN units per layer, a layer without
attention and one without FFN), its weights randomised (dummy_weight and layer norms included), its state
dict under DPHuBERT's names, a fixed input and its extract_features outputs (the projection and every layer).

    /usr/bin/python3 test/reference/models_dphubert.py DPHUBERT_DIR EXPORT_DIR
checks an export: builds DPHuBERT's model from EXPORT_DIR/config.json, loads EXPORT_DIR/model.safetensors
with strict=True, runs it on EXPORT_DIR/input.json and compares with EXPORT_DIR/hidden.json (written by
slimspeech beside the export); prints the largest difference and exits 1 above 1e-4.

DPHUBERT_DIR is a checkout, or a bare git directory (its HEAD is extracted to a temporary directory).
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'wav2vec2')

CONFIG = dict(
    extractor_mode='group_norm', extractor_conv_layer_config=[[12, 10, 5], [9, 3, 2], [6, 2, 2]], extractor_conv_bias=False,
    encoder_embed_dim=16, encoder_projection_dropout=0.1, encoder_pos_conv_kernel=4, encoder_pos_conv_groups=2,
    encoder_num_layers=3, encoder_use_attention=[True, False, True], encoder_use_feed_forward=[True, True, False],
    encoder_num_heads=[2, 0, 1], encoder_head_dim=4, encoder_attention_dropout=0.1, encoder_ff_interm_features=[24, 5, 0],
    encoder_ff_interm_dropout=0.0, encoder_dropout=0.1, encoder_layer_norm_first=False, encoder_layer_drop=0.05,
    aux_num_out=None, normalize_waveform=False,
)

DTYPES = {'F32': np.float32, 'F64': np.float64, 'I32': np.int32, 'I64': np.int64, 'F16': np.float16}


def import_reference(where):
    if os.path.isdir(os.path.join(where, 'wav2vec2')):
        root = where
    else:
        root = tempfile.mkdtemp(prefix='dphubert-ref-')
        archive = subprocess.run(['git', '-C', where, 'archive', 'HEAD', 'wav2vec2'], check=True, capture_output=True).stdout
        subprocess.run(['tar', '-x', '-C', root], input=archive, check=True)
    sys.path.insert(0, root)
    from wav2vec2.model import wav2vec2_model
    return wav2vec2_model


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().numpy().astype(np.float32).tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(chunks))


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        b, end = e['data_offsets']
        arr = np.frombuffer(raw[8 + n + b:8 + n + end], dtype=DTYPES[e['dtype']]).reshape(e['shape'])
        out[name] = torch.from_numpy(arr.astype(np.float32).copy())
    return out


def hidden_states(model, x):
    model.eval()
    with torch.no_grad():
        hs, _ = model.extract_features(x)
    return hs


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    wav2vec2_model = import_reference(sys.argv[1])
    if len(sys.argv) == 3:
        d = sys.argv[2]
        with open(os.path.join(d, 'config.json')) as f:
            config = json.load(f)
        model = wav2vec2_model(**config)
        model.load_state_dict(read_safetensors(os.path.join(d, 'model.safetensors')), strict=True)
        with open(os.path.join(d, 'input.json')) as f:
            inp = json.load(f)
        with open(os.path.join(d, 'hidden.json')) as f:
            ours = json.load(f)
        x = torch.tensor(inp['data'], dtype=torch.float32).reshape(inp['shape'])
        hs = hidden_states(model, x)
        assert len(hs) == len(ours), f'{len(hs)} hidden states, slimspeech wrote {len(ours)}'
        worst = max(float(np.max(np.abs(h.numpy().reshape(-1) - np.array(o['data'], dtype=np.float32)))) for h, o in zip(hs, ours))
        params = sum(p.numel() for p in model.parameters())
        print(f'DPHuBERT built the exported model ({params} parameters incl. dummy_weight) and loaded it strictly; '
              f'largest hidden-state difference {worst:.2e}')
        sys.exit(0 if worst <= 1e-4 else 1)
    torch.manual_seed(0)
    model = wav2vec2_model(**CONFIG)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('weight_g') or name.endswith('dummy_weight'):
                p.copy_(0.5 + torch.rand_like(p))
            elif 'layer_norm' in name and name.endswith('weight'):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.add_(0.05 * torch.randn_like(p))
    x = 0.3 * torch.randn(2, 1600)
    hs = hidden_states(model, x)
    os.makedirs(OUT, exist_ok=True)
    write_safetensors(os.path.join(OUT, 'dphubert_pruned.safetensors'), model.state_dict())
    with open(os.path.join(OUT, 'dphubert_pruned.config.json'), 'w') as f:
        json.dump(CONFIG, f, indent=1)
    r = lambda t: [round(v, 8) for v in t.reshape(-1).tolist()]
    with open(os.path.join(OUT, 'dphubert_pruned.json'), 'w') as f:
        json.dump({'input': r(x), 'inputShape': list(x.shape), 'params': sum(p.numel() for p in model.parameters()),
                   'keys': list(model.state_dict().keys()),
                   'hidden': [{'shape': list(h.shape), 'data': r(h)} for h in hs]}, f)
    print(f'wrote {OUT}/dphubert_pruned.* ({len(hs)} hidden states)')


if __name__ == '__main__':
    main()
