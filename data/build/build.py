#!/usr/bin/python3
"""Builds slimspeech's embedded datasets from recorded speech and noise in Debian's archive.

    /usr/bin/python3 data/build/build.py [--out DIR] [--cache DIR] [--jobs N]

Writes, under DIR (default: the data/ folder this script lives in):
  kws/    Speech Commands v2 layout (16 kHz): <word>/<speaker>_nohash_<n>.wav, validation_list.txt,
          testing_list.txt, _background_noise_/*.wav
  sv/     VoxCeleb1 layout (16 kHz): wav/<id>/<video>/<nnnnn>.wav, veri_test2.txt, iden_split.txt,
          vox1_meta.csv
  sep/    LibriSpeech-like tree of 8 kHz source utterances (LibriSpeech/<subset>/<spk>/<chapter>/
          <spk>-<chapter>-<nnnn>.wav, SPEAKERS.TXT) and Libri2Mix metadata with gains
          (metadata/Libri2Mix/libri2mix_<subset>.csv); mixtures are built by the reader
  noise/  MUSAN-like noise tree (16 kHz) rooted at noise/musan: noise/<source>/noise-<source>-<nnnn>.wav;
          train.lst and test.lst list paths relative to that root
  enh/    DNS-style recipes over sv's clean speech and noise/ (train.csv, valid.csv) and a synthetic
          test set test_set/synthetic/no_reverb/{clean,noisy}/ with its recipe
  ssl/    fairseq-style manifests (train.tsv, valid.tsv) over kws and sv audio for self-supervised
          pre-training
  manifest.json      split statistics per set
  CHECKSUMS.sha256   sha256 of every file above

Everything is deterministic: sources are pinned Debian packages (checked by sha256), every random
choice comes from a generator seeded by a string naming what it chooses, sox runs in repeatable mode
without dither, and all level changes, trimming and quantisation are done here in numpy. Building
twice gives byte-identical files (check with --verify-twice).

Needs: Debian's python3 with numpy; apt-get, dpkg-deb, sox with libsox-fmt-base (ogg, flac); the
pinned espeak-ng packages are downloaded and run from the cache (they need libpcaudio0, libsonic0).
"""
import argparse
import base64
import concurrent.futures
import csv
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.dirname(HERE)

# --------------------------------------------------------------------------------------------------
# Pinned inputs
# --------------------------------------------------------------------------------------------------

# Debian bookworm packages: name -> (version, sha256 of the .deb).
PACKAGES = {
    'hedgewars-data': ('1.0.2-6', '722225903a72604403e6e0026e40e9a6953f47a74d94efc5f55504bc05bb4761'),
    'kajongg': ('4:22.12.3-1', 'be0a9cc0f9a97064ffa0ab01133f55e021c7c58f9869857431bf1ca951dadbaf'),
    'ktuberling-data': ('4:22.12.3-1', 'fba44c875bfa31ea488dadd9263e87a4dcaea0bd47d28817f6c0dc6d2af970ed'),
    'asterisk-core-sounds-en-wav': ('1.6.1-1', '2be3ea287d83299d143815fa804f11179a75b7affd4a758b98b55f5afc18a35d'),
    'asterisk-core-sounds-es-wav': ('1.6.1-1', '9283a09a6d56fccdcc2bcfe86c48f0f844289cfbd46a3184d8785a6f7f569903'),
    'asterisk-core-sounds-fr-wav': ('1.6.1-1', '8d4e1bc32ed5ba7fbda40841ca1825ed20cc6232724a473c90f8bb0e53e6073e'),
    'asterisk-core-sounds-it-wav': ('1.6.1-1', '5a26638089e134b8ac39363fe249c5c93c50cd8bfdc9b2499ae61ec4a35e2fcb'),
    'asterisk-core-sounds-ru-wav': ('1.6.1-1', 'ccbfaebfa450b7a9ddf644ae0f3d1e9017d5df7c0aebe816e946345589d38201'),
    'asterisk-prompt-it-menardi-wav': ('1:1.4.22+mm20110907-3.1', '3094530d98f8758ac275572d59624c41f60969fef883f34f4886d144f3dfeb21'),
    'fillets-ng-data-cs': ('1.0.1-1.1', '3ecef99b9456f1c80c9625c6f2418642b52d58e7167a46bad7a412db17991b14'),
    'fillets-ng-data-nl': ('1.0.1-1.1', 'afb4443fda9ab507dee578b75be857d121718a1cd6017a474f30e0eb13dc9d10'),
    'festvox-ru': ('0.5+dfsg-6', '21ef3f0f2978ecf2e2eddb367cb0ff4a72572196d28dc69feb84f4177af5e6c4'),
    'gcin-voice': ('0~20170223-3', '6a0353f0294d06f7bd901bada3d5d9eec63b66c2ec029f92da3124d93d45de70'),
    'etw-data': ('3.6+svn162-6', 'd1c79c32f6223332c01eb23ba78531e8d9d663c1f057cd21d8aac708b8de218a'),
    'btanks-data': ('0.9.8083-9', 'fbe1a476d95c68fe73d87715f4f0aecc1bc5428a979cd19451722665c9dbb5ae'),
    'scorched3d-data': ('44+dfsg-8', 'b0be0a6d561966a62b1f135e0e6f5681c85f12e34ecad5777cb1af9fbcb7f1da'),
    'sonic-pi-samples': ('3.2.2~repack-8', '25f2312d2fae005e6ad0f4726b8ed3084e776006a5a132083506e960224ac79d'),
    'bucklespring-data': ('1.4.0-2', '2add9f5583b3afc9c0b528066f4578baff930b74d4a94c8a25d103ef79a444e5'),
    'scratch': ('1.4.0.6~dfsg1-6.1', '36c582eb93110f64f06c4e685c41e933ccba2fa68db12f79b10bfe840b21fc10'),
    'espeak-ng': ('1.51+dfsg-10+deb12u2', 'a11396a690f85f55e6e6b2965505237ddf3dc95c51936aa61de936f1ccf8f4d0'),
    'libespeak-ng1': ('1.51+dfsg-10+deb12u2', '2b127a95b50d92cbd7a615968d2ac1566e1cbc87e27bcda0c2894afb2407c6d2'),
    'espeak-ng-data': ('1.51+dfsg-10+deb12u2', '573f5661c6a5adcf949018baad158c4c773bf5579390ee5235a890f1cd694106'),
}

# Installed tools whose exact version the output depends on.
TOOLS = {
    'sox': '14.4.2+git20190427-3.5',
    'libsox3': '14.4.2+git20190427-3.5',
    'libsox-fmt-base': '14.4.2+git20190427-3.5',
    'python3-numpy': '1:1.24.2-1+deb12u1',
}

# --------------------------------------------------------------------------------------------------
# Speakers
# --------------------------------------------------------------------------------------------------

# Recorded speakers: id -> (package, gender m/f/u, language, description). Where one person recorded
# several packs or languages (the same credit, or near-identical MFCC statistics), they are ONE speaker:
# hedgewars Default + Classic, Default_ru + Default_uk; kajongg <voice> + de/<voice>; asterisk en + es
# (both Allison Smith).
RECORDED = {
    'hw-british': ('hedgewars-data', 'u', 'en', 'hedgewars voice pack British'),
    'hw-default': ('hedgewars-data', 'u', 'en', 'hedgewars voice packs Default and Classic'),
    'hw-hillbilly': ('hedgewars-data', 'u', 'en', 'hedgewars voice pack HillBilly'),
    'hw-mobster': ('hedgewars-data', 'u', 'en', 'hedgewars voice pack Mobster'),
    'hw-pirate': ('hedgewars-data', 'u', 'en', 'hedgewars voice pack Pirate'),
    'hw-robot': ('hedgewars-data', 'u', 'en', 'hedgewars voice pack Robot (processed voice)'),
    'hw-russian': ('hedgewars-data', 'u', 'en', 'hedgewars voice pack Russian (accented English)'),
    'hw-singer': ('hedgewars-data', 'u', 'en', 'hedgewars voice pack Singer'),
    'hw-surfer': ('hedgewars-data', 'u', 'en', 'hedgewars voice pack Surfer'),
    'hw-default-es': ('hedgewars-data', 'u', 'es', 'hedgewars voice pack Default_es'),
    'hw-default-pl': ('hedgewars-data', 'u', 'pl', 'hedgewars voice pack Default_pl'),
    'hw-default-ru': ('hedgewars-data', 'u', 'ru', 'hedgewars voice packs Default_ru and Default_uk'),
    'hw-russian-pl': ('hedgewars-data', 'u', 'pl', 'hedgewars voice pack Russian_pl'),
    'kj-male1': ('kajongg', 'm', 'en', 'kajongg voices male1 and de/male1'),
    'kj-male2': ('kajongg', 'm', 'en', 'kajongg voices male2 and de/male2'),
    'kj-female1': ('kajongg', 'f', 'en', 'kajongg voices female1 and de/female1'),
    'kj-female2': ('kajongg', 'f', 'en', 'kajongg voices female2 and de/female2'),
    'kt-de': ('ktuberling-data', 'u', 'de', 'ktuberling German words'),
    'kt-el': ('ktuberling-data', 'u', 'el', 'ktuberling Greek words'),
    'kt-en': ('ktuberling-data', 'u', 'en', 'ktuberling English words'),
    'kt-gl': ('ktuberling-data', 'u', 'gl', 'ktuberling Galician words'),
    'kt-sl': ('ktuberling-data', 'u', 'sl', 'ktuberling Slovenian words'),
    'kt-wa': ('ktuberling-data', 'u', 'wa', 'ktuberling Walloon words'),
    'ast-allison': ('asterisk-core-sounds-en-wav', 'f', 'en', 'Allison Smith (asterisk en_US and es_MX prompts)'),
    'ast-june': ('asterisk-core-sounds-fr-wav', 'f', 'fr', 'June Wallack (asterisk fr_CA prompts)'),
    'ast-carlo': ('asterisk-core-sounds-it-wav', 'm', 'it', 'Carlo Flora (asterisk it_IT prompts)'),
    'ast-ru': ('asterisk-core-sounds-ru-wav', 'f', 'ru', 'provided by Maxim Topal, ivrvoice.ru (asterisk ru_RU prompts)'),
    'ast-menardi': ('asterisk-prompt-it-menardi-wav', 'f', 'it', 'Marco Menardi and Paola Dal Zot, voip.ammdomus.it (asterisk it_IT prompts)'),
    'fil-cs-m': ('fillets-ng-data-cs', 'u', 'cs', 'Fish Fillets Czech dub, small fish'),
    'fil-cs-v': ('fillets-ng-data-cs', 'u', 'cs', 'Fish Fillets Czech dub, big fish'),
    'fil-nl-m': ('fillets-ng-data-nl', 'u', 'nl', 'Fish Fillets Dutch dub, small fish'),
    'fil-nl-v': ('fillets-ng-data-nl', 'u', 'nl', 'Fish Fillets Dutch dub, big fish'),
    'fvx-nsh': ('festvox-ru', 'm', 'ru', 'festvox msu_ru_nsh read sentences'),
    'gcin-3': ('gcin-voice', 'm', 'zh', 'gcin-voice syllables by Edward Der-Hua Liu'),
    'gcin-5': ('gcin-voice', 'u', 'zh', 'gcin-voice syllables by Chu Lo (ChionMeilin)'),
}

