// Checks the embedded sets in data/ themselves: checksums, budget, formats, counts against the manifest,
// speaker-disjoint splits, recorded voices in every test split, and that the readers open them.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { embedded, embeddedDataDir, embeddedManifest, EMBEDDED_NAMES } from '../../lib/data/embedded';
import { readTable } from '../../lib/data/files';
import { DnsRecipes } from '../../lib/data/dns';
import { readWav } from '../../lib/audio/wav';

const DATA = embeddedDataDir();
const manifest = embeddedManifest();

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : [p];
  });
}

function intersect<T>(a: Iterable<T>, b: Set<T>): T[] {
  return [...a].filter((x) => b.has(x));
}

test('data/: every file matches CHECKSUMS.sha256, and every built file is listed', () => {
  const lines = fs.readFileSync(path.join(DATA, 'CHECKSUMS.sha256'), 'utf8').trim().split('\n');
  const listed = new Map(lines.map((l) => { const [h, p] = l.split(/ {2}/); return [p, h]; }));
  assert.ok(listed.size > 1000, `${listed.size} files listed`);
  for (const [rel, hash] of listed) {
    const got = crypto.createHash('sha256').update(fs.readFileSync(path.join(DATA, rel))).digest('hex');
    assert.equal(got, hash, `${rel} differs from CHECKSUMS.sha256 (rebuild with data/build/build.py)`);
  }
  const built = ['kws', 'sv', 'sep', 'enh', 'noise', 'ssl'].flatMap((d) => walk(path.join(DATA, d)))
    .map((p) => path.relative(DATA, p).split(path.sep).join('/'));
  assert.deepEqual(built.filter((p) => !listed.has(p)), [], 'files not in CHECKSUMS.sha256');
});

test('data/: at most 40 MB in all', () => {
  const bytes = walk(DATA).reduce((s, f) => s + fs.statSync(f).size, 0);
  assert.ok(bytes <= 40e6, `data/ holds ${(bytes / 1e6).toFixed(2)} MB`);
  const sets = Object.values(manifest.bytes as Record<string, number>).reduce((a, b) => a + b, 0);
  assert.ok(sets <= bytes && sets > 20e6, `the sets hold ${(sets / 1e6).toFixed(2)} MB`);
});

test('data/: every WAV is 16-bit PCM mono at its set\'s rate', () => {
  const rates: Record<string, number> = { kws: 16000, sv: 16000, sep: 8000, enh: 16000, noise: 16000 };
  for (const [set, rate] of Object.entries(rates)) {
    for (const f of walk(path.join(DATA, set)).filter((p) => p.endsWith('.wav'))) {
      const w = readWav(f);
      assert.ok(w.sampleRate === rate && w.numChannels === 1 && w.bitsPerSample === 16 && w.encoding === 'pcm',
        `${f}: ${w.sampleRate} Hz, ${w.numChannels} channels, ${w.bitsPerSample}-bit ${w.encoding}`);
    }
  }
});

test("embedded('kws'): >= 10 keywords, >= 60 speakers, splits disjoint by speaker, recorded voices in every split", async () => {
  const kws = embedded('kws');
  assert.ok(kws.keywords.length >= 10);
  assert.deepEqual(kws.labels, [...kws.keywords, '_unknown_', '_silence_']);
  const m = manifest.kws;
  const recorded = new Map<string, Set<string>>();
  for (const s of Object.values(m.speakers as Record<string, { split: string; kind: string; hash: string }>)) {
    if (s.kind === 'recorded') {
      if (!recorded.has(s.split)) recorded.set(s.split, new Set());
      recorded.get(s.split)?.add(s.hash);
    }
  }
  const speakers: Record<string, Set<string>> = {};
  for (const split of ['train', 'validation', 'test'] as const) {
    const ds = kws[split];
    const words = ds.labelIndices().filter((k) => kws.labels[k] !== '_silence_').length;
    assert.equal(words, m.splits[split].files, `${split}: word items`);
    speakers[split] = new Set(ds.speakers().filter((s) => s !== ''));
    assert.ok(intersect(speakers[split], recorded.get(split) ?? new Set()).length >= 2, `${split} holds recorded voices`);
    for (let k = 0; k < kws.keywords.length; k++) assert.ok(ds.labelIndices().includes(k), `${split} has '${kws.keywords[k]}'`);
  }
  assert.deepEqual(intersect(speakers.train, speakers.validation), []);
  assert.deepEqual(intersect(speakers.train, speakers.test), []);
  assert.deepEqual(intersect(speakers.validation, speakers.test), []);
  assert.ok(speakers.train.size + speakers.validation.size + speakers.test.size >= 60);
  const item = await kws.test.get(0);
  assert.equal(item.sampleRate, 16000);
  assert.ok(item.audio.length <= 16000, 'clips last at most 1 s');
  const silence = await kws.train.get(kws.train.length - 1);
  assert.equal(silence.label, '_silence_');
});

