// The distill namespace of slimspeech (see DESIGN.md).
export {};