# espeak-ng voice variants that are distinct speakers: one representative per cluster of variants
# that share formant settings or whose MFCC statistics (mean and std of 19 MFCCs over six
# sentences, per-dimension standardised) lie within 1.5 of each other; see --analyse-espeak.
# 101 variants form 67 clusters.
ESPEAK_SPEAKERS = [
    'Alex', 'Alicia', 'Andrea', 'Andy', 'Annie', 'AnxiousAndy', 'Demonic', 'Denis', 'Diogo', 'Gene',
    'Jacky', 'Lee', 'Marco', 'Mario', 'Michael', 'Mike', 'Mr serious', 'Nguyen', 'RicishayMax', 'Storm',
    'Tweaky', 'UniRobot', 'adam', 'anika', 'antonio', 'aunty', 'belinda', 'benjamin', 'boris', 'croak',
    'david', 'ed', 'edward', 'f1', 'f2', 'f3', 'fast', 'grandma', 'grandpa', 'iven', 'kaukovalta',
    'klatt3', 'linda', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'marcelo', 'norbert', 'pablo',
    'paul', 'pedro', 'quincy', 'rob', 'robosoft', 'sandro', 'shelby', 'steph', 'travis', 'victor',
    'whisper', 'zac', 'edward2',
]
ESPEAK_CLUSTER_THRESHOLD = 1.5
ESPEAK_ANALYSIS_TEXTS = [
    'The quick brown fox jumps over the lazy dog.',
    'Please call Stella and ask her to bring these things.',
    'Six spoons of fresh snow peas, five thick slabs of blue cheese.',
    'We also need a small plastic snake and a big toy frog.',
    'She can scoop these things into three red bags.',
    'Where were you when the lights went out last night?',
]


def espeak_id(variant):
    return 'es-' + variant.replace(' ', '_')


def speaker_kind(spk):
    return 'synthetic' if spk.startswith('es-') else 'recorded'


# --------------------------------------------------------------------------------------------------
# Set definitions
# --------------------------------------------------------------------------------------------------

KWS_RATE = 16000
SV_RATE = 16000
SEP_RATE = 8000
NOISE_RATE = 16000

KWS_KEYWORDS = ['amazing', 'brilliant', 'fire', 'grenade', 'hello', 'hurry', 'incoming', 'kamikaze', 'melon',
                'oops']
# hedgewars phrase file -> word folder, for words that are not keywords
HW_UNKNOWN = {'Coward': 'coward', 'Missed': 'missed', 'Traitor': 'traitor', 'Victory': 'victory',
              'Stupid': 'stupid', 'Nutter': 'nutter', 'Drat': 'drat', 'Bugger': 'bugger', 'Excellent': 'excellent',
              'Ouch': 'ouch'}
KJ_UNKNOWN = {'pung': 'pung', 'chow': 'chow', 'kong': 'kong', 'mahjongg': 'mahjong'}
KT_UNKNOWN = {'ball': 'ball', 'coat': 'coat', 'hat': 'hat', 'nose': 'nose', 'eye': 'eye', 'mouth': 'mouth',
              'shoe': 'shoe', 'tie': 'tie'}
ESPEAK_UNKNOWN = sorted(set(HW_UNKNOWN.values()) | set(KJ_UNKNOWN.values()) | set(KT_UNKNOWN.values()))
HW_EN_PACKS = {'British': 'hw-british', 'Classic': 'hw-default', 'Default': 'hw-default',
               'HillBilly': 'hw-hillbilly', 'Mobster': 'hw-mobster', 'Pirate': 'hw-pirate', 'Robot': 'hw-robot',
               'Russian': 'hw-russian', 'Singer': 'hw-singer', 'Surfer': 'hw-surfer'}
HW_OTHER_PACKS = {'Default_es': 'hw-default-es', 'Default_pl': 'hw-default-pl', 'Default_ru': 'hw-default-ru',
                  'Default_uk': 'hw-default-ru', 'Russian_pl': 'hw-russian-pl'}
# Default, Classic and HillBilly are close by MFCC statistics: kept in one split everywhere.
KWS_RECORDED_SPLIT = {
    'train': ['hw-british', 'hw-default', 'hw-hillbilly', 'hw-mobster', 'hw-robot', 'kj-male1', 'kj-female1',
              'kt-en'],
    'validation': ['hw-pirate', 'hw-russian', 'kj-male2'],
    'test': ['hw-singer', 'hw-surfer', 'kj-female2'],
}
KWS_ESPEAK_SPLIT = {'validation': 10, 'test': 10}  # the rest train
KWS_ESPEAK_KEYWORDS = 5
KWS_ESPEAK_UNKNOWN = 1
KWS_HW_UNKNOWN = 6
KWS_MAX_LEN = 1.0
KWS_MAX_TEMPO = 1.5

SV_SPLIT = {
    'dev': ['hw-british', 'hw-default', 'hw-hillbilly', 'hw-mobster', 'hw-pirate', 'hw-robot', 'hw-russian',
            'hw-default-pl', 'hw-default-ru', 'hw-russian-pl', 'kj-male1', 'kj-male2', 'kj-female1',
            'fil-cs-v', 'fil-nl-m', 'fvx-nsh', 'gcin-3', 'kt-de', 'kt-el', 'kt-en', 'kt-gl'],
    'test': ['hw-singer', 'hw-surfer', 'hw-default-es', 'kj-female2', 'fil-cs-m', 'fil-nl-v', 'gcin-5', 'kt-sl',
             'kt-wa'],
}
SV_ESPEAK = {'dev': 9, 'test': 3}
SV_UTTS = 8
SV_MIN_LEN = 0.6
SV_MAX_LEN = 1.8

SEP_SPLIT = {
    'train-clean-100': ['ast-allison', 'ast-carlo', 'ast-menardi', 'fil-cs-v', 'fil-nl-m', 'fvx-nsh'],
    'dev-clean': ['ast-june', 'fil-cs-m'],
    'test-clean': ['ast-ru', 'fil-nl-v'],
}
SEP_ESPEAK = {'train-clean-100': 6, 'dev-clean': 2, 'test-clean': 2}
SEP_UTTS = {'train-clean-100': 7, 'dev-clean': 5, 'test-clean': 5}
SEP_MIXTURES = {'train-clean-100': 500, 'dev-clean': 80, 'test-clean': 80}
SEP_MIN_LEN = 1.5
SEP_MAX_LEN = 2.6

