#!/usr/bin/python3
"""Reference fixtures for models.Wav2Vec2Model and models.loadSafetensors (lib/models/wav2vec2*.ts), from
torchaudio's own wav2vec2_model (Debian's python3-torchaudio 0.13 with python3-torch 1.13).

Run from the repository root:  /usr/bin/python3 test/reference/models_wav2vec2.py
It writes, under test/reference/fixtures/wav2vec2/:
  - counts.json: torchaudio's parameter counts of hubert_base, hubert_large, wav2vec2_base,
    wav2vec2_large and of the tiny cases below (models built, never run);
  - <case>.torchaudio.safetensors: a tiny randomly initialised model's state_dict under torchaudio's key
    names (every parameter, layer-norm gains and weight-norm magnitudes included, perturbed so that each
    one matters);
  - <case>.hf.safetensors: the same weights under Hugging Face transformers' key names (HubertModel /
    Wav2Vec2Model: the prefix a task head adds, `feature_projection` outside the encoder, the positional
    convolution's weight norm as `parametrizations.weight.original0/1` as newer transformers write it, plus
    the keys a loader must skip: masked_spec_embed);
  - <case>.json: the config (torchaudio's arguments), a fixed random input [2, 3200] and torchaudio's
    outputs on it in eval mode: the feature projection's output (the hidden state DPHuBERT calls layer 0),
    every transformer layer's output (Wav2Vec2Model.extract_features) and the model's forward output; and
    the same with lengths [3200, 2500] (padded frames zeroed after the projection, masked as attention keys).
The safetensors files are written here by hand (an 8-byte little-endian header length, a JSON header of
dtype, shape and byte offsets, then the raw little-endian data), as the format specifies.
"""
import json
import os
import struct

import torch
import torchaudio
from torchaudio.models import wav2vec2_model

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'wav2vec2')

CASES = {
    # HuBERT/wav2vec2 Base layout: group norm in the first conv block, post-norm transformer.
    'tiny_group_norm': dict(
        extractor_mode='group_norm', extractor_conv_layer_config=[(16, 10, 5), (16, 3, 2), (16, 2, 2)],
        extractor_conv_bias=False, encoder_embed_dim=24, encoder_projection_dropout=0.1,
        encoder_pos_conv_kernel=8, encoder_pos_conv_groups=4, encoder_num_layers=2, encoder_num_heads=4,
        encoder_attention_dropout=0.1, encoder_ff_interm_features=40, encoder_ff_interm_dropout=0.0,
        encoder_dropout=0.1, encoder_layer_norm_first=False, encoder_layer_drop=0.05, aux_num_out=None),
    # Large layout: layer norm in every conv block, conv bias, pre-norm transformer, odd positional kernel.
    'tiny_layer_norm': dict(
        extractor_mode='layer_norm', extractor_conv_layer_config=[(12, 10, 5), (20, 3, 2), (20, 2, 2)],
        extractor_conv_bias=True, encoder_embed_dim=32, encoder_projection_dropout=0.1,
        encoder_pos_conv_kernel=7, encoder_pos_conv_groups=2, encoder_num_layers=3, encoder_num_heads=2,
        encoder_attention_dropout=0.1, encoder_ff_interm_features=48, encoder_ff_interm_dropout=0.1,
        encoder_dropout=0.1, encoder_layer_norm_first=True, encoder_layer_drop=0.1, aux_num_out=None),
}

DTYPES = {torch.float32: 'F32', torch.float16: 'F16', torch.float64: 'F64', torch.int64: 'I64', torch.int32: 'I32'}


def write_safetensors(path, tensors, metadata=None):
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header['__metadata__'] = metadata
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


def hf_name(key):
    """torchaudio's key -> transformers' (the inverse of torchaudio's import_huggingface_model)."""
    if key.startswith('encoder.feature_projection.'):
        key = key[len('encoder.'):]
    elif key.startswith('encoder.transformer.'):
        key = 'encoder.' + key[len('encoder.transformer.'):]
    key = key.replace('pos_conv_embed.conv.weight_g', 'pos_conv_embed.conv.parametrizations.weight.original0')
    key = key.replace('pos_conv_embed.conv.weight_v', 'pos_conv_embed.conv.parametrizations.weight.original1')
    return key


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    counts = {name: sum(p.numel() for p in getattr(torchaudio.models, name)().parameters())
              for name in ['hubert_base', 'hubert_large', 'wav2vec2_base', 'wav2vec2_large']}
    for case, cfg in CASES.items():
        model = wav2vec2_model(**cfg)
        counts[case] = sum(p.numel() for p in model.parameters())
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name.endswith('weight_g'):
                    p.copy_(1 + 0.5 * torch.rand_like(p))
                elif 'layer_norm' in name and name.endswith('weight'):
                    p.copy_(1 + 0.2 * torch.randn_like(p))
                else:
                    p.add_(0.05 * torch.randn_like(p))
        model.eval()
        x = 0.3 * torch.randn(2, 3200)
        lengths = torch.tensor([3200, 2500])
        with torch.no_grad():
            features, _ = model.feature_extractor(x, None)
            projected = model.encoder.feature_projection(features)
            layers, _ = model.extract_features(x)
            out, _ = model(x)
            layers_len, out_lengths = model.extract_features(x, lengths)
            out_len, _ = model(x, lengths)
        state = model.state_dict()
        write_safetensors(os.path.join(OUT, f'{case}.torchaudio.safetensors'), state, {'format': 'pt'})
        hf = {('hubert.' + hf_name(k)): v for k, v in state.items()}
        hf['hubert.masked_spec_embed'] = torch.rand(cfg['encoder_embed_dim'])
        write_safetensors(os.path.join(OUT, f'{case}.hf.safetensors'), hf)
        r = lambda t: [round(v, 8) for v in t.reshape(-1).tolist()]
        fixture = {
            'config': {k: (list(map(list, v)) if k == 'extractor_conv_layer_config' else v) for k, v in cfg.items()},
            'params': counts[case], 'input': r(x), 'inputShape': list(x.shape),
            'features': {'shape': list(features.shape), 'data': r(features)},
            'hidden': [{'shape': list(projected.shape), 'data': r(projected)}] +
                      [{'shape': list(h.shape), 'data': r(h)} for h in layers],
            'output': {'shape': list(out.shape), 'data': r(out)},
            # With valid lengths (the second input padded after 2500 samples): padding masks in attention.
            'lengths': lengths.tolist(), 'outputLengths': out_lengths.tolist(),
            'hiddenWithLengths': [{'shape': list(h.shape), 'data': r(h)} for h in layers_len],
            'outputWithLengths': {'shape': list(out_len.shape), 'data': r(out_len)},
            'keys': list(state.keys()),
        }
        with open(os.path.join(OUT, f'{case}.json'), 'w') as f:
            json.dump(fixture, f)
    with open(os.path.join(OUT, 'counts.json'), 'w') as f:
        json.dump(counts, f, indent=1)
    print(counts)


if __name__ == '__main__':
    main()
