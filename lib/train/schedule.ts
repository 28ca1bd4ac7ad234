/** Options of {@link lrFactor}: warm-up then a decay, as transformers' get_*_schedule_with_warmup. */
export interface ScheduleOptions {
  /** Steps of linear warm-up from 0 to the base rate. Default 0. */
  warmupSteps?: number;
  /** After warm-up: 'constant', 'linear' (to minRatio at totalSteps) or 'cosine' (half cosine to minRatio). Default 'constant'. */
  decay?: 'constant' | 'linear' | 'cosine';
  /** Total optimizer steps, needed by 'linear' and 'cosine'. */
  totalSteps?: number;
  /** The factor reached at the end of the decay. Default 0. */
  minRatio?: number;
}

/**
 * Learning-rate factor at optimizer step `step` (0-based: the factor used for the step-th update):
 * (step + 1) / warmupSteps during warm-up, then 1 ('constant'),
 * minRatio + (1 - minRatio) * (1 - p) ('linear') or minRatio + (1 - minRatio) * (1 + cos(pi p)) / 2
 * ('cosine'), p = (step - warmupSteps) / (totalSteps - warmupSteps) clamped to [0, 1].
 */
export function lrFactor(step: number, opts: ScheduleOptions = {}): number {
  const warm = opts.warmupSteps ?? 0;
  const decay = opts.decay ?? 'constant';
  const minRatio = opts.minRatio ?? 0;
  if (step < warm) return (step + 1) / warm;
  if (decay === 'constant') return 1;
  const total = opts.totalSteps;
  if (!total || total <= warm) throw new Error(`lrFactor: decay '${decay}' needs totalSteps > warmupSteps (${warm}), got ${total}`);
  const p = Math.min(1, Math.max(0, (step - warm) / (total - warm)));
  const shape = decay === 'linear' ? 1 - p : 0.5 * (1 + Math.cos(Math.PI * p));
  return minRatio + (1 - minRatio) * shape;
}