# (source folder, file id, package, path in package, start s, description, split)
NOISE_CLIP_LEN = 3.5
NOISES = [
    ('etw', 'crowd05', 'etw-data', 'usr/share/games/etw/crowd/crowd05.wav', 0.0, 'stadium crowd', 'train'),
    ('etw', 'crowd14', 'etw-data', 'usr/share/games/etw/crowd/crowd14.wav', 0.0, 'stadium crowd', 'test'),
    ('btanks', 'city', 'btanks-data', 'usr/share/games/btanks/data/sounds/ambient/city.ogg', 10.0, 'city ambience', 'train'),
    ('btanks', 'country', 'btanks-data', 'usr/share/games/btanks/data/sounds/ambient/country.ogg', 10.0, 'countryside ambience', 'train'),
    ('btanks', 'swamp', 'btanks-data', 'usr/share/games/btanks/data/sounds/ambient/swamp.ogg', 10.0, 'swamp ambience', 'test'),
    ('scorched3d', 'oceanwaves', 'scorched3d-data', 'usr/share/games/scorched3d/data/globalmods/none/data/wav/misc/oceanwaves.wav', 5.0, 'ocean waves', 'train'),
    ('scorched3d', 'rain', 'scorched3d-data', 'usr/share/games/scorched3d/data/globalmods/none/data/wav/misc/rain.wav', 2.0, 'rain', 'test'),
    ('scorched3d', 'frogs', 'scorched3d-data', 'usr/share/games/scorched3d/data/globalmods/none/data/wav/misc/frogs.wav', 5.0, 'frogs', 'train'),
    ('scorched3d', 'birds1', 'scorched3d-data', 'usr/share/games/scorched3d/data/globalmods/none/data/wav/misc/birds1.wav', 10.0, 'birds', 'train'),
    ('scorched3d', 'citysounds', 'scorched3d-data', 'usr/share/games/scorched3d/data/globalmods/apoc/data/wav/misc/citysounds.wav', 2.0, 'city traffic', 'train'),
    ('scorched3d', 'cheeringloop', 'scorched3d-data', 'usr/share/games/scorched3d/data/globalmods/apoc/data/wav/misc/cheeringloop.wav', 2.0, 'cheering crowd', 'test'),
    ('scorched3d', 'factoryloop1', 'scorched3d-data', 'usr/share/games/scorched3d/data/globalmods/apoc/data/wav/misc/factoryloop1.wav', 2.0, 'factory machinery', 'train'),
    ('sonicpi', 'vinyl_hiss', 'sonic-pi-samples', 'usr/share/sonic-pi/samples/vinyl_hiss.flac', 1.0, 'vinyl hiss', 'train'),
    ('sonicpi', 'ambi_sauna', 'sonic-pi-samples', 'usr/share/sonic-pi/samples/ambi_sauna.flac', 1.0, 'sauna ambience', 'test'),
    ('sonicpi', 'loop_3d_printer', 'sonic-pi-samples', 'usr/share/sonic-pi/samples/loop_3d_printer.flac', 1.0, '3D printer', 'train'),
    ('scratch', 'PartyNoise', 'scratch', 'usr/share/scratch/Media/Sounds/Human/PartyNoise.wav', 0.0, 'party babble', 'test'),
    ('scratch', 'Crickets', 'scratch', 'usr/share/scratch/Media/Sounds/Animal/Crickets.wav', 0.0, 'crickets', 'train'),
    ('scratch', 'CarPassing', 'scratch', 'usr/share/scratch/Media/Sounds/Effects/CarPassing.wav', 2.0, 'car passing', 'train'),
    ('bucklespring', 'typing0', 'bucklespring-data', 'usr/share/buckle/wav', 0.0, 'keyboard typing', 'train'),
    ('bucklespring', 'typing1', 'bucklespring-data', 'usr/share/buckle/wav', 0.0, 'keyboard typing', 'test'),
    ('sox', 'whitenoise', None, None, 0.0, 'white noise (sox synth)', 'train'),
    ('sox', 'pinknoise', None, None, 0.0, 'pink noise (sox synth)', 'test'),
    ('sox', 'brownnoise', None, None, 0.0, 'brown noise (sox synth)', 'train'),
]
# kws/_background_noise_: (file name, package, path, start s, duration s)
KWS_BACKGROUND = [
    ('white_noise.wav', None, 'whitenoise', 0.0, 6.0),
    ('pink_noise.wav', None, 'pinknoise', 0.0, 6.0),
    ('stadium_crowd.wav', 'etw-data', 'usr/share/games/etw/crowd/crowd01.wav', 0.0, 6.0),
    ('city_ambience.wav', 'btanks-data', 'usr/share/games/btanks/data/sounds/ambient/city.ogg', 30.0, 6.0),
    ('forest_ambience.wav', 'btanks-data', 'usr/share/games/btanks/data/sounds/ambient/forest.ogg', 20.0, 6.0),
    ('keyboard_typing.wav', 'bucklespring-data', 'usr/share/buckle/wav', 0.0, 6.0),
]

ENH_VALID_SPEAKERS = ['hw-pirate', 'kt-gl', 'fil-nl-m']
ENH_TRAIN_PER_UTT = 3
ENH_VALID_PER_UTT = 2
ENH_TEST_ITEMS = 20
ENH_TEST_SNRS = [0, 5, 10, 15, 20]
ENH_MIN_LEN = 1.0

SV_PHRASES = [
    'good morning everyone', 'see you later today', 'the train is late again', 'open the window please',
    'where did you put it', 'I like green apples', 'turn left at the bridge', 'the dog is asleep',
    'call me after lunch', 'it looks like rain', 'that was a good game', 'bring two more chairs',
    'we will be there soon', 'the coffee is too hot', 'close the door quietly', 'my brother plays chess',
]
SEP_SENTENCES = [
    'The old lighthouse keeper climbed the stairs every evening at dusk.',
    'She planted tomatoes and beans along the sunny side of the garden.',
    'Our neighbours painted their fence a bright shade of yellow.',
    'The children built a small raft from driftwood and rope.',
    'He forgot his umbrella on the bus and got soaked walking home.',
    'A quiet library is the best place to read on a rainy afternoon.',
    'The baker opens the shop before anyone else on the street is awake.',
    'We watched the storm roll in across the valley from the porch.',
    'Please remember to water the plants while I am away next week.',
    'The museum has a new exhibit about ships and ancient maps.',
    'My grandmother keeps her recipes in a worn blue notebook.',
    'The train to the coast leaves from platform four at noon.',
]


# --------------------------------------------------------------------------------------------------
# Utilities
# --------------------------------------------------------------------------------------------------

def rng(*parts):
    """A generator seeded by a string naming what it chooses (stable across runs and machines)."""
    return random.Random('/'.join(str(p) for p in parts))


def short_hash(text, n=8):
    return hashlib.sha1(text.encode()).hexdigest()[:n]


def video_id(text):
    """An 11-character YouTube-like id derived from text."""
    return base64.urlsafe_b64encode(hashlib.sha1(text.encode()).digest()).decode()[:11]


def run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, **kw)
    if res.returncode != 0:
        raise RuntimeError(f'command failed ({res.returncode}): {" ".join(map(str, cmd))}\n'
                           f'{res.stderr.decode(errors="replace")}')
    return res.stdout


class Cache:
    """Downloads pinned packages with apt-get and unpacks them with dpkg-deb."""

    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, 'debs'), exist_ok=True)
        os.makedirs(os.path.join(root, 'x'), exist_ok=True)

    def deb(self, name):
        version, sha = PACKAGES[name]
        debs = os.path.join(self.root, 'debs')
        quoted = version.replace(':', '%3a')
        found = [f for f in os.listdir(debs) if f.startswith(f'{name}_{quoted}_') and f.endswith('.deb')]
        if not found:
            print(f'  apt-get download {name}={version}', flush=True)
            run(['apt-get', 'download', f'{name}={version}'], cwd=debs)
            found = [f for f in os.listdir(debs) if f.startswith(f'{name}_{quoted}_') and f.endswith('.deb')]
            if not found:
                raise RuntimeError(f'apt-get download {name}={version} produced no .deb in {debs}')
        path = os.path.join(debs, found[0])
        with open(path, 'rb') as f:
            got = hashlib.sha256(f.read()).hexdigest()
        if got != sha:
            raise RuntimeError(f'{path}: sha256 {got} differs from the pinned {sha}')
        return path

    def pkg(self, name):
        """The folder where `name` is unpacked."""
        dest = os.path.join(self.root, 'x', name)
        marker = os.path.join(dest, '.unpacked-' + PACKAGES[name][0].replace(':', '_'))
        if not os.path.exists(marker):
            deb = self.deb(name)
            shutil.rmtree(dest, ignore_errors=True)
            os.makedirs(dest)
            run(['dpkg-deb', '-x', deb, dest])
            open(marker, 'w').close()
        return dest

    def path(self, name, rel):
        p = os.path.join(self.pkg(name), rel)
        if not os.path.exists(p):
            raise RuntimeError(f'{name} {PACKAGES[name][0]} has no {rel}')
        return p


def check_tools(allow_mismatch):
    problems = []
    for name, version in TOOLS.items():
        res = subprocess.run(['dpkg-query', '-W', '-f', '${Version}', name], capture_output=True)
        got = res.stdout.decode().strip() if res.returncode == 0 else 'not installed'
        if got != version:
            problems.append(f'{name}: installed {got}, pinned {version}')
    for lib in ['libpcaudio0', 'libsonic0']:
        if subprocess.run(['dpkg-query', '-W', lib], capture_output=True).returncode != 0:
            problems.append(f'{lib} (needed by espeak-ng) is not installed')
    if problems:
        msg = 'tool versions differ from the pinned ones; the output may not match CHECKSUMS.sha256:\n  ' + \
              '\n  '.join(problems)
        if not allow_mismatch:
            raise SystemExit(msg + '\n(pass --allow-version-mismatch to build anyway)')
        print('WARNING: ' + msg, file=sys.stderr)


# --------------------------------------------------------------------------------------------------
# Audio
# --------------------------------------------------------------------------------------------------

FRAME = 0.01  # seconds, for energy-based trimming


def decode(path, rate, effects=()):
    """Any file sox reads -> mono float64 at `rate` (sox: repeatable, no dither, very high quality)."""
    out = run(['sox', '-R', '-D', '-V1', path, '-t', 'raw', '-e', 'floating-point', '-b', '32', '-L', '-',
               'remix', '-', *effects, 'rate', '-v', str(rate)])
    x = np.frombuffer(out, dtype='<f4').astype(np.float64)
    if x.size == 0:
        raise RuntimeError(f'{path}: decoded to no samples')
    return x


def sox_filter(x, rate, effects):
    """Runs mono float audio through sox effects (e.g. tempo) and returns the result."""
    out = run(['sox', '-R', '-D', '-V1', '-t', 'raw', '-e', 'floating-point', '-b', '32', '-L', '-r', str(rate),
               '-c', '1', '-', '-t', 'raw', '-e', 'floating-point', '-b', '32', '-L', '-', *effects],
              input=x.astype('<f4').tobytes())
    return np.frombuffer(out, dtype='<f4').astype(np.float64)


def synth_noise(kind, rate, seconds):
    out = run(['sox', '-R', '-D', '-V1', '-n', '-t', 'raw', '-e', 'floating-point', '-b', '32', '-L', '-r',
               str(rate), '-c', '1', '-', 'synth', f'{seconds}', kind])
    return np.frombuffer(out, dtype='<f4').astype(np.float64)


