// `slimspeech verify` and `slimspeech embed`: speaker embeddings and verification scores from a saved speaker model
// (an os-kdft model: waveform [batch, time] -> embedding [batch, dim]), scored as the recipe scores its trials.
import * as fs from 'fs';
import * as path from 'path';
import { resampleArray } from '../audio/resample';
import { readWavFile } from '../audio/wav';
import type { Module } from '../nn/module';
import { loadModel } from '../nn/serialize';
import { embedUtterance, trialScore, UtteranceEmbedding } from './os_kdft/evaluate';

/** A saved speaker model with what verification needs from its metadata. */
export interface SpeakerModelFile {
  model: Module;
  sampleRate: number;
  /** The EER threshold stored by the recipe (accept when score >= threshold), or null. */
  threshold: number | null;
  scoring: { segments: number; segmentSeconds: number };
}

/** Loads a speaker model saved by the os-kdft recipe (or any model with the same metadata). */
export async function loadSpeakerModel(dir: string): Promise<SpeakerModelFile> {
  const file = path.join(dir, 'model.json');
  if (!fs.existsSync(file)) throw new Error(`verify: ${dir} is not a saved slimspeech model (no model.json)`);
  const meta = (JSON.parse(fs.readFileSync(file, 'utf8')) as { metadata?: Record<string, unknown> }).metadata ?? {};
  if (meta.task !== undefined && meta.task !== 'speaker verification') {
    throw new Error(`verify: ${dir} is a '${meta.task}' model, not a speaker-verification model (e.g. out/os-kdft/models/os-kdft)`);
  }
  const scoring = (meta.scoring as SpeakerModelFile['scoring'] | undefined) ?? { segments: 5, segmentSeconds: 3 };
  return { model: await loadModel(dir), sampleRate: typeof meta.sampleRate === 'number' ? meta.sampleRate : 16000,
    threshold: typeof meta.threshold === 'number' ? meta.threshold : null, scoring };
}

/** The embeddings of a WAV file (mono mix of its channels, resampled to the model's rate); errors name the file. */
export async function embedFile(m: SpeakerModelFile, file: string): Promise<UtteranceEmbedding> {
  let wav;
  try {
    wav = await readWavFile(file);
  } catch (e) {
    throw new Error(`verify: cannot read ${file}: ${(e as Error).message}`);
  }
  const n = wav.channelData[0].length;
  const mono = new Float32Array(n);
  for (const ch of wav.channelData) for (let i = 0; i < n; i++) mono[i] += ch[i] / wav.channelData.length;
  const x = resampleArray(mono, wav.sampleRate, m.sampleRate);
  if (x.length < 0.1 * m.sampleRate) throw new Error(`verify: ${file} is ${(x.length / m.sampleRate).toFixed(3)} s long; at least 0.1 s is needed`);
  return embedUtterance(m.model, x, m.scoring.segments, Math.round(m.scoring.segmentSeconds * m.sampleRate));
}

/** Verification of two files: the recipe's score and, when the model stores one, the decision at its EER threshold. */
export async function verifyFiles(dir: string, a: string, b: string): Promise<{ score: number; threshold: number | null; same: boolean | null }> {
  const m = await loadSpeakerModel(dir);
  const score = trialScore(await embedFile(m, a), await embedFile(m, b));
  m.model.dispose();
  return { score, threshold: m.threshold, same: m.threshold === null ? null : score >= m.threshold };
}

/** Whole-utterance embeddings (unit length) of files, as CSV text: `file,e0,e1,...`, one row per file. */
export async function embedFilesCsv(dir: string, files: string[]): Promise<string> {
  const m = await loadSpeakerModel(dir);
  const rows: string[] = [];
  try {
    for (const f of files) {
      const e = await embedFile(m, f);
      if (!rows.length) rows.push(['file', ...Array.from(e.full, (_, i) => `e${i}`)].join(','));
      rows.push([JSON.stringify(f), ...Array.from(e.full, (v) => v.toPrecision(7))].join(','));
    }
  } finally {
    m.model.dispose();
  }
  return `${rows.join('\n')}\n`;
}
