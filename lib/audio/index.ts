// The audio namespace of slimspeech (see DESIGN.md): WAV I/O, STFT/iSTFT, resampling, features, augmentation.
export * from './wav';
export * from './window';
export * from './frame';
export * from './complex';
export * from './stft';
export * from './resample';
export * from './features';
export * from './augment';