def frame_rms(x, sr):
    n = int(round(FRAME * sr))
    m = len(x) // n
    if m == 0:
        return np.array([np.sqrt(np.mean(x ** 2))]), n
    f = x[:m * n].reshape(m, n)
    return np.sqrt(np.mean(f ** 2, axis=1)), n


def active_mask(x, sr, rel_db=-35.0, abs_db=-60.0):
    r, n = frame_rms(x, sr)
    thr = max(r.max() * 10 ** (rel_db / 20), 10 ** (abs_db / 20))
    return r > thr, n


def trim(x, sr, pad=0.05, rel_db=-35.0):
    """Cuts leading and trailing silence, keeping `pad` seconds of context each side."""
    x = x - x.mean()
    act, n = active_mask(x, sr, rel_db)
    idx = np.flatnonzero(act)
    if idx.size == 0:
        return x[:0]
    p = int(round(pad * sr))
    return x[max(0, idx[0] * n - p):min(len(x), (idx[-1] + 1) * n + p)]


def phrases(x, sr, min_gap=0.2, rel_db=-35.0):
    """Active regions separated by at least `min_gap` seconds of silence, as (start, end) samples."""
    act, n = active_mask(x, sr, rel_db)
    gap = int(round(min_gap / FRAME))
    out = []
    start = None
    silent = 0
    for i, a in enumerate(act):
        if a:
            if start is None:
                start = i
            silent = 0
            last = i
        elif start is not None:
            silent += 1
            if silent >= gap:
                out.append((start * n, (last + 1) * n))
                start = None
    if start is not None:
        out.append((start * n, (last + 1) * n))
    return out


def chunks(x, sr, min_len, max_len, pad=0.08):
    """Splits speech at pauses into pieces of min_len..max_len seconds (whole phrases only)."""
    x = x - x.mean()
    p = int(round(pad * sr))
    out = []
    cur = None
    for s, e in phrases(x, sr):
        if cur is not None and (e - cur[0]) / sr + 2 * pad <= max_len:
            cur = (cur[0], e)
            continue
        if cur is not None:
            out.append(cur)
        cur = (s, e)
    if cur is not None:
        out.append(cur)
    res = []
    for s, e in out:
        s, e = max(0, s - p), min(len(x), e + p)
        if min_len <= (e - s) / sr <= max_len:
            res.append(x[s:e])
    return res


def normalise(x, sr, target_db=-20.0, peak_db=-1.0):
    """Scales speech so that its active frames have RMS `target_db` dBFS, peaks at most `peak_db`."""
    x = x - x.mean()
    act, n = active_mask(x, sr)
    r, _ = frame_rms(x, sr)
    rms = np.sqrt(np.mean(r[act] ** 2)) if act.any() else np.sqrt(np.mean(x ** 2))
    if rms <= 0:
        raise RuntimeError('silent clip')
    gain = 10 ** (target_db / 20) / rms
    peak = np.abs(x).max() * gain
    if peak > 10 ** (peak_db / 20):
        gain *= 10 ** (peak_db / 20) / peak
    return x * gain


def normalise_rms(x, target_db, peak_db=-1.0):
    """Scales noise to an overall RMS of `target_db` dBFS, or less where peaks would pass `peak_db`."""
    x = x - x.mean()
    gain = 10 ** (target_db / 20) / np.sqrt(np.mean(x ** 2))
    peak = np.abs(x).max() * gain
    if peak > 10 ** (peak_db / 20):
        gain *= 10 ** (peak_db / 20) / peak
    return x * gain


def to_int16(x):
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype('<i2')


def from_int16(q):
    return q.astype(np.float64) / 32768.0


def write_wav(path, x, sr):
    """Writes 16-bit PCM mono; returns the samples as stored (float, int16-quantised)."""
    q = to_int16(x)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(q.tobytes())
    return from_int16(q)


def read_wav(path):
    with wave.open(path, 'rb') as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        return from_int16(np.frombuffer(w.readframes(w.getnframes()), dtype='<i2')), w.getframerate()


def rms_db(x):
    return 20 * np.log10(np.sqrt(np.mean(x ** 2)) + 1e-12)


class Espeak:
    """Runs the pinned espeak-ng from the cache."""

    def __init__(self, cache):
        self.bin = os.path.join(cache.pkg('espeak-ng'), 'usr/bin/espeak-ng')
        self.lib = os.path.join(cache.pkg('libespeak-ng1'), 'usr/lib/x86_64-linux-gnu')
        self.data = os.path.join(cache.pkg('espeak-ng-data'), 'usr/lib/x86_64-linux-gnu')
        self.voices = os.path.join(self.data, 'espeak-ng-data', 'voices', '!v')

    def render(self, variant, text, rate, speed=175, pitch=50):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, 'e.wav')
            run([self.bin, '--path=' + self.data, '-v', 'en-us+' + variant, '-s', str(speed), '-p', str(pitch),
                 '-w', out, text], env={**os.environ, 'LD_LIBRARY_PATH': self.lib})
            return decode(out, rate)

    def gender(self, variant):
        with open(os.path.join(self.voices, variant), encoding='latin-1') as f:
            for line in f:
                p = line.split('//')[0].split()
                if p and p[0] == 'gender' and len(p) > 1:
                    return {'male': 'm', 'female': 'f'}.get(p[1], 'u')
        return 'm'  # espeak's default voice is male


