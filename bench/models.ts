// The benchmark's reference architectures, built identically to bench/torch_bench.py's, with their
// inputs and training losses. Batch sizes and lengths come from bench/run.ts (the default presets').
import * as tf from '@tensorflow/tfjs';
import { Module, manualSeed } from '../lib/nn';
import { AamSoftmax, ConvTasNet, Crn, Dccrn, DccrnArgs, DCCRN_PRESETS, Dprnn, DPRNN_PRESETS, EcapaTdnn, Wav2Vec2Model } from '../lib/models';
import { crossEntropy, siSnr } from '../lib/metrics';
import { slimDsCnn, slimKwt } from '../lib/models';

export interface BenchModel {
  build(batch: number, length: number): { model: Module; input: tf.Tensor; loss: (out: tf.Tensor) => tf.Scalar; input1: tf.Tensor };
}

/** Negative SI-SNR of the better of the two source assignments, averaged over the batch. */
function pit2(est: tf.Tensor, ref: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const a = tf.mean(siSnr(est, ref), -1);
    const b = tf.mean(siSnr(est, tf.reverse(ref, 1)), -1);
    return tf.neg(tf.mean(tf.maximum(a, b))) as tf.Scalar;
  });
}

/** An enhancement model trained on negative SI-SNR against a random target. */
function enhancement(make: () => Module): BenchModel {
  return {
    build(batch, length) {
      manualSeed(0);
      const ref = tf.randomNormal([batch, length]);
      return { model: make(), input: tf.randomNormal([batch, length]), loss: (o) => tf.neg(tf.mean(siSnr(o, ref))) as tf.Scalar,
        input1: tf.randomNormal([1, length]) };
    },
  };
}

function dccrn(args: DccrnArgs): BenchModel {
  return enhancement(() => new Dccrn(args));
}

function kws(make: () => Module): BenchModel {
  return {
    build(batch) {
      manualSeed(0);
      const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 12), 'int32');
      return { model: make(), input: tf.randomNormal([batch, 98, 40]), loss: (o) => crossEntropy(o, labels) as tf.Scalar,
        input1: tf.randomNormal([1, 98, 40]) };
    },
  };
}

export const BENCH_MODELS: Record<string, BenchModel> = {
  // The KWS supernets of the slimmable experiment, as the full-width subnet (one width, one BN set).
  'kws-cnn': kws(() => slimDsCnn({ widths: [1] })),
  'kws-transformer': kws(() => slimKwt({ widths: [1] })),
  'conv-tasnet': {
    build(batch, length) {
      manualSeed(0);
      const ref = tf.randomNormal([batch, 2, length]);
      return { model: new ConvTasNet(), input: tf.randomNormal([batch, length]), loss: (o) => pit2(o, ref), input1: tf.randomNormal([1, length]) };
    },
  },
  // DPRNN's small preset (N 64, L 16, bottleneck 64, 64 LSTM units, chunks of 50, 3 blocks: 476,737 parameters).
  dprnn: {
    build(batch, length) {
      manualSeed(0);
      const ref = tf.randomNormal([batch, 2, length]);
      return { model: new Dprnn(DPRNN_PRESETS.small), input: tf.randomNormal([batch, length]), loss: (o) => pit2(o, ref),
        input1: tf.randomNormal([1, length]) };
    },
  },
  crn: enhancement(() => new Crn()),
  // Distil-DCCRN's student size (DCCRN-CL at half the channels, rnnUnits 192: 1.13M) and DCCRN-CL itself (3.67M).
  'dccrn-student': dccrn(DCCRN_PRESETS.student),
  dccrn: dccrn(DCCRN_PRESETS['DCCRN-CL']),
  // OS-KDFT's ECAPA-TDNN back end at the paper's size (C 512, 192-d) on SSL features [batch, frames, 768], trained
  // with AAM-softmax (margin 0.2, scale 30) against 100 fixed class weights; `length` counts frames.
  'ecapa-tdnn': {
    build(batch, length) {
      manualSeed(0);
      const aam = new AamSoftmax({ embeddingDim: 192, numClasses: 100 });
      const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 100), 'int32');
      return { model: new EcapaTdnn({ inputDim: 768 }), input: tf.randomNormal([batch, length, 768]), input1: tf.randomNormal([1, length, 768]),
        loss: (o) => aam.loss(o, labels) };
    },
  },
  // A HuBERT-like student (bench/torch_bench.py's HUBERT_SMALL, built there by torchaudio): L1 of the last hidden
  // state against a random target, as a distillation step.
  'hubert-small': {
    build(batch, length) {
      manualSeed(0);
      const model = new Wav2Vec2Model({
        extractorConvLayerConfig: [[256, 10, 5], ...Array(4).fill([256, 3, 2]), ...Array(2).fill([256, 2, 2])],
        encoderEmbedDim: 384, encoderNumLayers: 4, encoderNumHeads: 6, encoderFfIntermFeatures: 1536, encoderProjectionDropout: 0,
        encoderAttentionDropout: 0, encoderDropout: 0, encoderLayerDrop: 0,
      });
      const frames = model.outputFrames(length);
      const target = tf.randomNormal([batch, frames, 384]);
      const L = model.args.encoderNumLayers;
      return { model, input: tf.randomNormal([batch, length]), input1: tf.randomNormal([1, length]),
        loss: (o) => tf.tidy(() => tf.mean(tf.abs(tf.sub(tf.squeeze(tf.slice(o, [0, L, 0, 0], [-1, 1, -1, -1]), [1]), target)))) as tf.Scalar };
    },
  },
};
