// DPHuBERT's structured pruning of a wav2vec 2.0 / HuBERT model: the expected parameter count from the
// gates, and materialising the pruned model physically smaller.
import * as tf from '@tensorflow/tfjs';
import type { Linear } from '../nn/linear';
import { Wav2Vec2Attention, Wav2Vec2ConvBlock, Wav2Vec2EncoderLayer, Wav2Vec2FeedForward, Wav2Vec2Model, Wav2Vec2ModelArgs }
  from '../models/wav2vec2';
import type { HardConcrete } from './hard_concrete';

const n = (c: number | tf.Scalar): tf.Scalar => (typeof c === 'number' ? tf.scalar(c) : c);

/**
 * The expected number of parameters of a gated Wav2Vec2Model (a differentiable scalar), with DPHuBERT's
 * per-unit formulas, each gated count replaced by its gate's expected L0 (HardConcrete.l0Norm):
 * - conv layer: cin * cout * k (+ cout for a bias) (+ 2 cout for its norm), cin the previous layer's
 *   expected channels (1 for the first): bilinear in consecutive gates;
 * - feature projection: 2 in + (in + 1) D, `in` the last conv layer's expected channels;
 * - positional convolution and the transformer's layer norm: as they are (+ 2 D);
 * - per layer, 4 D for its two norms; attention [(D + 1) h d 3 + (h d + 1) D] and FFN [(D + 1) I + (I + 1) D],
 *   h and I the expected heads and units, each times its layer gate's expected L0.
 * With every gate open it equals the ungated model's parameter count (numParams without the gates' own
 * log_alpha). DPHuBERT also counts its `dummy_weight` (one per output channel of the extractor), which
 * slimspeech keeps as a buffer and does not count.
 */
export function expectedParams(model: Wav2Vec2Model): tf.Scalar {
  const a = model.args;
  const D = a.encoderEmbedDim;
  return tf.tidy(() => {
    let total: tf.Scalar = tf.scalar(0);
    let cin: tf.Scalar = tf.scalar(1);
    for (const block of model.featureExtractor.convLayers.items as Wav2Vec2ConvBlock[]) {
      const cout: tf.Scalar = block.hardConcrete ? block.hardConcrete.l0Norm() : tf.scalar(block.outChannels);
      let p = tf.mul(tf.mul(cin, cout), block.kernelSize);
      if (block.conv.bias) p = tf.add(p, cout);
      if (block.layerNorm) p = tf.add(p, tf.mul(cout, 2));
      total = tf.add(total, p);
      cin = cout;
    }
    total = tf.add(total, tf.add(tf.mul(cin, 2), tf.mul(tf.add(cin, 1), D)));
    const t = model.encoder.transformer;
    total = tf.add(total, t.posConvEmbed.numParams() + 2 * D);
    for (const layer of t.layers.items as Wav2Vec2EncoderLayer[]) {
      total = tf.add(total, 4 * D);
      const att = layer.attention;
      if (att) {
        const h: tf.Scalar = att.hardConcreteForHeads ? att.hardConcreteForHeads.l0Norm() : tf.scalar(att.numHeads);
        const hd = tf.mul(h, att.headDim);
        let p: tf.Scalar = tf.add(tf.mul(hd, 3 * (D + 1)), tf.mul(tf.add(hd, 1), D));
        if (att.hardConcreteForLayer) p = tf.mul(p, att.hardConcreteForLayer.l0Norm());
        total = tf.add(total, p);
      }
      const ff = layer.feedForward;
      if (ff) {
        const I: tf.Scalar = ff.hardConcreteForIntermediate ? ff.hardConcreteForIntermediate.l0Norm() : tf.scalar(ff.intermediateFeatures);
        let p: tf.Scalar = tf.add(tf.mul(I, D + 1), tf.mul(tf.add(I, 1), D));
        if (ff.hardConcreteForLayer) p = tf.mul(p, ff.hardConcreteForLayer.l0Norm());
        total = tf.add(total, p);
      }
    }
    return total;
  });
}

