// The slim namespace of slimspeech (see DESIGN.md).
export {};
