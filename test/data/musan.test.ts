import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { MusanNoise } from '../../lib/data/musan';
import { tempTree, signal, writeClip, writeText } from './fixture_tree';

const tree = tempTree('musan');
after(tree.cleanup);
const root = path.join(tree.dir, 'musan');
const files = ['noise/free-sound/noise-free-sound-0000.wav', 'noise/free-sound/noise-free-sound-0001.wav', 'noise/sound-bible/noise-sound-bible-0000.wav'];
files.forEach((f, i) => writeClip(path.join(root, f), signal(1000 + i, 500 * (i + 1), 16000, 0.2), 16000));
writeClip(path.join(root, 'music', 'fma', 'music-fma-0000.wav'), signal(100, 100, 16000), 16000);

test('MusanNoise: every noise file (not music/speech), by source, or from a list', async () => {
  const all = new MusanNoise(root);
  assert.deepEqual(all.paths(), files);
  const it = await all.get(2);
  assert.equal(it.source, 'sound-bible');
  assert.equal(it.audio.length, 1002);
  assert.deepEqual(new MusanNoise(root, { sources: ['free-sound'] }).paths(), files.slice(0, 2));
  const list = path.join(tree.dir, 'test.lst');
  writeText(list, `${files[1]}\n${files[2]}\n`);
  assert.deepEqual(new MusanNoise(root, { list }).paths(), files.slice(1));
  assert.equal((await new MusanNoise(root, { sampleRate: 8000 }).get(0)).audio.length, 500);
});

test('MusanNoise: errors for a wrong layout, unknown source or bad list', () => {
  assert.throws(() => new MusanNoise(path.join(root, 'noise')), /noise\/noise does not exist \(MUSAN keeps noise in noise\/<source>\/noise-<source>-<nnnn>\.wav\)/);
  assert.throws(() => new MusanNoise(root, { sources: ['rain'] }), /no source folder noise\/rain \(found: free-sound, sound-bible\)/);
  const bad = path.join(tree.dir, 'bad.lst');
  writeText(bad, 'free-sound/x.wav\n');
  assert.throws(() => new MusanNoise(root, { list: bad }), /bad\.lst names 'free-sound\/x\.wav', expected noise\/<source>\/<file>\.wav/);
});
