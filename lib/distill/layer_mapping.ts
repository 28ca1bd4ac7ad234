import * as tf from '@tensorflow/tfjs';
import { Ctx, Module, registerModule } from '../nn/module';
import { alignTime, TimeAlignMethod } from './align_time';
import { ConvProjection, LinearProjection } from './projection';

/**
 * How {@link mapLayers} pairs student and teacher taps:
 * - 'relative-depth': every student tap, in order, with the teacher tap at the nearest relative depth (see
 *   {@link relativeDepthPairs});
 * - 'explicit': the pairs given in `options.pairs`.
 */
export type LayerMappingStrategy = 'relative-depth' | 'explicit';

/**
 * When {@link mapLayers} gives a pair a learned channel projection:
 * - 'when-needed': only when student and teacher channel counts differ;
 * - 'always': every pair (identity-initialised where the counts match, as DPHuBERT's prediction heads);
 * - 'never': no pair (a channel mismatch is then an error).
 */
export type ProjectionPolicy = 'when-needed' | 'always' | 'never';

/** Taps to map: tap name to the tensor recorded there (or its shape), in the model's depth order. */
export type TapShapes = ReadonlyMap<string, tf.Tensor | readonly number[]>;

/** Options of {@link mapLayers}. */
export interface MapLayersOptions {
  /** How taps are paired, see {@link LayerMappingStrategy}. Default 'relative-depth'. */
  strategy?: LayerMappingStrategy;
  /** The (student, teacher) tap-name pairs of strategy 'explicit'. Default: none (required by 'explicit'). */
  pairs?: ReadonlyArray<readonly [string, string]>;
  /** How a student at another frame rate is brought to the teacher's frames. Default 'avg-pool'. */
  time?: TimeAlignMethod;
  /** How a student [batch, time, freq, channels] with other frequency bins is brought to the teacher's. Default 'avg-pool'. */
  freq?: TimeAlignMethod;
  /** When a pair gets a learned channel projection, see {@link ProjectionPolicy}. Default 'when-needed'. */
  projection?: ProjectionPolicy;
  /** Projections learn a bias. Default true. */
  bias?: boolean;
}

/**
 * The plan of one student-teacher pair (JSON: what saveModel stores). Shapes are those seen by mapLayers;
 * at call time only channels (and frequency bins) must match them, batch and frame counts may change.
 */
export interface LayerPairSpec {
  /** Student tap name. */
  student: string;
  /** Teacher tap name. */
  teacher: string;
  /** Position of the student tap among the student taps (0-based) and their number. */
  studentIndex: number;
  studentCount: number;
  /** Position of the teacher tap among the teacher taps (0-based) and their number. */
  teacherIndex: number;
  teacherCount: number;
  /** The student and teacher feature shapes seen when mapping. */
  studentShape: number[];
  teacherShape: number[];
  /**
   * Which side has its [freq, channels] merged into channels ([b, t, f, c] -> [b, t, f * c]) because the
   * other side is [batch, time, channels].
   */
  flatten: 'none' | 'student' | 'teacher';
  /** Time resampling of the student when frame counts differ; 'none' for [batch, channels] features. */
  time: TimeAlignMethod | 'none';
  /** Frequency resampling of a 4-D student when bin counts differ; 'none' unless both are 4-D. */
  freq: TimeAlignMethod | 'none';
  /** The learned channel map: LinearProjection, 1x1 ConvProjection (4-D features), or none. */
  projection: 'linear' | 'conv' | 'none';
  /** Whether the projection learns a bias. */
  bias: boolean;
}

/** One pair of a {@link LayerMapping}: its plan and its projection module (null when channels pass as they are). */
export interface LayerPair extends LayerPairSpec {
  projectionModule: LinearProjection | ConvProjection | null;
}

/** A pair's features after alignment: the student's in the teacher's shape, both owned by the caller. */
export interface AlignedPair {
  pair: LayerPair;
  /** The student feature, resampled and projected: the teacher feature's shape. */
  student: tf.Tensor;
  /** The teacher feature (flattened when the plan says so). */
  teacher: tf.Tensor;
}

