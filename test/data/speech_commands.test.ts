import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SpeechCommands, speechCommandsSpeaker } from '../../lib/data/speech_commands';
import { batchIndices } from '../../lib/data/dataset';
import { tempTree, signal, writeClip, writeText } from './fixture_tree';

// A Speech Commands v2 tree: words yes/no/up/down by speakers aaaa0001..aaaa0004; aaaa0003 is the
// validation speaker, aaaa0004 the test speaker.
const tree = tempTree('sc');
after(tree.cleanup);
const root = path.join(tree.dir, 'speech_commands_v0.02');
const words = ['yes', 'no', 'up', 'down'];
const speakers = ['aaaa0001', 'aaaa0002', 'aaaa0003', 'aaaa0004'];
const clips = new Map<string, Float32Array>();
words.forEach((w, wi) => speakers.forEach((s, si) => {
  for (let n = 0; n < (si === 0 ? 2 : 1); n++) {
    const rel = `${w}/${s}_nohash_${n}.wav`;
    const x = signal(8000 + 400 * wi + 100 * si, 200 + 50 * wi, 16000, 0.3, si + n);
    clips.set(rel, x);
    writeClip(path.join(root, rel), x, 16000);
  }
}));
const listed = (s: string): string[] => [...clips.keys()].filter((r) => r.includes(s)).sort();
writeText(path.join(root, 'validation_list.txt'), listed('aaaa0003').join('\n') + '\n');
writeText(path.join(root, 'testing_list.txt'), listed('aaaa0004').join('\n') + '\n');
writeClip(path.join(root, '_background_noise_', 'white_noise.wav'), signal(48000, 1234, 16000, 0.5), 16000);
writeClip(path.join(root, '_background_noise_', 'hum.wav'), signal(40000, 50, 16000, 0.5), 16000);

test('SpeechCommands: splits follow the lists (train = the rest), every word folder a class by default', () => {
  const train = new SpeechCommands(root);
  const val = new SpeechCommands(root, { split: 'validation' });
  const tst = new SpeechCommands(root, { split: 'test' });
  assert.deepEqual(train.labels, ['down', 'no', 'up', 'yes']);
  assert.equal(train.length, 12);
  assert.equal(val.length, 4);
  assert.equal(tst.length, 4);
  assert.deepEqual(new Set(val.speakers()), new Set(['aaaa0003']));
  assert.deepEqual(new Set(tst.speakers()), new Set(['aaaa0004']));
  assert.deepEqual(new Set(train.speakers()), new Set(['aaaa0001', 'aaaa0002']));
  assert.deepEqual(val.paths(), listed('aaaa0003'), 'sorted by label, then path');
});

test('SpeechCommands: get reads the file at its rate, or resampled', async () => {
  const ds = new SpeechCommands(root, { split: 'test' });
  for (let i = 0; i < ds.length; i++) {
    const it = await ds.get(i);
    assert.deepEqual(it.audio, clips.get(it.path), it.path);
    assert.equal(it.label, it.path.split('/')[0]);
    assert.equal(ds.labels[it.labelIndex], it.label);
    assert.equal(it.speaker, 'aaaa0004');
  }
  await assert.rejects(new SpeechCommands(root, { split: 'test', fileRate: 8000 }).get(0), /down\/aaaa0004_nohash_0\.wav: sample rate 16000 Hz, expected 8000 Hz/);
  const low = await new SpeechCommands(root, { split: 'test', sampleRate: 8000, fileRate: 16000 }).get(0);
  assert.equal(low.sampleRate, 8000);
  assert.equal(low.audio.length, Math.ceil((clips.get(low.path) as Float32Array).length / 2));
});