def pmap(fn, items, jobs):
    """Maps in parallel threads (the work is in subprocesses), keeping order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        return list(ex.map(fn, items))


# --------------------------------------------------------------------------------------------------
# Recorded sources
# --------------------------------------------------------------------------------------------------

HW_VOICES = 'usr/share/games/hedgewars/Data/Sounds/voices'


class Sources:
    def __init__(self, cache, jobs):
        self.cache = cache
        self.jobs = jobs
        self._bucklespring = None

    # hedgewars ------------------------------------------------------------------------------------
    def hw_packs(self, spk):
        packs = {**HW_EN_PACKS, **HW_OTHER_PACKS}
        return sorted(p for p, s in packs.items() if s == spk)

    def hw_file(self, pack, phrase):
        p = os.path.join(self.cache.pkg('hedgewars-data'), HW_VOICES, pack, phrase + '.ogg')
        return p if os.path.exists(p) else None

    def hw_phrases(self, pack):
        d = os.path.join(self.cache.pkg('hedgewars-data'), HW_VOICES, pack)
        return sorted(f[:-4] for f in os.listdir(d) if f.endswith('.ogg'))

    # candidate utterances: list of (session, source path, rel path in package, loader) ------------------
    def utterance_files(self, spk):
        """(session, package, path in package) for every source file of a recorded speaker, sorted."""
        pkg = RECORDED[spk][0]
        out = []
        if spk.startswith('hw-'):
            for pack in self.hw_packs(spk):
                for ph in self.hw_phrases(pack):
                    out.append((pack, 'hedgewars-data', f'{HW_VOICES}/{pack}/{ph}.ogg'))
        elif spk.startswith('kj-'):
            v = spk[3:]
            for sess, d in (('en', f'usr/share/kajongg/voices/{v}'), ('de', f'usr/share/kajongg/voices/de/{v}')):
                full = os.path.join(self.cache.pkg(pkg), d)
                out += [(sess, pkg, f'{d}/{f}') for f in sorted(os.listdir(full)) if f.endswith('.ogg')]
        elif spk.startswith('kt-'):
            d = f'usr/share/ktuberling/sounds/{spk[3:]}'
            full = os.path.join(self.cache.pkg(pkg), d)
            for f in sorted(os.listdir(full)):
                if f.endswith('.ogg'):
                    theme = f.split('_')[0] if '_' in f else 'body'
                    out.append((theme, pkg, f'{d}/{f}'))
        elif spk.startswith('ast-'):
            dirs = {'ast-allison': [('en', 'asterisk-core-sounds-en-wav', 'usr/share/asterisk/sounds/en_US_f_Allison'),
                                    ('es', 'asterisk-core-sounds-es-wav', 'usr/share/asterisk/sounds/es_MX_f_Allison')],
                    'ast-june': [('fr', pkg, 'usr/share/asterisk/sounds/fr_CA_f_June')],
                    'ast-carlo': [('it', pkg, 'usr/share/asterisk/sounds/it_IT_m_Carlo')],
                    'ast-ru': [('ru', pkg, 'usr/share/asterisk/sounds/ru_RU_f_IvrvoiceRU')],
                    'ast-menardi': [('it', pkg, 'usr/share/asterisk/sounds/it_IT_f_Menardi')]}[spk]
            for sess, p, d in dirs:
                full = os.path.join(self.cache.pkg(p), d)
                out += [(sess, p, f'{d}/{f}') for f in sorted(os.listdir(full)) if f.endswith('.wav')]
        elif spk.startswith('fil-'):
            _, lang, who = spk.split('-')
            root = 'usr/share/games/fillets-ng/sound'
            full = os.path.join(self.cache.pkg(pkg), root)
            for level in sorted(os.listdir(full)):
                d = os.path.join(full, level, lang)
                if not os.path.isdir(d):
                    continue
                for f in sorted(os.listdir(d)):
                    parts = f.split('-')
                    if f.endswith('.ogg') and len(parts) >= 3 and parts[1] == who:
                        out.append((level, pkg, f'{root}/{level}/{lang}/{f}'))
        elif spk == 'fvx-nsh':
            d = 'usr/share/festival/voices/russian/msu_ru_nsh_clunits/wav'
            full = os.path.join(self.cache.pkg(pkg), d)
            for f in sorted(os.listdir(full)):
                if f.endswith('.wav'):
                    out.append((f'part{int(f[3:7]) // 100}', pkg, f'{d}/{f}'))
        elif spk.startswith('gcin-'):
            d = 'usr/share/gcin-voice/ogg'
            full = os.path.join(self.cache.pkg(pkg), d)
            name = spk[5:] + '.ogg'
            for syl in sorted(os.listdir(full)):
                if os.path.exists(os.path.join(full, syl, name)):
                    out.append(('', pkg, f'{d}/{syl}/{name}'))
        else:
            raise KeyError(spk)
        return out

    def speech_pieces(self, spk, rate, min_len, max_len, count, purpose):
        """`count` utterances of a recorded speaker, each min_len..max_len s: list of (session, origin, x).

        Files are visited in a seeded order; long files are split at pauses; gcin syllables are
        joined four at a time into one utterance."""
        files = self.utterance_files(spk)
        order = list(range(len(files)))
        rng(purpose, spk).shuffle(order)
        out = []
        seen = set()
        if spk.startswith('gcin-'):
            r = rng(purpose, spk, 'syllables')
            for k in range(count):
                picks = [files[order[(4 * k + j) % len(order)]] for j in range(4)]
                parts = []
                for _, p, rel in picks:
                    parts.append(trim(decode(self.cache.path(p, rel), rate), rate, pad=0.02))
                    parts.append(np.zeros(int(0.06 * rate + r.random() * 0.06 * rate)))
                x = np.concatenate(parts[:-1])
                out.append(('ab'[k % 2], '+'.join(f'{p}:{rel}' for _, p, rel in picks), x))
            return out
        batch = max(8, count)
        i = 0
        while len(out) < count and i < len(order):
            todo = [files[j] for j in order[i:i + batch]]
            i += batch
            decoded = pmap(lambda f: decode(self.cache.path(f[1], f[2]), rate), todo, self.jobs)
            for (sess, p, rel), x in zip(todo, decoded):
                if len(out) >= count:
                    break
                key = hashlib.sha1(to_int16(x).tobytes()).hexdigest()
                if key in seen:  # the same recording shipped twice (e.g. Classic reuses Default's)
                    continue
                seen.add(key)
                t = trim(x, rate, pad=0.08)
                if min_len <= len(t) / rate <= max_len:
                    out.append((sess, f'{p}:{rel}', t))
                elif len(t) / rate > max_len:
                    for c in chunks(x, rate, min_len, max_len):
                        if len(out) < count:
                            out.append((sess, f'{p}:{rel}', c))
                        break  # one piece per file keeps utterances varied
        if len(out) < count:
            raise RuntimeError(f'{spk}: only {len(out)} utterances of {min_len}-{max_len} s, need {count}')
        return out

    def bucklespring_typing(self, rate, seconds, seed):
        """Keyboard typing: key press/release clicks at random human-like intervals."""
        d = self.cache.path('bucklespring-data', 'usr/share/buckle/wav')
        keys = sorted(f[:-6] for f in os.listdir(d) if f.endswith('-0.wav'))
        r = rng('bucklespring', seed)
        n = int(seconds * rate)
        out = np.zeros(n + rate)
        t = int(0.05 * rate)
        cache = {}
        while t < n:
            k = keys[r.randrange(len(keys))]
            for suffix, delay in (('-0', 0.0), ('-1', 0.06 + 0.06 * r.random())):
                f = os.path.join(d, k + suffix + '.wav')
                if not os.path.exists(f):
                    continue
                if f not in cache:
                    cache[f] = decode(f, rate)
                c = cache[f]
                s = t + int(delay * rate)
                e = min(len(out), s + len(c))
                out[s:e] += c[:e - s]
            t += int((0.08 + 0.25 * r.random() + (0.6 if r.random() < 0.08 else 0.0)) * rate)
        return out[:n]

    def noise(self, pkg, rel, start, seconds, rate, seed=''):
        if pkg is None:
            return synth_noise(rel, rate, seconds)
        if pkg == 'bucklespring-data':
            return self.bucklespring_typing(rate, seconds, seed)
        x = decode(self.cache.path(pkg, rel), rate)
        s = int(start * rate)
        n = int(seconds * rate)
        seg = x[s:s + n]
        while len(seg) < n:  # loop short recordings
            seg = np.concatenate([seg, x[:n - len(seg)]])
        return seg


# --------------------------------------------------------------------------------------------------
# Sets
# --------------------------------------------------------------------------------------------------

def espeak_split(name, split_sizes, pool):
    """Assigns espeak speakers to splits: a seeded shuffle of the pool, sliced in split order."""
    order = sorted(pool)
    rng(name, 'espeak-split').shuffle(order)
    out = {}
    i = 0
    for split, k in split_sizes.items():
        out[split] = sorted(order[i:i + k])
        i += k
    return out, order[i:]


def stats_entry():
    return {'files': 0, 'seconds': 0.0, 'speakers': set(), 'recorded_speakers': set(),
            'synthetic_speakers': set(), 'recorded_files': 0, 'synthetic_files': 0, 'classes': {}}


def add_stat(st, spk, seconds, cls=None):
    st['files'] += 1
    st['seconds'] += seconds
    st['speakers'].add(spk)
    kind = speaker_kind(spk)
    st[kind + '_speakers'].add(spk)
    st[kind + '_files'] += 1
    if cls is not None:
        st['classes'][cls] = st['classes'].get(cls, 0) + 1


def finish_stats(st):
    out = {'files': st['files'], 'seconds': round(st['seconds'], 2), 'speakers': len(st['speakers']),
           'recorded_speakers': sorted(st['recorded_speakers']),
           'synthetic_speakers': sorted(st['synthetic_speakers']),
           'recorded_files': st['recorded_files'], 'synthetic_files': st['synthetic_files']}
    if st['classes']:
        out['classes'] = dict(sorted(st['classes'].items()))
    return out


def build_kws(out, src, es, jobs):
    root = os.path.join(out, 'kws')
    espeak_by_split, espeak_train = espeak_split('kws', KWS_ESPEAK_SPLIT, ESPEAK_SPEAKERS)
    espeak_by_split['train'] = sorted(espeak_train)
    speaker_split = {}
    for split, spks in KWS_RECORDED_SPLIT.items():
        for s in spks:
            speaker_split[s] = split
    for split, vs in espeak_by_split.items():
        for v in vs:
            speaker_split[espeak_id(v)] = split

    # jobs: (speaker, word, loader)
    jobs_list = []
    for pack, spk in sorted(HW_EN_PACKS.items()):
        if spk not in speaker_split:
            continue
        for phrase in sorted(w.capitalize() for w in KWS_KEYWORDS):
            f = src.hw_file(pack, phrase)
            if f is None:  # HillBilly lacks some phrases
                continue
            jobs_list.append((spk, phrase.lower(), ('file', f, f'hedgewars-data:{HW_VOICES}/{pack}/{phrase}.ogg')))
        avail = [p for p in sorted(HW_UNKNOWN) if src.hw_file(pack, p)]
        for p in sorted(rng('kws', 'hw-unknown', pack).sample(avail, min(KWS_HW_UNKNOWN, len(avail)))):
            jobs_list.append((spk, HW_UNKNOWN[p], ('file', src.hw_file(pack, p),
                                                   f'hedgewars-data:{HW_VOICES}/{pack}/{p}.ogg')))
    for spk in ['kj-male1', 'kj-male2', 'kj-female1', 'kj-female2']:
        for f, word in sorted(KJ_UNKNOWN.items()):
            rel = f'usr/share/kajongg/voices/{spk[3:]}/{f}.ogg'
            jobs_list.append((spk, word, ('file', src.cache.path('kajongg', rel), f'kajongg:{rel}')))
    for f, word in sorted(KT_UNKNOWN.items()):
        rel = f'usr/share/ktuberling/sounds/en/{f}.ogg'
        jobs_list.append(('kt-en', word, ('file', src.cache.path('ktuberling-data', rel), f'ktuberling-data:{rel}')))
    for v in ESPEAK_SPEAKERS:
        r = rng('kws', 'espeak', v)
        words = r.sample(KWS_KEYWORDS, KWS_ESPEAK_KEYWORDS) + r.sample(ESPEAK_UNKNOWN, KWS_ESPEAK_UNKNOWN)
        for w in sorted(words):
            speed = r.randint(145, 195)
            pitch = r.randint(35, 65)
            jobs_list.append((espeak_id(v), w, ('espeak', v, w, speed, pitch)))

    def load(job):
        spk, word, how = job
        if how[0] == 'file':
            x = decode(how[1], KWS_RATE)
            origin = how[2]
        else:
            _, v, w, speed, pitch = how
            x = es.render(v, w, KWS_RATE, speed, pitch)
            origin = f'espeak-ng:en-us+{v} -s {speed} -p {pitch} "{w}"'
        x = trim(x, KWS_RATE, pad=0.06)
        dur = len(x) / KWS_RATE
        if dur > KWS_MAX_LEN:
            factor = dur / (KWS_MAX_LEN - 0.02)
            if factor > KWS_MAX_TEMPO:
                return None
            x = sox_filter(x, KWS_RATE, ['tempo', '-s', f'{factor:.4f}'])[:int(KWS_MAX_LEN * KWS_RATE)]
            origin += f' (tempo {factor:.3f})'
        return normalise(x, KWS_RATE), origin

    loaded = pmap(load, jobs_list, jobs)
    counters = {}
    stats = {s: stats_entry() for s in ('train', 'validation', 'test')}
    lists = {'validation': [], 'test': []}
    sources = []
    skipped = []
    duplicates = []
    seen = set()
    for (spk, word, how), res in zip(jobs_list, loaded):
        if res is None:
            skipped.append(f'{spk}/{word}')
            continue
        x, origin = res
        key = (spk, word, hashlib.sha1(to_int16(x).tobytes()).hexdigest())
        if key in seen:  # Classic ships some of Default's recordings unchanged
            duplicates.append(f'{spk}/{word}')
            continue
        seen.add(key)
        h = short_hash('slimspeech-kws/' + spk)
        n = counters.get((h, word), 0)
        counters[(h, word)] = n + 1
        rel = f'{word}/{h}_nohash_{n}.wav'
        stored = write_wav(os.path.join(root, rel), x, KWS_RATE)
        split = speaker_split[spk]
        add_stat(stats[split], spk, len(stored) / KWS_RATE, word if word in KWS_KEYWORDS else '_unknown_')
        if split != 'train':
            lists[split].append(rel)
        sources.append((rel, spk, origin))
    with open(os.path.join(root, 'validation_list.txt'), 'w') as f:
        f.writelines(r + '\n' for r in sorted(lists['validation']))
    with open(os.path.join(root, 'testing_list.txt'), 'w') as f:
        f.writelines(r + '\n' for r in sorted(lists['test']))

    bg = []
    for name, pkg, rel, start, seconds in KWS_BACKGROUND:
        x = src.noise(pkg, rel, start, seconds, KWS_RATE, seed='kws-' + name)
        write_wav(os.path.join(root, '_background_noise_', name), normalise_rms(x, -26.0), KWS_RATE)
        bg.append({'file': name, 'origin': f'{pkg}:{rel}' if pkg else f'sox synth {rel}', 'seconds': seconds})
    write_origins(os.path.join(root, 'SOURCES.csv'), ['path', 'speaker', 'origin'], sorted(sources))

    speakers = {spk: {'split': speaker_split[spk], 'kind': speaker_kind(spk),
                      'hash': short_hash('slimspeech-kws/' + spk)} for spk in sorted(speaker_split)}
    return {
        'layout': 'Speech Commands v2', 'sample_rate': KWS_RATE, 'keywords': KWS_KEYWORDS,
        'unknown_words': sorted(set(w for _, w, _ in jobs_list if w not in KWS_KEYWORDS)),
        'splits': {s: finish_stats(v) for s, v in stats.items()},
        'background_noise': bg, 'speakers': speakers, 'skipped_too_long': skipped,
        'skipped_duplicates': duplicates,
    }


def write_origins(path, header, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(header)
        w.writerows(rows)


def build_sv(out, src, es, jobs):
    root = os.path.join(out, 'sv')
    espeak_by_split, _ = espeak_split('sv', SV_ESPEAK, ESPEAK_SPEAKERS)
    split_of = {}
    for split, spks in SV_SPLIT.items():
        for s in spks:
            split_of[s] = split
    for split, vs in espeak_by_split.items():
        for v in vs:
            split_of[espeak_id(v)] = split
    # VoxCeleb1: test speakers id10270..id10309, dev speakers from id10001
    ids = {}
    for split, base in (('dev', 10001), ('test', 10270)):
        spks = sorted(s for s, sp in split_of.items() if sp == split)
        order = list(spks)
        rng('sv', 'ids', split).shuffle(order)
        for k, s in enumerate(order):
            ids[s] = f'id{base + k}'

    def utterances(spk):
        if spk.startswith('es-'):
            v = spk[3:].replace('_', ' ')
            r = rng('sv', 'espeak', v)
            texts = r.sample(SV_PHRASES, SV_UTTS)
            speeds = [r.randint(150, 175), r.randint(175, 200)]
            res = []
            for k, t in enumerate(texts):
                sess = k % 2
                x = trim(es.render(v, t, SV_RATE, speeds[sess], r.randint(40, 60)), SV_RATE, pad=0.08)
                res.append((f'session{sess}', f'espeak-ng:en-us+{v} -s {speeds[sess]} "{t}"', x))
            return res
        return src.speech_pieces(spk, SV_RATE, SV_MIN_LEN, SV_MAX_LEN, SV_UTTS, 'sv')

    spks = sorted(split_of)
    results = pmap(utterances, spks, max(1, jobs // 2))
    stats = {s: stats_entry() for s in ('dev', 'test')}
    files = {}
    sources = []
    for spk, utts in zip(spks, results):
        counters = {}
        files[spk] = []
        for sess, origin, x in utts:
            vid = video_id(f'slimspeech-sv/{spk}/{sess}')
            n = counters.get(vid, 0) + 1
            counters[vid] = n
            rel = f'{ids[spk]}/{vid}/{n:05d}.wav'
            stored = write_wav(os.path.join(root, 'wav', rel), normalise(x, SV_RATE), SV_RATE)
            files[spk].append(rel)
            add_stat(stats[split_of[spk]], spk, len(stored) / SV_RATE)
            sources.append((rel, spk, origin))
    write_origins(os.path.join(root, 'SOURCES.csv'), ['path', 'speaker', 'origin'], sorted(sources))

    # veri_test2.txt: every same-speaker pair of test utterances plus as many different-speaker pairs
    test_spks = sorted(s for s in spks if split_of[s] == 'test')
    trials = []
    for s in test_spks:
        fs = sorted(files[s])
        for i in range(len(fs)):
            for j in range(i + 1, len(fs)):
                trials.append((1, fs[i], fs[j]))
    n_target = len(trials)
    r = rng('sv', 'trials')
    all_test = sorted((f, s) for s in test_spks for f in files[s])
    nontarget = set()
    while len(nontarget) < n_target:
        (a, sa), (b, sb) = r.sample(all_test, 2)
        if sa != sb:
            nontarget.add((0, a, b))
    trials += sorted(nontarget)
    r.shuffle(trials)
    with open(os.path.join(root, 'veri_test2.txt'), 'w') as f:
        f.writelines(f'{l} {a} {b}\n' for l, a, b in trials)
    # iden_split.txt (1 train, 2 validation, 3 test) over dev speakers, as VoxCeleb1's identification split
    iden = []
    for s in sorted(spks, key=lambda s: ids[s]):
        if split_of[s] != 'dev':
            continue
        fs = sorted(files[s])
        order = list(range(len(fs)))
        rng('sv', 'iden', s).shuffle(order)
        for k, i in enumerate(order):
            iden.append((3 if k == 0 else 2 if k == 1 else 1, fs[i]))
    with open(os.path.join(root, 'iden_split.txt'), 'w') as f:
        f.writelines(f'{c} {p}\n' for c, p in sorted(iden, key=lambda t: t[1]))
    # vox1_meta.csv: tab-separated like VoxCeleb1's, plus the kind and origin of each voice
    with open(os.path.join(root, 'vox1_meta.csv'), 'w') as f:
        f.write('VoxCeleb1 ID\tVGGFace1 ID\tGender\tNationality\tSet\tKind\tSource\n')
        for s in sorted(spks, key=lambda s: ids[s]):
            if s.startswith('es-'):
                v = s[3:].replace('_', ' ')
                g, lang, desc = es.gender(v), 'en', f'espeak-ng en-us+{v}'
            else:
                _, g, lang, desc = RECORDED[s]
            f.write(f'{ids[s]}\t{s}\t{g}\t{lang}\t{split_of[s]}\t{speaker_kind(s)}\t{desc}\n')
    return {
        'layout': 'VoxCeleb1', 'sample_rate': SV_RATE,
        'splits': {s: finish_stats(v) for s, v in stats.items()},
        'trials': {'file': 'veri_test2.txt', 'target': n_target, 'nontarget': len(trials) - n_target},
        'speakers': {s: {'id': ids[s], 'split': split_of[s], 'kind': speaker_kind(s)} for s in spks},
    }, {s: (split_of[s], files[s]) for s in spks}


def build_noise(out, src):
    root = os.path.join(out, 'noise')
    counters = {}
    lists = {'train': [], 'test': []}
    entries = []
    stored = {}
    for source, fid, pkg, rel, start, desc, split in NOISES:
        n = counters.get(source, 0)
        counters[source] = n + 1
        relpath = f'noise/{source}/noise-{source}-{n:04d}.wav'  # relative to the MUSAN root noise/musan
        x = src.noise(pkg, rel if pkg else fid, start, NOISE_CLIP_LEN, NOISE_RATE, seed=f'noise-{fid}')
        stored[relpath] = write_wav(os.path.join(root, 'musan', relpath), normalise_rms(x, -26.0), NOISE_RATE)
        lists[split].append(relpath)
        entries.append({'path': relpath, 'origin': f'{pkg}:{rel}' if pkg else f'sox synth {fid}',
                        'start': start, 'seconds': NOISE_CLIP_LEN, 'description': desc, 'split': split})
    for split, items in lists.items():
        with open(os.path.join(root, f'{split}.lst'), 'w') as f:
            f.writelines(p + '\n' for p in sorted(items))
    write_origins(os.path.join(root, 'musan', 'SOURCES.csv'), ['path', 'origin', 'start_s', 'description', 'split'],
                  [(e['path'], e['origin'], e['start'], e['description'], e['split']) for e in entries])
    return {'layout': 'MUSAN noise (root noise/musan; lists relative to it)', 'sample_rate': NOISE_RATE,
            'splits': {s: {'files': len(v), 'seconds': len(v) * NOISE_CLIP_LEN} for s, v in lists.items()},
            'files': entries}, lists, stored


def build_sep(out, src, es, jobs, noise_lists, noise_audio):
    root = os.path.join(out, 'sep')
    espeak_by_split, _ = espeak_split('sep', SEP_ESPEAK, ESPEAK_SPEAKERS)
    split_of = {}
    for split, spks in SEP_SPLIT.items():
        for s in spks:
            split_of[s] = split
    for split, vs in espeak_by_split.items():
        for v in vs:
            split_of[espeak_id(v)] = split
    spks = sorted(split_of)
    order = list(spks)
    rng('sep', 'ids').shuffle(order)
    ids = {s: 1000 + 37 * k + rng('sep', 'id', s).randrange(30) for k, s in enumerate(order)}

    def utterances(spk):
        count = SEP_UTTS[split_of[spk]]
        if spk.startswith('es-'):
            v = spk[3:].replace('_', ' ')
            r = rng('sep', 'espeak', v)
            res = []
            for k, t in enumerate(r.sample(SEP_SENTENCES, count)):
                speed = r.randint(160, 200)
                x = trim(es.render(v, t, SEP_RATE, speed, r.randint(40, 60)), SEP_RATE, pad=0.08)
                if len(x) / SEP_RATE > SEP_MAX_LEN:
                    x = sox_filter(x, SEP_RATE, ['tempo', '-s', f'{len(x) / SEP_RATE / (SEP_MAX_LEN - 0.05):.4f}'])
                res.append((f'chapter{k % 2}', f'espeak-ng:en-us+{v} -s {speed} "{t}"', x))
            return res
        return src.speech_pieces(spk, SEP_RATE, SEP_MIN_LEN, SEP_MAX_LEN, count, 'sep')

    results = pmap(utterances, spks, max(1, jobs // 2))
    ls = os.path.join(root, 'LibriSpeech')
    stats = {s: stats_entry() for s in SEP_SPLIT}
    files = {}
    audio = {}
    sources = []
    minutes = {}
    for spk, utts in zip(spks, results):
        split = split_of[spk]
        counters = {}
        files[spk] = []
        chapters = {}
        for sess, origin, x in utts:
            if sess not in chapters:
                chapters[sess] = 100 + 50 * len(chapters) + rng('sep', 'chapter', spk, sess).randrange(50)
            ch = chapters[sess]
            n = counters.get(ch, 0)
            counters[ch] = n + 1
            rel = f'{split}/{ids[spk]}/{ch}/{ids[spk]}-{ch}-{n:04d}.wav'
            stored = write_wav(os.path.join(ls, rel), normalise(x, SEP_RATE), SEP_RATE)
            files[spk].append(rel)
            audio[rel] = stored
            add_stat(stats[split], spk, len(stored) / SEP_RATE)
            minutes[spk] = minutes.get(spk, 0.0) + len(stored) / SEP_RATE / 60
            sources.append((rel, spk, origin))
    write_origins(os.path.join(root, 'SOURCES.csv'), ['path', 'speaker', 'origin'], sorted(sources))
    with open(os.path.join(ls, 'SPEAKERS.TXT'), 'w') as f:
        f.write('; Speakers of the slimspeech sep set (LibriSpeech SPEAKERS.TXT format)\n')
        f.write(';ID  |SEX| SUBSET           |MINUTES| NAME\n')
        for s in sorted(spks, key=lambda s: ids[s]):
            g = es.gender(s[3:].replace('_', ' ')) if s.startswith('es-') else RECORDED[s][1]
            sex = {'m': 'M', 'f': 'F'}.get(g, 'U')
            f.write(f'{ids[s]:<5}| {sex} | {split_of[s]:<17}| {minutes[s]:5.2f} | {s}\n')

    # Libri2Mix metadata with gains (min mode): sources at random RMS levels, noise below them
    md = os.path.join(root, 'metadata', 'Libri2Mix')
    os.makedirs(md, exist_ok=True)
    noise8k = {}
    for p, x in noise_audio.items():
        noise8k[p] = sox_filter(x, NOISE_RATE, ['rate', '-v', str(SEP_RATE)])
    mix_stats = {}
    for split in SEP_SPLIT:
        r = rng('sep', 'mixtures', split)
        pool = sorted(s for s in spks if split_of[s] == split)
        noises = noise_lists['train' if split.startswith('train') else 'test']
        rows = []
        seen = set()
        while len(rows) < SEP_MIXTURES[split]:
            a, b = r.sample(pool, 2)
            fa, fb = r.choice(sorted(files[a])), r.choice(sorted(files[b]))
            mid = f'{os.path.basename(fa)[:-4]}_{os.path.basename(fb)[:-4]}'
            if mid in seen:
                continue
            seen.add(mid)
            nz = r.choice(sorted(noises))
            s1, s2, nx = audio[fa], audio[fb], noise8k[nz]
            n = min(len(s1), len(s2))
            g1 = 10 ** (r.uniform(-33, -25) / 20) / np.sqrt(np.mean(s1 ** 2))
            g2 = 10 ** (r.uniform(-33, -25) / 20) / np.sqrt(np.mean(s2 ** 2))
            gn = 10 ** (r.uniform(-38, -30) / 20) / np.sqrt(np.mean(nx ** 2))
            mix = s1[:n] * g1 + s2[:n] * g2 + nx[:n] * gn
            peak = np.abs(mix).max()
            if peak > 0.9:
                g1, g2, gn = (g * 0.9 / peak for g in (g1, g2, gn))
            rows.append((mid, fa, f'{g1:.6g}', fb, f'{g2:.6g}', nz, f'{gn:.6g}'))
        with open(os.path.join(md, f'libri2mix_{split}.csv'), 'w', newline='') as f:
            w = csv.writer(f, lineterminator='\n')
            w.writerow(['mixture_ID', 'source_1_path', 'source_1_gain', 'source_2_path', 'source_2_gain',
                        'noise_path', 'noise_gain'])
            w.writerows(rows)
        mix_stats[split] = len(rows)
    return {
        'layout': 'LibriSpeech-like sources (wav, not flac) + Libri2Mix metadata (min mode)',
        'sample_rate': SEP_RATE,
        'splits': {s: {**finish_stats(v), 'mixtures': mix_stats[s]} for s, v in stats.items()},
        'speakers': {s: {'id': ids[s], 'split': split_of[s], 'kind': speaker_kind(s)} for s in spks},
        'noise_root': 'noise/musan',
    }


def build_enh(out, sv_files, noise_lists, noise_audio):
    root = os.path.join(out, 'enh')
    sv_root = os.path.join(out, 'sv', 'wav')
    wideband = [s for s in sv_files if speaker_kind(s) == 'recorded']
    clean = {'train': [], 'valid': [], 'test': []}
    for s in sorted(wideband):
        split, fs = sv_files[s]
        target = 'test' if split == 'test' else 'valid' if s in ENH_VALID_SPEAKERS else 'train'
        for rel in sorted(fs):
            x, _ = read_wav(os.path.join(sv_root, rel))
            if len(x) / SV_RATE >= ENH_MIN_LEN:
                clean[target].append((rel, s, x))
    header = ['fileid', 'clean_path', 'noise_path', 'noise_offset', 'snr_db', 'target_level_db']
    stats = {}
    for split, per in (('train', ENH_TRAIN_PER_UTT), ('valid', ENH_VALID_PER_UTT)):
        r = rng('enh', split)
        noises = sorted(noise_lists['train'])
        rows = []
        st = stats_entry()
        for rel, spk, x in clean[split]:
            for k in range(per):
                nz = r.choice(noises)
                room = len(noise_audio[nz]) - len(x)
                off = round(r.uniform(0, max(0, room)) / SV_RATE, 3)
                rows.append((len(rows), rel, nz, f'{off:.3f}', f'{r.uniform(-5, 20):.1f}', str(r.randint(-35, -15))))
                add_stat(st, spk, len(x) / SV_RATE)
        write_origins(os.path.join(root, f'{split}.csv'), header, rows)
        stats[split] = {**finish_stats(st), 'clean_utterances': len(clean[split]), 'recipes': len(rows)}
    # synthetic test set, stored as DNS has it
    r = rng('enh', 'test')
    items = r.sample(clean['test'], min(ENH_TEST_ITEMS, len(clean['test'])))
    base = os.path.join(root, 'test_set', 'synthetic', 'no_reverb')
    rows = []
    st = stats_entry()
    for k, (rel, spk, x) in enumerate(items):
        nz = r.choice(sorted(noise_lists['test']))
        snr = ENH_TEST_SNRS[k % len(ENH_TEST_SNRS)]
        level = -25
        room = len(noise_audio[nz]) - len(x)
        off_s = round(r.uniform(0, max(0, room)) / SV_RATE, 3)
        noisy, cl = mix_at_snr(x, noise_audio[nz], int(round(off_s * SV_RATE)), snr, level)
        noisy_name = f'clnsp{k}_{nz.split("/")[1]}_snr{snr}_tl{level}_fileid_{k}.wav'
        write_wav(os.path.join(base, 'clean', f'clean_fileid_{k}.wav'), cl, SV_RATE)
        write_wav(os.path.join(base, 'noisy', noisy_name), noisy, SV_RATE)
        rows.append((k, rel, nz, f'{off_s:.3f}', f'{snr:.1f}', str(level), f'noisy/{noisy_name}'))
        add_stat(st, spk, len(x) / SV_RATE)
    write_origins(os.path.join(base, 'test.csv'), header + ['noisy_path'], rows)
    stats['test'] = {**finish_stats(st), 'items': len(rows)}
    return {'layout': 'DNS challenge (recipes over sv/wav and noise/, synthetic no_reverb test set)',
            'sample_rate': SV_RATE, 'clean_root': 'sv/wav', 'noise_root': 'noise/musan', 'splits': stats}


def mix_at_snr(clean, noise, offset, snr_db, target_level_db):
    """The DNS-style mixture the enh reader builds: clean at the target RMS level, the noise segment
    scaled to the SNR, both scaled down together if the mixture's peak would exceed 0.99."""
    n = len(clean)
    seg = noise[offset:offset + n]
    while len(seg) < n:
        seg = np.concatenate([seg, noise[:n - len(seg)]])
    c = clean * (10 ** (target_level_db / 20) / (np.sqrt(np.mean(clean ** 2)) + 1e-12))
    g = np.sqrt(np.mean(c ** 2)) / (np.sqrt(np.mean(seg ** 2)) + 1e-12) / 10 ** (snr_db / 20)
    noisy = c + seg * g
    peak = np.abs(noisy).max()
    if peak > 0.99:
        noisy, c = noisy * (0.99 / peak), c * (0.99 / peak)
    return noisy, c