/** A row of {@link LayerMapping.table}, for printing or plot.table. */
export interface LayerMappingRow {
  student: string;
  teacher: string;
  /** Relative depths, e.g. '2/4 -> 6/12'. */
  depth: string;
  studentShape: string;
  teacherShape: string;
  /** Frames: '50 -> 25 (avg-pool)', or '25' when equal, '' for [batch, channels]. */
  time: string;
  /** Frequency bins, as time; '' unless both features are 4-D. */
  freq: string;
  /** Channels: '256 -> 768', or '768' when equal. */
  channels: string;
  /** 'LinearProjection', 'ConvProjection' or '' (none). */
  projection: string;
  /** Learned parameters of the pair's projection. */
  params: number;
}

const shapeText = (s: readonly number[]): string => `[${s.join(', ')}]`;

/**
 * The relative-depth pairing of S student taps with T teacher taps: student tap i (0-based) at relative depth
 * (i + 1) / S is paired with teacher tap j whose depth (j + 1) / T is nearest, ties going to the deeper tap:
 *
 *   j = clamp(round_half_up((i + 1) T / S) - 1, 0, T - 1),  computed in integers as floor((2 (i + 1) T + S) / (2 S)) - 1
 *
 * So the last student tap always meets the last teacher tap, equal depths give the identity (j = i), and
 * 3 student taps against 12 teacher layers meet layers 4, 8 and 12 (1-based; DPHuBERT's choice). When the
 * student is deeper than the teacher, several student taps share a teacher tap.
 *
 * @returns for each student tap, the index of its teacher tap
 */
export function relativeDepthPairs(studentCount: number, teacherCount: number): number[] {
  if (!(Number.isInteger(studentCount) && studentCount >= 1 && Number.isInteger(teacherCount) && teacherCount >= 1)) {
    throw new Error(`relativeDepthPairs: tap counts must be integers >= 1; got ${studentCount} and ${teacherCount}`);
  }
  return Array.from({ length: studentCount }, (_, i) => {
    const j = Math.floor((2 * (i + 1) * teacherCount + studentCount) / (2 * studentCount)) - 1;
    return Math.min(Math.max(j, 0), teacherCount - 1);
  });
}

function shapeOfTap(v: tf.Tensor | readonly number[]): number[] {
  return v instanceof tf.Tensor ? [...v.shape] : [...v];
}

function planPair(student: string, teacher: string, sIdx: number, sCount: number, tIdx: number, tCount: number,
  sShape: number[], tShape: number[], opts: Required<Omit<MapLayersOptions, 'pairs' | 'strategy'>>): LayerPairSpec {
  const where = `pair '${student}' -> '${teacher}' (student ${shapeText(sShape)}, teacher ${shapeText(tShape)})`;
  for (const s of [sShape, tShape]) {
    if (s.length < 2 || s.length > 4 || s.some((d) => !(Number.isInteger(d) && d >= 1))) {
      throw new Error(`mapLayers: ${where}: features must be [batch, channels], [batch, time, channels] or ` +
        `[batch, time, freq, channels] with positive sizes`);
    }
  }
  if (sShape[0] !== tShape[0]) throw new Error(`mapLayers: ${where}: batch sizes differ`);
  let flatten: LayerPairSpec['flatten'] = 'none';
  if (sShape.length !== tShape.length) {
    if (sShape.length === 4 && tShape.length === 3) flatten = 'student';
    else if (sShape.length === 3 && tShape.length === 4) flatten = 'teacher';
    else throw new Error(`mapLayers: ${where}: cannot pair a [batch, channels] feature with a feature over time`);
  }
  const flat = (s: number[]) => [s[0], s[1], s[2] * s[3]];
  const sEff = flatten === 'student' ? flat(sShape) : sShape;
  const tEff = flatten === 'teacher' ? flat(tShape) : tShape;
  const rank = sEff.length;
  const cs = sEff[rank - 1], ct = tEff[rank - 1];
  if (opts.projection === 'never' && cs !== ct) {
    throw new Error(`mapLayers: ${where}: channels differ (${cs} -> ${ct}) and options.projection is 'never'`);
  }
  const project = opts.projection === 'always' || (opts.projection === 'when-needed' && cs !== ct);
  return {
    student, teacher, studentIndex: sIdx, studentCount: sCount, teacherIndex: tIdx, teacherCount: tCount,
    studentShape: sShape, teacherShape: tShape, flatten,
    time: rank >= 3 ? opts.time : 'none',
    freq: rank === 4 ? opts.freq : 'none',
    projection: project ? (rank === 4 ? 'conv' : 'linear') : 'none',
    bias: opts.bias,
  };
}

