#!/usr/bin/env node
// The `slimspeech` command: runs experiments and notebooks headless.
import * as path from 'path';
import { useBackend } from './backend';
import * as fs from 'fs';
import { checkPresetName, copyNotebooks, embedFilesCsv, enhanceFiles, getRecipe, RECIPES, runNotebooks, runRecipe, separateFiles, verifyFiles }
  from './experiments';

const USAGE = `usage:
  slimspeech run <experiment> [--preset quick|default|paper] [--set key=value ...] [--seeds N] [--out DIR]
                 [--fresh] [--quiet] [--backend NAME]
      runs an experiment's steps and writes config.json, run.log, results.json, results.csv, plots/ (HTML),
      models/ and checkpoints/ to DIR (default out/<experiment>). Rerunning the same command continues an
      interrupted run and reuses every step whose inputs did not change; --fresh recomputes everything.
      --seeds N runs it for N seeds (the config's seed and the next ones, in DIR/seed-<s>/) and pools them:
      means with 95% intervals over seeds, claims over seeds and test items.
  slimspeech notebooks [--preset P] [--out DIR] [notebook.ipynb ...]
      executes the notebooks headless through Jupyter (tslab kernel); executed copies and HTML go to
      DIR (default out/notebooks); preset default 'default'
  slimspeech notebooks --copy DIR [--overwrite]
      copies the bundled notebooks into DIR (e.g. notebooks/ of your own project) to open or run there
  slimspeech enhance MODEL_DIR in.wav [more.wav ...] --out DIR [--chunk-seconds S] [--sample-rate HZ]
      enhances WAV files (any rate, any length) with a saved enhancement model (e.g. a distil-dccrn model
      under out/distil-dccrn/models/); writes the enhanced files under their own names to DIR
  slimspeech separate MODEL_DIR mix.wav [more.wav ...] --out DIR [--chunk-seconds S] [--sample-rate HZ]
      separates WAV mixtures (any rate, any length) with a saved separation model; writes <name>_s1.wav,
      <name>_s2.wav, ... to DIR
  slimspeech verify MODEL_DIR a.wav b.wav
      scores two recordings with a saved speaker model (e.g. out/os-kdft/models/os-kdft): the recipe's score
      (half whole-utterance cosine, half mean segment cosine) and the decision at the model's stored EER threshold
  slimspeech embed MODEL_DIR a.wav [more.wav ...] --out embeddings.csv
      writes each file's speaker embedding (unit length) as a CSV row
  slimspeech list
      lists the experiments and their presets
options:
  --backend   auto | tensorflow-gpu | tensorflow | wasm | cpu (default auto; SLIMSPEECH_BACKEND also works)
  --quiet     no progress on the console (run.log in the run directory still has every line)`;

interface Args {
  positional: string[]; preset?: string; sets: string[]; out?: string; backend?: string; seeds?: string;
  copy?: string; chunkSeconds?: string; sampleRate?: string; fresh: boolean; quiet: boolean; overwrite: boolean; help: boolean;
}

function parse(argv: string[]): Args {
  const a: Args = { positional: [], sets: [], fresh: false, quiet: false, overwrite: false, help: false };
  const valued: Record<string, (a: Args, v: string) => void> = {
    '--preset': (x, v) => { x.preset = v; }, '--set': (x, v) => { x.sets.push(v); }, '--out': (x, v) => { x.out = v; },
    '--backend': (x, v) => { x.backend = v; }, '--seeds': (x, v) => { x.seeds = v; }, '--copy': (x, v) => { x.copy = v; },
    '--chunk-seconds': (x, v) => { x.chunkSeconds = v; }, '--sample-rate': (x, v) => { x.sampleRate = v; },
  };
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i];
    const eq = t.indexOf('=');
    const flag = t.startsWith('--') && eq > 0 ? t.slice(0, eq) : t;
    if (t === '--help' || t === '-h') a.help = true;
    else if (t === '--fresh') a.fresh = true;
    else if (t === '--quiet') a.quiet = true;
    else if (t === '--overwrite') a.overwrite = true;
    else if (valued[flag]) {
      const v = eq > 0 && flag !== t ? t.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new Error(`${t} needs a value`);
      valued[flag](a, v);
    } else if (t.startsWith('-')) throw new Error(`unknown option ${t}\n${USAGE}`);
    else a.positional.push(t);
  }
  return a;
}

