// The pit namespace of slimspeech (see DESIGN.md).
export {};