def build_ssl(out):
    root = os.path.join(out, 'ssl')
    os.makedirs(root, exist_ok=True)
    lists = {'train': [], 'valid': []}
    kws_val = set(open(os.path.join(out, 'kws', 'validation_list.txt')).read().split())
    kws_test = set(open(os.path.join(out, 'kws', 'testing_list.txt')).read().split())
    kws = os.path.join(out, 'kws')
    for word in sorted(os.listdir(kws)):
        d = os.path.join(kws, word)
        if not os.path.isdir(d) or word.startswith('_'):
            continue
        for f in sorted(os.listdir(d)):
            rel = f'{word}/{f}'
            if rel in kws_test:
                continue
            n = wav_frames(os.path.join(d, f))
            lists['valid' if rel in kws_val else 'train'].append((f'kws/{rel}', n))
    sv_wav = os.path.join(out, 'sv', 'wav')
    dev_ids = set()
    for line in open(os.path.join(out, 'sv', 'vox1_meta.csv')).read().splitlines()[1:]:
        p = line.split('\t')
        if p[4] == 'dev':
            dev_ids.add(p[0])
    for spk in sorted(dev_ids):
        for dirpath, _, fs in sorted(os.walk(os.path.join(sv_wav, spk))):
            for f in sorted(fs):
                full = os.path.join(dirpath, f)
                lists['train'].append((os.path.relpath(full, out), wav_frames(full)))
    for split, rows in lists.items():
        with open(os.path.join(root, f'{split}.tsv'), 'w') as f:
            f.write('..\n')
            f.writelines(f'{p}\t{n}\n' for p, n in sorted(rows))
    return {'layout': 'fairseq manifest (first line: root relative to this folder; then path<TAB>samples)',
            'sample_rate': 16000,
            'splits': {s: {'files': len(v), 'seconds': round(sum(n for _, n in v) / 16000, 2)}
                       for s, v in lists.items()}}


