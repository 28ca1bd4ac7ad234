# Reference WAV files and their decoded samples for test/audio/wav.test.ts.
#
# Run from the repository root with Debian's python (torch 1.13, torchaudio 0.13.1 with sox_io) and sox:
#   /usr/bin/python3 test/reference/audio_wav.py
# Writes test/reference/fixtures/audio_wav.json:
#   decode.<case> = {wav: base64 of a small WAV written by sox (or by hand below), sampleRate,
#                    expected: {shape: [channels, frames], data}} with `expected` from
#                    torchaudio.load(normalize=True) (sox), or an independent numpy decoding for files
#                    sox cannot write (RF64, 12-bit PCM in a 16-bit container);
#   unsupported.<case> = base64 WAVs in encodings a reader must refuse (IMA / MS ADPCM, GSM);
#   encode.<bits> = {input, dataBase64}: the data-chunk bytes torchaudio.save writes for `input`.
import base64
import json
import os
import struct
import subprocess
import tempfile

import numpy as np
import torch
import torchaudio

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'fixtures', 'audio_wav.json')
RATE = 16000


def tensor(a):
    a = np.asarray(a, dtype=np.float64)
    return {'shape': list(a.shape), 'data': a.reshape(-1).tolist()}


def b64(path):
    with open(path, 'rb') as f:
        return base64.b64encode(f.read()).decode('ascii')


