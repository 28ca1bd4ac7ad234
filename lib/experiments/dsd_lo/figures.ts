import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { stft } from '../../audio/stft';
import { audioHtml } from '../../plot/audio';
import type { Figure } from '../../plot/figure';
import { labelSwitchRate, trainingCurves } from '../../plot/lines';
import { spectrogram } from '../../plot/spectrogram';
import type { Run } from '../run';
import { DsdLoConfig, SEP_VARIANT_NAME, SepModelKind, SepVariant } from './config';
import { separateAll } from './evaluate';
import { DsdLoResults, SEP_MODEL_NAME } from './report';
import type { DsdLoState, SepKey } from './state';

type SepRun = Run<DsdLoConfig, DsdLoState>;

/** Per epoch of each variant of `model`: the field `field` of its epoch records. */
function perVariant(results: DsdLoResults, model: SepModelKind, field: string, only?: (v: SepVariant) => boolean): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const v of results.config.variants) {
    const eps = results.curves[`${model}/${v}` as SepKey];
    if (!eps?.length || (only && !only(v))) continue;
    out[SEP_VARIANT_NAME[v]] = eps.map((e) => (Number.isFinite(e[field]) ? e[field] : NaN));
  }
  return out;
}

/**
 * Per model: the label-switch rate per epoch of every variant (share of revisited training mixtures whose best
 * assignment changed since their last visit; none in epoch 1), the share dynamic sample dropout flagged per epoch
 * (DSD variants), and validation SI-SNRi per epoch.
 */
export async function sepTrainingFigures(results: DsdLoResults): Promise<{ switches: Figure[]; flagged: Figure[]; validation: Figure[] }> {
  const out = { switches: [] as Figure[], flagged: [] as Figure[], validation: [] as Figure[] };
  for (const model of results.config.models) {
    const m = SEP_MODEL_NAME[model];
    const sw = perVariant(results, model, 'switchRate');
    if (!Object.keys(sw).length) continue;
    out.switches.push(await labelSwitchRate(sw, { title: `${m}: label-switch rate per epoch (training mixtures)` }));
    // Every variant, so that colours match the other figures (the variants without DSD stay at 0).
    const fl = perVariant(results, model, 'flaggedShare');
    if (results.config.variants.some((v) => v.includes('dsd'))) {
      out.flagged.push(await labelSwitchRate(fl, { title: `${m}: share of training mixtures dynamic sample dropout flagged per epoch`,
        yTitle: 'flagged (dropped or reordered)' }));
    }
    const valid = perVariant(results, model, 'validSiSnri');
    const curves = Object.fromEntries(Object.entries(valid).map(([k, y]) => [k, { x: y.map((_, i) => i + 1), y }]));
    out.validation.push(await trainingCurves(curves, { title: `${m}: validation SI-SNRi per epoch`, xTitle: 'epoch', yTitle: 'SI-SNRi (dB)',
      markers: true }));
  }
  return out;
}

/** The signals of one test mixture for listening and spectrograms: mixture, sources, and each variant's matched estimates. */
export async function exampleSignals(run: SepRun, item: number, model: SepModelKind, variants: SepVariant[]): Promise<Record<string, Float32Array>> {
  const { state } = run;
  const it = state.data!.test[item];
  const out: Record<string, Float32Array> = { mixture: it.mixture };
  it.sources.forEach((s, k) => { out[`source ${k + 1}`] = s; });
  for (const v of variants) {
    const key: SepKey = `${model}/${v}`;
    const t = state.trained[key];
    const row = state.scores[key]?.rows[item];
    if (!t || !row) continue;
    const [est] = await separateAll(t.module, [it]);
    row.perm.forEach((e, k) => { out[`${SEP_VARIANT_NAME[v]}: estimate of source ${k + 1}`] = est[e]; });
  }
  return out;
}

/** Magnitude spectrograms (dB) of {@link exampleSignals}. */
export async function exampleSpectrogram(run: SepRun, item: number, model: SepModelKind, variants: SepVariant[]): Promise<Figure> {
  const signals = await exampleSignals(run, item, model, variants);
  // One column per source: the sources, then each variant's estimates of them, row by row; the mixture last.
  const { mixture, ...rest } = signals;
  const ordered: Record<string, Float32Array> = { ...rest, mixture };
  const columns = run.state.data!.test[item].sources.length;
  const specs = Object.fromEntries(Object.entries(ordered).map(([k, x]) => [k, tf.tidy(() => {
    const { real, imag } = stft(tf.tensor1d(x), { nFft: 256, hopLength: 64 });
    return tf.sqrt(tf.add(tf.square(real), tf.square(imag)));
  })]));
  const sr = run.state.data!.sampleRate;
  const name = run.state.data!.test[item].id;
  try {
    return await spectrogram(specs, { title: `${SEP_MODEL_NAME[model]}, test mixture ${item} (${name})`, frameSeconds: 64 / sr, binHz: sr / 256,
      db: true, colorbarTitle: 'dB', columns, height: 230 * Math.ceil(Object.keys(specs).length / columns) + 80 });
  } finally {
    tf.dispose(Object.values(specs));
  }
}

/** The mixtures shown: the first test mixture and the one where DSD + LO gains most over PIT (of the first model). */
export function exampleItems(run: SepRun): number[] {
  const model = run.config.models[0];
  const a = run.state.scores[`${model}/pit-dsd-lo`]?.rows, b = run.state.scores[`${model}/pit`]?.rows;
  if (!a || !b) return [0];
  let best = 0;
  a.forEach((r, i) => { if (r.siSnri - b[i].siSnri > a[best].siSnri - b[best].siSnri) best = i; });
  return best === 0 ? [0] : [0, best];
}

/** Every plot the recipe saves, by file name (plots/<name>.html); also plots/listen.html, players of the examples. */
export async function sepFigures(run: SepRun, results: DsdLoResults): Promise<Record<string, Figure[]>> {
  const tr = await sepTrainingFigures(results);
  const model = run.config.models[0];
  const shown = (['pit', 'pit-dsd-lo'] as SepVariant[]).filter((v) => run.state.trained[`${model}/${v}`]);
  const items = exampleItems(run);
  const examples: Figure[] = [];
  const players: string[] = [];
  for (const i of items) {
    examples.push(await exampleSpectrogram(run, i, model, shown));
    players.push(await audioHtml(await exampleSignals(run, i, model, shown), run.state.data!.sampleRate,
      { label: `${SEP_MODEL_NAME[model]}, test mixture ${i} (${run.state.data!.test[i].id})`, normalize: true }));
  }
  fs.mkdirSync(run.path('plots'), { recursive: true });
  fs.writeFileSync(run.path('plots', 'listen.html'), `<!doctype html><html><head><meta charset="utf-8"><title>dsd-lo: listen</title></head>` +
    `<body style="font-family:sans-serif">${players.join('<hr>')}</body></html>`);
  return { 'label-switches': tr.switches, flagged: tr.flagged, validation: tr.validation, examples };
}
