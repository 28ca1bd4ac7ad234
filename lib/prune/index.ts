// The prune namespace: structured pruning with HardConcrete gates (PAPERS.md section 3, DPHuBERT).
export * from './hard_concrete';
