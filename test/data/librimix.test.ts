import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Libri2Mix, Libri2MixRecipe, mixSignals } from '../../lib/data/librimix';
import { assertClose } from '../helpers';
import { tempTree, signal, writeClip, writeText } from './fixture_tree';

const tree = tempTree('librimix');
after(tree.cleanup);

// LibriSpeech-like sources (16 kHz) and a noise root, plus recipe metadata with gains.
const ls = path.join(tree.dir, 'LibriSpeech');
const noiseRoot = path.join(tree.dir, 'wham_noise');
const src = {
  'test-clean/61/70968/61-70968-0000.wav': signal(3200, 220, 16000, 0.4, 1),
  'test-clean/908/157963/908-157963-0001.wav': signal(2400, 330, 16000, 0.3, 2),
  'test-clean/61/70968/61-70968-0002.wav': signal(2000, 440, 16000, 0.5, 3),
};
for (const [rel, x] of Object.entries(src)) writeClip(path.join(ls, rel), x, 16000);
const noise = signal(1000, 1000, 16000, 0.2, 4);
writeClip(path.join(noiseRoot, 'tt', 'n1.wav'), noise, 16000);
const [p1, p2, p3] = Object.keys(src);
const md = path.join(tree.dir, 'libri2mix_test-clean.csv');
writeText(md, [
  'mixture_ID,source_1_path,source_1_gain,source_2_path,source_2_gain,noise_path,noise_gain',
  `m1,${p1},0.8,${p2},1.5,tt/n1.wav,0.25`,
  `m2,${p3},1.1,${p1},0.5,tt/n1.wav,2`,
].join('\n') + '\n');

function expectedMix(a: Float32Array, ga: number, b: Float32Array, gb: number, n?: Float32Array, gn = 0): Float32Array {
  const len = Math.min(a.length, b.length);
  return Float32Array.from({ length: len }, (_, i) => a[i] * ga + b[i] * gb + (n ? n[i % n.length] * gn : 0));
}

test('mixSignals: gains applied, min mode = shortest source, max mode zero-pads, noise repeats', () => {
  const a = Float32Array.from([1, 2, 3, 4]);
  const b = Float32Array.from([10, 20]);
  const min = mixSignals([a, b], [2, 0.5]);
  assert.deepEqual(Array.from(min.mixture), [7, 14]);
  assert.deepEqual(min.sources.map((s) => Array.from(s)), [[2, 4], [5, 10]]);
  const max = mixSignals([a, b], [1, 1], { signal: Float32Array.from([1, -1, 0.5]), gain: 2 }, { mode: 'max' });
  assert.deepEqual(Array.from(max.mixture), [13, 20, 4, 6]);
  assert.deepEqual(Array.from(max.noise as Float32Array), [2, -2, 1, 2]);
  assert.throws(() => mixSignals([a], [1, 2]), /1 sources but 2 gains/);
});

test('Libri2MixRecipe: the on-the-fly mixture equals the formula (gains, min length), clean and noisy', async () => {
  const clean = new Libri2MixRecipe(md, { librispeechRoot: ls, sampleRate: 16000 });
  assert.equal(clean.length, 2);
  assert.deepEqual(clean.ids(), ['m1', 'm2']);
  const m1 = await clean.get(0);
  assert.equal(m1.mixture.length, 2400, 'min mode: the shorter source');
  assertClose(m1.mixture, expectedMix(src[p1 as keyof typeof src], 0.8, src[p2 as keyof typeof src], 1.5), { atol: 1e-6, label: 'mix_clean' });
  assertClose(m1.sources[0], src[p1 as keyof typeof src].slice(0, 2400).map((v) => v * 0.8), { atol: 1e-7, label: 's1' });
  assert.equal(m1.noise, undefined);
  const both = new Libri2MixRecipe(md, { librispeechRoot: ls, noiseRoot, mixture: 'mix_both', sampleRate: 16000 });
  const m2 = await both.get(1);
  assert.equal(m2.mixture.length, 2000);
  assertClose(m2.mixture, expectedMix(src[p3 as keyof typeof src], 1.1, src[p1 as keyof typeof src], 0.5, noise, 2), { atol: 1e-6, label: 'mix_both' });
  const single = await new Libri2MixRecipe(md, { librispeechRoot: ls, noiseRoot, mixture: 'mix_single', sampleRate: 16000 }).get(0);
  assert.equal(single.sources.length, 1);
  assert.equal(single.mixture.length, 3200);
  const at8k = await new Libri2MixRecipe(md, { librispeechRoot: ls }).get(0);
  assert.equal(at8k.sampleRate, 8000);
  assert.equal(at8k.mixture.length, 1200, 'sources resampled to 8 kHz, then the min length');
});

