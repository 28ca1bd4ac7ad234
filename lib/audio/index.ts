// The audio namespace of slimspeech (see DESIGN.md).
export {};
