/**
 * What the embedded sets hold, counted without reading audio: items per split, speakers and whether each
 * is a recorded human voice or a synthetic (espeak-ng) one, items per speaker and per class. Counts come
 * from the readers (so they are what a model trains on, with the options the set was opened with) and
 * speaker kinds from data/manifest.json.
 */
import * as path from 'node:path';
import { embedded, EmbeddedName, EmbeddedSet, embeddedManifest, EMBEDDED_NAMES } from './embedded';
import { readTable } from './files';

/** A speaker's voice: a recording of a person, or an espeak-ng variant. */
export type SpeakerKind = 'recorded' | 'synthetic';

/**
 * One split. `items` are what the split's reader yields (clips, utterances, recipes, pairs); the speaker
 * columns are absent for sets without speakers (noise, ssl). Set-specific columns: kws `silence`
 * (noise-only items, which have no speaker); sv `trials` and `targetTrials` (test split); sep
 * `mixtures` (items are then the source utterances the mixtures are built from); enh `cleanUtterances`.
 */
export interface SplitSummary {
  split: string;
  items: number;
  speakers?: number;
  recordedSpeakers?: number;
  syntheticSpeakers?: number;
  recordedItems?: number;
  syntheticItems?: number;
  [extra: string]: string | number | undefined;
}

/** Items of one speaker in one split. */
export interface SpeakerSummary {
  split: string;
  /** The speaker's name in data/SOURCES.md and the manifest (e.g. 'hw-pirate', 'es-Alex'). */
  speaker: string;
  /** The id the dataset's file names use (a hash in kws, idNNNNN in sv, a number in sep). */
  id: string;
  kind: SpeakerKind;
  items: number;
}

/** Counts of one embedded set. */
export interface EmbeddedSummary {
  name: EmbeddedName;
  /** One row per split, in the set's split order. */
  splits: SplitSummary[];
  /**
   * One row per class, `{class, <split>: count, ...}`: kws labels (keywords, '_unknown_', '_silence_'),
   * noise sources; empty for the other sets.
   */
  classes: Record<string, string | number>[];
  /** One row per speaker and split, by split then speaker name. */
  speakers: SpeakerSummary[];
}

/** Options of {@link summarizeEmbedded}. */
export interface SummarizeOptions {
  /** The folder holding the sets and manifest.json. Default: `<package root>/data`. */
  dataDir?: string;
}

type Who = Map<string, { speaker: string; kind: SpeakerKind }>;

/** Speaker id (as in file names) -> name and kind, from a manifest `speakers` table; `idOf` picks the id. */
function speakerTable(entries: Record<string, { kind: SpeakerKind; [k: string]: unknown }>, idOf: (e: Record<string, unknown>, name: string) => string): Who {
  return new Map(Object.entries(entries).map(([name, e]) => [idOf(e, name), { speaker: name, kind: e.kind }]));
}

