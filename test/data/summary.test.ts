// summarizeEmbedded against data/manifest.json, which data/build/build.py (Python) wrote independently
// of the TypeScript readers: split, speaker and class counts, recorded vs synthetic, and consistency.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { embedded, embeddedDataDir, embeddedManifest, EMBEDDED_NAMES } from '../../lib/data/embedded';
import { summarizeEmbedded, EmbeddedSummary } from '../../lib/data/summary';
import { tempTree } from './fixture_tree';

const manifest = embeddedManifest();

/** The manifest's numbers of one split, in the summary's column names. */
function expected(set: string, split: string): Record<string, number> {
  const m = manifest[set].splits[split];
  return {
    speakers: m.speakers, recordedSpeakers: m.recorded_speakers.length, syntheticSpeakers: m.synthetic_speakers.length,
    recordedItems: m.recorded_files, syntheticItems: m.synthetic_files,
  };
}

function row(s: EmbeddedSummary, split: string): Record<string, unknown> {
  const r = s.splits.find((x) => x.split === split);
  assert.ok(r, `${s.name}: no row for split ${split}`);
  return r as Record<string, unknown>;
}

function pick(r: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, r[k]]));
}

/** Per-speaker rows add up to the split rows, and each speaker's kind is the manifest's. */
function assertConsistent(s: EmbeddedSummary, manifestSpeakers: Record<string, { kind: string }>): void {
  for (const r of s.splits) {
    const sp = s.speakers.filter((x) => x.split === r.split);
    assert.equal(sp.length, r.speakers, `${s.name}/${r.split}: speaker rows`);
    assert.equal(sp.filter((x) => x.kind === 'recorded').reduce((n, x) => n + x.items, 0), r.recordedItems);
    assert.equal(sp.reduce((n, x) => n + x.items, 0), (r.recordedItems ?? 0) + (r.syntheticItems ?? 0));
    for (const x of sp) assert.equal(x.kind, manifestSpeakers[x.speaker].kind, `${s.name}: kind of ${x.speaker}`);
  }
}

const COUNTS = ['speakers', 'recordedSpeakers', 'syntheticSpeakers', 'recordedItems', 'syntheticItems'];

test('kws: per split the manifest\'s speakers and recorded/synthetic counts; per class its class counts; silence apart', () => {
  const s = summarizeEmbedded('kws');
  assert.deepEqual(s.splits.map((r) => r.split), ['train', 'validation', 'test']);
  for (const split of ['train', 'validation', 'test']) {
    const r = row(s, split);
    assert.deepEqual(pick(r, COUNTS), expected('kws', split), split);
    assert.equal(r.items, manifest.kws.splits[split].files + (r.silence as number), `${split}: items = word clips + silence`);
    assert.ok((r.silence as number) > 0);
    for (const [cls, n] of Object.entries(manifest.kws.splits[split].classes as Record<string, number>)) {
      assert.equal(s.classes.find((c) => c.class === cls)?.[split], n, `${split}/${cls}`);
    }
    assert.equal(s.classes.find((c) => c.class === '_silence_')?.[split], r.silence);
  }
  assert.deepEqual(s.classes.map((c) => c.class), embedded('kws').labels);
  assertConsistent(s, manifest.kws.speakers);
  assert.ok(s.speakers.some((x) => x.speaker === 'hw-singer' && x.split === 'test' && x.kind === 'recorded'));
});

test('kws: the counts follow the options the set was opened with', () => {
  const s = summarizeEmbedded(embedded('kws', { silence: 0, unknown: false }));
  assert.equal(row(s, 'train').silence, 0);
  assert.deepEqual(s.classes.map((c) => c.class), manifest.kws.keywords);
  assert.equal(row(s, 'train').items, manifest.kws.splits.train.files - manifest.kws.splits.train.classes._unknown_);
});

test('sv, sep, enh: speakers and recorded/synthetic counts as in the manifest, plus trials, mixtures, recipes', () => {
  const sv = summarizeEmbedded('sv');
  assert.deepEqual(pick(row(sv, 'train'), COUNTS), expected('sv', 'dev'));
  assert.deepEqual(pick(row(sv, 'test'), COUNTS), expected('sv', 'test'));
  assert.equal(row(sv, 'train').items, manifest.sv.splits.dev.files);
  assert.deepEqual(pick(row(sv, 'test'), ['trials', 'targetTrials']),
    { trials: manifest.sv.trials.target + manifest.sv.trials.nontarget, targetTrials: manifest.sv.trials.target });
  assertConsistent(sv, manifest.sv.speakers);

  const sep = summarizeEmbedded('sep');
  const sepSplits: Record<string, string> = { train: 'train-clean-100', dev: 'dev-clean', test: 'test-clean' };
  for (const [split, m] of Object.entries(sepSplits)) {
    assert.deepEqual(pick(row(sep, split), COUNTS), expected('sep', m), split);
    assert.equal(row(sep, split).items, manifest.sep.splits[m].files);
    assert.equal(row(sep, split).mixtures, manifest.sep.splits[m].mixtures);
  }
  assertConsistent(sep, manifest.sep.speakers);

  const enh = summarizeEmbedded('enh');
  for (const split of ['train', 'valid', 'test']) {
    assert.deepEqual(pick(row(enh, split), COUNTS), expected('enh', split), split);
    assert.equal(row(enh, split).items, manifest.enh.splits[split].files);
  }
  assert.equal(row(enh, 'train').cleanUtterances, manifest.enh.splits.train.clean_utterances);
  assertConsistent(enh, manifest.sv.speakers);
});

test('noise and ssl: items per split (no speakers), noise sources as classes, ssl seconds', () => {
  const noise = summarizeEmbedded('noise');
  assert.deepEqual(noise.splits, [{ split: 'train', items: manifest.noise.splits.train.files }, { split: 'test', items: manifest.noise.splits.test.files }]);
  assert.equal(noise.classes.reduce((n, c) => n + (c.train as number), 0), manifest.noise.splits.train.files);
  assert.ok(noise.classes.some((c) => c.class === 'sox'));
  assert.deepEqual(noise.speakers, []);
  const ssl = summarizeEmbedded('ssl');
  for (const split of ['train', 'valid']) {
    assert.equal(row(ssl, split).items, manifest.ssl.splits[split].files);
    assert.ok(Math.abs((row(ssl, split).seconds as number) - manifest.ssl.splits[split].seconds) < 0.01, split);
  }
  for (const name of EMBEDDED_NAMES) assert.equal(summarizeEmbedded(name).name, name);
});

test('errors: an unknown set, and a speaker the manifest does not know, named with set and split', () => {
  assert.throws(() => summarizeEmbedded('nope' as 'kws'), /unknown set 'nope' \(expected one of kws, sv/);
  // A copy of the sv set whose manifest lacks one speaker.
  const { dir, cleanup } = tempTree('summary');
  try {
    fs.cpSync(path.join(embeddedDataDir(), 'sv'), path.join(dir, 'sv'), { recursive: true });
    const m = JSON.parse(JSON.stringify(manifest));
    const name = Object.keys(m.sv.speakers).find((k) => m.sv.speakers[k].split === 'test') as string;
    const id = m.sv.speakers[name].id;
    delete m.sv.speakers[name];
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
    assert.throws(() => summarizeEmbedded('sv', { dataDir: dir }), new RegExp(`summarizeEmbedded\\('sv'\\): speaker '${id}' of split 'test' is not in data/manifest.json`));
  } finally {
    cleanup();
  }
});
