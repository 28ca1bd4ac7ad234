import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { AudioList } from '../../lib/data/audio_list';
import { tempTree, signal, writeClip, writeText } from './fixture_tree';

const tree = tempTree('audiolist');
after(tree.cleanup);
const a = signal(1600, 300, 16000, 0.3, 1);
const b = signal(800, 200, 8000, 0.3, 2);
writeClip(path.join(tree.dir, 'audio', 'a.wav'), a, 16000);
writeClip(path.join(tree.dir, 'audio', 'sub', 'b.wav'), b, 8000);

test('AudioList: a fairseq manifest with a root relative to its folder; audio resampled to the rate asked', async () => {
  const tsv = path.join(tree.dir, 'lists', 'train.tsv');
  writeText(tsv, '../audio\na.wav\t1600\nsub/b.wav\t800\n');
  const ds = new AudioList(tsv);
  assert.equal(ds.root, path.join(tree.dir, 'audio'));
  assert.deepEqual(ds.paths(), ['a.wav', 'sub/b.wav']);
  assert.deepEqual(ds.lengths(), [1600, 800]);
  assert.deepEqual((await ds.get(0)).audio, a);
  const up = await ds.get(1);
  assert.equal(up.sampleRate, 16000);
  assert.equal(up.audio.length, 1600);
});

test('AudioList: errors name the manifest and the line', () => {
  const bad = path.join(tree.dir, 'bad.tsv');
  writeText(bad, 'audio\na.wav 1600\n');
  assert.throws(() => new AudioList(bad), /bad\.tsv\): line 2 is 'a\.wav 1600', expected '<path>\\t<number of samples>'/);
  const gone = path.join(tree.dir, 'gone.tsv');
  writeText(gone, 'nowhere\na.wav\t1\n');
  assert.throws(() => new AudioList(gone), /nowhere does not exist \(the root named on the first line\)/);
  const out = path.join(tree.dir, 'out.tsv');
  writeText(out, 'audio\n../../x.wav\t1\n');
  assert.throws(() => new AudioList(out), /points outside/);
});
