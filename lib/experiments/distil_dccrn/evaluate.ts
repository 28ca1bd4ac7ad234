import * as tf from '@tensorflow/tfjs';
import { enhancementScores } from '../../metrics/enhancement_scores';
import type { PesqMode } from '../../metrics/pesq';
import { latency } from '../../metrics/latency';
import { countMacs, countParams } from '../../metrics/size';
import type { Module } from '../../nn/module';
import type { Run } from '../run';
import type { DccrnVariant, DistilDccrnConfig } from './config';
import type { EnhPair } from './data';
import type { DccrnState, SetScores } from './state';
import { enhance } from './train';

type DccrnRun = Run<DistilDccrnConfig, DccrnState>;

/** The enhanced version of every pair, one item at a time (batch 1: no padding reaches any model's statistics). */
export async function enhanceAll(model: Module, pairs: EnhPair[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const p of pairs) {
    const y = tf.tidy(() => enhance(model, tf.tensor2d(p.noisy, [1, p.noisy.length]), { training: false }));
    out.push((await y.data()) as Float32Array);
    y.dispose();
  }
  return out;
}

function score(estimates: Float32Array[], pairs: EnhPair[], sampleRate: number, withNoisy: boolean, pesq: PesqMode[]): SetScores & { noisy?: SetScores } {
  const s = enhancementScores(estimates, pairs.map((p) => p.clean), pairs.map((p) => p.noisy), sampleRate, { pesq });
  return { rows: s.rows, mean: s.mean, ...(withNoisy && s.noisy ? { noisy: s.noisy } : {}) };
}

/**
 * Step 'evaluate': every trained variant enhances the test mixtures (and the stored test pairs), scored by
 * metrics.enhancementScores (SI-SNR, SI-SNRi, STOI, ESTOI, PESQ wide- and narrow-band), next to the noisy
 * input's own scores; its parameters, multiply-accumulates per second of audio, and real-time factor (time to
 * enhance 1 s of audio at batch 1 on this backend, median, divided by 1 s).
 */
export async function evaluateDccrn(run: DccrnRun): Promise<void> {
  const { config, state } = run;
  const data = state.data!;
  state.scores = {};
  state.cost = {};
  const one = tf.randomNormal([1, data.sampleRate], 0, 0.1, 'float32', 11);
  try {
    for (const variant of config.variants) {
      const t = state.trained[variant as DccrnVariant];
      if (!t) continue;
      const test = score(await enhanceAll(t.model, data.test), data.test, data.sampleRate, !state.scores.noisy, config.pesqModes);
      const stored = data.stored.length ? score(await enhanceAll(t.model, data.stored), data.stored, data.sampleRate, !state.scores.noisy, config.pesqModes)
        : undefined;
      if (!state.scores.noisy) state.scores.noisy = { test: test.noisy!, ...(stored?.noisy ? { stored: stored.noisy } : {}) };
      state.scores[variant] = { test: { rows: test.rows, mean: test.mean }, ...(stored ? { stored: { rows: stored.rows, mean: stored.mean } } : {}) };
      const lat = await latency({ module: t.model, input: one }, { warmup: 2, runs: config.latencyRuns });
      state.cost[variant as DccrnVariant] = { params: countParams(t.model), macsPerSecond: countMacs(t.model, [1, data.sampleRate]),
        rtf: lat.medianMs / 1000 };
      const m = test.mean;
      run.log(`  ${variant}: SI-SNR ${m.siSnr.toFixed(2)} dB (SI-SNRi ${m.siSnri.toFixed(2)}), PESQ-WB ${m.pesqWb.toFixed(3)}, ` +
        `STOI ${m.stoi.toFixed(3)}; RTF ${(lat.medianMs / 1000).toFixed(3)}`);
    }
  } finally {
    one.dispose();
  }
}
