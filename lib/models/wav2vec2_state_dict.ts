import * as tf from '@tensorflow/tfjs';

/** Where a checkpoint key goes in a Wav2Vec2Model, and how its value is turned into this library's layout. */
export interface MappedKey {
  name: string;
  convert: (t: tf.Tensor) => tf.Tensor;
}

/** Prefixes of task and pre-training models around the encoder (transformers' HubertForCTC, torchaudio's HuBERTPretrainModel, DataParallel). */
const PREFIXES = ['module.', 'hubert.', 'wav2vec2.'];

/** Keys of pre-training or task heads, not part of the encoder: skipped when loading. */
const SKIPPED = [/^masked_spec_embed$/, /^mask_emb$/, /^mask_generator\./, /^logit_generator\./, /^label_embs_concat$/, /^final_proj\./,
  /^quantizer\./, /^project_q\./, /^project_hid\./, /^lm_head\./, /^aux\./, /^classifier\./, /^projector\./, /^encoder\.masked_spec_embed$/];

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** transformers' key (after its prefix) -> torchaudio's (the inverse of torchaudio's import_huggingface_model). */
function fromHuggingFace(key: string): string {
  let k = key;
  if (k.startsWith('feature_projection.')) k = `encoder.${k}`;
  else if (k.startsWith('encoder.') && !k.startsWith('encoder.transformer.') && !k.startsWith('encoder.feature_projection.')) {
    k = `encoder.transformer.${k.slice('encoder.'.length)}`;
  }
  return k.replace('conv.parametrizations.weight.original0', 'conv.weight_g').replace('conv.parametrizations.weight.original1', 'conv.weight_v');
}

const transpose = (t: tf.Tensor) => tf.transpose(t);
const convKernel = (t: tf.Tensor) => tf.transpose(t, [2, 1, 0]);   // torch [Cout, Cin, K] -> [K, Cin, Cout]
const same = (t: tf.Tensor) => t.clone();

/**
 * Maps a torchaudio or Hugging Face transformers key of a wav2vec 2.0 / HuBERT checkpoint to the
 * Wav2Vec2Model parameter it fills: 'skip' for heads and pre-training parts, null for a key it does not know.
 */
export function mapWav2Vec2Key(key: string): MappedKey | 'skip' | null {
  let k = key;
  for (let again = true; again;) {
    again = false;
    for (const p of PREFIXES) {
      if (k.startsWith(p)) {
        k = k.slice(p.length);
        again = true;
      }
    }
  }
  if (SKIPPED.some((r) => r.test(k))) return 'skip';
  k = fromHuggingFace(k);
  const name = k.split('.').map(camel).join('.');
  if (!/^(featureExtractor|encoder)\./.test(name)) return null;
  if (/^featureExtractor\.convLayers\.\d+\.conv\.weight$/.test(name)) return { name, convert: convKernel };
  if (name.endsWith('posConvEmbed.conv.weightV')) return { name, convert: convKernel };
  if (name.endsWith('posConvEmbed.conv.weightG')) return { name, convert: (t) => tf.reshape(t, [-1]) };
  if (/(Proj|projection|Dense)\.weight$/.test(name)) return { name, convert: transpose };
  return { name, convert: same };
}

/**
 * The inverse for exporting: a Wav2Vec2Model parameter path -> torchaudio's key, and the value in
 * torch's layout (weight norm as weight_g [1, 1, K] and weight_v).
 */
export function toTorchaudioKey(name: string, value: tf.Tensor): { key: string; value: tf.Tensor } {
  const key = name.split('.').map((s) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)).join('.');
  if (/^featureExtractor\.convLayers\.\d+\.conv\.weight$/.test(name) || name.endsWith('posConvEmbed.conv.weightV')) {
    return { key, value: tf.transpose(value, [2, 1, 0]) };
  }
  if (name.endsWith('posConvEmbed.conv.weightG')) return { key, value: tf.reshape(value, [1, 1, -1]) };
  if (/(Proj|projection|Dense)\.weight$/.test(name)) return { key, value: tf.transpose(value) };
  return { key, value: value.clone() };
}
