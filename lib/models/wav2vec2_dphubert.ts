// Wav2Vec2Model <-> DPHuBERT's checkpoint format: its `wav2vec2_model` config (per-layer heads, FFN sizes,
// attention/FFN presence, as its prune() emits) and a state dict under torchaudio's key names, with the
// extractor's dummy_weight that DPHuBERT's models always have.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Wav2Vec2Model, Wav2Vec2ModelArgs } from './wav2vec2';
import { toTorchaudioKey } from './wav2vec2_state_dict';
import { loadSafetensors, saveSafetensors } from './safetensors';

/** DPHuBERT's `wav2vec2_model(**config)` arguments (its model.py, wav2vec2_model_original). */
export type DphubertConfig = Record<string, unknown>;

/** The DPHuBERT config of a (materialised) Wav2Vec2Model. */
export function dphubertConfig(model: Wav2Vec2Model): DphubertConfig {
  const a = model.args;
  const heads = a.encoderNumHeads.map((h, i) => (a.encoderUseAttention[i] ? h : 0));
  return {
    extractor_mode: a.extractorMode, extractor_conv_layer_config: a.extractorConvLayerConfig, extractor_conv_bias: a.extractorConvBias,
    encoder_embed_dim: a.encoderEmbedDim, encoder_projection_dropout: a.encoderProjectionDropout,
    encoder_pos_conv_kernel: a.encoderPosConvKernel, encoder_pos_conv_groups: a.encoderPosConvGroups,
    encoder_num_layers: a.encoderNumLayers, encoder_use_attention: [...a.encoderUseAttention],
    encoder_use_feed_forward: a.encoderUseFeedForward.map((u, i) => u && a.encoderFfIntermFeatures[i] > 0),
    encoder_num_heads: heads, encoder_head_dim: a.encoderHeadDim, encoder_attention_dropout: a.encoderAttentionDropout,
    encoder_ff_interm_features: [...a.encoderFfIntermFeatures], encoder_ff_interm_dropout: a.encoderFfIntermDropout,
    encoder_dropout: a.encoderDropout, encoder_layer_norm_first: a.encoderLayerNormFirst, encoder_layer_drop: a.encoderLayerDrop,
    aux_num_out: null, normalize_waveform: a.normalizeWaveform,
    extractor_prune_conv_channels: false, encoder_prune_attention_heads: false, encoder_prune_attention_layer: false,
    encoder_prune_feed_forward_intermediate: false, encoder_prune_feed_forward_layer: false,
  };
}

/** Wav2Vec2ModelArgs from a DPHuBERT config (with its dummy_weight; its prune flags become gates). */
export function argsFromDphubertConfig(config: DphubertConfig): Wav2Vec2ModelArgs {
  const c = config as Record<string, never>;
  const need = ['extractor_conv_layer_config', 'encoder_embed_dim', 'encoder_num_layers', 'encoder_num_heads', 'encoder_ff_interm_features'];
  const missing = need.filter((k) => c[k] === undefined);
  if (missing.length) throw new Error(`argsFromDphubertConfig: the config lacks ${missing.join(', ')}: not a DPHuBERT wav2vec2_model config`);
  const pick = <T>(k: string, d: T): T => (c[k] ?? d) as T;
  return {
    extractorMode: pick('extractor_mode', 'group_norm'), extractorConvLayerConfig: c.extractor_conv_layer_config,
    extractorConvBias: pick('extractor_conv_bias', false), encoderEmbedDim: c.encoder_embed_dim,
    encoderProjectionDropout: pick('encoder_projection_dropout', 0.1), encoderPosConvKernel: pick('encoder_pos_conv_kernel', 128),
    encoderPosConvGroups: pick('encoder_pos_conv_groups', 16), encoderNumLayers: c.encoder_num_layers,
    encoderNumHeads: c.encoder_num_heads, encoderHeadDim: pick('encoder_head_dim', 64),
    encoderAttentionDropout: pick('encoder_attention_dropout', 0.1), encoderFfIntermFeatures: c.encoder_ff_interm_features,
    encoderFfIntermDropout: pick('encoder_ff_interm_dropout', 0), encoderDropout: pick('encoder_dropout', 0.1),
    encoderLayerNormFirst: pick('encoder_layer_norm_first', false), encoderLayerDrop: pick('encoder_layer_drop', 0.05),
    encoderUseAttention: pick('encoder_use_attention', undefined), encoderUseFeedForward: pick('encoder_use_feed_forward', undefined),
    normalizeWaveform: pick('normalize_waveform', false), extractorDummyWeight: true,
    prune: {
      convChannels: pick('extractor_prune_conv_channels', false) ? 'all' : false,
      attentionHeads: pick('encoder_prune_attention_heads', false), attentionLayers: pick('encoder_prune_attention_layer', false),
      ffnUnits: pick('encoder_prune_feed_forward_intermediate', false), ffnLayers: pick('encoder_prune_feed_forward_layer', false),
    },
  };
}

/**
 * Writes a Wav2Vec2Model in DPHuBERT's format: `config.json` (its wav2vec2_model arguments) and
 * `model.safetensors` (torchaudio's key names and layouts, plus feature_extractor.dummy_weight). DPHuBERT's
 * code builds it with `wav2vec2_model(**config)` and loads the state dict as it is (test/reference/
 * models_dphubert.py does). The model must be ungated (materialise a pruned one first).
 */
export async function saveDphubert(model: Wav2Vec2Model, dir: string): Promise<{ config: DphubertConfig; files: string[] }> {
  const gated = model.namedParameters().filter(([k]) => /\.hardConcrete\w*\./.test(k));
  if (gated.length) throw new Error(`saveDphubert: the model has gates (${gated[0][0]}, ...): materialize it first (prune.materialize)`);
  fs.mkdirSync(dir, { recursive: true });
  const config = dphubertConfig(model);
  const tensors = new Map<string, tf.Tensor>();
  try {
    for (const [name, v] of model.stateDict()) {
      const { key, value } = toTorchaudioKey(name, v);
      tensors.set(key, value);
    }
    if (!tensors.has('feature_extractor.dummy_weight')) {
      const c = model.args.extractorConvLayerConfig;
      tensors.set('feature_extractor.dummy_weight', tf.ones([c[c.length - 1][0]]));
    }
    const files = [path.join(dir, 'config.json'), path.join(dir, 'model.safetensors')];
    fs.writeFileSync(files[0], `${JSON.stringify(config, null, 1)}\n`);
    await saveSafetensors(files[1], tensors, { format: 'pt', producer: 'slimspeech', layout: 'DPHuBERT wav2vec2_model' });
    return { config, files };
  } finally {
    tf.dispose([...tensors.values()]);
  }
}

/** Reads a model written by {@link saveDphubert}, or DPHuBERT's own config and weights converted to safetensors. */
export function loadDphubert(dir: string): Wav2Vec2Model {
  const cfgFile = path.join(dir, 'config.json'), weights = path.join(dir, 'model.safetensors');
  for (const f of [cfgFile, weights]) if (!fs.existsSync(f)) throw new Error(`loadDphubert: no ${f}`);
  const args = argsFromDphubertConfig(JSON.parse(fs.readFileSync(cfgFile, 'utf8')));
  const dict = loadSafetensors(weights);
  try {
    return Wav2Vec2Model.fromStateDict(dict, args);
  } finally {
    tf.dispose([...dict.values()]);
  }
}
