import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readTrials, VoxCeleb1 } from '../../lib/data/voxceleb';
import { tempTree, signal, writeClip, writeText } from './fixture_tree';

// wav/<speaker>/<video>/<nnnnn>.wav for dev speakers id10001, id10002 and test speakers id10270, id10271.
const tree = tempTree('vox');
after(tree.cleanup);
const root = path.join(tree.dir, 'voxceleb1');
const spk = ['id10001', 'id10002', 'id10270', 'id10271'];
const files: string[] = [];
spk.forEach((s, si) => ['AbCdEfGhIjK', 'x6uYqmx31kE'].forEach((v, vi) => [1, 2].forEach((n) => {
  const rel = `${s}/${v}/0000${n}.wav`;
  files.push(rel);
  writeClip(path.join(root, 'wav', rel), signal(4000 + 10 * files.length, 100 + 30 * si, 16000, 0.2, vi * 2 + n), 16000);
})));
writeText(path.join(root, 'vox1_meta.csv'), 'VoxCeleb1 ID\tVGGFace1 ID\tGender\tNationality\tSet\n' +
  spk.map((s, i) => `${s}\tname${i}\tm\tUSA\t${i < 2 ? 'dev' : 'test'}`).join('\n') + '\n');
writeText(path.join(root, 'veri_test2.txt'), [
  '1 id10270/AbCdEfGhIjK/00001.wav id10270/x6uYqmx31kE/00002.wav',
  '0 id10270/AbCdEfGhIjK/00001.wav id10271/x6uYqmx31kE/00001.wav',
].join('\n') + '\n');
writeText(path.join(root, 'iden_split.txt'), files.filter((f) => f.startsWith('id1000'))
  .map((f) => `${f.endsWith('00002.wav') && f.includes('x6u') ? 3 : f.endsWith('00002.wav') ? 2 : 1} ${f}`).join('\n') + '\n');

test('VoxCeleb1: indexes every utterance, sorted, with speaker indices', async () => {
  const ds = new VoxCeleb1(root);
  assert.equal(ds.length, 16);
  assert.deepEqual(ds.paths(), [...files].sort());
  assert.deepEqual(ds.speakerIds, spk);
  const it = await ds.get(5);
  assert.equal(it.path, ds.paths()[5]);
  assert.equal(it.speaker, it.path.split('/')[0]);
  assert.equal(ds.speakerIds[it.speakerIndex], it.speaker);
  assert.equal(it.audio.length, 4000 + 10 * (files.indexOf(it.path) + 1));
});

test('VoxCeleb1: dev/test from vox1_meta.csv, or from the trial list without it', () => {
  const dev = new VoxCeleb1(root, { split: 'dev' });
  const tst = new VoxCeleb1(root, { split: 'test' });
  assert.deepEqual(dev.speakerIds, ['id10001', 'id10002']);
  assert.deepEqual(tst.speakerIds, ['id10270', 'id10271']);
  const noMeta = path.join(tree.dir, 'nometa');
  fs.cpSync(root, noMeta, { recursive: true });
  fs.rmSync(path.join(noMeta, 'vox1_meta.csv'));
  assert.deepEqual(new VoxCeleb1(noMeta, { split: 'test' }).speakerIds, ['id10270', 'id10271']);
  fs.rmSync(path.join(noMeta, 'veri_test2.txt'));
  assert.throws(() => new VoxCeleb1(noMeta, { split: 'dev' }), /split 'dev' needs .*vox1_meta\.csv \(column Set\) or a trial list/);
});

test('VoxCeleb1: identification parts from iden_split.txt', () => {
  const parts = [1, 2, 3].map((p) => new VoxCeleb1(root, { identification: p as 1 | 2 | 3 }).paths());
  assert.deepEqual(parts.map((p) => p.length), [4, 2, 2]);
  assert.deepEqual(parts.flat().sort(), files.filter((f) => f.startsWith('id1000')).sort());
  assert.ok(parts[2].every((f) => f.includes('x6u') && f.endsWith('00002.wav')));
});

test('readTrials: labels and paths; the trials load through VoxCeleb1.load', async () => {
  const trials = readTrials(path.join(root, 'veri_test2.txt'));
  assert.deepEqual(trials[1], { label: 0, enrol: 'id10270/AbCdEfGhIjK/00001.wav', test: 'id10271/x6uYqmx31kE/00001.wav' });
  const ds = new VoxCeleb1(root, { split: 'test' });
  const a = await ds.load(trials[0].enrol);
  assert.equal(a.speaker, 'id10270');
  assert.equal(a.sampleRate, 16000);
  const bad = path.join(tree.dir, 'bad_trials.txt');
  writeText(bad, '1 a.wav b.wav\n2 a.wav b.wav\n');
  assert.throws(() => readTrials(bad), /bad_trials\.txt\): line 2 is '2 a\.wav b\.wav', expected 'label enrol test'/);
});

test('VoxCeleb1: errors name the layout problem', () => {
  const empty = path.join(tree.dir, 'empty');
  fs.mkdirSync(empty);
  assert.throws(() => new VoxCeleb1(empty), /wav does not exist \(VoxCeleb1 keeps audio in wav\/<speaker>\/<video>\/<nnnnn>\.wav\)/);
  fs.mkdirSync(path.join(empty, 'wav', 'id1', 'flat'), { recursive: true });
  assert.throws(() => new VoxCeleb1(empty), /no utterances found/);
  assert.throws(() => new VoxCeleb1(empty, { identification: 1 }), /iden_split\.txt does not exist/);
});
