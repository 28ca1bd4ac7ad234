// The pit namespace: permutation-invariant training for source separation (PAPERS.md section 5).
export * from './pit_loss';