/**
 * Pairs student taps with teacher taps and builds what each pair needs to compare them, the automatic layer
 * mapping of slimspeech (peer libraries take hand-written pairs and connectors). For each pair, in the order
 * of the student taps (or of `options.pairs`), the student feature is brought to the teacher's shape:
 *
 *   1. ranks: a [b, t, f, c] side facing a [b, t, c] side has f and c merged ([b, t, f * c]);
 *   2. time: when frame counts differ, the student is resampled to the teacher's (alignTime, `options.time`);
 *   3. frequency: between 4-D features with different bins, likewise along axis 2 (`options.freq`);
 *   4. channels: a LinearProjection ([b, (t,) c]) or 1x1 ConvProjection ([b, t, f, c]) from the student's to
 *      the teacher's channels, identity-initialised when they match (see {@link ProjectionPolicy}).
 *
 * Resampling is parameter-free and the projections are the only learned parts; resampling before
 * projecting equals projecting first (both are linear along different axes and resampling weights sum to
 * 1). Batch sizes must match. With 'relative-depth' the pairing is {@link relativeDepthPairs} over the
 * taps' order, so pass exactly the taps to distil, shallow to deep (e.g. `new Map([...taps].filter(...))`).
 *
 * @param studentTaps student tap name -> feature (or shape), shallow to deep
 * @param teacherTaps teacher tap name -> feature (or shape), shallow to deep
 * @returns the mapping: its pairs, projections (a Module to train and save with the student), `table()`,
 *   `align()` and `loss()`
 */
export function mapLayers(studentTaps: TapShapes, teacherTaps: TapShapes, options: MapLayersOptions = {}): LayerMapping {
  const { strategy = 'relative-depth', time = 'avg-pool', freq = 'avg-pool', projection = 'when-needed', bias = true } = options;
  if (strategy !== 'relative-depth' && strategy !== 'explicit') {
    throw new Error(`mapLayers: strategy must be 'relative-depth' or 'explicit'; got '${strategy}'`);
  }
  for (const [k, v] of [['time', time], ['freq', freq]] as const) {
    if (v !== 'avg-pool' && v !== 'linear') throw new Error(`mapLayers: ${k} must be 'avg-pool' or 'linear'; got '${v}'`);
  }
  if (projection !== 'when-needed' && projection !== 'always' && projection !== 'never') {
    throw new Error(`mapLayers: projection must be 'when-needed', 'always' or 'never'; got '${projection}'`);
  }
  const sNames = [...studentTaps.keys()], tNames = [...teacherTaps.keys()];
  if (!sNames.length || !tNames.length) {
    throw new Error(`mapLayers: no taps to map (${sNames.length} student, ${tNames.length} teacher)`);
  }
  let named: [string, string][];
  if (strategy === 'explicit') {
    if (!options.pairs?.length) throw new Error("mapLayers: strategy 'explicit' needs options.pairs, [student, teacher] tap names");
    named = options.pairs.map(([s, t]) => {
      if (!studentTaps.has(s)) throw new Error(`mapLayers: no student tap '${s}'; student taps: ${sNames.join(', ')}`);
      if (!teacherTaps.has(t)) throw new Error(`mapLayers: no teacher tap '${t}'; teacher taps: ${tNames.join(', ')}`);
      return [s, t];
    });
  } else {
    if (options.pairs) throw new Error("mapLayers: options.pairs is only for strategy 'explicit'");
    named = relativeDepthPairs(sNames.length, tNames.length).map((j, i) => [sNames[i], tNames[j]]);
  }
  const opts = { time, freq, projection, bias };
  return new LayerMapping(named.map(([s, t]) => planPair(s, t, sNames.indexOf(s), sNames.length, tNames.indexOf(t),
    tNames.length, shapeOfTap(studentTaps.get(s)!), shapeOfTap(teacherTaps.get(t)!), opts)));
}