test('Libri2MixRecipe: errors for a broken recipe', async () => {
  assert.throws(() => new Libri2MixRecipe(md, { librispeechRoot: path.join(tree.dir, 'nope') }), /LibriSpeech root .*\)|folder .*nope does not exist/);
  assert.throws(() => new Libri2MixRecipe(md, { librispeechRoot: ls, mixture: 'mix_both' }), /mixture 'mix_both' needs options\.noiseRoot/);
  const noGain = path.join(tree.dir, 'nogain.csv');
  writeText(noGain, `mixture_ID,source_1_path,source_2_path\nm,${p1},${p2}\n`);
  assert.throws(() => new Libri2MixRecipe(noGain, { librispeechRoot: ls }), /lacks column source_1_gain/);
  const badGain = path.join(tree.dir, 'badgain.csv');
  writeText(badGain, `mixture_ID,source_1_path,source_1_gain,source_2_path,source_2_gain\nm,${p1},loud,${p2},1\n`);
  assert.throws(() => new Libri2MixRecipe(badGain, { librispeechRoot: ls }), /badgain\.csv line 2: source_1_gain is 'loud', not a number/);
  const missing = path.join(tree.dir, 'missing.csv');
  writeText(missing, `mixture_ID,source_1_path,source_1_gain,source_2_path,source_2_gain\nm,${p1},1,test-clean/0/0/gone.wav,1\n`);
  await assert.rejects(new Libri2MixRecipe(missing, { librispeechRoot: ls }).get(0), /gone\.wav: cannot read the file/);
  assert.throws(() => new Libri2MixRecipe(path.join(tree.dir, 'none.csv'), { librispeechRoot: ls }), /none\.csv does not exist/);
});

// A generated tree whose metadata was written on another machine (absolute paths under /storage/...).
const l2m = path.join(tree.dir, 'Libri2Mix');
const gen = (sub: string, id: string): string => path.join(l2m, 'wav8k', 'min', 'test', sub, `${id}.wav`);
const ids = ['61-70968-0000_908-157963-0001', '908-157963-0001_61-70968-0002'];
const genAudio = ids.map((id, k) => {
  const s1 = signal(800 + 100 * k, 200, 8000, 0.3, k);
  const s2 = signal(800 + 100 * k, 300, 8000, 0.2, k + 5);
  const mix = Float32Array.from(s1, (v, i) => (Math.round((v + s2[i]) * 32768) + 0) / 32768);
  writeClip(gen('s1', id), s1, 8000);
  writeClip(gen('s2', id), s2, 8000);
  writeClip(gen('mix_clean', id), mix, 8000);
  return { s1, s2, mix };
});
const csvDir = path.join(l2m, 'wav8k', 'min', 'metadata');
writeText(path.join(csvDir, 'mixture_test_mix_clean.csv'), ['mixture_ID,mixture_path,source_1_path,source_2_path,length',
  ...ids.map((id, k) => `${id},/storage/Libri2Mix/wav8k/min/test/mix_clean/${id}.wav,/storage/Libri2Mix/wav8k/min/test/s1/${id}.wav,` +
    `/storage/Libri2Mix/wav8k/min/test/s2/${id}.wav,${800 + 100 * k}`)].join('\n') + '\n');