async function main(argv: string[]): Promise<number> {
  const args = parse(argv);
  const [cmd, ...rest] = args.positional;
  if (args.help || !cmd) {
    console.log(USAGE);
    return cmd || args.help ? 0 : 1;
  }
  if (cmd === 'list') {
    for (const r of RECIPES) console.log(`${r.name}: ${r.description} (presets: quick, default, paper)`);
    return 0;
  }
  if (cmd === 'run') {
    if (rest.length !== 1) throw new Error('run needs exactly one experiment name (see `slimspeech list`)');
    const recipe = getRecipe(rest[0]);
    const preset = checkPresetName(args.preset ?? 'default');
    const seeds = args.seeds === undefined ? 1 : Number(args.seeds);
    if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`--seeds must be a positive integer, got '${args.seeds}'`);
    const backend = await useBackend(args.backend ?? 'auto');
    const out = path.resolve(args.out ?? path.join('out', recipe.name));
    const quiet = args.quiet || process.env.SLIMSPEECH_QUIET === '1';
    const say = (l: string) => { if (!quiet) console.log(l); };
    say(`${recipe.name}: preset ${preset}${args.sets.length ? ` with ${args.sets.join(' ')}` : ''}${seeds > 1 ? `, ${seeds} seeds` : ''}, ` +
      `backend ${backend.name} (${backend.device}), output ${out}`);
    const t0 = Date.now();
    const res = await runRecipe(recipe, { preset, set: args.sets, out, fresh: args.fresh, quiet, seeds });
    say(`verdicts: ${res.claims.map((c) => c.verdict).join(', ')}; done in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${path.join(out, 'results.json')}`);
    return 0;
  }
  if (cmd === 'enhance' || cmd === 'separate') {
    const [modelDir, ...files] = rest;
    if (!modelDir || !files.length) throw new Error(`${cmd} needs a model folder and at least one WAV file\n${USAGE}`);
    if (!args.out) throw new Error(`${cmd} needs --out DIR (where the ${cmd === 'enhance' ? 'enhanced files' : 'sources'} go)`);
    const num = (v: string | undefined, name: string) => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!(n > 0)) throw new Error(`${name} must be a positive number, got '${v}'`);
      return n;
    };
    await useBackend(args.backend ?? 'auto');
    const opts = { outDir: path.resolve(args.out), chunkSeconds: num(args.chunkSeconds, '--chunk-seconds'),
      sampleRate: num(args.sampleRate, '--sample-rate'), progress: args.quiet ? 'none' as const : 'auto' as const };
    const inputs = files.map((f) => path.resolve(f));
    if (cmd === 'enhance') {
      for (const d of await enhanceFiles(path.resolve(modelDir), inputs, opts)) {
        console.log(`${d.output} (${d.seconds.toFixed(2)} s of audio in ${d.wallSeconds.toFixed(2)} s)`);
      }
    } else {
      for (const d of await separateFiles(path.resolve(modelDir), inputs, opts)) {
        console.log(`${d.outputs.join(', ')} (${d.seconds.toFixed(2)} s of audio in ${d.wallSeconds.toFixed(2)} s)`);
      }
    }
    return 0;
  }
  if (cmd === 'verify') {
    if (rest.length !== 3) throw new Error(`verify needs a model folder and exactly two WAV files\n${USAGE}`);
    await useBackend(args.backend ?? 'auto');
    const r = await verifyFiles(path.resolve(rest[0]), path.resolve(rest[1]), path.resolve(rest[2]));
    console.log(`score ${r.score.toFixed(4)}${r.threshold === null ? ' (the model stores no threshold)'
      : `, threshold ${r.threshold.toFixed(4)}: ${r.same ? 'same speaker' : 'different speakers'}`}`);
    return 0;
  }
  if (cmd === 'embed') {
    const [modelDir, ...files] = rest;
    if (!modelDir || !files.length) throw new Error(`embed needs a model folder and at least one WAV file\n${USAGE}`);
    if (!args.out) throw new Error('embed needs --out FILE.csv');
    await useBackend(args.backend ?? 'auto');
    fs.writeFileSync(path.resolve(args.out), await embedFilesCsv(path.resolve(modelDir), files.map((f) => path.resolve(f))));
    console.log(`${files.length} embedding(s) written to ${path.resolve(args.out)}`);
    return 0;
  }
  if (cmd === 'notebooks') {
    if (args.copy !== undefined) {
      const copied = copyNotebooks(args.copy, { overwrite: args.overwrite });
      for (const f of copied) console.log(f);
      console.log(`${copied.length} notebook(s) copied; open them with the tslab kernel (see the README)`);
      return 0;
    }
    const runs = runNotebooks({ preset: checkPresetName(args.preset ?? 'default'), outDir: args.out,
      notebooks: rest.length ? rest.map((p) => path.resolve(p)) : undefined });
    const failed = runs.filter((r) => !r.ok);
    console.log(`${runs.length - failed.length} notebook(s) ran, ${failed.length} failed`);
    return failed.length ? 1 : 0;
  }
  throw new Error(`unknown command '${cmd}'\n${USAGE}`);
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e: Error) => {
  console.error(`slimspeech: ${e.message}`);
  process.exit(1);
});