/** The parameters of a Wav2Vec2Model without its gates (what materialising at full size would keep). */
export function ungatedParams(model: Wav2Vec2Model): number {
  return model.namedParameters().filter(([k]) => !/\.hardConcrete\w*\./.test(k)).reduce((s, [, v]) => s + v.size, 0);
}

/** The expected sparsity 1 - expectedParams / reference, differentiable (reference: the unpruned model's count). */
export function expectedSparsity(model: Wav2Vec2Model, reference: number): tf.Scalar {
  return tf.tidy(() => tf.sub(1, tf.div(expectedParams(model), reference)) as tf.Scalar);
}

/** What {@link materialize} did, per unit: kept counts and the new configuration. */
export interface MaterializeReport {
  args: Wav2Vec2ModelArgs;
  /** True when the new model's eval outputs equal the gated model's (see materialize). */
  exact: boolean;
  /** Where removed channels fed a layer norm (the cause of inexactness), e.g. 'feature projection layer norm'. */
  inexact: string[];
  convChannels: number[];
  heads: number[];
  ffnUnits: number[];
  useAttention: boolean[];
  useFeedForward: boolean[];
}

function gateValues(g: HardConcrete | undefined, size: number): Float32Array {
  if (!g) return new Float32Array(size).fill(1);
  const m = g.deterministicMask();
  const v = m.dataSync().slice() as Float32Array;
  m.dispose();
  return v;
}

const keptIndex = (mask: Float32Array) => [...mask.keys()].filter((i) => mask[i] !== 0);

function gatherTo(target: tf.Variable, source: tf.Tensor, axis: number, index: number[], scale?: Float32Array): void {
  tf.tidy(() => {
    let t = tf.gather(source, tf.tensor1d(index, 'int32'), axis);
    if (scale) {
      const shape = t.shape.map((_, i) => (i === axis ? index.length : 1));
      t = tf.mul(t, tf.reshape(tf.tensor1d(index.map((i) => scale[i])), shape));
    }
    target.assign(t);
  });
}

function copyLinear(dst: Linear, src: Linear, opts: { inIndex?: number[]; inScale?: Float32Array; outIndex?: number[]; factor?: number } = {}): void {
  tf.tidy(() => {
    let w: tf.Tensor = src.weight;
    let b: tf.Tensor | undefined = src.bias;
    if (opts.inIndex && opts.inIndex.length === 0) {
      // No input left (an attention block without heads): only the bias remains.
      if (dst.bias && b) dst.bias.assign(opts.factor !== undefined ? tf.mul(b, opts.factor) : b);
      return;
    }
    if (opts.inIndex) {
      w = tf.gather(w, tf.tensor1d(opts.inIndex, 'int32'), 0);
      if (opts.inScale) w = tf.mul(w, tf.reshape(tf.tensor1d(opts.inIndex.map((i) => opts.inScale![i])), [-1, 1]));
    }
    if (opts.outIndex) {
      w = tf.gather(w, tf.tensor1d(opts.outIndex, 'int32'), 1);
      if (b) b = tf.gather(b, tf.tensor1d(opts.outIndex, 'int32'));
    }
    if (opts.factor !== undefined) {
      w = tf.mul(w, opts.factor);
      if (b) b = tf.mul(b, opts.factor);
    }
    dst.weight.assign(w);
    if (dst.bias && b) dst.bias.assign(b);
  });
}