test('SpeechCommands: keywords + _unknown_ + _silence_ crops of background noise, deterministic from the seed', async () => {
  const opts = { keywords: ['yes', 'no'], silence: 0.5, seed: 3 };
  const ds = new SpeechCommands(root, opts);
  assert.deepEqual(ds.labels, ['yes', 'no', '_unknown_', '_silence_']);
  const counts = ds.labelIndices().reduce((c, k) => { c[k] = (c[k] ?? 0) + 1; return c; }, [] as number[]);
  assert.deepEqual(counts, [3, 3, 6, 6], 'yes, no, unknown (up+down), silence = 0.5 * 12');
  const sil = await ds.get(ds.length - 1);
  assert.equal(sil.label, '_silence_');
  assert.equal(sil.audio.length, 16000);
  const [file, start] = sil.path.split('@');
  const noise = file.endsWith('white_noise.wav') ? signal(48000, 1234, 16000, 0.5) : signal(40000, 50, 16000, 0.5);
  const s0 = Number(start);
  let an = 0, nn = 0;
  for (let i = 0; i < 16000; i++) { an += sil.audio[i] * noise[s0 + i]; nn += noise[s0 + i] ** 2; }
  const ratio = an / nn;
  for (const i of [0, 100, 9999, 15999]) assert.ok(Math.abs(sil.audio[i] - noise[s0 + i] * ratio) < 1e-6, 'a scaled crop');
  assert.ok(ratio >= 0 && ratio < 1, `volume ${ratio}`);
  const again = await new SpeechCommands(root, opts).get(ds.length - 1);
  assert.equal(again.path, sil.path);
  assert.deepEqual(again.audio, sil.audio);
  const other = new SpeechCommands(root, { ...opts, seed: 4 });
  const paths = await Promise.all([0, 1, 2, 3, 4, 5].map(async (k) => (await other.get(other.length - 1 - k)).path));
  const mine = await Promise.all([0, 1, 2, 3, 4, 5].map(async (k) => (await ds.get(ds.length - 1 - k)).path));
  assert.notDeepEqual(paths, mine, 'another seed, other crops');
  const noUnknown = new SpeechCommands(root, { keywords: ['yes'], unknown: false, silence: 0 });
  assert.deepEqual(noUnknown.labels, ['yes']);
  assert.equal(noUnknown.length, 3);
  const fewer = new SpeechCommands(root, { keywords: ['yes', 'no'], unknownRatio: 0.5, silence: 0 });
  assert.equal(fewer.labelIndices().filter((k) => k === 2).length, 3);
});

test('SpeechCommands: shuffled batches are the same for the same seed', async () => {
  const ds = new SpeechCommands(root, { keywords: ['yes', 'no'] });
  const run = async (seed: number): Promise<string[]> => {
    const out: string[] = [];
    for await (const b of ds.batches({ batchSize: 4, shuffle: true, seed })) out.push(...b.map((x) => x.path.split('@')[0]));
    return out;
  };
  const a = await run(1);
  assert.deepEqual(a, await run(1));
  assert.deepEqual(a, batchIndices(ds.length, { batchSize: 4, shuffle: true, seed: 1 }).flat().map((i) => ds.paths()[i]));
});

test('SpeechCommands: clear errors for a broken layout', async () => {
  assert.throws(() => new SpeechCommands(path.join(tree.dir, 'nope')), /SpeechCommands\(.*nope\): folder .*nope does not exist/);
  const bare = path.join(tree.dir, 'bare');
  writeClip(path.join(bare, 'a_nohash_0.wav'), signal(100, 100, 16000), 16000);
  assert.throws(() => new SpeechCommands(bare), /validation_list\.txt does not exist \(Speech Commands v2 lists its validation files there\)/);
  writeText(path.join(bare, 'validation_list.txt'), '');
  writeText(path.join(bare, 'testing_list.txt'), '');
  assert.throws(() => new SpeechCommands(bare), /no <word>\/<file>\.wav files found; expected the Speech Commands layout/);
  assert.throws(() => new SpeechCommands(root, { keywords: ['left'] }), /keyword 'left' has no folder/);
  assert.throws(() => new SpeechCommands(root, { split: 'dev' as never }), /split must be 'train', 'validation' or 'test'/);
  const broken = path.join(tree.dir, 'broken');
  fs.cpSync(root, broken, { recursive: true });
  fs.writeFileSync(path.join(broken, 'yes', 'aaaa0001_nohash_0.wav'), 'not audio at all');
  const ds = new SpeechCommands(broken);
  const idx = ds.paths().indexOf('yes/aaaa0001_nohash_0.wav');
  await assert.rejects(ds.get(idx), /broken\/yes\/aaaa0001_nohash_0\.wav: not-wav/);
  fs.rmSync(path.join(broken, '_background_noise_'), { recursive: true });
  assert.throws(() => new SpeechCommands(broken, { keywords: ['yes'] }), /_background_noise_ does not exist \(silence items are cut from/);
});

test('speechCommandsSpeaker: the part before _nohash_', () => {
  assert.equal(speechCommandsSpeaker('0a7c2a8d_nohash_1.wav'), '0a7c2a8d');
  assert.equal(speechCommandsSpeaker('yes/0a7c2a8d_nohash_0.wav'), '0a7c2a8d');
  assert.equal(speechCommandsSpeaker('plain.wav'), 'plain');
});