function countBy(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

/**
 * The row and per-speaker counts of one split from the speaker id of each item ('' for an item with no
 * speaker, such as a silence clip: counted in `items` only).
 * @throws Error naming the set, split and id when a speaker is not in the manifest.
 */
function splitCounts(what: string, split: string, ids: string[], who: Who): { row: SplitSummary; speakers: SpeakerSummary[] } {
  const speakers: SpeakerSummary[] = [];
  for (const [id, items] of countBy(ids.filter((i) => i !== ''))) {
    const w = who.get(id);
    if (!w) throw new Error(`${what}: speaker '${id}' of split '${split}' is not in data/manifest.json (rebuild data/ with data/build/build.py)`);
    speakers.push({ split, speaker: w.speaker, id, kind: w.kind, items });
  }
  speakers.sort((a, b) => (a.speaker < b.speaker ? -1 : a.speaker > b.speaker ? 1 : 0));
  const of = (kind: SpeakerKind) => speakers.filter((s) => s.kind === kind);
  const sum = (s: SpeakerSummary[]) => s.reduce((n, x) => n + x.items, 0);
  return {
    row: {
      split, items: ids.length, speakers: speakers.length, recordedSpeakers: of('recorded').length,
      syntheticSpeakers: of('synthetic').length, recordedItems: sum(of('recorded')), syntheticItems: sum(of('synthetic')),
    },
    speakers,
  };
}

/** `{class, <split>: count}` rows from the class name of each item per split, classes in `order`. */
function classRows(order: string[], perSplit: Record<string, string[]>): Record<string, string | number>[] {
  const counts = Object.fromEntries(Object.entries(perSplit).map(([s, names]) => [s, countBy(names)]));
  return order.map((c) => ({ class: c, ...Object.fromEntries(Object.keys(perSplit).map((s) => [s, counts[s].get(c) ?? 0])) }));
}

function sourceSpeakers(metadataCsv: string, what: string): string[] {
  const t = readTable(metadataCsv, what);
  const cols = t.header.filter((h) => /^source_\d+_path$/.test(h));
  const utterances = new Set(t.rows.flatMap((r) => cols.map((c) => r[c])));
  // LibriSpeech paths: <subset>/<speaker>/<chapter>/<utterance>.wav
  return [...utterances].map((p) => p.split('/')[1]);
}

/**
 * Counts an embedded set, by name (opened with its defaults) or as opened with `data.embedded(name, opts)`,
 * without reading audio: per split the items, speakers and recorded versus synthetic speakers and items;
 * items per speaker; items per class (kws labels, noise sources). Show them with `plot.table(s.splits)`.
 * @throws Error for an unknown name, a set missing from data/, or a speaker missing from the manifest.
 */
export function summarizeEmbedded(set: EmbeddedName | EmbeddedSet, opts: SummarizeOptions = {}): EmbeddedSummary {
  if (typeof set === 'string' && !EMBEDDED_NAMES.includes(set)) {
    throw new Error(`summarizeEmbedded: unknown set '${set}' (expected one of ${EMBEDDED_NAMES.join(', ')})`);
  }
  const s = typeof set === 'string' ? embedded(set, { dataDir: opts.dataDir }) : set;
  const what = `summarizeEmbedded('${s.name}')`;
  const manifest = embeddedManifest(opts.dataDir);
  const out: EmbeddedSummary = { name: s.name, splits: [], classes: [], speakers: [] };
  const add = (split: string, ids: string[], who: Who, extra: Record<string, number> = {}): void => {
    const c = splitCounts(what, split, ids, who);
    out.splits.push({ ...c.row, ...extra });
    out.speakers.push(...c.speakers);
  };
  switch (s.name) {
    case 'kws': {
      const who = speakerTable(manifest.kws.speakers, (e) => String(e.hash));
      const splits = { train: s.train, validation: s.validation, test: s.test };
      for (const [name, d] of Object.entries(splits)) {
        const ids = d.speakers();
        add(name, ids, who, { silence: ids.filter((i) => i === '').length });
      }
      out.classes = classRows(s.labels, Object.fromEntries(Object.entries(splits).map(([n, d]) => [n, d.labelIndices().map((i) => d.labels[i])])));
      break;
    }
    case 'sv': {
      const who = speakerTable(manifest.sv.speakers, (e) => String(e.id));
      add('train', s.train.speakerIndices().map((i) => s.train.speakerIds[i]), who);
      add('test', s.test.speakerIndices().map((i) => s.test.speakerIds[i]), who,
        { trials: s.trials.length, targetTrials: s.trials.filter((t) => t.label === 1).length });
      break;
    }
    case 'sep': {
      const who = speakerTable(manifest.sep.speakers, (e) => String(e.id));
      for (const [name, d] of Object.entries({ train: s.train, dev: s.dev, test: s.test })) {
        add(name, sourceSpeakers(d.metadata, what), who, { mixtures: d.length });
      }
      break;
    }
    case 'enh': {
      const who = speakerTable(manifest.sv.speakers, (e) => String(e.id));
      const testCsv = path.join(s.test.root, 'test.csv');
      const testClean = readTable(testCsv, what, ['clean_path']).rows.map((r) => r['clean_path']);
      const splits = { train: s.train.cleanPaths(), valid: s.valid.cleanPaths(), test: testClean };
      for (const [name, paths] of Object.entries(splits)) {
        add(name, paths.map((p) => p.split('/')[0]), who, { cleanUtterances: new Set(paths).size });
      }
      break;
    }
    case 'noise': {
      const splits = { train: s.train.paths(), test: s.test.paths() };
      for (const [name, paths] of Object.entries(splits)) out.splits.push({ split: name, items: paths.length });
      const sourcesOf = Object.fromEntries(Object.entries(splits).map(([n, p]) => [n, p.map((x) => x.split('/')[1])]));
      out.classes = classRows([...new Set(Object.values(sourcesOf).flat())].sort(), sourcesOf);
      break;
    }
    case 'ssl':
      for (const [name, d] of Object.entries({ train: s.train, valid: s.valid })) {
        out.splits.push({ split: name, items: d.length, seconds: d.lengths().reduce((a, b) => a + b, 0) / 16000 });
      }
      break;
    default:
      throw new Error(`${what}: unknown set`);
  }
  return out;
}
