// The experiments namespace of slimspeech (see DESIGN.md).
export {};