test("embedded('sv'): >= 40 speakers with >= 8 utterances, dev/test disjoint, trials over recorded and synthetic test voices", async () => {
  const sv = embedded('sv');
  const perSpeaker = new Map<string, number>();
  for (const p of [...sv.train.paths(), ...sv.test.paths()]) perSpeaker.set(p.split('/')[0], (perSpeaker.get(p.split('/')[0]) ?? 0) + 1);
  assert.ok([...perSpeaker.values()].filter((n) => n >= 8).length >= 40, `${perSpeaker.size} speakers`);
  assert.deepEqual(intersect(sv.train.speakerIds, new Set(sv.test.speakerIds)), []);
  const testFiles = new Set(sv.test.paths());
  assert.ok(sv.trials.length > 100);
  for (const t of sv.trials) {
    assert.ok(testFiles.has(t.enrol) && testFiles.has(t.test), `trial ${t.enrol} ${t.test} uses test utterances`);
    assert.equal(t.label, t.enrol.split('/')[0] === t.test.split('/')[0] ? 1 : 0);
  }
  const targets = sv.trials.filter((t) => t.label === 1).length;
  assert.ok(targets > 0 && targets < sv.trials.length);
  const meta = readTable(path.join(sv.root, 'vox1_meta.csv'), 'test', ['VoxCeleb1 ID', 'Set', 'Kind'], '\t').rows;
  const testKinds = new Set(meta.filter((r) => r['Set'] === 'test').map((r) => r['Kind']));
  assert.deepEqual([...testKinds].sort(), ['recorded', 'synthetic']);
  assert.deepEqual(meta.filter((r) => r['Set'] === 'test').map((r) => r['VoxCeleb1 ID']).sort(), sv.test.speakerIds);
  const ids = sv.identification;
  assert.equal(ids.train.length + ids.validation.length + ids.test.length, sv.train.length);
  assert.deepEqual(ids.test.speakerIds, sv.train.speakerIds, 'every dev speaker has a test utterance');
  const u = await sv.test.get(0);
  assert.equal(u.sampleRate, 16000);
});

test("embedded('sep'): 8 kHz, splits disjoint by speaker, mixtures of two different speakers, recorded voices in test", async () => {
  const sep = embedded('sep', { mixture: 'mix_both' });
  const m = manifest.sep;
  const speakersOf = (split: string): Set<string> => {
    const t = readTable(path.join(sep.root, 'metadata', 'Libri2Mix', `libri2mix_${split}.csv`), 'test', ['source_1_path', 'source_2_path']);
    const out = new Set<string>();
    for (const r of t.rows) {
      const [a, b] = [r['source_1_path'], r['source_2_path']].map((p) => p.split('/'));
      assert.equal(a[0], split);
      assert.equal(b[0], split);
      assert.notEqual(a[1], b[1], `${r['mixture_ID']} mixes one speaker with itself`);
      out.add(a[1]);
      out.add(b[1]);
    }
    return out;
  };
  const spk = { train: speakersOf('train-clean-100'), dev: speakersOf('dev-clean'), test: speakersOf('test-clean') };
  assert.deepEqual(intersect(spk.train, spk.dev), []);
  assert.deepEqual(intersect(spk.train, spk.test), []);
  assert.deepEqual(intersect(spk.dev, spk.test), []);
  const recordedTest = Object.values(m.speakers as Record<string, { id: number; split: string; kind: string }>)
    .filter((s) => s.split === 'test-clean' && s.kind === 'recorded').map((s) => String(s.id));
  assert.ok(intersect(recordedTest, spk.test).length >= 2, 'recorded voices in the test mixtures');
  assert.equal(sep.train.length, m.splits['train-clean-100'].mixtures);
  const it = await sep.test.get(0);
  assert.equal(it.sampleRate, 8000);
  assert.equal(it.sources.length, 2);
  assert.ok(it.noise !== undefined);
  let worst = 0;
  for (let i = 0; i < it.mixture.length; i++) worst = Math.max(worst, Math.abs(it.mixture[i] - it.sources[0][i] - it.sources[1][i] - (it.noise as Float32Array)[i]));
  assert.ok(worst < 1e-6, 'mixture = s1 + s2 + noise');
});

