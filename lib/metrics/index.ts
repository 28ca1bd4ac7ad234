// The metrics namespace of slimspeech (see DESIGN.md).
export {};