def wav_frames(path):
    with wave.open(path, 'rb') as w:
        return w.getnframes()


# --------------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------------

GENERATED = ['kws', 'sv', 'sep', 'enh', 'noise', 'ssl', 'manifest.json', 'CHECKSUMS.sha256']


def checksums(out):
    rows = []
    for name in GENERATED:
        p = os.path.join(out, name)
        if name == 'CHECKSUMS.sha256':
            continue
        if os.path.isfile(p):
            rows.append(name)
        for dirpath, dirs, fs in os.walk(p):
            dirs.sort()
            for f in sorted(fs):
                rows.append(os.path.relpath(os.path.join(dirpath, f), out))
    lines = []
    for rel in sorted(rows):
        with open(os.path.join(out, rel), 'rb') as f:
            lines.append(f'{hashlib.sha256(f.read()).hexdigest()}  {rel}\n')
    with open(os.path.join(out, 'CHECKSUMS.sha256'), 'w') as f:
        f.writelines(lines)
    return len(lines)


def build(out, cache_dir, jobs):
    t0 = time.time()
    cache = Cache(cache_dir)
    for name in PACKAGES:
        cache.pkg(name)
    for name in GENERATED:
        p = os.path.join(out, name)
        if os.path.isdir(p):
            shutil.rmtree(p)
        elif os.path.exists(p):
            os.remove(p)
    os.makedirs(out, exist_ok=True)
    src = Sources(cache, jobs)
    es = Espeak(cache)
    manifest = {'generator': 'data/build/build.py',
                'packages': {k: v[0] for k, v in sorted(PACKAGES.items())}, 'tools': TOOLS}
    print('noise ...', flush=True)
    manifest['noise'], noise_lists, noise_audio = build_noise(out, src)
    print('kws ...', flush=True)
    manifest['kws'] = build_kws(out, src, es, jobs)
    print('sv ...', flush=True)
    manifest['sv'], sv_files = build_sv(out, src, es, jobs)
    print('sep ...', flush=True)
    manifest['sep'] = build_sep(out, src, es, jobs, noise_lists, noise_audio)
    print('enh ...', flush=True)
    manifest['enh'] = build_enh(out, sv_files, noise_lists, noise_audio)
    print('ssl ...', flush=True)
    manifest['ssl'] = build_ssl(out)
    sizes = {}
    for name in GENERATED[:6]:
        total = 0
        for dirpath, _, fs in os.walk(os.path.join(out, name)):
            total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in fs)
        sizes[name] = total
    manifest['bytes'] = sizes
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1, sort_keys=False)
        f.write('\n')
    n = checksums(out)
    print(f'wrote {n} files, {sum(sizes.values()) / 1e6:.2f} MB of sets, in {time.time() - t0:.0f} s', flush=True)