/**
 * DPHuBERT's `prune()` as a function: a new, physically smaller Wav2Vec2Model without gates whose outputs
 * equal the gated model's in evaluation mode (deterministic masks). Units whose gate is 0 are removed; the
 * surviving soft gate values are folded into the weights that consume them (the next convolution's input
 * weights, the output projection's rows per head, the FFN output rows), and a layer gate into its block's
 * output projection and bias; the last convolution's values go to the extractor's `dummyWeight`, since the
 * feature projection's layer norm cannot absorb them. A block whose layer gate is 0, or with no FFN unit
 * left, is dropped (`encoderUseAttention` / `encoderUseFeedForward` false); an attention block with no head
 * but an open layer gate keeps its output bias (0 heads).
 * Exact (report.exact) unless removed channels fed a layer norm: the feature projection's (conv channels
 * of the last conv layer, gated with `prune.convChannels: 'all'`) or a 'layer_norm' extractor's blocks.
 * The reference code prunes those too and lets its final distillation absorb the shift; report.inexact
 * says where it happened. The source model is left as it was.
 */
export function materialize(model: Wav2Vec2Model): { model: Wav2Vec2Model; report: MaterializeReport } {
  const a = model.args;
  const blocks = model.featureExtractor.convLayers.items as Wav2Vec2ConvBlock[];
  const convMasks = blocks.map((b) => gateValues(b.hardConcrete, b.outChannels));
  const convKeep = convMasks.map(keptIndex);
  convKeep.forEach((k, i) => {
    if (!k.length) throw new Error(`materialize: every channel of conv layer ${i} is pruned`);
  });
  const layers = model.encoder.transformer.layers.items as Wav2Vec2EncoderLayer[];
  const plan = layers.map((layer) => {
    const att = layer.attention, ff = layer.feedForward;
    const headMask = att ? gateValues(att.hardConcreteForHeads, att.numHeads) : new Float32Array(0);
    const attGate = att ? gateValues(att.hardConcreteForLayer, 1)[0] : 0;
    const unitMask = ff ? gateValues(ff.hardConcreteForIntermediate, ff.intermediateFeatures) : new Float32Array(0);
    const ffGate = ff ? gateValues(ff.hardConcreteForLayer, 1)[0] : 0;
    const heads = keptIndex(headMask), units = keptIndex(unitMask);
    return { headMask, attGate, heads, unitMask, ffGate, units,
      useAttention: !!att && attGate !== 0, useFeedForward: !!ff && ffGate !== 0 && units.length > 0 };
  });
  const oldDummy = model.featureExtractor.dummyWeight;
  const lastGated = !!blocks[blocks.length - 1].hardConcrete;
  const args: Wav2Vec2ModelArgs = {
    ...a,
    extractorConvLayerConfig: a.extractorConvLayerConfig.map(([, k, s], i) => [convKeep[i].length, k, s]),
    encoderNumHeads: plan.map((p) => (p.useAttention ? p.heads.length : 0)),
    encoderFfIntermFeatures: plan.map((p) => (p.useFeedForward ? p.units.length : 0)),
    encoderUseAttention: plan.map((p) => p.useAttention), encoderUseFeedForward: plan.map((p) => p.useFeedForward),
    extractorDummyWeight: a.extractorDummyWeight || lastGated, prune: {},
  };
  const out = new Wav2Vec2Model(args);
  try {
    const newBlocks = out.featureExtractor.convLayers.items as Wav2Vec2ConvBlock[];
    blocks.forEach((b, i) => {
      const nb = newBlocks[i];
      const keep = convKeep[i];
      tf.tidy(() => {
        // Weight [K, Cin, Cout]: outputs kept, inputs kept and scaled by the previous layer's gate values.
        let w: tf.Tensor = tf.gather(b.conv.weight, tf.tensor1d(keep, 'int32'), 2);
        if (i > 0) {
          const prev = convKeep[i - 1];
          w = tf.gather(w, tf.tensor1d(prev, 'int32'), 1);
          w = tf.mul(w, tf.reshape(tf.tensor1d(prev.map((j) => convMasks[i - 1][j])), [1, -1, 1]));
        }
        nb.conv.weight.assign(w);
        if (b.conv.bias) nb.conv.bias!.assign(tf.gather(b.conv.bias, tf.tensor1d(keep, 'int32')));
      });
      if (b.layerNorm && nb.layerNorm) {
        const [ow, ob] = [b.layerNorm.namedParameters(), nb.layerNorm.namedParameters()];
        ow.forEach(([, v], j) => gatherTo(ob[j][1], v, 0, keep));
      }
    });
    const last = convKeep.length - 1;
    if (out.featureExtractor.dummyWeight) {
      tf.tidy(() => {
        let d: tf.Tensor = tf.tensor1d(convKeep[last].map((j) => convMasks[last][j]));
        if (oldDummy) d = tf.mul(d, tf.gather(oldDummy, tf.tensor1d(convKeep[last], 'int32')));
        out.featureExtractor.dummyWeight!.assign(d);
      });
    }
    const fp = model.encoder.featureProjection, nfp = out.encoder.featureProjection;
    gatherTo(nfp.layerNorm.weight!, fp.layerNorm.weight!, 0, convKeep[last]);
    gatherTo(nfp.layerNorm.bias!, fp.layerNorm.bias!, 0, convKeep[last]);
    copyLinear(nfp.projection, fp.projection, { inIndex: convKeep[last] });
    // Positional convolution and norms: unchanged.
    const t = model.encoder.transformer, nt = out.encoder.transformer;
    const copyAll = (src: { namedParameters(): [string, tf.Variable][] }, dst: { namedParameters(): [string, tf.Variable][] }) => {
      const d = new Map(dst.namedParameters());
      for (const [k, v] of src.namedParameters()) if (d.has(k)) d.get(k)!.assign(v);
    };
    copyAll(t.posConvEmbed, nt.posConvEmbed);
    copyAll(t.layerNorm, nt.layerNorm);
    layers.forEach((layer, i) => {
      const nl = (nt.layers.items as Wav2Vec2EncoderLayer[])[i];
      const p = plan[i];
      copyAll(layer.layerNorm, nl.layerNorm);
      copyAll(layer.finalLayerNorm, nl.finalLayerNorm);
      if (p.useAttention) {
        const att = layer.attention as Wav2Vec2Attention, na = nl.attention as Wav2Vec2Attention;
        const d = att.headDim;
        const cols = p.heads.flatMap((h) => Array.from({ length: d }, (_, j) => h * d + j));
        const colScale = new Float32Array(att.numHeads * d);
        p.heads.forEach((h) => colScale.fill(p.headMask[h], h * d, (h + 1) * d));
        for (const k of ['qProj', 'kProj', 'vProj'] as const) copyLinear(na[k], att[k], { outIndex: cols });
        copyLinear(na.outProj, att.outProj, { inIndex: cols, inScale: colScale, factor: p.attGate });
      }
      if (p.useFeedForward) {
        const ff = layer.feedForward as Wav2Vec2FeedForward, nf = nl.feedForward as Wav2Vec2FeedForward;
        copyLinear(nf.intermediateDense, ff.intermediateDense, { outIndex: p.units });
        copyLinear(nf.outputDense, ff.outputDense, { inIndex: p.units, inScale: p.unitMask, factor: p.ffGate });
      }
    });
  } catch (e) {
    out.dispose();
    throw e;
  }
  const inexact: string[] = [];
  convKeep.forEach((k, i) => {
    if (k.length === blocks[i].outChannels) return;
    if (i === convKeep.length - 1) inexact.push(`feature projection layer norm (conv layer ${i} lost ${blocks[i].outChannels - k.length} channels)`);
    if (a.extractorMode === 'layer_norm') inexact.push(`conv layer ${i} layer norm`);
  });
  return {
    model: out,
    report: { args, exact: inexact.length === 0, inexact, convChannels: convKeep.map((k) => k.length), heads: args.encoderNumHeads as number[],
      ffnUnits: args.encoderFfIntermFeatures as number[], useAttention: args.encoderUseAttention!, useFeedForward: args.encoderUseFeedForward! },
  };
}
