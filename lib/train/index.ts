// The train namespace of slimspeech (see DESIGN.md).
export {};
