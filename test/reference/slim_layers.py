#!/usr/bin/python3
"""Reference outputs and gradients of slimspeech's slimmable layers at a non-trivial width, from PyTorch.

Run with Debian's python3-torch:  /usr/bin/python3 test/reference/slim_layers.py
Writes test/reference/fixtures/slim_layers.json.

The rule is the one of the slimmable-networks reference code (Yu et al., models/slimmable_ops.py): at
width w a layer uses the first c(w) = max(1, round_half_up(w * c)) output and input channels of its one
full-size weight (`weight[:out, :in]`), switchable batch norm uses the parameters and statistics of that
width's own torch BatchNorm, layer norm normalises over the active features with the sliced affine
parameters, attention keeps the first round(w * heads) heads of a fixed head width and the first c(w)
model features. Here the sliced weights are fed to the plain torch functions / modules (F.linear,
F.conv1d/2d, F.batch_norm, F.layer_norm, nn.MultiheadAttention, nn.TransformerEncoderLayer through
functional_call) in float64; gradients of sum(y * r) are taken with respect to the input and the FULL
parameters, so entries outside the active slice have gradient zero. Each case stores the full state in
slimspeech's names and layouts (channels last, Linear weights [in, out]).
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.stateless import functional_call

torch.manual_seed(4321)
torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(__file__), 'fixtures', 'slim_layers.json')


def T(t):
    t = t.detach().contiguous()
    return {'shape': list(t.shape), 'data': [float('%.9g' % v) for v in t.reshape(-1).tolist()]}


def ch(c, w):
    return min(c, max(1, math.floor(w * c + 0.5 + 1e-9)))


def lin(w):  # torch [out, in] -> slimspeech [in, out]
    return w.t()


def conv_w(w, depthwise, cin):  # [Cout, Cin/g, (KH,) KW] -> [(KH,) KW, Cin/g, Cout] or depthwise [.., Cin, M]
    if w.dim() == 3:
        if depthwise:
            cout, _, k = w.shape
            return w.reshape(cin, cout // cin, k).permute(2, 0, 1)
        return w.permute(2, 1, 0)
    if depthwise:
        cout, _, kh, kw = w.shape
        return w.reshape(cin, cout // cin, kh, kw).permute(2, 3, 0, 1)
    return w.permute(2, 3, 1, 0)


def leaf(*shape, scale=0.5):
    return (torch.randn(*shape) * scale).requires_grad_(True)


cases = []


def finish(name, type_, config, width, train, x, y, params, conv, extra=None):
    """params: {slimspeech name: full torch leaf}; conv: {name: converter to slimspeech layout}."""
    r = torch.randn(*y.shape)
    (y * r).sum().backward()
    c = {'name': name, 'type': type_, 'config': config, 'width': width, 'train': train,
         'state': {n: T(conv[n](p)) for n, p in params.items()},
         'x': T(x), 'y': T(y), 'r': T(r), 'dx': T(x.grad),
         'dparams': {n: T(conv[n](p.grad if p.grad is not None else torch.zeros_like(p)))
                     for n, p in params.items() if p.requires_grad}}
    if extra:
        c.update(extra)
    cases.append(c)


ident = lambda t: t  # noqa: E731


def linear_case(name, cin, cout, width, x_lead, bias=True, slim_in=True, slim_out=True):
    W = leaf(cout, cin)
    b = leaf(cout) if bias else None
    a = ch(cin, width) if slim_in else cin
    o = ch(cout, width) if slim_out else cout
    x = torch.randn(*x_lead, a, requires_grad=True)
    y = F.linear(x, W[:o, :a], b[:o] if bias else None)
    params = {'weight': W, **({'bias': b} if bias else {})}
    finish(name, 'SlimLinear', {'inFeatures': cin, 'outFeatures': cout, 'bias': bias, 'slimIn': slim_in, 'slimOut': slim_out},
           width, True, x, y, params, {'weight': lin, 'bias': ident})


linear_case('SlimLinear w0.6 rank 3', 10, 12, 0.6, [3, 4])
linear_case('SlimLinear fixed input (first layer) w0.5', 5, 8, 0.5, [3], slim_in=False)
linear_case('SlimLinear fixed output (head) w0.25, no bias', 8, 3, 0.25, [4], bias=False, slim_out=False)


def conv_case(name, dims, cin, cout, k, width, spatial, stride=1, padding=0, dilation=1, depthwise=False, bias=True,
              slim_in=True):
    ks = [k] * dims if isinstance(k, int) else k
    groups = cin if depthwise else 1
    W = leaf(cout, cin // groups, *ks)
    b = leaf(cout) if bias else None
    a = ch(cin, width) if slim_in else cin
    o = a * (cout // cin) if depthwise else ch(cout, width)
    x_cl = torch.randn(2, *spatial, a, requires_grad=True)               # channels last
    x_cf = x_cl.permute(0, dims + 1, *range(1, dims + 1))                # channels first
    f = F.conv1d if dims == 1 else F.conv2d
    y_cf = f(x_cf, W[:o, :a if not depthwise else 1], b[:o] if bias else None, stride=stride, padding=padding,
             dilation=dilation, groups=a if depthwise else 1)
    y = y_cf.permute(0, *range(2, dims + 2), 1)
    cfg = {'inChannels': cin, 'outChannels': cout, 'kernelSize': k, 'stride': stride, 'padding': padding,
           'dilation': dilation, 'groups': groups, 'bias': bias, 'slimIn': slim_in}
    params = {'weight': W, **({'bias': b} if bias else {})}
    finish(name, 'SlimConv1d' if dims == 1 else 'SlimConv2d', cfg, width, True, x_cl, y, params,
           {'weight': lambda w: conv_w(w, depthwise, cin), 'bias': ident})


conv_case('SlimConv1d dense k3 pad 1 w0.5', 1, 6, 8, 3, 0.5, [9], padding=1)
conv_case('SlimConv2d dense k3 stride 2 pad 1 w0.75', 2, 4, 8, 3, 0.75, [7, 6], stride=[2, 2], padding=[1, 1])
conv_case('SlimConv2d depthwise M2 k3 pad 1 w0.5', 2, 6, 12, 3, 0.5, [5, 6], padding=[1, 1], depthwise=True)
conv_case('SlimConv1d depthwise k5 dilation 2 w0.75', 1, 8, 8, 5, 0.75, [12], padding=4, dilation=2, depthwise=True)
conv_case('SlimConv2d first layer (fixed input) k[3,2] stride [2,1] w0.5, no bias', 2, 1, 6, [3, 2], 0.5, [7, 5],
          stride=[2, 1], bias=False, slim_in=False)

# Switchable batch norm: widths [0.5, 1] of 6 channels; width 0.5 runs the first set (3 channels) in training.
c_full, widths, width = 6, [0.5, 1.0], 0.5
sets = []
for w in widths:
    n = ch(c_full, w)
    sets.append({'weight': leaf(n, scale=1) , 'bias': leaf(n), 'runningMean': torch.randn(n) * 0.3,
                 'runningVar': torch.rand(n) + 0.5})
with torch.no_grad():
    for s in sets:
        s['weight'] += 1
x = (torch.randn(4, 3, 5, ch(c_full, width)) * 2 + 1).requires_grad_(True)
s0 = sets[0]
rm, rv = s0['runningMean'].clone(), s0['runningVar'].clone()
buffers_before = {f'bn.{i}.{k}': T(s[k]) for i, s in enumerate(sets) for k in ('runningMean', 'runningVar')}
y = F.batch_norm(x.permute(0, 3, 1, 2), rm, rv, s0['weight'], s0['bias'], training=True, momentum=0.1, eps=1e-5).permute(0, 2, 3, 1)
after = {f'bn.{i}.{k}': T(s[k]) for i, s in enumerate(sets) for k in ('runningMean', 'runningVar')}
after['bn.0.runningMean'], after['bn.0.runningVar'] = T(rm), T(rv)
with torch.no_grad():
    y_eval = F.batch_norm(x.permute(0, 3, 1, 2), rm, rv, s0['weight'], s0['bias'], training=False, eps=1e-5).permute(0, 2, 3, 1)
params = {f'bn.{i}.{k}': s[k] for i, s in enumerate(sets) for k in ('weight', 'bias')}
finish('SwitchableBatchNorm training at width 0.5 of [0.5, 1]', 'SwitchableBatchNorm',
       {'numFeatures': c_full, 'widths': widths}, width, True, x, y, params, {k: ident for k in params},
       {'buffers': buffers_before, 'buffersAfter': after, 'yEval': T(y_eval)})
cases[-1]['state'].update(buffers_before)

# Slimmable layer norm.
Wn, bn_ = leaf(8, scale=1), leaf(8)
a = ch(8, 0.75)
x = torch.randn(2, 3, a, requires_grad=True)
y = F.layer_norm(x, (a,), Wn[:a] + 0, bn_[:a], eps=1e-5)
finish('SlimLayerNorm w0.75', 'SlimLayerNorm', {'normalizedShape': 8}, 0.75, True, x, y, {'weight': Wn, 'bias': bn_},
       {'weight': ident, 'bias': ident})


def attn_params(E, H, d):
    inner = H * d
    return {'qProj.weight': leaf(inner, E), 'qProj.bias': leaf(inner), 'kProj.weight': leaf(inner, E), 'kProj.bias': leaf(inner),
            'vProj.weight': leaf(inner, E), 'vProj.bias': leaf(inner), 'outProj.weight': leaf(E, inner), 'outProj.bias': leaf(E)}


def sliced_mha(p, prefix, Ea, Ha, d):
    i = Ha * d
    return {f'{prefix}in_proj_weight': torch.cat([p['qProj.weight'][:i, :Ea], p['kProj.weight'][:i, :Ea], p['vProj.weight'][:i, :Ea]]),
            f'{prefix}in_proj_bias': torch.cat([p['qProj.bias'][:i], p['kProj.bias'][:i], p['vProj.bias'][:i]]),
            f'{prefix}out_proj.weight': p['outProj.weight'][:Ea, :i], f'{prefix}out_proj.bias': p['outProj.bias'][:Ea]}


def layout(name):
    return lin if name.endswith('weight') and ('Proj' in name or 'linear' in name) else ident


# Slimmable multi-head attention: E 16, 4 heads of 4; width 0.5 keeps 8 features and 2 heads.
E, H, d, w = 16, 4, 4, 0.5
Ea, Ha = ch(E, w), ch(H, w)
p = attn_params(E, H, d)
mha = nn.MultiheadAttention(Ea, Ha, batch_first=True)
mha.train()
x = torch.randn(2, 5, Ea, requires_grad=True)
y = functional_call(mha, sliced_mha(p, '', Ea, Ha, d), (x, x, x), {'need_weights': False})[0]
finish('SlimMultiHeadAttention w0.5', 'SlimMultiHeadAttention', {'embedDim': E, 'numHeads': H, 'headDim': d}, w, True, x, y,
       p, {k: layout(k) for k in p})


def encoder_case(name, E, H, d, Fd, w, norm_first, act):
    Ea, Ha, Fa = ch(E, w), ch(H, w), ch(Fd, w)
    p = {f'selfAttn.{k}': v for k, v in attn_params(E, H, d).items()}
    p.update({'linear1.weight': leaf(Fd, E), 'linear1.bias': leaf(Fd), 'linear2.weight': leaf(E, Fd), 'linear2.bias': leaf(E),
              'norm1.weight': leaf(E, scale=1), 'norm1.bias': leaf(E), 'norm2.weight': leaf(E, scale=1), 'norm2.bias': leaf(E)})
    layer = nn.TransformerEncoderLayer(Ea, Ha, Fa, dropout=0.0, activation=act, batch_first=True, norm_first=norm_first)
    layer.train()
    attn = sliced_mha({k[len('selfAttn.'):]: v for k, v in p.items() if k.startswith('selfAttn.')}, 'self_attn.', Ea, Ha, d)
    sl = {**attn, 'linear1.weight': p['linear1.weight'][:Fa, :Ea], 'linear1.bias': p['linear1.bias'][:Fa],
          'linear2.weight': p['linear2.weight'][:Ea, :Fa], 'linear2.bias': p['linear2.bias'][:Ea],
          'norm1.weight': p['norm1.weight'][:Ea], 'norm1.bias': p['norm1.bias'][:Ea],
          'norm2.weight': p['norm2.weight'][:Ea], 'norm2.bias': p['norm2.bias'][:Ea]}
    x = torch.randn(2, 5, Ea, requires_grad=True)
    y = functional_call(layer, sl, (x,))
    cfg = {'dModel': E, 'nHead': H, 'headDim': d, 'dimFeedforward': Fd, 'dropout': 0, 'activation': act, 'normFirst': norm_first}
    finish(name, 'SlimTransformerEncoderLayer', cfg, w, True, x, y, p, {k: layout(k) for k in p})


encoder_case('SlimTransformerEncoderLayer pre-norm gelu w0.5', 16, 4, 4, 24, 0.5, True, 'gelu')
encoder_case('SlimTransformerEncoderLayer post-norm relu w0.75', 16, 4, 4, 20, 0.75, False, 'relu')

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, 'w') as f:
    json.dump({'generator': 'test/reference/slim_layers.py', 'torch': torch.__version__, 'cases': cases}, f)
print(f'wrote {OUT}: {len(cases)} cases')