function flattenFreq(x: tf.Tensor): tf.Tensor {
  return tf.reshape(x, [x.shape[0], x.shape[1]!, x.shape[2]! * x.shape[3]!]);
}

/**
 * The result of {@link mapLayers}: the pairs with their projections. A Module (registered as 'LayerMapping')
 * whose children are the pairs' projections, named by pair index ('0', '2', ...), so that `parameters()` go
 * to the optimizer and saveModel / loadModel keep the trained heads; it has no forward of its own (use
 * {@link LayerMapping.align} or {@link LayerMapping.loss}).
 */
export class LayerMapping extends Module {
  readonly pairs: readonly LayerPair[];

  constructor(specs: readonly LayerPairSpec[]) {
    super();
    this.pairs = specs.map((spec, i) => {
      const sc = spec.flatten === 'student' ? spec.studentShape[2] * spec.studentShape[3] : spec.studentShape[spec.studentShape.length - 1];
      const tc = spec.flatten === 'teacher' ? spec.teacherShape[2] * spec.teacherShape[3] : spec.teacherShape[spec.teacherShape.length - 1];
      const projectionModule = spec.projection === 'linear'
        ? this.addModule(String(i), new LinearProjection({ inFeatures: sc, outFeatures: tc, bias: spec.bias }))
        : spec.projection === 'conv'
          ? this.addModule(String(i), new ConvProjection({ inChannels: sc, outChannels: tc, bias: spec.bias }))
          : null;
      return { ...spec, studentShape: [...spec.studentShape], teacherShape: [...spec.teacherShape], projectionModule };
    });
  }

  forward(_x: tf.Tensor, _ctx: Ctx): tf.Tensor {
    throw new Error('LayerMapping has no forward: use align(studentTaps, teacherTaps) or loss(...)');
  }

  /** The student tap names the pairs read, without repeats (a tap filter for the student). */
  studentNames(): string[] {
    return [...new Set(this.pairs.map((p) => p.student))];
  }

  /** The teacher tap names the pairs read, without repeats (a tap filter for the teacher). */
  teacherNames(): string[] {
    return [...new Set(this.pairs.map((p) => p.teacher))];
  }

  /**
   * Each pair's features, the student's brought to the teacher's shape (merge, resample time and frequency,
   * project; see {@link mapLayers}). Frame counts may differ from those seen when mapping: the student is
   * resampled to this call's teacher frames. The returned tensors belong to the caller; the taps are not
   * consumed.
   *
   * @param ctx the context the projections run in (its taps are not used). Default {training: true}.
   */
  align(studentTaps: ReadonlyMap<string, tf.Tensor>, teacherTaps: ReadonlyMap<string, tf.Tensor>,
    ctx: Ctx = { training: true }): AlignedPair[] {
    const get = (taps: ReadonlyMap<string, tf.Tensor>, name: string, side: string) => {
      const t = taps.get(name);
      if (!t) throw new Error(`LayerMapping.align: no ${side} tap '${name}'; given: ${[...taps.keys()].join(', ') || 'none'}`);
      return t;
    };
    const projCtx: Ctx = { ...ctx, taps: undefined };
    // The tidy returns tensors only (a container holding the pairs would make tidy walk the modules).
    const features = tf.tidy(() => this.pairs.map((pair) => {
      const s0 = get(studentTaps, pair.student, 'student'), t0 = get(teacherTaps, pair.teacher, 'teacher');
      if (s0.rank !== (pair.flatten === 'student' ? 4 : pair.studentShape.length) ||
          t0.rank !== (pair.flatten === 'teacher' ? 4 : pair.teacherShape.length)) {
        throw new Error(`LayerMapping.align: pair '${pair.student}' -> '${pair.teacher}' was mapped for student ` +
          `${shapeText(pair.studentShape)} and teacher ${shapeText(pair.teacherShape)}; got ${shapeText(s0.shape)} and ${shapeText(t0.shape)}`);
      }
      let s = pair.flatten === 'student' ? flattenFreq(s0) : s0;
      const t = pair.flatten === 'teacher' ? flattenFreq(t0) : t0.clone();
      if (pair.time !== 'none' && s.shape[1] !== t.shape[1]) s = alignTime(s, t.shape[1]!, { method: pair.time, axis: 1 });
      if (pair.freq !== 'none' && s.shape[2] !== t.shape[2]) s = alignTime(s, t.shape[2]!, { method: pair.freq, axis: 2 });
      s = pair.projectionModule ? pair.projectionModule.forward(s, projCtx) : (s === s0 ? s0.clone() : s);
      if (!tf.util.arraysEqual(s.shape, t.shape)) {
        throw new Error(`LayerMapping.align: pair '${pair.student}' -> '${pair.teacher}': the aligned student is ` +
          `${shapeText(s.shape)}, the teacher ${shapeText(t.shape)} (tap shapes ${shapeText(s0.shape)} and ${shapeText(t0.shape)})`);
      }
      return [s, t];
    }));
    return features.map(([student, teacher], i) => ({ pair: this.pairs[i], student, teacher }));
  }