test("embedded('enh'): train/valid/test disjoint by speaker and test noises unseen; the stored test set equals its recipe", async () => {
  const enh = embedded('enh');
  const speaker = (p: string): string => p.split('/')[0];
  const testCsv = path.join(enh.root, 'test_set', 'synthetic', 'no_reverb', 'test.csv');
  const testRecipe = new DnsRecipes(testCsv, { cleanRoot: path.join(DATA, 'sv', 'wav'), noiseRoot: path.join(DATA, 'noise', 'musan') });
  const spk = { train: new Set(enh.train.cleanPaths().map(speaker)), valid: new Set(enh.valid.cleanPaths().map(speaker)), test: new Set(testRecipe.cleanPaths().map(speaker)) };
  assert.deepEqual(intersect(spk.train, spk.valid), []);
  assert.deepEqual(intersect(spk.train, spk.test), []);
  assert.deepEqual(intersect(spk.valid, spk.test), []);
  const noises = (csv: string): Set<string> => new Set(readTable(csv, 'test', ['noise_path']).rows.map((r) => r['noise_path']));
  assert.deepEqual(intersect(noises(path.join(enh.root, 'train.csv')), noises(testCsv)), []);
  assert.equal(enh.test.length, testRecipe.length);
  for (const k of [0, enh.test.length - 1]) {
    const [stored, rebuilt] = [await enh.test.get(k), await testRecipe.get(k)];
    assert.equal(stored.fileid, rebuilt.fileid);
    let worst = 0;
    for (let i = 0; i < stored.noisy.length; i++) {
      worst = Math.max(worst, Math.abs(stored.noisy[i] - rebuilt.noisy[i]), Math.abs(stored.clean[i] - rebuilt.clean[i]));
    }
    assert.ok(worst <= 1.01 / 32768, `fileid ${k}: stored and recomputed differ by ${worst}`);
  }
  const tr = await enh.train.get(0);
  assert.equal(tr.noisy.length, tr.clean.length);
});

test("embedded('noise') and embedded('ssl'): disjoint noise splits; SSL lists hold no test audio", async () => {
  const noise = embedded('noise');
  assert.deepEqual(intersect(noise.train.paths(), new Set(noise.test.paths())), []);
  assert.ok(noise.train.length >= 10 && noise.test.length >= 5);
  assert.ok(new Set(noise.test.paths().map((p) => p.split('/')[1])).size >= 4, 'test noise from several sources');
  const ssl = embedded('ssl');
  const kwsTest = new Set(fs.readFileSync(path.join(DATA, 'kws', 'testing_list.txt'), 'utf8').trim().split('\n').map((p) => `kws/${p}`));
  const svTest = new Set(embedded('sv').test.speakerIds);
  for (const p of [...ssl.train.paths(), ...ssl.valid.paths()]) {
    assert.ok(!kwsTest.has(p), `${p} is a kws test file`);
    assert.ok(!(p.startsWith('sv/') && svTest.has(p.split('/')[2])), `${p} is an sv test utterance`);
    assert.ok(fs.existsSync(path.join(ssl.train.root, p)), `${p} exists`);
  }
  assert.equal((await ssl.train.get(0)).sampleRate, 16000);
});

test('embedded: unknown names are rejected; every name opens', () => {
  assert.throws(() => embedded('asr' as never), /unknown set 'asr'/);
  for (const name of EMBEDDED_NAMES) assert.equal(embedded(name).name, name);
  assert.throws(() => embedded('kws', { dataDir: path.join(DATA, 'nope') }), /manifest\.json does not exist|kws does not exist/);
});
