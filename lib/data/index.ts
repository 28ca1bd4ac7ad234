// The data namespace of slimspeech (see DESIGN.md).
export {};