def chunks(raw):
    """(id, payload) for each chunk of a RIFF/RIFX file, parsed by hand."""
    big = raw[:4] == b'RIFX'
    pos, out = 12, []
    while pos + 8 <= len(raw):
        cid = raw[pos:pos + 4].decode('latin-1')
        (size,) = struct.unpack('>I' if big else '<I', raw[pos + 4:pos + 8])
        out.append((cid, raw[pos + 8:pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return out


def signal(frames, channels, seed):
    rs = np.random.RandomState(seed)
    x = rs.uniform(-0.95, 0.95, (frames, channels))
    # exact codes worth pinning: silence, negative full scale, half scale
    x[0, :] = 0.0
    x[1, 0] = -1.0
    x[2, 0] = 0.5
    return x.astype(np.float32)


def sox_case(tmp, name, x, args):
    raw = os.path.join(tmp, name + '.f32')
    wav = os.path.join(tmp, name + '.wav')
    x.astype('<f4').tofile(raw)
    subprocess.run(['sox', '-D', '-t', 'raw', '-r', str(RATE), '-e', 'floating-point', '-b', '32',
                    '-c', str(x.shape[1]), raw, *args, wav], check=True)
    return wav


def main():
    torch.manual_seed(0)
    out = {'decode': {}, 'unsupported': {}, 'encode': {}}
    with tempfile.TemporaryDirectory() as tmp:
        stereo = signal(37, 2, 1)  # 37 frames: odd byte count for 8-bit mono, a pad byte after data
        cases = {
            'pcm_u8_mono': (stereo[:, :1], ['-e', 'unsigned-integer', '-b', '8']),
            'pcm_u8': (stereo, ['-e', 'unsigned-integer', '-b', '8']),
            'pcm_s16': (stereo, ['-e', 'signed-integer', '-b', '16']),
            'pcm_s16_rifx': (stereo, ['-e', 'signed-integer', '-b', '16', '-B']),
            'pcm_s16_3ch_extensible': (signal(21, 3, 2), ['-e', 'signed-integer', '-b', '16']),
            'pcm_s24_extensible': (stereo, ['-e', 'signed-integer', '-b', '24']),
            'pcm_s24': (stereo, ['-t', 'wavpcm', '-e', 'signed-integer', '-b', '24']),
            'pcm_s32': (stereo, ['-t', 'wavpcm', '-e', 'signed-integer', '-b', '32']),
            'float32': (stereo, ['-e', 'floating-point', '-b', '32']),
            'float64': (stereo, ['-e', 'floating-point', '-b', '64']),
            'mulaw': (stereo, ['-e', 'mu-law']),
            'alaw': (stereo, ['-e', 'a-law']),
        }
        for name, (x, args) in cases.items():
            wav = sox_case(tmp, name, x, args)
            y, sr = torchaudio.load(wav, normalize=True)
            assert sr == RATE
            out['decode'][name] = {'wav': b64(wav), 'sampleRate': sr, 'expected': tensor(y.numpy())}

        # sox writes no metadata chunks into WAV: insert an odd-sized LIST/INFO chunk (with its pad byte)
        # and an unknown chunk between 'fmt ' and 'data' of the 16-bit file, then load it with torchaudio.
        with open(os.path.join(tmp, 'pcm_s16.wav'), 'rb') as f:
            raw = f.read()
        at = raw.index(b'data')
        info = b'INFO' + b'INAM' + struct.pack('<I', 5) + b'slim\0'
        extra = (b'LIST' + struct.pack('<I', len(info)) + info + b'\0'
                 + b'abcd' + struct.pack('<I', 3) + b'xyz\0')
        body = raw[12:at] + extra + raw[at:]
        listed = os.path.join(tmp, 'pcm_s16_list_chunk.wav')
        with open(listed, 'wb') as f:
            f.write(b'RIFF' + struct.pack('<I', 4 + len(body)) + b'WAVE' + body)
        y, sr = torchaudio.load(listed, normalize=True)
        out['decode']['pcm_s16_list_chunk'] = {'wav': b64(listed), 'sampleRate': sr, 'expected': tensor(y.numpy())}

        # Files sox does not write: RF64 (size in a ds64 chunk) and 12-bit samples left-justified in
        # 16-bit containers, built by hand and decoded with numpy.
        ints = np.round(stereo.astype(np.float64) * 32768).clip(-32768, 32767).astype('<i2')
        data = ints.tobytes()
        fmt = struct.pack('<HHIIHH', 1, 2, RATE, RATE * 4, 4, 16)
        ds64 = struct.pack('<QQQI', 0, len(data), 37, 0)
        rf64 = (b'RF64' + struct.pack('<I', 0xFFFFFFFF) + b'WAVE' + b'ds64' + struct.pack('<I', len(ds64)) + ds64
                + b'fmt ' + struct.pack('<I', 16) + fmt + b'data' + struct.pack('<I', 0xFFFFFFFF) + data)
        out['decode']['rf64_s16'] = {'wav': base64.b64encode(rf64).decode('ascii'), 'sampleRate': RATE,
                                     'expected': tensor(ints.astype(np.float64).T / 32768)}
        ints12 = (np.round(stereo.astype(np.float64) * 2048).clip(-2048, 2047).astype(np.int64) * 16).astype('<i2')
        data12 = ints12.tobytes()
        fmt12 = struct.pack('<HHIIHH', 1, 2, RATE, RATE * 4, 4, 12)
        w12 = (b'RIFF' + struct.pack('<I', 4 + 8 + 16 + 8 + len(data12)) + b'WAVE' + b'fmt ' + struct.pack('<I', 16)
               + fmt12 + b'data' + struct.pack('<I', len(data12)) + data12)
        out['decode']['pcm_12_in_16'] = {'wav': base64.b64encode(w12).decode('ascii'), 'sampleRate': RATE,
                                         'expected': tensor(ints12.astype(np.float64).T / 32768)}

        mono = signal(64, 1, 3)
        for name, args in {'ima_adpcm': ['-e', 'ima-adpcm'], 'ms_adpcm': ['-e', 'ms-adpcm'],
                           'gsm': ['-e', 'gsm-full-rate']}.items():
            r = RATE if name != 'gsm' else 8000
            raw = os.path.join(tmp, name + '.f32')
            wav = os.path.join(tmp, name + '.wav')
            mono.astype('<f4').tofile(raw)
            subprocess.run(['sox', '-D', '-t', 'raw', '-r', str(r), '-e', 'floating-point', '-b', '32', '-c', '1',
                            raw, '-t', 'wav', *args, wav], check=True)
            out['unsupported'][name] = b64(wav)

        # What torchaudio.save writes for float input, per encoding (data-chunk bytes only).
        x = signal(29, 2, 4)
        for key, enc, bits in [('8', 'PCM_U', 8), ('16', 'PCM_S', 16), ('24', 'PCM_S', 24), ('32', 'PCM_S', 32),
                               ('32f', 'PCM_F', 32)]:
            wav = os.path.join(tmp, f'save_{key}.wav')
            torchaudio.save(wav, torch.from_numpy(x.T.copy()), RATE, encoding=enc, bits_per_sample=bits)
            with open(wav, 'rb') as f:
                payload = dict(chunks(f.read()))['data']
            out['encode'][key] = {'dataBase64': base64.b64encode(payload).decode('ascii')}
        out['encodeInput'] = tensor(x.T)
        out['sampleRate'] = RATE

    with open(OUT, 'w') as f:
        json.dump(out, f)
    print(f'wrote {OUT} ({os.path.getsize(OUT)} bytes)')


if __name__ == '__main__':
    main()
