#!/usr/bin/python3
"""PyTorch side of the training-speed benchmark: the reference architectures defined exactly as in
slimspeech (same layers, shapes and parameter counts; channels-first where PyTorch is), timed for Adam
training steps and batch-1 inference on one CPU thread.

Run by bench/run.ts with Debian's python3-torch; by hand:
  /usr/bin/python3 bench/torch_bench.py --model conv-tasnet --batch 4 --length 8000 --steps 10 --warmup 3
Prints one JSON line: {model, params, msPerStep, inferMs, peakRssMb, steps}.
"""
import argparse
import json
import math
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---- Conv-TasNet (lib/models/conv_tasnet.ts) -------------------------------------------------------
class TcnBlock(nn.Module):
    def __init__(self, B, H, S, P, d):
        super().__init__()
        self.inConv = nn.Conv1d(B, H, 1)
        self.act1 = nn.PReLU()
        self.norm1 = nn.GroupNorm(1, H, eps=1e-8)
        self.dconv = nn.Conv1d(H, H, P, dilation=d, padding=d * (P - 1) // 2, groups=H)
        self.act2 = nn.PReLU()
        self.norm2 = nn.GroupNorm(1, H, eps=1e-8)
        self.resConv = nn.Conv1d(H, B, 1)
        self.skipConv = nn.Conv1d(H, S, 1)

    def forward(self, x):
        h = self.norm1(self.act1(self.inConv(x)))
        h = self.norm2(self.act2(self.dconv(h)))
        return x + self.resConv(h), self.skipConv(h)


class ConvTasNet(nn.Module):
    def __init__(self, S=2, N=64, L=16, B=64, H=128, Sc=64, P=3, X=4, R=2):
        super().__init__()
        self.S, self.N, self.L = S, N, L
        self.encoder = nn.Conv1d(1, N, L, stride=L // 2, bias=False)
        self.inNorm = nn.GroupNorm(1, N, eps=1e-8)
        self.bottleneckConv = nn.Conv1d(N, B, 1)
        self.blocks = nn.ModuleList([TcnBlock(B, H, Sc, P, 2 ** x) for _ in range(R) for x in range(X)])
        self.maskAct = nn.PReLU()
        self.maskConv = nn.Conv1d(Sc, S * N, 1)
        self.decoder = nn.ConvTranspose1d(N, 1, L, stride=L // 2, bias=False)

    def forward(self, mix):
        Bt, T = mix.shape
        stride = self.L // 2
        frames = max(1, math.ceil((T - self.L) / stride)) + 1
        padded = (frames - 1) * stride + self.L
        x = F.pad(mix, (0, padded - T)).unsqueeze(1)
        w = F.relu(self.encoder(x))
        y = self.bottleneckConv(self.inNorm(w))
        skip = 0
        for blk in self.blocks:
            y, s = blk(y)
            skip = skip + s
        m = torch.sigmoid(self.maskConv(self.maskAct(skip))).view(Bt, self.S, self.N, frames)
        masked = (w.unsqueeze(1) * m).reshape(Bt * self.S, self.N, frames)
        return self.decoder(masked)[:, 0, :T].reshape(Bt, self.S, T)


# ---- DPRNN (lib/models/dprnn.ts; asteroid's DPRNNTasNet layout, written here in plain torch) ----------------
class DprnnBlock(nn.Module):
    """Intra-chunk BiLSTM + linear + gLN + residual, then inter-chunk (Bi)LSTM + linear + gLN + residual on [B, C, K, n]."""

    def __init__(self, C, H, bidirectional):
        super().__init__()
        self.intra = nn.LSTM(C, H, batch_first=True, bidirectional=True)
        self.intra_linear = nn.Linear(2 * H, C)
        self.intra_norm = nn.GroupNorm(1, C, eps=1e-8)
        self.inter = nn.LSTM(C, H, batch_first=True, bidirectional=bidirectional)
        self.inter_linear = nn.Linear((2 if bidirectional else 1) * H, C)
        self.inter_norm = nn.GroupNorm(1, C, eps=1e-8)

    def forward(self, x):
        B, C, K, n = x.shape
        h = self.intra_linear(self.intra(x.permute(0, 3, 2, 1).reshape(B * n, K, C))[0])
        x = x + self.intra_norm(h.reshape(B, n, K, C).permute(0, 3, 2, 1))
        h = self.inter_linear(self.inter(x.permute(0, 2, 3, 1).reshape(B * K, n, C))[0])
        return x + self.inter_norm(h.reshape(B, K, n, C).permute(0, 3, 1, 2))


class Dprnn(nn.Module):
    def __init__(self, S=2, N=64, L=16, Bn=64, H=64, K=50, hop=25, R=3, bidirectional=True):
        super().__init__()
        self.S, self.N, self.Bn, self.K, self.hop = S, N, Bn, K, hop
        self.encoder = nn.Conv1d(1, N, L, stride=L // 2, bias=False)
        self.in_norm = nn.GroupNorm(1, N, eps=1e-8)
        self.bottleneck = nn.Conv1d(N, Bn, 1)
        self.blocks = nn.ModuleList([DprnnBlock(Bn, H, bidirectional) for _ in range(R)])
        self.act = nn.PReLU()
        self.conv = nn.Conv2d(Bn, S * Bn, 1)
        self.out = nn.Conv1d(Bn, Bn, 1)
        self.gate = nn.Conv1d(Bn, Bn, 1)
        self.mask = nn.Conv1d(Bn, N, 1, bias=False)
        self.decoder = nn.ConvTranspose1d(N, 1, L, stride=L // 2, bias=False)

    def forward(self, mix):
        Bt, T = mix.shape
        K, hop, S, Bn = self.K, self.hop, self.S, self.Bn
        w = self.encoder(mix.unsqueeze(1))                                         # [B, N, frames]
        frames = w.shape[-1]
        y = self.bottleneck(self.in_norm(w))
        x = F.unfold(y.unsqueeze(-1), (K, 1), padding=(K, 0), stride=(hop, 1))     # [B, Bn*K, n]
        n = x.shape[-1]
        x = x.reshape(Bt, Bn, K, n)
        for blk in self.blocks:
            x = blk(x)
        x = self.conv(self.act(x)).reshape(Bt * S, Bn * K, n)
        x = F.fold(x, (frames, 1), (K, 1), padding=(K, 0), stride=(hop, 1)).reshape(Bt * S, Bn, frames)
        m = torch.sigmoid(self.mask(torch.tanh(self.out(x)) * torch.sigmoid(self.gate(x)))).reshape(Bt, S, self.N, frames)
        dec = self.decoder((w.unsqueeze(1) * m).reshape(Bt * S, self.N, frames)).reshape(Bt, S, -1)
        return F.pad(dec, (0, T - dec.shape[-1]))


# ---- CRN (lib/models/crn.ts) -------------------------------------------------------------------------
class Crn(nn.Module):
    def __init__(self, nFft=256, hop=128, channels=(16, 32, 64), kernel=(3, 5), lstmHidden=128, lstmLayers=1):
        super().__init__()
        self.nFft, self.hop = nFft, hop
        kt, kf = kernel
        pad = ((kt - 1) // 2, (kf - 1) // 2)
        bins = [nFft // 2 + 1]
        self.enc = nn.ModuleList()
        cin = 2
        for c in channels:
            self.enc.append(nn.Sequential(nn.Conv2d(cin, c, kernel, stride=(1, 2), padding=pad), nn.BatchNorm2d(c), nn.PReLU()))
            bins.append((bins[-1] + 2 * pad[1] - kf) // 2 + 1)
            cin = c
        flat = channels[-1] * bins[-1]
        self.lstm = nn.LSTM(flat, lstmHidden, num_layers=lstmLayers, batch_first=True)
        self.proj = nn.Linear(lstmHidden, flat)
        self.dec = nn.ModuleList()
        for i in range(len(channels) - 1, -1, -1):
            cout = 2 if i == 0 else channels[i - 1]
            op = bins[i] - ((bins[i + 1] - 1) * 2 - 2 * pad[1] + kf)
            layers = [nn.ConvTranspose2d(2 * channels[i], cout, kernel, stride=(1, 2), padding=pad, output_padding=(0, op))]
            if i > 0:
                layers += [nn.BatchNorm2d(cout), nn.PReLU()]
            self.dec.append(nn.Sequential(*layers))
        self.register_buffer('window', torch.hann_window(nFft))

    def forward(self, noisy):
        spec = torch.stft(noisy, self.nFft, self.hop, window=self.window, center=True, pad_mode='reflect', return_complex=True)
        x = torch.stack([spec.real, spec.imag], 1).transpose(2, 3)      # [B, 2, T, F]
        skips = []
        h = x
        for e in self.enc:
            h = e(h)
            skips.append(h)
        B, C, T, Fb = h.shape
        r = self.proj(self.lstm(h.permute(0, 2, 3, 1).reshape(B, T, Fb * C))[0])
        h = r.reshape(B, T, Fb, C).permute(0, 3, 1, 2)
        for k, d in enumerate(self.dec):
            h = d(torch.cat([h, skips[-1 - k]], 1))
        m = torch.tanh(h).transpose(2, 3)                               # [B, 2, F, T]
        real = spec.real * m[:, 0] - spec.imag * m[:, 1]
        imag = spec.real * m[:, 1] + spec.imag * m[:, 0]
        return torch.istft(torch.complex(real, imag), self.nFft, self.hop, window=self.window, center=True, length=noisy.shape[1])


# ---- DCCRN (lib/models/dccrn.ts; self-contained: the fetched reference code is not imported) --------------
def dccrn_bases(win, fft):
    """ConvSTFT kernels: windowed real DFT rows [2F, 1, win]; pinv of the unwindowed rows, transposed and windowed."""
    n = torch.arange(win, dtype=torch.float64)
    k = torch.arange(fft // 2 + 1, dtype=torch.float64)
    ang = 2 * math.pi * k[:, None] * n[None, :] / fft
    rows = torch.cat([torch.cos(ang), -torch.sin(ang)], 0)
    w = 0.5 - 0.5 * torch.cos(2 * math.pi * n / win)
    return (rows * w).float()[:, None], (torch.linalg.pinv(rows).T * w).float()[:, None], (w * w).float()[None, None]


class ComplexConv(nn.Module):
    """Complex (transposed) conv over [B, C, F, T], kernel (5, 2), stride (2, 1); C = real + imaginary channels.
    One conv with the block weight [[Wr, -Wi], [Wi, Wr]], or with `four` four convs of the halves (as the
    reference code; slower here)."""

    def __init__(self, cin, cout, transposed, four=False):
        super().__init__()
        self.transposed, self.four = transposed, four
        conv = nn.ConvTranspose2d if transposed else nn.Conv2d
        extra = dict(output_padding=(1, 0)) if transposed else {}
        self.real = conv(cin // 2, cout // 2, (5, 2), (2, 1), padding=(2, 0), **extra)
        self.imag = conv(cin // 2, cout // 2, (5, 2), (2, 1), padding=(2, 0), **extra)
        for c in (self.real, self.imag):
            nn.init.normal_(c.weight, std=0.05)
            nn.init.zeros_(c.bias)

    def forward(self, x):
        if not self.transposed:
            x = F.pad(x, [1, 0, 0, 0])                                   # causal: one past frame
        if self.four:
            xr, xi = x.chunk(2, 1)
            return torch.cat([self.real(xr) - self.imag(xi), self.real(xi) + self.imag(xr)], 1)
        wr, wi = self.real.weight, self.imag.weight
        br, bi = self.real.bias, self.imag.bias
        if self.transposed:                                              # weight [in, out, kf, kt]
            w = torch.cat([torch.cat([wr, wi], 1), torch.cat([-wi, wr], 1)], 0)
            return F.conv_transpose2d(x, w, torch.cat([br - bi, br + bi]), (2, 1), (2, 0), (1, 0))
        w = torch.cat([torch.cat([wr, -wi], 1), torch.cat([wi, wr], 1)], 0)  # weight [out, in, kf, kt]
        return F.conv2d(x, w, torch.cat([br - bi, br + bi]), (2, 1), (2, 0))


class ComplexLstm(nn.Module):
    def __init__(self, inp, hidden, proj=None):
        super().__init__()
        self.real_lstm = nn.LSTM(inp // 2, hidden // 2, batch_first=True)
        self.imag_lstm = nn.LSTM(inp // 2, hidden // 2, batch_first=True)
        self.proj = proj is not None
        if self.proj:
            self.real_proj = nn.Linear(hidden // 2, proj // 2)
            self.imag_proj = nn.Linear(hidden // 2, proj // 2)

    def forward(self, x):                                                # [B, T, inp], real half first
        B = x.shape[0]
        both = torch.cat(x.chunk(2, -1), 0)                              # [2B, T, inp/2]
        r, i = self.real_lstm(both)[0], self.imag_lstm(both)[0]
        real, imag = r[:B] - i[B:], r[B:] + i[:B]
        if self.proj:
            real, imag = self.real_proj(real), self.imag_proj(imag)
        return torch.cat([real, imag], -1)


def complex_cat(a, b):
    ar, ai = a.chunk(2, 1)
    br, bi = b.chunk(2, 1)
    return torch.cat([ar, br, ai, bi], 1)


class Dccrn(nn.Module):
    def __init__(self, kernel_num, rnn_units, use_clstm=True, rnn_layers=2, win=400, hop=100, fft=512, four=False):
        super().__init__()
        self.win, self.hop, self.fft = win, hop, fft
        ch = [2] + list(kernel_num)
        n = len(kernel_num)
        self.enc = nn.ModuleList([nn.Sequential(ComplexConv(ch[i], ch[i + 1], False, four), nn.BatchNorm2d(ch[i + 1]), nn.PReLU())
                                  for i in range(n)])
        flat = fft // 2 ** (n + 1) * ch[-1]
        self.use_clstm = use_clstm
        if use_clstm:
            self.rnn = nn.ModuleList([ComplexLstm(flat if l == 0 else rnn_units, rnn_units, flat if l == rnn_layers - 1 else None)
                                      for l in range(rnn_layers)])
        else:
            self.lstm = nn.LSTM(flat, rnn_units, 2, batch_first=True)
            self.transform = nn.Linear(rnn_units, flat)
        self.dec = nn.ModuleList([nn.Sequential(ComplexConv(2 * ch[n - j], ch[n - j - 1], True, four),
                                                *([nn.BatchNorm2d(ch[n - j - 1]), nn.PReLU()] if j < n - 1 else []))
                                  for j in range(n)])
        fwd, inv, w2 = dccrn_bases(win, fft)
        self.register_buffer('fwd', fwd)
        self.register_buffer('inv', inv)
        self.register_buffer('w2', w2)

    def forward(self, x):
        B, L = x.shape
        p, Fb = self.win - self.hop, self.fft // 2 + 1
        spec = F.conv1d(F.pad(x[:, None], [p, p]), self.fwd, stride=self.hop)    # [B, 2F, T]
        re, im = spec[:, 1:Fb], spec[:, Fb + 1:]
        h = torch.stack([re, im], 1)                                           # [B, 2, F-1, T]
        skips = []
        for e in self.enc:
            h = e(h)
            skips.append(h)
        _, C, D, T = h.shape
        r = h.permute(0, 3, 1, 2).reshape(B, T, C * D)
        if self.use_clstm:
            for layer in self.rnn:
                r = layer(r)
        else:
            r = self.transform(self.lstm(r)[0])
        h = r.reshape(B, T, C, D).permute(0, 2, 3, 1)
        for j, d in enumerate(self.dec):
            h = d(complex_cat(h, skips[-1 - j]))[..., 1:]
        mr, mi = h[:, 0], h[:, 1]
        mags, phase = torch.sqrt(re ** 2 + im ** 2 + 1e-8), torch.atan2(im, re)
        mm = torch.sqrt(mr ** 2 + mi ** 2)
        mp = torch.atan2(mi / (mm + 1e-8), mr / (mm + 1e-8))
        em, ep = torch.tanh(mm) * mags, phase + mp
        out = torch.cat([F.pad(em * torch.cos(ep), [0, 0, 1, 0]), F.pad(em * torch.sin(ep), [0, 0, 1, 0])], 1)
        wav = F.conv_transpose1d(out, self.inv, stride=self.hop)[:, 0]
        coff = F.conv_transpose1d(torch.ones(1, 1, T), self.w2, stride=self.hop)[:, 0]
        wav = (wav / (coff + 1e-8))[:, p:p + L]
        return torch.clamp(F.pad(wav, [0, L - wav.shape[1]]), -1, 1)


# ---- KWS DS-CNN at full width (lib/slim/kws_ds_cnn.ts) ---------------------------------------------
def tf_same(size, k, s):
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class DsCnn(nn.Module):
    def __init__(self, frames=98, mels=40, classes=12, channels=(64, 64, 64, 64, 64), stem=(10, 4), stride=(2, 2), k=3, dropout=0.1):
        super().__init__()
        t, b = tf_same(frames, stem[0], stride[0])
        l, r = tf_same(mels, stem[1], stride[1])
        self.pad = (l, r, t, b)
        self.stem = nn.Conv2d(1, channels[0], stem, stride=stride, bias=False)
        self.stem_bn = nn.BatchNorm2d(channels[0])
        blocks = []
        for cin, cout in zip(channels[:-1], channels[1:]):
            blocks += [nn.Conv2d(cin, cin, k, padding=k // 2, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(),
                       nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
        self.blocks = nn.Sequential(*blocks)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(channels[-1], classes)

    def forward(self, x):                                  # x [B, frames, mels]
        h = F.relu(self.stem_bn(self.stem(F.pad(x.unsqueeze(1), self.pad))))
        h = self.blocks(h).mean((2, 3))
        return self.head(self.drop(h))


# ---- KWS Transformer (KWT) at full width (lib/slim/kws_transformer.ts) -------------------------------
class Kwt(nn.Module):
    def __init__(self, frames=98, mels=40, classes=12, d=64, heads=4, ffn=128, layers=2):
        super().__init__()
        self.patchEmbed = nn.Linear(mels, d)
        self.clsToken = nn.Parameter(torch.randn(d) * 0.02)
        self.posEmbed = nn.Parameter(torch.randn(frames + 1, d) * 0.02)
        self.layers = nn.ModuleList([nn.TransformerEncoderLayer(d, heads, ffn, dropout=0.0, activation='gelu', norm_first=True,
                                                                batch_first=True) for _ in range(layers)])
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, classes)

    def forward(self, x):                                  # x [B, frames, mels]
        h = self.patchEmbed(x)
        h = torch.cat([self.clsToken.expand(x.shape[0], 1, -1), h], 1) + self.posEmbed
        for layer in self.layers:
            h = layer(h)
        return self.head(self.norm(h)[:, 0])


# A HuBERT-like student (lib/models/wav2vec2.ts, bench/models.ts): HuBERT Base's extractor at 256 channels, 4
# layers of 384 with 6 heads and 1536 FFN units, no dropout; torchaudio's wav2vec2_model builds it.
HUBERT_SMALL = dict(
    extractor_mode='group_norm', extractor_conv_layer_config=[(256, 10, 5)] + [(256, 3, 2)] * 4 + [(256, 2, 2)] * 2,
    extractor_conv_bias=False, encoder_embed_dim=384, encoder_projection_dropout=0.0, encoder_pos_conv_kernel=128,
    encoder_pos_conv_groups=16, encoder_num_layers=4, encoder_num_heads=6, encoder_attention_dropout=0.0,
    encoder_ff_interm_features=1536, encoder_ff_interm_dropout=0.0, encoder_dropout=0.0, encoder_layer_norm_first=False,
    encoder_layer_drop=0.0, aux_num_out=None)


# OS-KDFT's ECAPA-TDNN back end (lib/models/ecapa_tdnn.ts, bench/models.ts) on SSL features [B, frames, 768], C 512,
# 192-d embedding: SE-Res2Net blocks (scale 8, dilations 2, 3, 4), attentive statistics pooling; AAM-softmax loss
# (margin 0.2, scale 30) against 100 fixed class weights.
class EcapaSe(nn.Module):
    def __init__(self, c, b=128):
        super().__init__()
        self.down, self.up = nn.Conv1d(c, b, 1), nn.Conv1d(b, c, 1)

    def forward(self, x):
        return x * torch.sigmoid(self.up(torch.relu(self.down(x.mean(2, keepdim=True)))))


class EcapaBlock(nn.Module):
    def __init__(self, c, k, d, scale=8):
        super().__init__()
        w = c // scale
        self.w, self.n = w, scale - 1
        self.conv1, self.bn1 = nn.Conv1d(c, w * scale, 1), nn.BatchNorm1d(w * scale)
        self.convs = nn.ModuleList([nn.Conv1d(w, w, k, dilation=d, padding=(k // 2) * d) for _ in range(self.n)])
        self.bns = nn.ModuleList([nn.BatchNorm1d(w) for _ in range(self.n)])
        self.conv3, self.bn3 = nn.Conv1d(w * scale, c, 1), nn.BatchNorm1d(c)
        self.se = EcapaSe(c)

    def forward(self, x):
        parts = torch.split(self.bn1(torch.relu(self.conv1(x))), self.w, 1)
        outs, sp = [], None
        for i in range(self.n):
            sp = parts[i] if i == 0 else sp + parts[i]
            sp = self.bns[i](torch.relu(self.convs[i](sp)))
            outs.append(sp)
        outs.append(parts[self.n])
        return self.se(self.bn3(torch.relu(self.conv3(torch.cat(outs, 1))))) + x


class EcapaTdnn(nn.Module):
    def __init__(self, d=768, c=512, emb=192, att=256):
        super().__init__()
        self.norm = nn.InstanceNorm1d(d)
        self.conv1, self.bn1 = nn.Conv1d(d, c, 5, padding=2), nn.BatchNorm1d(c)
        self.layer1, self.layer2, self.layer3 = EcapaBlock(c, 3, 2), EcapaBlock(c, 3, 3), EcapaBlock(c, 3, 4)
        self.layer4 = nn.Conv1d(3 * c, 3 * c, 1)
        self.attention = nn.Sequential(nn.Conv1d(9 * c, att, 1), nn.ReLU(), nn.BatchNorm1d(att), nn.Tanh(), nn.Conv1d(att, 3 * c, 1), nn.Softmax(dim=2))
        self.bn5, self.fc6, self.bn6 = nn.BatchNorm1d(6 * c), nn.Linear(6 * c, emb), nn.BatchNorm1d(emb)

    def forward(self, x):                                  # x [B, frames, d]
        x = self.bn1(torch.relu(self.conv1(self.norm(x.permute(0, 2, 1)))))
        x1 = self.layer1(x)
        x2 = self.layer2(x + x1)
        x3 = self.layer3(x + x1 + x2)
        h = torch.relu(self.layer4(torch.cat((x1, x2, x3), 1)))
        t = h.shape[-1]
        g = torch.cat((h, h.mean(2, keepdim=True).repeat(1, 1, t), torch.sqrt(h.var(2, keepdim=True).clamp(min=1e-4)).repeat(1, 1, t)), 1)
        w = self.attention(g)
        mu = (h * w).sum(2)
        sg = torch.sqrt((((h ** 2) * w).sum(2) - mu ** 2).clamp(min=1e-4))
        return self.bn6(self.fc6(self.bn5(torch.cat((mu, sg), 1))))


def aam_softmax(emb, weight, labels, margin=0.2, scale=30.0):
    cos = F.linear(F.normalize(emb), F.normalize(weight))
    sin = torch.sqrt((1.0 - cos * cos).clamp(0, 1))
    phi = cos * math.cos(margin) - sin * math.sin(margin)
    one = F.one_hot(labels, cos.shape[1]).float()
    return F.cross_entropy(scale * (one * phi + (1 - one) * cos), labels)


def si_snr(est, ref, eps=1e-8):
    est = est - est.mean(-1, keepdim=True)
    ref = ref - ref.mean(-1, keepdim=True)
    a = ((est * ref).sum(-1, keepdim=True) + eps) / ((ref * ref).sum(-1, keepdim=True) + eps)
    t = a * ref
    n = est - t
    return 10 * torch.log10(((t * t).sum(-1) + eps) / ((n * n).sum(-1) + eps))


def pit2(est, ref):
    """Negative SI-SNR of the better of the two assignments, per example, averaged."""
    a = si_snr(est, ref).mean(-1)
    b = si_snr(est, ref.flip(1)).mean(-1)
    return -torch.maximum(a, b).mean()


def build(name, args):
    if name == 'conv-tasnet':
        m = ConvTasNet()
        x = torch.randn(args.batch, args.length)
        y = torch.randn(args.batch, 2, args.length)
        return m, x, lambda out: pit2(out, y), torch.randn(1, args.length)
    if name == 'dprnn':
        m = Dprnn()
        x = torch.randn(args.batch, args.length)
        y = torch.randn(args.batch, 2, args.length)
        return m, x, lambda out: pit2(out, y), torch.randn(1, args.length)
    if name == 'crn':
        m = Crn()
        x = torch.randn(args.batch, args.length)
        y = torch.randn(args.batch, args.length)
        return m, x, lambda out: -si_snr(out, y).mean(), torch.randn(1, args.length)
    if name in ('dccrn', 'dccrn-student'):
        four = args.dccrn_four_convs
        m = Dccrn([32, 64, 128, 256, 256, 256], 256, four=four) if name == 'dccrn' else Dccrn([16, 32, 64, 128, 128, 128], 192, four=four)
        x = torch.randn(args.batch, args.length)
        y = torch.randn(args.batch, args.length)
        return m, x, lambda out: -si_snr(out, y).mean(), torch.randn(1, args.length)
    if name == 'hubert-small':
        import torchaudio   # only this model needs it (Debian: python3-torchaudio)
        cfg = dict(HUBERT_SMALL)

        class LastHidden(nn.Module):
            def __init__(self):
                super().__init__()
                self.m = torchaudio.models.wav2vec2_model(**cfg)

            def forward(self, x):
                return self.m.extract_features(x)[0][-1]
        m = LastHidden()
        x = torch.randn(args.batch, args.length)
        frames = m(x).shape[1]
        y = torch.randn(args.batch, frames, cfg['encoder_embed_dim'])
        return m, x, lambda out: (out - y).abs().mean(), torch.randn(1, args.length)
    if name == 'ecapa-tdnn':
        m = EcapaTdnn()
        x = torch.randn(args.batch, args.length, 768)
        w = torch.randn(100, 192)
        y = torch.arange(args.batch) % 100
        return m, x, lambda out: aam_softmax(out, w, y), torch.randn(1, args.length, 768)
    if name in ('kws-cnn', 'kws-transformer'):
        m = DsCnn() if name == 'kws-cnn' else Kwt()
        x = torch.randn(args.batch, 98, 40)
        y = torch.randint(0, 12, (args.batch,))
        return m, x, lambda out: F.cross_entropy(out, y), torch.randn(1, 98, 40)
    raise SystemExit(f'unknown model {name}')


def gemm_rates(shapes, threads):
    """Multiply-adds per second (1e9) of torch.mm on [M, K] @ [K, N] per shape, median of 5 timed rounds of ~0.2 s."""
    torch.set_num_threads(threads)
    out = []
    for m, n, k in shapes:
        a, b = torch.randn(m, k), torch.randn(k, n)
        reps = max(3, round(4e8 / (m * n * k)))
        for _ in range(3):
            a @ b
        rounds = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(reps):
                a @ b
            rounds.append((time.perf_counter() - t0) / reps)
        out.append({'m': m, 'n': n, 'k': k, 'gmacs': m * n * k / statistics.median(rounds) / 1e9})
    return out


def main():
    if len(__import__('sys').argv) > 1 and __import__('sys').argv[1] == '--gemm':
        # bench/run.ts's roofline row: --gemm M,N,K M,N,K ...
        import sys
        shapes = [tuple(int(v) for v in s.split(',')) for s in sys.argv[2:]]
        print(json.dumps({'gemm': gemm_rates(shapes, 1)}))
        return
    p = argparse.ArgumentParser()
    p.add_argument('--model', required=True)
    p.add_argument('--batch', type=int, required=True)
    p.add_argument('--length', type=int, default=0)
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--infer-runs', type=int, default=20)
    p.add_argument('--infer-warmup', type=int, default=20)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--dccrn-four-convs', action='store_true', help='complex convs as four real convs (as the reference code)')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, x, loss_fn, x1 = build(args.model, args)
    params = sum(q.numel() for q in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    times = []
    for i in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn(model(x))
        loss.backward()
        opt.step()
        if i >= args.warmup:
            times.append((time.perf_counter() - t0) * 1000)
    model.eval()
    inf = []
    with torch.no_grad():
        for i in range(args.infer_warmup + args.infer_runs):
            t0 = time.perf_counter()
            model(x1)
            if i >= args.infer_warmup:
                inf.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({'model': args.model, 'params': params, 'msPerStep': statistics.median(times),
                      'inferMs': statistics.median(inf), 'steps': args.steps,
                      'peakRssMb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      'loss': float(loss)}))


if __name__ == '__main__':
    main()
