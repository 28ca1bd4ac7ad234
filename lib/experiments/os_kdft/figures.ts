import type { Figure, Trace } from '../../plot/figure';
import { trainingCurves } from '../../plot/lines';
import { detCurve, scoreDistributions } from '../../plot/verification';
import { OS_KDFT_VARIANT_NAME, OsKdftVariant } from './config';
import type { OsKdftResults } from './report';

const variantsOf = (r: OsKdftResults) => r.config.variants.filter((v) => r.scores[v]);

/** Both loss terms per epoch of every variant (kd: distillation; ft: AAM-softmax fine-tuning). */
export async function lossFigures(r: OsKdftResults): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const term of ['kd', 'ft'] as const) {
    const series: Record<string, { x: number[]; y: number[] }> = {};
    for (const v of variantsOf(r)) {
      const eps = (r.curves[v] ?? []).filter((e) => Number.isFinite(e[term]));
      if (eps.length) series[OS_KDFT_VARIANT_NAME[v]] = { x: eps.map((e) => e.epoch), y: eps.map((e) => e[term]) };
    }
    if (Object.keys(series).length) {
      out.push(await trainingCurves(series, { title: term === 'kd' ? 'Distillation loss per epoch' : 'Fine-tuning (AAM-softmax) loss per epoch',
        xTitle: 'epoch', yTitle: 'loss', markers: true }));
    }
  }
  return out;
}

/** DET curves of every variant on the trial list and on all pairs. */
export async function detFigures(r: OsKdftResults): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const [key, title] of [['trials', 'the trial list'], ['pairs', 'all pairs of test utterances']] as const) {
    const trials = Object.fromEntries(variantsOf(r).map((v) => [OS_KDFT_VARIANT_NAME[v], { scores: r.scores[v]![key], labels: r.labels[key] }]));
    out.push(await detCurve(trials, { title: `DET curves on ${title}`, range: [0.01, 0.95] }));
  }
  return out;
}

/** Score histograms of target and non-target trials, per variant. */
export async function scoreFigures(r: OsKdftResults): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const v of variantsOf(r)) {
    out.push(await scoreDistributions({ scores: r.scores[v]!.pairs, labels: r.labels.pairs }, { title: `${OS_KDFT_VARIANT_NAME[v]}: scores on all pairs` }));
  }
  return out;
}

/** The first two principal components of a set of rows (power iteration on the covariance, deterministic start). */
export function pca2(rows: number[][]): number[][] {
  const n = rows.length, d = rows[0].length;
  const mean = Array.from({ length: d }, (_, j) => rows.reduce((s, r) => s + r[j], 0) / n);
  const X = rows.map((r) => r.map((v, j) => v - mean[j]));
  const comps: number[][] = [];
  for (let c = 0; c < 2; c++) {
    let v = Array.from({ length: d }, (_, j) => Math.cos(j + c));
    for (let it = 0; it < 200; it++) {
      const xv = X.map((r) => r.reduce((s, x, j) => s + x * v[j], 0));
      let w = Array.from({ length: d }, (_, j) => X.reduce((s, r, i) => s + r[j] * xv[i], 0));
      for (const p of comps) { const k = w.reduce((s, x, j) => s + x * p[j], 0); w = w.map((x, j) => x - k * p[j]); }
      const norm = Math.sqrt(w.reduce((s, x) => s + x * x, 0)) || 1;
      v = w.map((x) => x / norm);
    }
    comps.push(v);
  }
  return X.map((r) => comps.map((p) => r.reduce((s, x, j) => s + x * p[j], 0)));
}

/** A 2-D PCA of every variant's test embeddings, coloured by speaker (one panel per variant). */
export async function pcaFigure(r: OsKdftResults): Promise<Figure> {
  const vs = variantsOf(r).filter((v) => r.embeddings[v]?.length);
  const speakers = [...new Set(r.testSpeakers)];
  const data: Trace[] = [];
  const layout: Figure['layout'] = { title: { text: 'Test embeddings, first two principal components, coloured by speaker' }, height: 420, showlegend: false,
    annotations: [] };
  const width = 1 / vs.length;
  vs.forEach((v: OsKdftVariant, k) => {
    const p = pca2(r.embeddings[v]!);
    const ax = k === 0 ? '' : String(k + 1);
    for (const s of speakers) {
      const idx = r.testSpeakers.map((x, i) => (x === s ? i : -1)).filter((i) => i >= 0);
      data.push({ type: 'scatter', mode: 'markers', name: `speaker ${s}`, x: idx.map((i) => p[i][0]), y: idx.map((i) => p[i][1]),
        xaxis: `x${ax}`, yaxis: `y${ax}`, marker: { size: 6, color: `hsl(${Math.round((360 * speakers.indexOf(s)) / speakers.length)}, 70%, 45%)` } });
    }
    layout[`xaxis${ax}`] = { domain: [k * width + 0.02, (k + 1) * width - 0.02], showticklabels: false, zeroline: false };
    layout[`yaxis${ax}`] = { anchor: `x${ax}`, showticklabels: false, zeroline: false };
    (layout.annotations as unknown[]).push({ text: OS_KDFT_VARIANT_NAME[v], xref: 'paper', yref: 'paper', x: k * width + width / 2, y: 1.02,
      showarrow: false, xanchor: 'center', yanchor: 'bottom' });
  });
  return { data, layout };
}

/** Every plot the recipe saves, by file name (plots/<name>.html). */
export async function osKdftFigures(r: OsKdftResults): Promise<Record<string, Figure[]>> {
  return { losses: await lossFigures(r), det: await detFigures(r), scores: await scoreFigures(r), embeddings: [await pcaFigure(r)] };
}
