import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../util/package_root';
import { PresetName } from './presets';

/** Options of {@link runNotebooks}. */
export interface RunNotebooksOptions {
  /** Notebook files to run. Default: every notebooks/*.ipynb of the package, in name order. */
  notebooks?: string[];
  /** Folder for executed copies (.ipynb) and HTML exports. Default 'out/notebooks'. */
  outDir?: string;
  /** SLIMSPEECH_PRESET passed to the notebooks. Default 'default'. */
  preset?: PresetName;
  /** Seconds one cell may take. Default 1800. */
  cellTimeout?: number;
  /** Python with jupyter nbconvert and nbclient. Default: SLIMSPEECH_PYTHON, else /usr/bin/python3 if present, else python3. */
  python?: string;
  /** Also export HTML. Default true. */
  html?: boolean;
  /** Progress lines. Default console.log. */
  log?: (line: string) => void;
}

/** Result per notebook. */
export interface NotebookRun {
  notebook: string;
  executed: string;
  html?: string;
  seconds: number;
  ok: boolean;
  error?: string;
}

function defaultPython(): string {
  if (process.env.SLIMSPEECH_PYTHON) return process.env.SLIMSPEECH_PYTHON;
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/**
 * Writes the tslab kernel spec into a private Jupyter data folder (`<dir>/share/jupyter/kernels/tslab`)
 * pointing at this package's tslab binary, and returns the folder to put on JUPYTER_PATH. Nothing is
 * written to the user's own Jupyter configuration. The spec is the kernel.json `tslab install` writes
 * (written here directly: tslab's installer needs IPython, which executing a notebook does not).
 */
export function installTslabKernel(dir: string): string {
  const tslab = tslabBinary();
  const specDir = path.join(dir, 'share', 'jupyter', 'kernels', 'tslab');
  fs.mkdirSync(specDir, { recursive: true });
  const spec = { argv: [tslab, 'kernel', '--config-path', '{connection_file}'], display_name: 'TypeScript', language: 'typescript' };
  fs.writeFileSync(path.join(specDir, 'kernel.json'), JSON.stringify(spec, null, 1));
  return path.join(dir, 'share', 'jupyter');
}

/** The tslab executable this package depends on (resolved as Node resolves the package). */
export function tslabBinary(): string {
  let pkg: string;
  try {
    pkg = require.resolve('tslab/package.json', { paths: [packageRoot()] });
  } catch {
    throw new Error('tslab is not installed: run npm install (slimspeech depends on it to execute notebooks)');
  }
  const bin = path.join(path.dirname(pkg), 'bin', 'tslab');
  if (!fs.existsSync(bin)) throw new Error(`tslab is installed at ${path.dirname(pkg)} but ${bin} is missing`);
  return bin;
}

/**
 * Executes notebooks headless through real Jupyter (nbconvert with the tslab kernel), top to bottom,
 * with SLIMSPEECH_PRESET set, writing executed copies and HTML exports to `outDir`. A cell error fails
 * that notebook (the others still run); the result lists each notebook's outcome.
 */
export function runNotebooks(opts: RunNotebooksOptions = {}): NotebookRun[] {
  const root = packageRoot();
  const log = opts.log ?? ((l: string) => console.log(l));
  const python = opts.python ?? defaultPython();
  const outDir = path.resolve(opts.outDir ?? 'out/notebooks');
  fs.mkdirSync(outDir, { recursive: true });
  const nbs = opts.notebooks?.map((p) => path.resolve(p)) ?? fs.readdirSync(path.join(root, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort()
    .map((f) => path.join(root, 'notebooks', f));
  const probe = spawnSync(python, ['-c', 'import nbconvert, nbclient, jupyter_client'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(`${python} lacks jupyter nbconvert/nbclient (${(probe.stderr || '').trim().split('\n').pop()}); ` +
      'on Debian: apt-get install jupyter-nbconvert python3-nbclient (npm run setup-tests does it)');
  }
  const jupyterPath = installTslabKernel(path.join(outDir, '.jupyter'));
  const env = {
    ...process.env, JUPYTER_PATH: jupyterPath, JUPYTER_DATA_DIR: path.join(outDir, '.jupyter', 'data'),
    JUPYTER_RUNTIME_DIR: path.join(outDir, '.jupyter', 'runtime'), SLIMSPEECH_PRESET: opts.preset ?? 'default',
  };
  const runs: NotebookRun[] = [];
  for (const nb of nbs) {
    const name = path.basename(nb, '.ipynb');
    const t0 = Date.now();
    log(`notebook ${name}: executing (preset ${env.SLIMSPEECH_PRESET})`);
    const exec = spawnSync(python, ['-m', 'nbconvert', '--to', 'notebook', '--execute',
      '--ExecutePreprocessor.kernel_name=tslab', `--ExecutePreprocessor.timeout=${opts.cellTimeout ?? 1800}`,
      '--output-dir', outDir, '--output', `${name}.ipynb`, nb], { cwd: path.dirname(nb), env, encoding: 'utf8', maxBuffer: 1 << 28 });
    const executed = path.join(outDir, `${name}.ipynb`);
    const run: NotebookRun = { notebook: nb, executed, seconds: (Date.now() - t0) / 1000, ok: exec.status === 0 };
    if (run.ok) numberCells(executed);
    if (!run.ok) {
      const err = (exec.stderr || '').split('\n').filter((l) => l.trim()).slice(-25).join('\n');
      run.error = err || `nbconvert exited with ${exec.status}`;
      log(`notebook ${name}: FAILED after ${run.seconds.toFixed(0)} s\n${run.error}`);
    } else if (opts.html ?? true) {
      const html = spawnSync(python, ['-m', 'nbconvert', '--to', 'html', '--output-dir', outDir, executed], { env, encoding: 'utf8' });
      if (html.status === 0) run.html = path.join(outDir, `${name}.html`);
      else log(`notebook ${name}: HTML export failed: ${(html.stderr || '').trim().split('\n').pop()}`);
    }
    if (run.ok) log(`notebook ${name}: ok in ${run.seconds.toFixed(0)} s -> ${executed}`);
    runs.push(run);
  }
  return runs;
}

/**
 * Numbers the executed code cells of a notebook 1, 2, 3, ... in order (In [1]: ...), as a kernel that
 * reports execution counts would: tslab answers every request with no count, which leaves `In [ ]:` on
 * every cell of the exported HTML. Cells that did not run keep no number.
 */
export function numberCells(file: string): void {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: { cell_type: string; execution_count?: number | null;
    metadata?: { execution?: Record<string, string> }; outputs?: { output_type: string; execution_count?: number | null }[] }[] };
  let n = 0;
  for (const c of nb.cells) {
    if (c.cell_type !== 'code' || c.metadata?.execution?.['shell.execute_reply'] === undefined) continue;
    c.execution_count = ++n;
    for (const o of c.outputs ?? []) if (o.output_type === 'execute_result') o.execution_count = n;
  }
  fs.writeFileSync(file, JSON.stringify(nb, null, 1));
}

/** Options of {@link copyNotebooks}. */
export interface CopyNotebooksOptions {
  /** Replace a notebook of the same name in `dir` whose content differs. Default false: such a file stops the copy. */
  overwrite?: boolean;
}

/**
 * Copies the notebooks bundled with the package (its notebooks/*.ipynb) into `dir`, created if missing,
 * so that they run from the user's own project (they import 'slimspeech' by name, and write their outputs
 * to `../out`, beside `dir`: copy them into a subfolder such as `notebooks`). Returns the paths of the
 * notebooks in `dir`, in name order. A file already there with other content (an edited copy) is never
 * replaced unless `overwrite`: the call then throws before writing anything, naming those files.
 */
export function copyNotebooks(dir: string, opts: CopyNotebooksOptions = {}): string[] {
  const src = path.join(packageRoot(), 'notebooks');
  const names = fs.readdirSync(src).filter((f) => f.endsWith('.ipynb')).sort();
  if (!names.length) throw new Error(`copyNotebooks: no notebooks in ${src}`);
  const target = path.resolve(dir);
  const differing = names.filter((n) => {
    const to = path.join(target, n);
    return fs.existsSync(to) && !fs.readFileSync(to).equals(fs.readFileSync(path.join(src, n)));
  });
  if (differing.length && !opts.overwrite) {
    throw new Error(`copyNotebooks: ${differing.map((n) => path.join(target, n)).join(', ')} already exist(s) with other ` +
      'content; move them away, or overwrite them (overwrite: true)');
  }
  fs.mkdirSync(target, { recursive: true });
  return names.map((n) => {
    const to = path.join(target, n);
    fs.copyFileSync(path.join(src, n), to);
    return to;
  });
}
