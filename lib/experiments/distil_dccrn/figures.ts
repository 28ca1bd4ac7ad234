import * as tf from '@tensorflow/tfjs';
import { stft } from '../../audio/stft';
import { attentionMap } from '../../distill/attention_transfer';
import { noGrad } from '../../distill/teacher_student_step';
import { Figure, PALETTE } from '../../plot/figure';
import { heatmap } from '../../plot/heatmap';
import { trainingCurves } from '../../plot/lines';
import { palette, Palette } from '../../plot/palette';
import { pareto } from '../../plot/pareto';
import { spectrogram } from '../../plot/spectrogram';
import type { Run } from '../run';
import { DCCRN_VARIANTS, DccrnVariant, DistilDccrnConfig, VARIANT_NAME } from './config';
import type { DistilDccrnResults } from './report';
import type { DccrnState } from './state';
import { enhance } from './train';

type DccrnRun = Run<DistilDccrnConfig, DccrnState>;

/** One colour per variant across the recipe's figures. */
export function dccrnPalette(): Palette {
  return palette(DCCRN_VARIANTS.map((v) => VARIANT_NAME[v]), { variants: ['loss', 'feature'], colors: PALETTE });
}

/** Per variant: the training loss terms per epoch (-SI-SNR; the feature term of the distilled), and validation SI-SNR per epoch. */
export async function dccrnTrainingFigures(results: DistilDccrnResults): Promise<Figure[]> {
  const pal = dccrnPalette();
  const loss: Record<string, { x: number[]; y: number[] }> = {};
  const valid: Record<string, { x: number[]; y: number[] }> = {};
  for (const [v, eps] of Object.entries(results.curves)) {
    if (!eps?.length) continue;
    const name = VARIANT_NAME[v as DccrnVariant];
    const x = eps.map((e) => e.epoch);
    loss[`${name}: -SI-SNR`] = { x, y: eps.map((e) => e.negSiSnr ?? e.loss) };
    if (eps[0].feature !== undefined) loss[`${name}: feature loss`] = { x, y: eps.map((e) => e.feature) };
    valid[name] = { x, y: eps.map((e) => e.validSiSnr) };
  }
  const keys = (n: string) => ({ group: n.split(':')[0], variant: n.endsWith('feature loss') ? 'feature' : 'loss' });
  return [
    await trainingCurves(loss, { title: 'Training loss terms per epoch', xTitle: 'epoch', yTitle: 'loss', markers: true, palette: pal, keys }),
    await trainingCurves(valid, { title: 'Validation SI-SNR per epoch', xTitle: 'epoch', yTitle: 'SI-SNR (dB)', markers: true, palette: pal,
      keys: (n) => ({ group: n }) }),
  ];
}

