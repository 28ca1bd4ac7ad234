import { perWidthBars } from '../../plot/bars';
import type { Figure } from '../../plot/figure';
import { heatmap } from '../../plot/heatmap';
import { sparsityVsTarget, trainingCurves } from '../../plot/lines';
import { pareto } from '../../plot/pareto';
import type { StepRecord } from '../../train/history';
import { DPHUBERT_TASK_NAME } from './config';
import type { DphubertResults } from './report';

const col = (steps: StepRecord[], k: string) => steps.map((s) => (Number.isFinite(s[k]) ? s[k] : NaN));

/** Expected sparsity against the ramped target over the steps of distillation with pruning, one figure per target. */
export async function sparsityFigures(r: DphubertResults): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const [t, p] of Object.entries(r.pruning)) {
    out.push(await sparsityVsTarget(col(p.steps, 'sparsity'), col(p.steps, 'target'), { steps: p.steps.map((_, i) => i + 1),
      title: `Target sparsity ${t}: expected sparsity (from the gates) against the target`, xTitle: 'optimizer step' }));
  }
  return out;
}

/** The Lagrange multipliers lambda1 and lambda2 over the steps of every target. */
export async function lagrangianFigure(r: DphubertResults): Promise<Figure> {
  const series: Record<string, { x: number[]; y: number[] }> = {};
  for (const [t, p] of Object.entries(r.pruning)) {
    const x = p.steps.map((_, i) => i + 1);
    series[`λ1, target ${t}`] = { x, y: col(p.steps, 'lambda1') };
    series[`λ2, target ${t}`] = { x, y: col(p.steps, 'lambda2') };
  }
  return trainingCurves(series, { title: 'Lagrange multipliers (trained by gradient ascent)', xTitle: 'optimizer step', yTitle: 'value' });
}

/** Distillation loss per step: each pruned student (pruning, then final distillation) and the distillation-only student. */
export async function distillLossFigure(r: DphubertResults): Promise<Figure> {
  const series: Record<string, { x: number[]; y: number[] }> = {};
  const both = (a: StepRecord[], b: StepRecord[]) => { const s = [...a, ...b]; return { x: s.map((_, i) => i + 1), y: col(s, 'distill') }; };
  for (const [t, p] of Object.entries(r.pruning)) series[`DPHuBERT ${t}`] = both(p.steps, p.final);
  if (r.baseline) series['distillation only'] = both(r.baseline.steps, r.baseline.final);
  return trainingCurves(series, { title: 'Distillation loss (L1 + cosine term) per step; pruning ends, final distillation follows',
    xTitle: 'optimizer step', yTitle: 'loss', smoothing: 0.6 });
}

/**
 * What each target kept: attention heads and FFN units per layer (two heatmaps, each on its own colour scale),
 * conv channels per layer (bars).
 */
export async function structureFigures(r: DphubertResults): Promise<{ heads: Figure; ffn: Figure; conv: Figure }> {
  const targets = Object.keys(r.pruning);
  const layers = r.pruning[targets[0]]?.kept?.heads.length ?? 0;
  const grid = (k: 'heads' | 'ffnUnits', title: string) => heatmap(targets.map((t) => r.pruning[t].kept![k]), {
    title, xTitle: 'layer', yTitle: 'target sparsity', xLabels: Array.from({ length: layers }, (_, i) => `layer ${i + 1}`),
    yLabels: targets.map((t) => `${t}`), annotate: true, valueFormat: 'd' });
  const heads = await grid('heads', 'Attention heads kept per transformer layer');
  const ffn = await grid('ffnUnits', 'FFN units kept per transformer layer');
  const convLayers = r.pruning[targets[0]]?.kept?.convChannels.length ?? 0;
  const teacherConv = (r.config.teacher.path ? null : r.config.teacher.args.extractorConvLayerConfig)?.map((c) => c[0]);
  const series: Record<string, number[]> = {};
  if (teacherConv) series.teacher = teacherConv;
  for (const t of targets) series[`target ${t}`] = r.pruning[t].kept!.convChannels;
  const conv = await perWidthBars(Array.from({ length: convLayers }, (_, i) => `conv ${i + 1}`), series, {
    title: 'Feature-extractor channels kept per convolution', xTitle: 'convolution', yTitle: 'channels', valueFormat: 'd' });
  return { heads, ffn, conv };
}

/** Parameters against probe accuracy, per task: the teacher, the sweep's students and the distillation-only student. */
export async function sweepFigures(r: DphubertResults): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const task of r.config.probes.tasks) {
    const pick = (kind: string) => r.rows.filter((x) => x.kind === kind && typeof x[task] === 'number');
    const pts = (rows: typeof r.rows, label: (x: (typeof r.rows)[number]) => string) => ({ x: rows.map((x) => x.params as number),
      y: rows.map((x) => x[task] as number), labels: rows.map(label) });
    out.push(await pareto({
      teacher: pts(pick('teacher'), () => 'teacher'),
      'distilled + pruned (DPHuBERT)': pts(pick('dphubert'), (x) => `sparsity ${x.target}`),
      'distillation only': pts(pick('distill-only'), () => 'distill-only'),
    }, { title: `Parameters against ${DPHUBERT_TASK_NAME[task]} probe accuracy`, yTitle: 'test accuracy', front: 'none' }));
  }
  return out;
}

/** The probes' softmax layer weights: which hidden states each model's probe draws on, per task. */
export async function layerWeightFigures(r: DphubertResults): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const task of r.config.probes.tasks) {
    const models = Object.keys(r.layerWeights).filter((m) => r.layerWeights[m][task]);
    const width = Math.max(...models.map((m) => r.layerWeights[m][task]!.length));
    const z = models.map((m) => Array.from({ length: width }, (_, i) => r.layerWeights[m][task]![i] ?? NaN));
    out.push(await heatmap(z, { title: `${DPHUBERT_TASK_NAME[task]}: probe weight of each hidden state (0 = feature projection)`,
      xTitle: 'hidden state', yTitle: 'model', xLabels: Array.from({ length: width }, (_, i) => `${i}`), yLabels: models, annotate: true, valueFormat: '.2f' }));
  }
  return out;
}

/** Every plot the recipe saves, by file name (plots/<name>.html). */
export async function dphubertFigures(r: DphubertResults): Promise<Record<string, Figure[]>> {
  const s = await structureFigures(r);
  const out: Record<string, Figure[]> = {
    sparsity: await sparsityFigures(r), lagrangian: [await lagrangianFigure(r)], 'distill-loss': [await distillLossFigure(r)],
    structure: [s.heads, s.ffn, s.conv], sweep: await sweepFigures(r), 'layer-weights': await layerWeightFigures(r),
  };
  const pre = r.teacher.pretrain;
  if (pre?.length) {
    out.teacher = [await trainingCurves({ 'masked accuracy (training)': { x: pre.map((e) => e.epoch), y: pre.map((e) => e.accuracy) },
      'masked accuracy (validation)': { x: pre.map((e) => e.epoch), y: pre.map((e) => e.validAccuracy) } },
    { title: `Teacher pre-training (HuBERT iteration 1, ${r.config.teacher.clusters} clusters): masked-prediction accuracy`, xTitle: 'epoch',
      yTitle: 'accuracy', markers: true })];
  }
  return out;
}
