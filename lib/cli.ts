#!/usr/bin/env node
// The `slimspeech` command: runs experiments and notebooks headless.
import * as path from 'path';
import { useBackend } from './backend';
import { applyOverrides, getExperiment, registry, runNotebooks, PresetName } from './experiments';
import './experiments/all';

const USAGE = `usage:
  slimspeech run <experiment> [--preset quick|default|paper] [--set key=value ...] [--out DIR] [--backend NAME]
      runs an experiment's steps and writes results.json, results.csv, plots (HTML) and models to
      DIR (default out/<experiment>)
  slimspeech notebooks [--preset P] [--out DIR] [notebook.ipynb ...]
      executes the notebooks headless through Jupyter (tslab kernel); executed copies and HTML go to
      DIR (default out/notebooks); preset default 'default'
  slimspeech list
      lists the experiments and their presets
options:
  --backend   auto | tensorflow-gpu | tensorflow | wasm | cpu (default auto; SLIMSPEECH_BACKEND also works)`;

interface Args { positional: string[]; preset?: string; sets: string[]; out?: string; backend?: string; help: boolean }

function parse(argv: string[]): Args {
  const a: Args = { positional: [], sets: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${t} needs a value`);
      return v;
    };
    if (t === '--help' || t === '-h') a.help = true;
    else if (t === '--preset') a.preset = value();
    else if (t.startsWith('--preset=')) a.preset = t.slice(9);
    else if (t === '--set') a.sets.push(value());
    else if (t.startsWith('--set=')) a.sets.push(t.slice(6));
    else if (t === '--out') a.out = value();
    else if (t.startsWith('--out=')) a.out = t.slice(6);
    else if (t === '--backend') a.backend = value();
    else if (t.startsWith('--backend=')) a.backend = t.slice(10);
    else if (t.startsWith('-')) throw new Error(`unknown option ${t}`);
    else a.positional.push(t);
  }
  return a;
}

function checkPreset(p: string | undefined): PresetName {
  const preset = p ?? 'default';
  if (preset !== 'quick' && preset !== 'default' && preset !== 'paper') {
    throw new Error(`--preset must be quick, default or paper, got '${preset}'`);
  }
  return preset;
}

async function main(argv: string[]): Promise<number> {
  const args = parse(argv);
  const [cmd, ...rest] = args.positional;
  if (args.help || !cmd) {
    console.log(USAGE);
    return cmd || args.help ? 0 : 1;
  }
  if (cmd === 'list') {
    for (const e of registry.values()) console.log(`${e.name}: ${e.description} (presets: ${Object.keys(e.presets).join(', ')})`);
    return 0;
  }
  if (cmd === 'run') {
    if (rest.length !== 1) throw new Error('run needs exactly one experiment name (see `slimspeech list`)');
    const exp = getExperiment(rest[0]);
    const preset = checkPreset(args.preset);
    const config = applyOverrides(exp.presets[preset], args.sets);
    const backend = await useBackend(args.backend ?? 'auto');
    const outDir = path.resolve(args.out ?? path.join('out', exp.name));
    const quiet = process.env.SLIMSPEECH_QUIET === '1';
    const log = (l: string) => { if (!quiet) console.log(l); };
    log(`${exp.name}: preset ${preset}${args.sets.length ? ` with ${args.sets.join(' ')}` : ''}, backend ${backend.name} (${backend.device}), output ${outDir}`);
    const t0 = Date.now();
    const res = await exp.run(config, { outDir, log }, args.sets.length ? 'custom' : preset);
    log(`claim: ${res.claim.statement} -> ${res.claim.holds ? 'HOLDS' : 'does NOT hold'} here${res.claim.detail ? ` (${res.claim.detail})` : ''}`);
    log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${path.join(outDir, 'results.json')}`);
    return 0;
  }
  if (cmd === 'notebooks') {
    const runs = runNotebooks({ preset: checkPreset(args.preset), outDir: args.out, notebooks: rest.length ? rest.map((p) => path.resolve(p)) : undefined });
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
