import * as tf from '@tensorflow/tfjs';
import { buildModule, Module, ModuleSpec, withParameterRng } from './module';
import { Rng } from '../util/rng';

/** Format tag of model.json files written by {@link saveModel}. */
export const MODEL_FORMAT = 'slimspeech-module';

/** What model.json holds. */
export interface ModelArtifacts {
  format: typeof MODEL_FORMAT;
  formatVersion: 1;
  architecture: ModuleSpec;
  numParams: number;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  metadata?: Record<string, unknown>;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /** Free-form JSON stored with the model (e.g. training config, results). Default: none. */
  metadata?: Record<string, unknown>;
}

/**
 * Saves a module to `dir` (Node): model.json (architecture spec plus a tfjs weights manifest) and
 * weights.bin (tfjs weights format: parameters and buffers by path). Files are written to temporary names
 * and renamed, so an interrupted save never leaves a half-written model. A pruned or sliced model is
 * saved at its own, smaller shape.
 */
export async function saveModel(module: Module, dir: string, opts: SaveModelOptions = {}): Promise<ModelArtifacts> {
  if (!isNode) throw new Error('saveModel writes files and needs Node; in a browser, use module.stateDict()');
  const fs = await import('fs');
  const path = await import('path');
  const named = [...module.stateDict()].map(([name, tensor]) => ({ name, tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  const artifacts: ModelArtifacts = {
    format: MODEL_FORMAT,
    formatVersion: 1,
    architecture: module.spec(),
    numParams: module.numParams(),
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
    ...(opts.metadata ? { metadata: opts.metadata } : {}),
  };
  fs.mkdirSync(dir, { recursive: true });
  const tmpBin = path.join(dir, `.weights.bin.${process.pid}.tmp`);
  const tmpJson = path.join(dir, `.model.json.${process.pid}.tmp`);
  fs.writeFileSync(tmpBin, Buffer.from(data));
  fs.writeFileSync(tmpJson, JSON.stringify(artifacts, null, 1));
  fs.renameSync(tmpBin, path.join(dir, 'weights.bin'));
  fs.renameSync(tmpJson, path.join(dir, 'model.json'));
  return artifacts;
}

async function readArtifacts(location: string): Promise<{ json: ModelArtifacts; weights: ArrayBuffer }> {
  const isUrl = /^(https?|file|blob|data):/.test(location);
  if (isNode && !isUrl) {
    const fs = await import('fs');
    const path = await import('path');
    const file = fs.existsSync(location) && fs.statSync(location).isDirectory() ? path.join(location, 'model.json') : location;
    if (!fs.existsSync(file)) throw new Error(`loadModel: no model at ${location} (expected ${file})`);
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelArtifacts;
    const base = path.dirname(file);
    const bufs = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(base, p))));
    const all = Buffer.concat(bufs);
    return { json, weights: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) };
  }
  const url = location.endsWith('.json') ? location : `${location.replace(/\/$/, '')}/model.json`;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`loadModel: ${url}: HTTP ${res.status}`);
  const json = (await res.json()) as ModelArtifacts;
  const base = url.slice(0, url.lastIndexOf('/') + 1);
  const parts = await Promise.all(json.weightsManifest.flatMap((g) => g.paths.map(async (p) => {
    const r = await fetch(base + p);
    if (!r.ok) throw new Error(`loadModel: ${base + p}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  })));
  const total = parts.reduce((s, p) => s + p.length, 0);
  const all = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  return { json, weights: all.buffer };
}

/**
 * Rebuilds a module saved by {@link saveModel} from a directory (Node) or URL (browser), with slimspeech
 * alone: the architecture comes from the registered module types and their configs, so a pruned or
 * sliced model comes back at its smaller shape. Every saved tensor must match the rebuilt module exactly.
 */
export async function loadModel(location: string): Promise<Module> {
  const { json, weights } = await readArtifacts(location);
  if (json.format !== MODEL_FORMAT) {
    throw new Error(`loadModel: ${location} is not a slimspeech model (format '${(json as { format?: string }).format}'); ` +
      'tfjs-layers models load with tf.loadLayersModel');
  }
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const expected = specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (weights.byteLength !== expected) {
    throw new Error(`loadModel: ${location}: weights are ${weights.byteLength} bytes, the manifest describes ${expected}`);
  }
  const module = withParameterRng(new Rng(0), () => buildModule(json.architecture));
  const tensors = tf.io.decodeWeights(weights, specs);
  try {
    module.loadStateDict(new Map(Object.entries(tensors)));
  } catch (e) {
    module.dispose();
    throw new Error(`loadModel: ${location}: ${(e as Error).message}`);
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return module;
}
