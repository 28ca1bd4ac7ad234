// The data namespace of slimspeech (see DESIGN.md): the Dataset interface with seeded batching, collate
// helpers, readers for Speech Commands v2, VoxCeleb1, LibriMix, DNS, MUSAN and fairseq manifests, and
// the embedded sets in data/.
export * from './dataset';
export * from './collate';
export * from './files';
export * from './speech_commands';
export * from './voxceleb';
export * from './librimix';
export * from './dns';
export * from './musan';
export * from './audio_list';
export * from './embedded';
export * from './summary';
export * from './tensors';