def analyse_espeak(cache_dir):
    """Clusters espeak-ng variants into speakers (see ESPEAK_SPEAKERS) and checks the pinned list."""
    es = Espeak(Cache(cache_dir))
    variants = sorted(os.listdir(es.voices))
    rate = 16000
    feats = []
    for v in variants:
        per = []
        for t in ESPEAK_ANALYSIS_TEXTS:
            c = mfcc(es.render(v, t, rate), rate)
            per.append(np.concatenate([c.mean(0), c.std(0)]))
        feats.append(per)
    F = np.array(feats)
    F = F / F.reshape(-1, F.shape[2]).std(0)
    M = F.mean(1)
    D = np.linalg.norm(M[:, None] - M[None], axis=2)
    keys = [formant_key(os.path.join(es.voices, v)) for v in variants]
    parent = list(range(len(variants)))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i
    for i in range(len(variants)):
        for j in range(i + 1, len(variants)):
            if D[i, j] < ESPEAK_CLUSTER_THRESHOLD or keys[i] == keys[j]:
                parent[find(i)] = find(j)
    clusters = {}
    for i, v in enumerate(variants):
        clusters.setdefault(find(i), []).append(v)
    groups = sorted(clusters.values())
    print(f'{len(variants)} variants, {len(groups)} speakers')
    ok = True
    for g in groups:
        chosen = [v for v in g if v in ESPEAK_SPEAKERS]
        print(('  ' if len(chosen) == 1 else '! ') + ', '.join(g) + (f'  -> {chosen}' if chosen else ''))
        ok &= len(chosen) == 1
    print('pinned list matches' if ok and len(ESPEAK_SPEAKERS) == len(groups) else 'pinned list does NOT match')


def formant_key(path):
    freqs, klatt = [], None
    with open(path, encoding='latin-1') as f:
        for line in f:
            p = line.split('//')[0].split()
            if p and p[0] == 'formant':
                freqs.append((int(p[1]), int(p[2])))
            if p and p[0] == 'klatt':
                klatt = p[1]
    return tuple(freqs), klatt


def mfcc(x, sr, n=20, n_mels=40):
    win, hop, nfft = int(0.025 * sr), int(0.01 * sr), 512
    if len(x) < win:
        x = np.pad(x, (0, win - len(x)))
    nf = 1 + (len(x) - win) // hop
    frames = x[np.arange(win)[None, :] + hop * np.arange(nf)[:, None]] * np.hanning(win)
    p = np.abs(np.fft.rfft(frames, nfft)) ** 2
    keep = p.sum(1) > p.sum(1).max() * 1e-3
    mel = lambda f: 2595 * np.log10(1 + f / 700)  # noqa: E731
    imel = lambda m: 700 * (10 ** (m / 2595) - 1)  # noqa: E731
    pts = imel(np.linspace(mel(60), mel(sr / 2 - 400), n_mels + 2))
    bins = np.fft.rfftfreq(nfft, 1 / sr)
    fb = np.array([np.clip(np.minimum((bins - l) / (c - l), (r - bins) / (r - c)), 0, None)
                   for l, c, r in zip(pts, pts[1:], pts[2:])])
    logmel = np.log(p[keep] @ fb.T + 1e-10)
    dct = np.cos(np.pi / n_mels * (np.arange(n_mels)[None, :] + 0.5) * np.arange(n_mels)[:, None])
    return (logmel @ dct.T)[:, 1:n]


def tree_hashes(out):
    res = {}
    for line in open(os.path.join(out, 'CHECKSUMS.sha256')):
        h, p = line.rstrip('\n').split('  ', 1)
        res[p] = h
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=DATA_DIR, help='output folder (default: %(default)s)')
    ap.add_argument('--cache', default=os.path.join(os.path.expanduser('~'), '.cache', 'slimspeech-data'),
                    help='where downloaded and unpacked packages are kept (default: %(default)s)')
    ap.add_argument('--jobs', type=int, default=os.cpu_count() or 1, help='parallel sox/espeak processes')
    ap.add_argument('--allow-version-mismatch', action='store_true',
                    help='build even if sox/numpy versions differ from the pinned ones')
    ap.add_argument('--verify-twice', action='store_true',
                    help='build twice into fresh temporary folders and compare every file')
    ap.add_argument('--analyse-espeak', action='store_true',
                    help='print the clustering of espeak-ng variants into distinct speakers and exit')
    args = ap.parse_args()
    check_tools(args.allow_version_mismatch)
    if args.analyse_espeak:
        analyse_espeak(args.cache)
        return
    if args.verify_twice:
        dirs = [tempfile.mkdtemp(prefix=f'slimspeech-data-{k}-') for k in range(2)]
        for d in dirs:
            build(d, args.cache, args.jobs)
        a, b = tree_hashes(dirs[0]), tree_hashes(dirs[1])
        diff = sorted(p for p in set(a) | set(b) if a.get(p) != b.get(p))
        if diff:
            raise SystemExit(f'builds differ in {len(diff)} files, e.g. {diff[:5]} ({dirs})')
        print(f'two builds are identical ({len(a)} files): {dirs}')
        return
    build(args.out, args.cache, args.jobs)


if __name__ == '__main__':
    main()
