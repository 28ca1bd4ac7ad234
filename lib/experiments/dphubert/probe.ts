import * as tf from '@tensorflow/tfjs';
import { noGrad } from '../../distill/teacher_student_step';
import type { Wav2Vec2Model } from '../../models/wav2vec2';
import { withParameterRng } from '../../nn/module';
import { LayerProbe } from '../../ssl/probe';
import { fit } from '../../train/fit';
import { Rng } from '../../util/rng';
import type { Run } from '../run';
import type { DphubertConfig, DphubertProbeTask } from './config';
import type { ProbeData } from './data';
import type { DphubertState, ProbeResult } from './state';
import { concat } from './teacher';
import { targetKey } from './train';

type DpRun = Run<DphubertConfig, DphubertState>;

/**
 * Every hidden state of a frozen model, mean-pooled over time, per clip: [clips, layers + 1, width] (row-major).
 * The probe's weighted sum and its mean over time commute, so pooling first gives the LayerProbe the same
 * input it would compute from the frame-level states, at a fraction of the memory.
 */
export async function pooledHiddenStates(model: Wav2Vec2Model, clips: Float32Array[], batch = 16): Promise<{ values: Float32Array; layers: number; width: number }> {
  const L = model.args.encoderNumLayers + 1, D = model.args.encoderEmbedDim;
  const values = new Float32Array(clips.length * L * D);
  for (let s = 0; s < clips.length; s += batch) {
    const chunk = clips.slice(s, s + batch);
    const pooled = noGrad(() => tf.mean(model.forward(tf.tensor2d(concat(chunk), [chunk.length, chunk[0].length]), { training: false }), 2));
    values.set(await pooled.data(), s * L * D);
    pooled.dispose();
  }
  return { values, layers: L, width: D };
}

/**
 * Trains a LayerProbe on a frozen model's pooled hidden states of a task's training clips and predicts its test
 * clips. Each (layer, feature) is standardised with the training clips' mean and deviation, so that the layer
 * weights compare layers rather than their scales; the probe (hidden units and dropout as configured, its
 * initial weights and batch order from the run's seed and the task, the same for every model) trains with Adam
 * for `probes.epochs` epochs.
 */
export async function runProbe(model: Wav2Vec2Model, data: ProbeData, config: DphubertConfig): Promise<ProbeResult> {
  const t0 = Date.now();
  const p = config.probes;
  const tr = await pooledHiddenStates(model, data.train.audio);
  const te = await pooledHiddenStates(model, data.test.audio);
  const { layers: L, width: D } = tr;
  const nTrain = data.train.audio.length, nTest = data.test.audio.length;
  const [mean, std] = tf.tidy(() => {
    const x = tf.tensor2d(tr.values, [nTrain, L * D]);
    const m = tf.moments(x, 0);
    return [m.mean, tf.sqrt(tf.add(m.variance, 1e-5))];
  });
  const norm = (v: Float32Array, n: number) => tf.tidy(() => tf.reshape(tf.div(tf.sub(tf.tensor2d(v, [n, L * D]), mean), std), [n, L, 1, D]));
  const xTrain = norm(tr.values, nTrain), xTest = norm(te.values, nTest);
  const yTrain = tf.tensor1d(data.train.labels, 'int32');
  const probe = withParameterRng(new Rng(`${config.seed}/dphubert/probe/${data.task}`), () => new LayerProbe({ numLayers: L, features: D,
    numClasses: data.classes.length, hidden: p.hidden }));
  try {
    await fit<{ x: tf.Tensor; y: tf.Tensor }>({
      modules: probe, epochs: p.epochs, seed: config.seed, progress: 'none', optimizer: { kind: 'adam', lr: p.lr },
      batches: function* (_e, rng) {
        const order = rng.shuffle([...Array(nTrain).keys()]);
        for (let b = 0; b < nTrain; b += p.batchSize) {
          const idx = tf.tensor1d(Int32Array.from(order.slice(b, b + p.batchSize)), 'int32');
          yield { x: tf.gather(xTrain, idx), y: tf.gather(yTrain, idx) };
          idx.dispose();
        }
      },
      step: (b, ctx) => ({ loss: tf.losses.softmaxCrossEntropy(tf.oneHot(b.y as tf.Tensor1D, data.classes.length), probe.forward(b.x, ctx)) as tf.Scalar }),
    });
    const pred = tf.tidy(() => tf.argMax(probe.forward(xTest, { training: false }), -1));
    const predictions = Array.from(await pred.data());
    pred.dispose();
    const w = probe.layerWeights();
    const layerWeights = Array.from(await w.data());
    w.dispose();
    let hit = 0;
    predictions.forEach((v, i) => { if (v === data.test.labels[i]) hit++; });
    return { predictions, accuracy: hit / nTest, layerWeights, seconds: (Date.now() - t0) / 1000 };
  } finally {
    probe.dispose();
    tf.dispose([mean, std, xTrain, xTest, yTrain]);
  }
}

/** The models probed, by name: the teacher, the pruned student of every target, the distillation-only baseline. */
export function probedModels(state: DphubertState, config: DphubertConfig): Record<string, Wav2Vec2Model> {
  const out: Record<string, Wav2Vec2Model> = { teacher: state.teacher!.model };
  for (const t of config.targets) out[`dphubert-${targetKey(t)}`] = state.students[targetKey(t)].model;
  if (state.baseline) out['distill-only'] = state.baseline.model;
  return out;
}

/** Step 'probe': every model on every task. */
export async function probeAll(run: DpRun): Promise<void> {
  const { config, state } = run;
  for (const [name, model] of Object.entries(probedModels(state, config))) {
    state.probes[name] = {};
    for (const task of config.probes.tasks) {
      const r = await runProbe(model, state.data!.probes[task as DphubertProbeTask]!, config);
      state.probes[name][task] = r;
      run.log(`probe ${name} ${task}: test accuracy ${(100 * r.accuracy).toFixed(1)}%, layer weights [${r.layerWeights.map((v) => v.toFixed(2))}] ` +
        `(${r.seconds.toFixed(1)} s)`);
    }
  }
}
