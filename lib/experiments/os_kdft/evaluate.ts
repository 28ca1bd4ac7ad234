import * as tf from '@tensorflow/tfjs';
import { eer } from '../../metrics/eer';
import { minDcf } from '../../metrics/min_dcf';
import type { Module } from '../../nn/module';
import type { Wav2Vec2Model } from '../../models/wav2vec2';
import type { Run } from '../run';
import type { OsKdftConfig, OsKdftVariant } from './config';
import { allPairs, SpeakerUtterance } from './data';
import type { OsKdftState } from './state';

type OkRun = Run<OsKdftConfig, OsKdftState>;

/** An utterance's embeddings, unit length: of the whole utterance and of evenly spaced segments. */
export interface UtteranceEmbedding { full: Float32Array; segments: Float32Array[] }

const unit = (v: Float32Array) => { let s = 0; for (const x of v) s += x * x; const n = Math.sqrt(s) || 1; return v.map((x) => x / n); };
const dot = (a: Float32Array, b: Float32Array) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

/**
 * The embeddings the reference scores with: the whole utterance, and `segments` crops of `segmentSeconds` at evenly
 * spaced starts (numpy.linspace(0, length - segment, segments)), each normalised to unit length. Evaluation mode.
 */
export async function embedUtterance(model: Module, audio: Float32Array, segments: number, segmentSamples: number): Promise<UtteranceEmbedding> {
  const seg = Math.min(segmentSamples, audio.length);
  const starts = Array.from({ length: segments }, (_, i) => Math.round(segments > 1 ? (i * (audio.length - seg)) / (segments - 1) : 0));
  const [full, segs] = tf.tidy(() => {
    const f = model.forward(tf.tensor2d(audio, [1, audio.length]), { training: false });
    const rows = new Float32Array(segments * seg);
    starts.forEach((s, i) => rows.set(audio.subarray(s, s + seg), i * seg));
    return [f, model.forward(tf.tensor2d(rows, [segments, seg]), { training: false })];
  });
  const [fv, sv] = [await full.data() as Float32Array, await segs.data() as Float32Array];
  tf.dispose([full, segs]);
  const E = fv.length;
  return { full: unit(Float32Array.from(fv)), segments: starts.map((_, i) => unit(sv.slice(i * E, (i + 1) * E))) };
}

/** The reference's score: half the cosine of the whole utterances, half the mean cosine over all segment pairs. */
export function trialScore(a: UtteranceEmbedding, b: UtteranceEmbedding): number {
  let s = 0;
  for (const x of a.segments) for (const y of b.segments) s += dot(x, y);
  return 0.5 * dot(a.full, b.full) + 0.5 * s / (a.segments.length * b.segments.length);
}

/** A system's scores and error rates on a list of trials. */
export interface TrialResult { scores: number[]; labels: number[]; eer: number; threshold: number; minDcf01: number; minDcf05: number }

/** Scores every trial and computes EER and minDCF at p_target 0.01 and 0.05. */
export function scoreTrials(emb: UtteranceEmbedding[], trials: { enrol: number; test: number; label: number }[]): TrialResult {
  const scores = trials.map((t) => trialScore(emb[t.enrol], emb[t.test]));
  const labels = trials.map((t) => t.label);
  const e = eer(scores, labels);
  return { scores, labels, eer: e.eer, threshold: e.threshold, minDcf01: minDcf(scores, labels, { pTarget: 0.01 }).minDcf,
    minDcf05: minDcf(scores, labels, { pTarget: 0.05 }).minDcf };
}

/**
 * Milliseconds of an SSL forward pass per second of audio, per model and utterance (batch 1). The models are timed
 * side by side: per utterance, one warm-up pass of each, then `runs` rounds in which every model runs once; the median
 * of its rounds. Interleaving keeps the machine's drifts (other load, clock changes) from favouring whichever model
 * would be timed last.
 */
export async function sslMsPerSecond(models: Record<string, Wav2Vec2Model>, utts: SpeakerUtterance[], runs: number): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = Object.fromEntries(Object.keys(models).map((k) => [k, []]));
  for (const u of utts) {
    const x = tf.tensor2d(u.audio, [1, u.audio.length]);
    const once = async (m: Wav2Vec2Model) => { const t0 = performance.now(); const y = m.forward(x, { training: false }); await y.data(); y.dispose(); return performance.now() - t0; };
    for (const m of Object.values(models)) await once(m);
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(models).map((k) => [k, []]));
    for (let r = 0; r < runs; r++) for (const [k, m] of Object.entries(models)) times[k].push(await once(m));
    for (const k of Object.keys(models)) out[k].push(median(times[k]) / (u.audio.length / 16000));
    x.dispose();
  }
  return out;
}

/** What the evaluation keeps per variant. */
export interface SpeakerEvaluation {
  trials: TrialResult;
  allPairs: TrialResult;
  /** Whole-utterance embeddings of the test utterances (for the PCA plot). */
  embeddings: number[][];
  params: { ssl: number; backend: number };
  /** SSL milliseconds per second of audio, per timed utterance. */
  sslMs: number[];
}

/**
 * Step 'evaluate': every variant's embeddings of the test utterances, its scores on the trial list and on all pairs,
 * EER and minDCF, parameters, and SSL time per second of audio on the first `latency.utterances` test utterances;
 * the teacher's SSL time on the same utterances for the speed claim.
 */
export async function evaluateSpeakers(run: OkRun): Promise<void> {
  const { config, state } = run;
  const data = state.data!;
  const pairs = allPairs(data.test);
  const timed = data.test.slice(0, config.latency.utterances);
  const ms = await sslMsPerSecond({ teacher: state.teacher!.model, ...Object.fromEntries(Object.entries(state.trained).map(([v, t]) => [v, t!.model.ssl])) },
    timed, config.latency.runs);
  state.teacherSslMs = ms.teacher;
  for (const [v, t] of Object.entries(state.trained) as [OsKdftVariant, NonNullable<OsKdftState['trained'][OsKdftVariant]>][]) {
    const emb: UtteranceEmbedding[] = [];
    for (const u of data.test) emb.push(await embedUtterance(t.model, u.audio, config.scoring.segments, Math.round(config.scoring.segmentSeconds * 16000)));
    const ev: SpeakerEvaluation = { trials: scoreTrials(emb, data.trials), allPairs: scoreTrials(emb, pairs), embeddings: emb.map((e) => Array.from(e.full)),
      params: { ssl: t.model.ssl.numParams(), backend: t.model.backend.numParams() }, sslMs: ms[v] };
    state.evaluation[v] = ev;
    run.log(`${v}: EER ${(100 * ev.trials.eer).toFixed(2)}% on the ${data.trials.length} trials, ${(100 * ev.allPairs.eer).toFixed(2)}% on all ` +
      `${pairs.length} pairs; minDCF(0.01) ${ev.trials.minDcf01.toFixed(3)}; SSL ${ev.params.ssl} parameters, ` +
      `${median(ev.sslMs).toFixed(1)} ms per second of audio (teacher ${median(state.teacherSslMs).toFixed(1)})`);
  }
}

/** The median of a list. */
export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
}
