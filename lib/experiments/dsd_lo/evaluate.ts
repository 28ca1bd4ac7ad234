import * as tf from '@tensorflow/tfjs';
import { latency } from '../../metrics/latency';
import { separationScores } from '../../metrics/separation_scores';
import { countParams } from '../../metrics/size';
import type { Module } from '../../nn/module';
import type { Run } from '../run';
import type { DsdLoConfig } from './config';
import type { SepItem } from './data';
import type { DsdLoState, SepKey } from './state';

type SepRun = Run<DsdLoConfig, DsdLoState>;

/** Each item's separated sources, one mixture at a time (batch 1, whole: no padding reaches the model). */
export async function separateAll(model: Module, items: SepItem[]): Promise<Float32Array[][]> {
  const out: Float32Array[][] = [];
  for (const it of items) {
    const y = tf.tidy(() => tf.squeeze(model.forward(tf.tensor2d(it.mixture, [1, it.mixture.length]), { training: false }), [0]));
    const flat = (await y.data()) as Float32Array;
    const [S, T] = y.shape;
    y.dispose();
    out.push(Array.from({ length: S }, (_, s) => flat.slice(s * T, (s + 1) * T)));
  }
  return out;
}

/**
 * Step 'evaluate': every trained model separates the test mixtures (whole), scored by
 * metrics.separationScores (estimates matched to the sources by the best SI-SNR assignment; SI-SNR and SI-SNRi,
 * BSS-eval SDR and SDRi, STOI, PESQ narrow-band, each the mean over the two sources), next to the mixture's own
 * scores; its parameters and real-time factor (time to separate 1 s at batch 1 on this backend, median).
 */
export async function evaluateSep(run: SepRun): Promise<void> {
  const { config, state } = run;
  const data = state.data!;
  state.scores = {};
  state.cost = {};
  const refs = data.test.map((it) => it.sources);
  const mixes = data.test.map((it) => it.mixture);
  const opts = { pesq: config.pesq ? ['nb' as const] : [], sdr: config.sdr };
  const one = tf.randomNormal([1, data.sampleRate], 0, 0.1, 'float32', 11);
  try {
    for (const kind of config.models) {
      for (const variant of config.variants) {
        const key: SepKey = `${kind}/${variant}`;
        const t = state.trained[key];
        if (!t) continue;
        const s = separationScores(await separateAll(t.module, data.test), refs, mixes, data.sampleRate,
          { ...opts, mixtureRows: state.scores.mixture?.rows });
        if (!state.scores.mixture) state.scores.mixture = s.mixture;
        state.scores[key] = { rows: s.rows, mean: s.mean };
        const lat = await latency({ module: t.module, input: one }, { warmup: 1, runs: config.latencyRuns });
        state.cost[key] = { params: countParams(t.module), rtf: lat.medianMs / 1000 };
        const m = s.mean;
        run.log(`  ${kind} ${variant}: SI-SNRi ${m.siSnri.toFixed(2)} dB${m.sdri !== undefined ? `, SDRi ${m.sdri.toFixed(2)} dB` : ''}, ` +
          `STOI ${m.stoi.toFixed(3)}${m.pesqNb !== undefined ? `, PESQ-NB ${m.pesqNb.toFixed(3)}` : ''}; RTF ${(lat.medianMs / 1000).toFixed(3)}`);
      }
    }
  } finally {
    one.dispose();
  }
}