test('Libri2Mix: re-roots the absolute paths of the metadata onto the tree', async () => {
  const ds = new Libri2Mix(l2m, { split: 'test' });
  assert.equal(ds.length, 2);
  assert.deepEqual(ds.ids(), ids);
  for (let k = 0; k < 2; k++) {
    const it = await ds.get(k);
    assert.deepEqual(it.mixture, genAudio[k].mix);
    assert.deepEqual(it.sources, [genAudio[k].s1, genAudio[k].s2]);
    assert.equal(it.sampleRate, 8000);
  }
  const up = await new Libri2Mix(l2m, { split: 'test', resampleTo: 16000 }).get(0);
  assert.equal(up.mixture.length, 1600);
  assert.equal(up.sources[1].length, 1600);
});

test('Libri2Mix: without metadata, pairs mix_clean/<id>.wav with s1/, s2/; errors for a broken tree', async () => {
  const copy = path.join(tree.dir, 'Libri2Mix-nometa');
  fs.cpSync(l2m, copy, { recursive: true });
  fs.rmSync(path.join(copy, 'wav8k', 'min', 'metadata'), { recursive: true });
  const top = path.join(tree.dir, 'Libri2Mix-topmeta');
  fs.cpSync(copy, top, { recursive: true });
  writeText(path.join(top, 'metadata', 'mixture_test_mix_clean.csv'), 'mixture_ID,mixture_path,source_1_path,source_2_path,length\n' +
    `${ids[1]},C:\\data\\Libri2Mix\\wav8k\\min\\test\\mix_clean\\${ids[1]}.wav,/x/wav8k/min/test/s1/${ids[1]}.wav,/x/wav8k/min/test/s2/${ids[1]}.wav,900\n`);
  const fromTop = new Libri2Mix(top, { split: 'test' });
  assert.deepEqual(fromTop.ids(), [ids[1]], 'metadata/ at the top, Windows paths re-rooted too');
  assert.deepEqual((await fromTop.get(0)).mixture, genAudio[1].mix);
  const ds = new Libri2Mix(copy, { split: 'test' });
  assert.deepEqual(ds.ids(), [...ids].sort());
  assert.deepEqual((await ds.get(0)).sources[0], genAudio[0].s1);
  fs.rmSync(path.join(copy, 'wav8k', 'min', 'test', 's2', `${ids[1]}.wav`));
  assert.throws(() => new Libri2Mix(copy, { split: 'test' }), /has no source file .*s2\/908-157963-0001_61-70968-0002\.wav/);
  assert.throws(() => new Libri2Mix(copy, { split: 'dev' }), /found neither .*mixture_dev_mix_clean\.csv nor .*dev\/mix_clean\//);
  assert.throws(() => new Libri2Mix(copy, { sampleRate: 16000 }), /wav16k\/min does not exist \(LibriMix keeps min-mode audio at wav16k\/min\/<split>\/\)/);
  const wrongRate = path.join(tree.dir, 'Libri2Mix-rate');
  fs.cpSync(l2m, wrongRate, { recursive: true });
  writeClip(path.join(wrongRate, 'wav8k', 'min', 'test', 's1', `${ids[0]}.wav`), genAudio[0].s1, 16000);
  await assert.rejects(new Libri2Mix(wrongRate).get(0), /s1\/61-70968-0000_908-157963-0001\.wav: sample rate 16000 Hz, expected 8000 Hz/);
  const badCsv = path.join(tree.dir, 'Libri2Mix-bad');
  fs.cpSync(l2m, badCsv, { recursive: true });
  writeText(path.join(badCsv, 'wav8k', 'min', 'metadata', 'mixture_test_mix_clean.csv'), 'mixture_ID,mixture_path,source_1_path,source_2_path,length\nx,/elsewhere/x.wav,/a/s1.wav,/a/s2.wav,3\n');
  assert.throws(() => new Libri2Mix(badCsv), /line 2: mixture_path '\/elsewhere\/x\.wav' has no '\/wav8k\/' part to re-root/);
});
