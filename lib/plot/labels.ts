// Text on figures: estimated label widths (for margins and cell sizes) and collision-free placement of
// point labels beside their markers.

/** Widths of characters in em, close to Verdana and DejaVu Sans (the widest fonts Plotly's default stack meets). */
const NARROW = new Set(Array.from("fijlrtI.,:;!|'()[] "));
const WIDE = new Set(Array.from('mwMW%@'));

/**
 * Estimated width in pixels of `text` in Plotly's default font at `fontSize` pixels. It errs wide (the
 * Verdana/DejaVu Sans end of the "Open Sans, verdana, arial, sans-serif" stack), so room reserved with it
 * is enough whichever font the browser picks.
 */
export function textWidth(text: string, fontSize = 12): number {
  let em = 0;
  for (const ch of text) {
    if (NARROW.has(ch)) em += 0.34;
    else if (WIDE.has(ch)) em += 0.96;
    else if (ch >= '0' && ch <= '9') em += 0.64;
    else if (ch === '_') em += 0.5;
    else if (ch === '×') em += 0.84;
    else if (ch >= 'A' && ch <= 'Z') em += 0.72;
    else em += 0.62;
  }
  return em * fontSize;
}

/** Where Plotly draws a scatter point's text relative to its marker (`textposition`). */
export type TextPosition = 'top center' | 'bottom center' | 'middle right' | 'middle left' | 'top right' |
  'bottom right' | 'top left' | 'bottom left';

/** Positions tried for each label, the most readable first. */
const CANDIDATES: TextPosition[] = ['top center', 'bottom center', 'middle right', 'middle left', 'top right',
  'bottom right', 'top left', 'bottom left'];

/** One point to label, in pixels from the plot area's top left corner (y grows downwards). */
export interface LabelPoint {
  x: number;
  y: number;
  /** The label; '' for none (the marker still counts as an obstacle). */
  text: string;
  /** Labels of higher priority are placed first. Default: 0. */
  priority?: number;
}

/** The plot area and the text and marker sizes of `placeLabels`. */
export interface PlacementOptions {
  /** Plot area width in pixels. */
  width: number;
  /** Plot area height in pixels. */
  height: number;
  /** Label font size in pixels. Default: 12. */
  fontSize?: number;
  /** Marker diameter in pixels (Plotly's marker.size). Default: 9. */
  markerSize?: number;
}

interface Box { x0: number; y0: number; x1: number; y1: number }

function overlaps(a: Box, b: Box, pad: number): boolean {
  return a.x0 < b.x1 + pad && b.x0 < a.x1 + pad && a.y0 < b.y1 + pad && b.y0 < a.y1 + pad;
}

/**
 * The box Plotly gives a one-line label at `pos` beside a marker of diameter `markerSize` at (x, y): it
 * offsets text by r = markerSize / 1.6 + 1 from the centre and puts the baseline at
 * y + 0.75 f + s r - (1 - s) f / 2 for s = -1 (top), 0 (middle), +1 (bottom) (drawing.textPointPosition).
 */
export function labelBox(x: number, y: number, w: number, pos: TextPosition, fontSize: number, markerSize: number): Box {
  const r = markerSize / 1.6 + 1;
  const f = fontSize;
  const [v, h] = pos.split(' ');
  const baseline = v === 'top' ? y - r - 0.25 * f : v === 'bottom' ? y + r + 0.75 * f : y + 0.25 * f;
  const x0 = h === 'center' ? x - w / 2 : h === 'right' ? x + r : x - r - w;
  return { x0, x1: x0 + w, y0: baseline - 0.95 * f, y1: baseline + 0.25 * f };
}

/**
 * Greedy label placement: in order of priority (then input order), each label takes the first of
 * top, bottom, right, left and the four corners where it stays inside the plot area and overlaps neither
 * a marker nor a label placed before it; a label that fits nowhere gets null (show it on hover only).
 * A label whose text was already placed within two line heights is redundant and gets null as well
 * (e.g. two variants of one width with equal cost). Returns the position of each point's label.
 */
export function placeLabels(points: LabelPoint[], opts: PlacementOptions): Array<TextPosition | null> {
  const { width, height, fontSize = 12, markerSize = 9 } = opts;
  const half = markerSize / 2 + 1;
  const markers: Box[] = points.map((p) => ({ x0: p.x - half, x1: p.x + half, y0: p.y - half, y1: p.y + half }));
  const placed: Array<{ box: Box; text: string; x: number; y: number }> = [];
  const out: Array<TextPosition | null> = points.map(() => null);
  const order = points.map((_, i) => i).sort((i, j) => (points[j].priority ?? 0) - (points[i].priority ?? 0) || i - j);
  for (const i of order) {
    const p = points[i];
    if (p.text === '') continue;
    if (placed.some((q) => q.text === p.text && Math.hypot(q.x - p.x, q.y - p.y) < 2 * fontSize)) continue;
    const w = textWidth(p.text, fontSize);
    for (const pos of CANDIDATES) {
      const box = labelBox(p.x, p.y, w, pos, fontSize, markerSize);
      if (box.x0 < 0 || box.y0 < 0 || box.x1 > width || box.y1 > height) continue;
      if (markers.some((m, j) => j !== i && overlaps(box, m, 1))) continue;
      if (placed.some((q) => overlaps(box, q.box, 2))) continue;
      placed.push({ box, text: p.text, x: p.x, y: p.y });
      out[i] = pos;
      break;
    }
  }
  return out;
}
