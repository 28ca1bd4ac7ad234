// The plot namespace of slimspeech (see DESIGN.md).
export {};
