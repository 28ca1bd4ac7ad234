// Inline audio players: 16-bit WAV data URIs in HTML5 <audio> elements, for tslab and saved HTML alike.
import * as tf from '@tensorflow/tfjs';
import { encodeWav } from '../audio/wav';
import { displayHtml } from './display';
import { escapeHtml } from './html';
import { describe, isTensor } from './figure';

/** Mono audio accepted by the players: samples in [-1, 1], or a [time] or [1, time] tensor. */
export type AudioSamples = ArrayLike<number> | tf.Tensor;

/** Options of `audio` and `audioHtml`. */
export interface AudioOptions {
  /** Caption above the player, or above the row of players when several are given. Default: none. */
  label?: string;
  /**
   * Scale each signal so that its peak is 0.99 before encoding (quiet recordings, or model outputs
   * beyond [-1, 1] that 16-bit PCM would clip); the caption then says 'peak-normalised'. Default: false.
   */
  normalize?: boolean;
}


async function readSamples(x: AudioSamples, arg: string): Promise<Float32Array> {
  let out: Float32Array;
  if (isTensor(x)) {
    if (!(x.rank === 1 || (x.rank === 2 && x.shape[0] === 1))) {
      throw new Error(`${arg}: expected a tensor of shape [time] or [1, time], received [${x.shape.join(', ')}]`);
    }
    out = Float32Array.from(await x.data() as ArrayLike<number>);
  } else if (x instanceof Float32Array) {
    out = x;
  } else if (x !== null && typeof x === 'object' && typeof (x as ArrayLike<number>).length === 'number') {
    out = Float32Array.from(x as ArrayLike<number>);
  } else {
    throw new Error(`${arg}: expected samples (an array or a tf.Tensor), received ${describe(x)}`);
  }
  if (out.length === 0) throw new Error(`${arg}: received no samples`);
  const bad = out.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`${arg}: sample ${bad} is ${out[bad]}`);
  return out;
}

function peakNormalized(x: Float32Array): Float32Array {
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  return peak > 0 ? x.map((v) => (0.99 * v) / peak) : x;
}

/** The WAV bytes of `samples` (16-bit PCM, see audio.encodeWav) as a data URI. */
export function wavDataUri(samples: Float32Array, sampleRate: number): string {
  return `data:audio/wav;base64,${Buffer.from(encodeWav(samples, sampleRate)).toString('base64')}`;
}

/**
 * HTML for one player, or a row of named players (`{noisy, enhanced, clean}`): each an HTML5
 * `<audio controls>` whose source is the signal as a 16-bit PCM WAV data URI (so the page plays it
 * offline, with nothing beside it), captioned with its name, duration and rate. Samples outside [-1, 1]
 * are clipped by the encoding unless `normalize` is set. About 1.4 x 2 bytes per sample of HTML.
 */
export async function audioHtml(samples: AudioSamples | Record<string, AudioSamples>, sampleRate: number,
  opts: AudioOptions = {}): Promise<string> {
  if (!(Number.isInteger(sampleRate) && sampleRate > 0)) {
    throw new Error(`audio: sampleRate must be a positive integer, received ${sampleRate}`);
  }
  const single = isTensor(samples) || (typeof samples === 'object' && samples !== null && 'length' in samples);
  const entries: [string | undefined, AudioSamples, string][] = single
    ? [[undefined, samples as AudioSamples, 'samples']]
    : Object.entries(samples as Record<string, AudioSamples>).map(([k, v]) => [k, v, `samples.${k}`]);
  if (entries.length === 0) throw new Error('audio: received an empty record, expected at least one named signal');
  const players: string[] = [];
  for (const [name, value, arg] of entries) {
    let x = await readSamples(value, arg);
    if (opts.normalize) x = peakNormalized(x);
    const caption = [name, `${(x.length / sampleRate).toFixed(2)} s, ${sampleRate / 1000} kHz`, opts.normalize ? 'peak-normalised' : undefined]
      .filter((s) => s !== undefined).join(' · ');
    players.push('<figure style="margin:0">' +
      `<figcaption style="font:12px sans-serif;color:#444">${escapeHtml(caption)}</figcaption>` +
      `<audio controls preload="metadata" src="${wavDataUri(x, sampleRate)}"></audio></figure>`);
  }
  const title = opts.label === undefined ? '' : `<div style="font:bold 13px sans-serif;margin-bottom:4px">${escapeHtml(opts.label)}</div>`;
  return `<div class="slimspeech-audio">${title}<div style="display:flex;flex-wrap:wrap;gap:12px">${players.join('')}</div></div>`;
}

/**
 * Shows audio players inline in a tslab notebook (see `audioHtml`): `await plot.audio(clip, 16000,
 * {label: 'hello'})`, or several side by side, `await plot.audio({noisy, clean}, 16000)`. The exported
 * notebook keeps them playable. Outside a tslab kernel it shows nothing and prints a note (use
 * `audioHtml` to build a page there). Returns nothing, so a cell ending in it prints no value.
 */
export async function audio(samples: AudioSamples | Record<string, AudioSamples>, sampleRate: number,
  opts: AudioOptions = {}): Promise<void> {
  displayHtml(await audioHtml(samples, sampleRate, opts), 'plot.audio (audioHtml builds the HTML to save)');
}
