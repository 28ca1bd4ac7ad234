#!/usr/bin/python3
"""Reference outputs and gradients for the ops slimspeech trains with on the wasm backend.

Run with Debian's python3-torch:  /usr/bin/python3 test/reference/ops_gradients.py
Writes test/reference/fixtures/ops_gradients.json. Everything is float64 PyTorch autograd; tensors are
stored in TensorFlow.js layouts (NHWC data, conv filters [KH, KW, Cin, Cout], depthwise [KH, KW, C, M],
transposed-conv filters [KH, KW, Cout, Cin]). For every case the loss is sum(y * r) with a fixed random
r, so the stored gradients are the vector-Jacobian products with r.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20261121)
torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(__file__), 'fixtures', 'ops_gradients.json')


def T(t):
    t = t.detach().contiguous()
    return {'shape': list(t.shape), 'data': [float('%.9g' % v) for v in t.reshape(-1).tolist()]}


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def same_pads(size, k, s, d):
    """TensorFlow SAME padding: (before, after) for one spatial dimension."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def pads_for(H, W, KH, KW, s, d, pad):
    if pad == 'same':
        return same_pads(H, KH, s[0], d[0]) + same_pads(W, KW, s[1], d[1])
    if pad == 'valid':
        return (0, 0, 0, 0)
    (t, b), (l, r) = pad[1], pad[2]
    return (t, b, l, r)


def conv_case(name, x_shape, f_shape, strides, pad, dilations=1, depthwise=False):
    s, d = pair(strides), pair(dilations)
    B, H, W, C = x_shape
    KH, KW = f_shape[0], f_shape[1]
    x = torch.randn(*x_shape, requires_grad=True)
    f = torch.randn(*f_shape, requires_grad=True)
    t, b, l, r = pads_for(H, W, KH, KW, s, d, pad)
    xn = F.pad(x.permute(0, 3, 1, 2), (l, r, t, b))
    if depthwise:
        M = f_shape[3]
        w = f.permute(2, 3, 0, 1).reshape(C * M, 1, KH, KW)
        y = F.conv2d(xn, w, stride=s, dilation=d, groups=C)
    else:
        w = f.permute(3, 2, 0, 1)
        y = F.conv2d(xn, w, stride=s, dilation=d)
    y = y.permute(0, 2, 3, 1)
    rr = torch.randn(*y.shape)
    (y * rr).sum().backward()
    return {'name': name, 'op': 'depthwise' if depthwise else 'conv2d', 'strides': list(s), 'dilations': list(d),
            'pad': pad, 'x': T(x), 'filter': T(f), 'y': T(y), 'r': T(rr), 'dx': T(x.grad), 'dfilter': T(f.grad)}


def conv1d_case(name, x_shape, f_shape, stride, pad, dilation=1):
    B, L, C = x_shape
    K = f_shape[0]
    x = torch.randn(*x_shape, requires_grad=True)
    f = torch.randn(*f_shape, requires_grad=True)
    lp, rp = same_pads(L, K, stride, dilation) if pad == 'same' else (0, 0)
    y = F.conv1d(F.pad(x.permute(0, 2, 1), (lp, rp)), f.permute(2, 1, 0), stride=stride, dilation=dilation)
    y = y.permute(0, 2, 1)
    rr = torch.randn(*y.shape)
    (y * rr).sum().backward()
    return {'name': name, 'op': 'conv1d', 'stride': stride, 'dilation': dilation, 'pad': pad, 'x': T(x),
            'filter': T(f), 'y': T(y), 'r': T(rr), 'dx': T(x.grad), 'dfilter': T(f.grad)}


