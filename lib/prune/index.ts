// The prune namespace of slimspeech (see DESIGN.md).
export {};
