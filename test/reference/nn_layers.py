#!/usr/bin/python3
"""Reference outputs and gradients of slimspeech's layers, from the equivalent torch.nn modules.

Run with Debian's python3-torch:  /usr/bin/python3 test/reference/nn_layers.py
Writes test/reference/fixtures/nn_layers.json. Each case holds: the slimspeech layer type and config,
its state dict in slimspeech's names and layouts (converted from the torch module's parameters), an
input (channels last), a fixed random r, the output y, and the gradients of sum(y * r) with respect to
the input and every parameter (float64 autograd). Buffers after the forward pass are stored for layers
that update them (batch norm running statistics), with the evaluation-mode output that follows.
"""
import json
import os

import torch
import torch.nn as nn

torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(__file__), 'fixtures', 'nn_layers.json')


def T(t):
    t = t.detach().contiguous()
    return {'shape': list(t.shape), 'data': [float('%.9g' % v) for v in t.reshape(-1).tolist()]}


# Converters from torch parameter layout to slimspeech layout (see lib/nn).
def lin(w):            # [out, in] -> [in, out]
    return w.t()


def conv1d_w(w, groups, cin):   # [Cout, Cin/g, K] -> [K, Cin/g, Cout] or depthwise [K, Cin, M]
    if groups > 1 and groups == cin:
        cout, _, k = w.shape
        return w.reshape(cin, cout // cin, k).permute(2, 0, 1)
    return w.permute(2, 1, 0)


def conv2d_w(w, groups, cin):   # [Cout, Cin/g, KH, KW] -> [KH, KW, Cin/g, Cout] or depthwise [KH, KW, Cin, M]
    if groups > 1 and groups == cin:
        cout, _, kh, kw = w.shape
        return w.reshape(cin, cout // cin, kh, kw).permute(2, 3, 0, 1)
    return w.permute(2, 3, 1, 0)


def to_nchw(x):
    return x.permute(0, 3, 1, 2)


def to_nhwc(x):
    return x.permute(0, 2, 3, 1)


def case(name, type_, config, module, x_shape, run, params, buffers=None, train=True, eval_after=False):
    """params: list of (slimspeech name, torch parameter, converter)."""
    module.train(train)
    x = torch.randn(*x_shape, requires_grad=True)
    state = {n: T(conv(p)) for n, p, conv in params}
    if buffers:
        state.update({n: T(conv(b)) for n, b, conv in buffers(module)})
    y = run(module, x)
    r = torch.randn(*y.shape)
    (y * r).sum().backward()
    out = {'name': name, 'type': type_, 'config': config, 'train': train, 'state': state, 'x': T(x), 'y': T(y),
           'numParams': sum(p.numel() for p in module.parameters()),
           'r': T(r), 'dx': T(x.grad), 'dparams': {n: T(conv(p.grad)) for n, p, conv in params}}
    if buffers:
        out['buffersAfter'] = {n: T(conv(b)) for n, b, conv in buffers(module)}
    if eval_after:
        module.eval()
        with torch.no_grad():
            out['yEval'] = T(run(module, x))
    return out


ident = lambda t: t  # noqa: E731
cases = []

m = nn.Linear(5, 7)
cases.append(case('Linear rank 3', 'Linear', {'inFeatures': 5, 'outFeatures': 7}, m, [3, 4, 5],
                  lambda m, x: m(x), [('weight', m.weight, lin), ('bias', m.bias, ident)]))


def conv1d_case(name, cin, cout, k, stride=1, padding=0, dilation=1, groups=1, L=23):
    m = nn.Conv1d(cin, cout, k, stride=stride, padding=padding, dilation=dilation, groups=groups)
    cfg = {'inChannels': cin, 'outChannels': cout, 'kernelSize': k, 'stride': stride, 'padding': padding,
           'dilation': dilation, 'groups': groups}
    return case(name, 'Conv1d', cfg, m, [2, L, cin], lambda m, x: m(x.permute(0, 2, 1)).permute(0, 2, 1),
                [('weight', m.weight, lambda w: conv1d_w(w, groups, cin)), ('bias', m.bias, ident)])


cases.append(conv1d_case('Conv1d k5 stride 2 pad 2', 3, 6, 5, stride=2, padding=2))
cases.append(conv1d_case('Conv1d depthwise dilation 2', 4, 8, 3, padding=2, dilation=2, groups=4))
cases.append(conv1d_case('Conv1d grouped', 4, 6, 3, padding=1, groups=2))


def conv2d_case(name, cin, cout, k, stride=1, padding=0, dilation=1, groups=1, hw=(9, 8)):
    m = nn.Conv2d(cin, cout, k, stride=stride, padding=padding, dilation=dilation, groups=groups)
    cfg = {'inChannels': cin, 'outChannels': cout, 'kernelSize': k, 'stride': stride, 'padding': padding,
           'dilation': dilation, 'groups': groups}
    return case(name, 'Conv2d', cfg, m, [2, hw[0], hw[1], cin], lambda m, x: to_nhwc(m(to_nchw(x))),
                [('weight', m.weight, lambda w: conv2d_w(w, groups, cin)), ('bias', m.bias, ident)])


cases.append(conv2d_case('Conv2d 3x3 stride [2,1] pad 1', 2, 5, [3, 3], stride=[2, 1], padding=[1, 1]))
cases.append(conv2d_case('Conv2d dilation 2 pad 2', 3, 4, 3, padding=2, dilation=2))
cases.append(conv2d_case('Conv2d depthwise 3x3', 4, 4, 3, padding=1, groups=4))
cases.append(conv2d_case('Conv2d 1x1', 6, 3, 1))


def convT_case(name, dims, cin, cout, k, stride=1, padding=0, output_padding=0, size=(5, 4)):
    if dims == 1:
        m = nn.ConvTranspose1d(cin, cout, k, stride=stride, padding=padding, output_padding=output_padding)
        run = lambda m, x: m(x.permute(0, 2, 1)).permute(0, 2, 1)  # noqa: E731
        conv = lambda w: w.permute(2, 1, 0)  # noqa: E731
        shape = [2, size[0], cin]
        type_ = 'ConvTranspose1d'
    else:
        m = nn.ConvTranspose2d(cin, cout, k, stride=stride, padding=padding, output_padding=output_padding)
        run = lambda m, x: to_nhwc(m(to_nchw(x)))  # noqa: E731
        conv = lambda w: w.permute(2, 3, 1, 0)  # noqa: E731
        shape = [2, size[0], size[1], cin]
        type_ = 'ConvTranspose2d'
    cfg = {'inChannels': cin, 'outChannels': cout, 'kernelSize': k, 'stride': stride, 'padding': padding,
           'outputPadding': output_padding}
    return case(name, type_, cfg, m, shape, run, [('weight', m.weight, conv), ('bias', m.bias, ident)])


cases.append(convT_case('ConvTranspose1d k4 stride 2 pad 1', 1, 4, 3, 4, stride=2, padding=1, size=(9,)))
cases.append(convT_case('ConvTranspose2d stride 2 pad 1 outpad 1', 2, 3, 2, [3, 3], stride=[2, 2], padding=[1, 1],
                        output_padding=[1, 1]))
cases.append(convT_case('ConvTranspose1d output padding beyond padding', 1, 3, 2, 3, stride=2, padding=0, output_padding=1, size=(6,)))
cases.append(convT_case('ConvTranspose2d (2,3) stride (1,2) pad (0,1)', 2, 3, 4, [2, 3], stride=[1, 2],
                        padding=[0, 1]))


def bn_buffers(m):
    return [('runningMean', m.running_mean, ident), ('runningVar', m.running_var, ident)]


m = nn.BatchNorm2d(6)
with torch.no_grad():
    m.weight.uniform_(0.5, 1.5)
    m.bias.uniform_(-0.5, 0.5)
    m.running_mean.uniform_(-0.2, 0.2)
    m.running_var.uniform_(0.8, 1.2)
cases.append(case('BatchNorm 4-D training', 'BatchNorm', {'numFeatures': 6}, m, [4, 5, 3, 6],
                  lambda m, x: to_nhwc(m(to_nchw(x))), [('weight', m.weight, ident), ('bias', m.bias, ident)],
                  buffers=bn_buffers, eval_after=True))
m = nn.BatchNorm1d(5, momentum=0.3, eps=1e-3)
cases.append(case('BatchNorm 3-D training momentum 0.3', 'BatchNorm', {'numFeatures': 5, 'momentum': 0.3, 'eps': 1e-3},
                  m, [3, 7, 5], lambda m, x: m(x.permute(0, 2, 1)).permute(0, 2, 1),
                  [('weight', m.weight, ident), ('bias', m.bias, ident)], buffers=bn_buffers, eval_after=True))
m = nn.BatchNorm2d(4)
with torch.no_grad():
    m.running_mean.uniform_(-0.5, 0.5)
    m.running_var.uniform_(0.5, 2.0)
    m.weight.uniform_(0.5, 1.5)
cases.append(case('BatchNorm eval', 'BatchNorm', {'numFeatures': 4}, m, [2, 3, 3, 4], lambda m, x: to_nhwc(m(to_nchw(x))),
                  [('weight', m.weight, ident), ('bias', m.bias, ident)], buffers=bn_buffers, train=False))

m = nn.LayerNorm(8)
with torch.no_grad():
    m.weight.uniform_(0.5, 1.5)
    m.bias.uniform_(-0.5, 0.5)
cases.append(case('LayerNorm', 'LayerNorm', {'normalizedShape': 8}, m, [2, 5, 8], lambda m, x: m(x),
                  [('weight', m.weight, ident), ('bias', m.bias, ident)]))


m = nn.GroupNorm(1, 6, eps=1e-8)
with torch.no_grad():
    m.weight.uniform_(0.5, 1.5)
    m.bias.uniform_(-0.5, 0.5)
cases.append(case('GlobalLayerNorm (GroupNorm(1, C))', 'GlobalLayerNorm', {'numChannels': 6}, m, [3, 9, 6],
                  lambda m, x: m(x.permute(0, 2, 1)).permute(0, 2, 1), [('weight', m.weight, ident), ('bias', m.bias, ident)]))
m = nn.PReLU()
cases.append(case('PReLU shared', 'PReLU', {}, m, [3, 5, 4], lambda m, x: m(x), [('weight', m.weight, ident)]))


def rnn_params(m, layers, bidirectional):
    out = []
    for l in range(layers):
        for suffix, ours in [('', f'l{l}'), ('_reverse', f'l{l}_reverse')]:
            if suffix and not bidirectional:
                continue
            out += [(f'{ours}.weightIh', getattr(m, f'weight_ih_l{l}{suffix}'), lin),
                    (f'{ours}.weightHh', getattr(m, f'weight_hh_l{l}{suffix}'), lin),
                    (f'{ours}.biasIh', getattr(m, f'bias_ih_l{l}{suffix}'), ident),
                    (f'{ours}.biasHh', getattr(m, f'bias_hh_l{l}{suffix}'), ident)]
    return out


for kind, cls in [('LSTM', nn.LSTM), ('GRU', nn.GRU)]:
    m = cls(6, 5, batch_first=True)
    cases.append(case(f'{kind}', kind, {'inputSize': 6, 'hiddenSize': 5}, m, [3, 7, 6], lambda m, x: m(x)[0],
                      rnn_params(m, 1, False)))
    m = cls(4, 3, num_layers=2, bidirectional=True, batch_first=True)
    cases.append(case(f'{kind} 2 layers bidirectional', kind,
                      {'inputSize': 4, 'hiddenSize': 3, 'numLayers': 2, 'bidirectional': True}, m, [2, 6, 4],
                      lambda m, x: m(x)[0], rnn_params(m, 2, True)))


m = nn.LSTM(5, 4, batch_first=True)
c = case('LSTM final state (h_n, c_n)', 'LSTM', {'inputSize': 5, 'hiddenSize': 4}, m, [3, 6, 5],
         lambda m, x: torch.cat([m(x)[1][0][-1], m(x)[1][1][-1]], -1), rnn_params(m, 1, False))
c['finalState'] = True
cases.append(c)


def mha_params(m, prefix=''):
    E = m.embed_dim
    W, b = m.in_proj_weight, m.in_proj_bias
    return [(f'{prefix}qProj.weight', W, lambda w: w[:E].t()), (f'{prefix}qProj.bias', b, lambda v: v[:E]),
            (f'{prefix}kProj.weight', W, lambda w: w[E:2 * E].t()), (f'{prefix}kProj.bias', b, lambda v: v[E:2 * E]),
            (f'{prefix}vProj.weight', W, lambda w: w[2 * E:].t()), (f'{prefix}vProj.bias', b, lambda v: v[2 * E:]),
            (f'{prefix}outProj.weight', m.out_proj.weight, lin), (f'{prefix}outProj.bias', m.out_proj.bias, ident)]



m = nn.MultiheadAttention(12, 3, batch_first=True)
with torch.no_grad():
    m.in_proj_bias.uniform_(-0.3, 0.3)
    m.out_proj.bias.uniform_(-0.3, 0.3)
cases.append(case('MultiHeadAttention self', 'MultiHeadAttention', {'embedDim': 12, 'numHeads': 3}, m, [2, 5, 12],
                  lambda m, x: m(x, x, x, need_weights=False)[0], mha_params(m)))
mask = torch.tensor([[False, False, False, True, True], [False, False, False, False, False]])
m = nn.MultiheadAttention(8, 2, batch_first=True)
c = case('MultiHeadAttention key padding mask', 'MultiHeadAttention', {'embedDim': 8, 'numHeads': 2}, m, [2, 5, 8],
         lambda m, x: m(x, x, x, key_padding_mask=mask, need_weights=False)[0], mha_params(m))
c['keyPaddingMask'] = T(mask.double())
cases.append(c)


def tel_params(m):
    return mha_params(m.self_attn, 'selfAttn.') + [
        ('linear1.weight', m.linear1.weight, lin), ('linear1.bias', m.linear1.bias, ident),
        ('linear2.weight', m.linear2.weight, lin), ('linear2.bias', m.linear2.bias, ident),
        ('norm1.weight', m.norm1.weight, ident), ('norm1.bias', m.norm1.bias, ident),
        ('norm2.weight', m.norm2.weight, ident), ('norm2.bias', m.norm2.bias, ident)]


m = nn.TransformerEncoderLayer(12, 3, dim_feedforward=20, dropout=0.0, batch_first=True)
cases.append(case('TransformerEncoderLayer post-norm relu', 'TransformerEncoderLayer',
                  {'dModel': 12, 'nHead': 3, 'dimFeedforward': 20, 'dropout': 0}, m, [2, 6, 12], lambda m, x: m(x),
                  tel_params(m)))
m = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, activation='gelu', norm_first=True,
                               batch_first=True)
cases.append(case('TransformerEncoderLayer pre-norm gelu', 'TransformerEncoderLayer',
                  {'dModel': 8, 'nHead': 2, 'dimFeedforward': 16, 'dropout': 0, 'activation': 'gelu', 'normFirst': True},
                  m, [3, 4, 8], lambda m, x: m(x), tel_params(m)))

m = nn.PReLU(4)
with torch.no_grad():
    m.weight.uniform_(0.1, 0.4)
cases.append(case('PReLU per channel', 'PReLU', {'numParameters': 4}, m, [3, 5, 4],
                  lambda m, x: m(x.permute(0, 2, 1)).permute(0, 2, 1), [('weight', m.weight, ident)]))
for fn, mod in [('gelu', nn.GELU()), ('silu', nn.SiLU()), ('elu', nn.ELU()), ('leakyRelu', nn.LeakyReLU())]:
    cases.append(case(f'Activation {fn}', 'Activation', {'fn': fn}, mod, [4, 6], lambda m, x: m(x), []))

with open(OUT, 'w') as fh:
    json.dump({'generator': 'test/reference/nn_layers.py', 'torch': torch.__version__, 'cases': cases}, fh)
print(f'wrote {OUT}: {len(cases)} cases')