/** Parameters (log axis) against SI-SNR and against PESQ on the test mixtures, one point per variant, with the noisy input's level. */
export async function dccrnParetoFigures(results: DistilDccrnResults): Promise<Figure[]> {
  const pal = dccrnPalette();
  const test = results.rows.filter((r) => r.set === 'test' && r.variant !== 'noisy');
  const noisy = results.rows.find((r) => r.set === 'test' && r.variant === 'noisy')!;
  const out: Figure[] = [];
  for (const [metric, title] of [['siSnr', 'SI-SNR (dB)'], ['pesqWb', 'PESQ wide-band (MOS)']] as const) {
    const points = Object.fromEntries(test.map((r) => [String(r.name), { x: [r.params as number], y: [r[metric] as number], labels: [String(r.name)] }]));
    const fig = await pareto(points, { title: `Parameters against ${title} on the test mixtures`, logX: true, palette: pal,
      yInclude: [noisy[metric] as number], keys: (n) => ({ group: n }), labelMode: 'hover' });
    fig.layout.yaxis = { ...(fig.layout.yaxis ?? {}), title: { text: title } };
    fig.layout.shapes = [{ type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y', y0: noisy[metric], y1: noisy[metric], line: { color: '#555', dash: 'dot', width: 1 } }];
    fig.layout.annotations = [{ xref: 'paper', x: 1, xanchor: 'right', yref: 'y', y: noisy[metric], yanchor: 'bottom', showarrow: false,
      text: `noisy input ${Number(noisy[metric]).toFixed(2)}`, font: { size: 11, color: '#555' } }];
    out.push(fig);
  }
  return out;
}

/** Magnitude spectrograms (dB) of one test mixture: noisy, each variant's output, clean. */
export async function dccrnSpectrogramFigure(run: DccrnRun, item: number, variants: DccrnVariant[]): Promise<Figure> {
  const data = run.state.data!;
  const p = data.test[item];
  const specs: Record<string, tf.Tensor> = {};
  const mag = (x: Float32Array | (() => tf.Tensor)) => tf.tidy(() => {
    const { real, imag } = stft(typeof x === 'function' ? x() : tf.tensor1d(x), { nFft: 512, hopLength: 128 });
    return tf.sqrt(tf.add(tf.square(real), tf.square(imag)));
  });
  specs.noisy = mag(p.noisy);
  for (const v of variants) {
    const t = run.state.trained[v];
    if (t) specs[VARIANT_NAME[v]] = mag(() => tf.squeeze(enhance(t.model, tf.tensor2d(p.noisy, [1, p.noisy.length]), { training: false })));
  }
  specs.clean = mag(p.clean);
  try {
    return await spectrogram(specs, { title: `Test mixture ${item}: ${p.name}`, frameSeconds: 128 / data.sampleRate,
      binHz: data.sampleRate / 512, db: true, colorbarTitle: 'dB', height: 220 * Object.keys(specs).length });
  } finally {
    tf.dispose(Object.values(specs));
  }
}

/**
 * The attention maps AT-KL compares for one test mixture: for each mapped pair, the teacher's and the
 * aligned student's energy over time (normalised to sum 1), rows = pairs, as heatmaps side by side.
 */
export async function dccrnAttentionFigure(run: DccrnRun, item: number, variant: DccrnVariant = 'student-atkl'): Promise<Figure> {
  const t = run.state.trained[variant];
  const teacher = run.state.trained.teacher;
  if (!t?.mapping || !teacher) throw new Error(`distil-dccrn: attention maps need the trained teacher and ${variant}`);
  const p = run.state.data!.test[item];
  const sTaps = new Map<string, tf.Tensor>(), tTaps = new Map<string, tf.Tensor>();
  const sNames = t.mapping.studentNames(), tNames = t.mapping.teacherNames();
  try {
    const rows = tf.tidy(() => {
      const x = tf.tensor2d(p.noisy, [1, p.noisy.length]);
      t.model.forward(x, { training: false, taps: sTaps, tapFilter: (n) => sNames.includes(n) });
      noGrad(() => teacher.model.forward(x, { training: false, taps: tTaps, tapFilter: (n) => tNames.includes(n) }));
      return t.mapping!.align(sTaps, tTaps, { training: false }).map((a) => {
        const m = [attentionMap(a.teacher, { over: 'time', normalize: 'sum' }), attentionMap(a.student, { over: 'time', normalize: 'sum' })];
        tf.dispose([a.student, a.teacher]);
        return m;
      });
    });
    const z = (k: number) => rows.map((r) => Array.from(r[k].dataSync()));
    const labels = t.mapping.pairs.map((q) => `${q.student} <- ${q.teacher}`);
    const fig = await heatmap({ teacher: z(0), [`student (${VARIANT_NAME[variant]})`]: z(1) }, { title: `Attention over time, test mixture ${item}`,
      xTitle: 'teacher frame', yTitle: 'mapped pair', yLabels: labels, colorbarTitle: 'share of energy' });
    tf.dispose(rows.flat());
    return fig;
  } finally {
    tf.dispose([...sTaps.values(), ...tTaps.values()]);
  }
}

/** Every plot the recipe saves, by file name (plots/<name>.html). */
export async function dccrnFigures(run: DccrnRun, results: DistilDccrnResults): Promise<Record<string, Figure[]>> {
  const variants = run.config.variants.filter((v) => run.state.trained[v]);
  const figs: Record<string, Figure[]> = {
    'training-curves': await dccrnTrainingFigures(results),
    pareto: await dccrnParetoFigures(results),
    spectrogram: [await dccrnSpectrogramFigure(run, 0, variants.filter((v) => v !== 'student-at' && v !== 'student-kl'))],
  };
  if (run.state.trained['student-atkl']?.mapping && run.state.trained.teacher) figs['attention-maps'] = [await dccrnAttentionFigure(run, 0)];
  return figs;
}
