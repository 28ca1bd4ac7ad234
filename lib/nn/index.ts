// The nn namespace of slimspeech (see DESIGN.md).
export {};