def transpose_case(name, x_shape, f_shape, strides, pad, out_hw):
    """tf.conv2dTranspose(x, filter [KH, KW, Cout, Cin], outputShape, strides, pad): the adjoint of
    conv2d(z, filter, strides, pad) for z of the output shape."""
    s = pair(strides)
    B, H, W, Cin = x_shape
    KH, KW, Cout, _ = f_shape
    OH, OW = out_hw
    x = torch.randn(*x_shape, requires_grad=True)
    f = torch.randn(*f_shape, requires_grad=True)
    t, b, l, r = pads_for(OH, OW, KH, KW, s, (1, 1), pad)
    full = F.conv_transpose2d(x.permute(0, 3, 1, 2), f.permute(3, 2, 0, 1), stride=s)
    y = full[:, :, t:t + OH, l:l + OW]
    if y.shape[2] < OH or y.shape[3] < OW:
        y = F.pad(y, (0, OW - y.shape[3], 0, OH - y.shape[2]))
    y = y.permute(0, 2, 3, 1)
    rr = torch.randn(*y.shape)
    (y * rr).sum().backward()
    return {'name': name, 'op': 'conv2dTranspose', 'strides': list(s), 'pad': pad, 'outputShape': [B, OH, OW, Cout],
            'x': T(x), 'filter': T(f), 'y': T(y), 'r': T(rr), 'dx': T(x.grad), 'dfilter': T(f.grad)}


def matmul_case(name, a_shape, b_shape, ta, tb):
    a = torch.randn(*a_shape, requires_grad=True)
    b = torch.randn(*b_shape, requires_grad=True)
    y = torch.matmul(a.transpose(-1, -2) if ta else a, b.transpose(-1, -2) if tb else b)
    rr = torch.randn(*y.shape)
    (y * rr).sum().backward()
    return {'name': name, 'op': 'matmul', 'transposeA': ta, 'transposeB': tb, 'a': T(a), 'b': T(b), 'y': T(y),
            'r': T(rr), 'da': T(a.grad), 'db': T(b.grad)}


def gather_case(name, table_shape, indices):
    table = torch.randn(*table_shape, requires_grad=True)
    idx = torch.tensor(indices, dtype=torch.long)
    y = table[idx]
    rr = torch.randn(*y.shape)
    (y * rr).sum().backward()
    return {'name': name, 'op': 'gather', 'table': T(table), 'indices': indices, 'y': T(y), 'r': T(rr),
            'dtable': T(table.grad)}


def binary_case(name, op, a_shape, b_shape):
    a = torch.randn(*a_shape, requires_grad=True)
    b = torch.randn(*b_shape, requires_grad=True)
    y = {'maximum': torch.maximum, 'minimum': torch.minimum, 'squaredDifference': lambda u, v: (u - v) ** 2}[op](a, b)
    rr = torch.randn(*y.shape)
    (y * rr).sum().backward()
    return {'name': name, 'op': op, 'a': T(a), 'b': T(b), 'y': T(y), 'r': T(rr), 'da': T(a.grad), 'db': T(b.grad)}


def sum_case(name, shape, axes, keep, op='sum'):
    x = torch.randn(*shape, requires_grad=True)
    y = (x.mean if op == 'mean' else x.sum)(dim=tuple(axes), keepdim=keep)
    rr = torch.randn(*y.shape)
    (y * rr).sum().backward()
    return {'name': name, 'op': op, 'axes': axes, 'keepDims': keep, 'x': T(x), 'y': T(y), 'r': T(rr), 'dx': T(x.grad)}


def concat_case(name, shapes, axis):
    xs = [torch.randn(*s, requires_grad=True) for s in shapes]
    y = torch.cat(xs, axis)
    rr = torch.randn(*y.shape)
    (y * rr).sum().backward()
    return {'name': name, 'op': 'concat', 'axis': axis, 'parts': [T(x) for x in xs], 'y': T(y), 'r': T(rr),
            'dparts': [T(x.grad) for x in xs]}