  /**
   * A loss over every pair: fn(aligned student, teacher, pair) per pair, combined by `reduction` ('mean'
   * over pairs, DPHuBERT's mean over layers; 'sum', DistilHuBERT's sum over prediction heads).
   *
   * @param reduction 'mean' or 'sum'. Default 'mean'.
   * @returns a scalar
   */
  loss(studentTaps: ReadonlyMap<string, tf.Tensor>, teacherTaps: ReadonlyMap<string, tf.Tensor>,
    fn: (student: tf.Tensor, teacher: tf.Tensor, pair: LayerPair) => tf.Scalar,
    reduction: 'mean' | 'sum' = 'mean', ctx: Ctx = { training: true }): tf.Scalar {
    if (reduction !== 'mean' && reduction !== 'sum') throw new Error(`LayerMapping.loss: reduction must be 'mean' or 'sum'; got '${reduction}'`);
    return tf.tidy(() => {
      const parts = this.align(studentTaps, teacherTaps, ctx).map((a) => fn(a.student, a.teacher, a.pair));
      const total = tf.addN(parts);
      return (reduction === 'mean' ? tf.div(total, parts.length) : total) as tf.Scalar;
    });
  }

  /** One row per pair, for printing (console.table) or `plot.table`. */
  table(): LayerMappingRow[] {
    return this.pairs.map((p) => {
      const sEff = p.flatten === 'student' ? [p.studentShape[0], p.studentShape[1], p.studentShape[2] * p.studentShape[3]] : p.studentShape;
      const tEff = p.flatten === 'teacher' ? [p.teacherShape[0], p.teacherShape[1], p.teacherShape[2] * p.teacherShape[3]] : p.teacherShape;
      const axis = (i: number, method: string) => (method === 'none' ? ''
        : sEff[i] === tEff[i] ? String(tEff[i]) : `${sEff[i]} -> ${tEff[i]} (${method})`);
      const cs = sEff[sEff.length - 1], ct = tEff[tEff.length - 1];
      return {
        student: p.student,
        teacher: p.teacher,
        depth: `${p.studentIndex + 1}/${p.studentCount} -> ${p.teacherIndex + 1}/${p.teacherCount}`,
        studentShape: shapeText(p.studentShape) + (p.flatten === 'student' ? ` as ${shapeText(sEff)}` : ''),
        teacherShape: shapeText(p.teacherShape) + (p.flatten === 'teacher' ? ` as ${shapeText(tEff)}` : ''),
        time: axis(1, p.time),
        freq: axis(2, p.freq),
        channels: cs === ct ? String(ct) : `${cs} -> ${ct}`,
        projection: p.projectionModule ? p.projectionModule.typeName() : '',
        params: p.projectionModule ? p.projectionModule.numParams() : 0,
      };
    });
  }

  getConfig(): Record<string, unknown> {
    return { pairs: this.pairs.map(({ projectionModule: _m, ...spec }) => spec) };
  }
}
registerModule('LayerMapping', LayerMapping, (c) => new LayerMapping(c.pairs as LayerPairSpec[]));