def softmax_case(name, shape):
    x = torch.randn(*shape, requires_grad=True)
    y = torch.softmax(x * 2, -1)
    rr = torch.randn(*y.shape)
    (y * rr).sum().backward()
    return {'name': name, 'op': 'softmax', 'x': T(x), 'y': T(y), 'r': T(rr), 'dx': T(x.grad)}


def pool_case(name, kind, x_shape, k, s, pad):
    x = torch.randn(*x_shape, requires_grad=True)
    xn = x.permute(0, 3, 1, 2)
    p = (k - 1) // 2 if pad == 'same' else 0
    if kind == 'max':
        y = F.max_pool2d(xn, k, s, padding=p)
    else:
        y = F.avg_pool2d(xn, k, s, padding=p, count_include_pad=False)
    y = y.permute(0, 2, 3, 1)
    rr = torch.randn(*y.shape)
    (y * rr).sum().backward()
    return {'name': name, 'op': kind + 'Pool', 'k': k, 's': s, 'pad': pad, 'x': T(x), 'y': T(y), 'r': T(rr),
            'dx': T(x.grad)}


cases = [
    conv_case('conv2d 3x3 same', [2, 7, 6, 3], [3, 3, 3, 4], 1, 'same'),
    conv_case('conv2d 3x2 stride 2 valid', [2, 9, 8, 3], [3, 2, 3, 5], 2, 'valid'),
    conv_case('conv2d stride [2,1] same', [3, 10, 7, 2], [3, 3, 2, 4], [2, 1], 'same'),
    conv_case('conv2d dilation 2 same', [2, 9, 8, 3], [3, 3, 3, 4], 1, 'same', 2),
    conv_case('conv2d dilation [1,3] valid', [2, 6, 13, 2], [2, 3, 2, 3], 1, 'valid', [1, 3]),
    conv_case('conv2d explicit pad', [2, 6, 5, 3], [3, 3, 3, 2], [2, 1], [[0, 0], [1, 2], [2, 0], [0, 0]]),
    conv_case('conv2d pointwise', [2, 5, 4, 6], [1, 1, 6, 7], 1, 'valid'),
    conv_case('conv2d wide (gemm blocking)', [4, 12, 10, 16], [3, 3, 16, 24], 1, 'same'),
    # Shapes of the CRN (3-tap frame axis: Winograd F(4,3) on wasm; frame counts not multiples of 4).
    conv_case('conv2d 3x5 stride [1,2] (CRN encoder)', [2, 13, 17, 6], [3, 5, 6, 8], [1, 2], [[0, 0], [1, 1], [2, 2], [0, 0]]),
    conv_case('conv2d 3x5 stride [1,2] from 2 channels', [2, 9, 33, 2], [3, 5, 2, 4], [1, 2], [[0, 0], [1, 1], [2, 2], [0, 0]]),
    conv_case('conv2d 3x5 wide patch rows (split chunks)', [1, 6, 9, 64], [3, 5, 64, 8], [1, 2], [[0, 0], [1, 1], [2, 2], [0, 0]]),
    conv_case('conv2d 3x3 valid, 10 frames', [2, 10, 6, 5], [3, 3, 5, 9], 1, 'valid'),
    conv1d_case('conv1d k5 stride 2 valid', [2, 31, 3], [5, 3, 6], 2, 'valid'),
    conv1d_case('conv1d k3 dilation 4 same', [2, 40, 4], [3, 4, 5], 1, 'same', 4),
    conv1d_case('conv1d k16 stride 8 (encoder)', [2, 200, 1], [16, 1, 12], 8, 'valid'),
    conv_case('depthwise 3x3 same', [2, 8, 9, 4], [3, 3, 4, 1], 1, 'same', depthwise=True),
    conv_case('depthwise multiplier 2 stride 2', [2, 9, 8, 3], [3, 3, 3, 2], 2, 'valid', depthwise=True),
    conv_case('depthwise dilation 2 same', [2, 9, 10, 5], [3, 3, 5, 1], 1, 'same', 2, depthwise=True),
    conv_case('depthwise 3x3 stride 2 same, 8 channels', [2, 9, 8, 8], [3, 3, 8, 1], 2, 'same', depthwise=True),
    conv_case('depthwise 1-D dilation 4, 8 channels', [2, 1, 40, 8], [1, 3, 8, 1], 1, 'same', [1, 4], depthwise=True),
    conv_case('depthwise 1-D dilation 8 (TCN)', [2, 1, 50, 6], [1, 3, 6, 1], 1, 'same', [1, 8], depthwise=True),
    transpose_case('conv2dTranspose stride 2 same', [2, 5, 4, 3], [3, 3, 2, 3], 2, 'same', [10, 8]),
    transpose_case('conv2dTranspose stride 2 valid', [2, 5, 4, 3], [3, 3, 2, 3], 2, 'valid', [11, 9]),
    transpose_case('conv2dTranspose [3,5] stride [1,2] (CRN decoder)', [2, 11, 9, 8], [3, 5, 4, 8], [1, 2],
                   [[0, 0], [1, 1], [2, 2], [0, 0]], [11, 17]),
    transpose_case('conv2dTranspose 1-D decoder', [2, 1, 24, 6], [1, 16, 1, 6], [1, 8], 'valid', [1, 200]),
    matmul_case('matmul', [3, 5], [5, 4], False, False),
    matmul_case('matmul transposeA', [5, 3], [5, 4], True, False),
    matmul_case('matmul transposeB', [3, 5], [4, 5], False, True),
    matmul_case('matmul both transposed', [5, 3], [4, 5], True, True),
    matmul_case('matmul large edges', [37, 300], [300, 29], False, False),
    matmul_case('batched matmul', [2, 3, 7, 5], [2, 3, 5, 6], False, False),
    matmul_case('batched matmul transposeB (attention)', [6, 9, 4], [6, 9, 4], False, True),
    matmul_case('broadcast batch matmul', [4, 7, 5], [5, 3], False, False),
    gather_case('gather with repeats', [10, 6], [3, 1, 3, 9, 0, 3, 7]),
    binary_case('maximum with a broadcast floor', 'maximum', [1, 5, 3], [1, 1, 1]),
    binary_case('minimum broadcast both ways', 'minimum', [4, 1, 3], [1, 2, 3]),
    binary_case('squaredDifference broadcast', 'squaredDifference', [2, 3, 4], [4]),
    sum_case('sum over leading axes (bias gradient)', [3, 40, 6], [0, 1], False),
    sum_case('mean over time and frequency (global pooling)', [3, 7, 5, 8], [1, 2], False, 'mean'),
    sum_case('sum over middle axes keepDims', [2, 4, 6, 3], [1, 2], True),
    sum_case('sum over axis 0 keepDims', [7, 5], [0], True),
    sum_case('sum over a middle axis', [3, 4, 5], [1], False),
    concat_case('concat on channels (skip connection)', [[2, 5, 3, 4], [2, 5, 3, 6]], 3),
    concat_case('concat of three on the last axis', [[3, 2], [3, 5], [3, 1]], 1),
    concat_case('concat on a leading axis', [[2, 3, 4], [1, 3, 4]], 0),
    softmax_case('softmax over the last axis (attention)', [3, 4, 7, 9]),
    pool_case('maxPool 2x2 stride 2', 'max', [2, 8, 6, 3], 2, 2, 'valid'),
    pool_case('avgPool 3x3 stride 1 same', 'avg', [2, 7, 6, 3], 3, 1, 'same'),
    pool_case('avgPool 2x2 stride 2', 'avg', [2, 8, 6, 3], 2, 2, 'valid'),
]

with open(OUT, 'w') as fh:
    json.dump({'generator': 'test/reference/ops_gradients.py', 'torch': torch.__version__, 'cases': cases}, fh)
print(f'wrote {OUT}: {len(cases)} cases')
