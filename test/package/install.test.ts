// slimspeech as a user gets it: packs the package (lib/ compiled afresh into a staging copy, as `npm pack`
// does through prepare), installs the tarball into an empty project with plain `npm install` (no override;
// only the npm registry needs to be reachable, and the default npm cache is used), then, from that
// project: require and import (namespace and named), TypeScript types under moduleResolution node16 and
// bundler, `npx slimspeech run slimmable-kws --preset quick`, a notebook of the user's own that imports
// slimspeech by name plus the bundled quickstart copied into the project (executed through Jupyter, so
// /usr/bin/python3 needs nbconvert and nbclient), and finally the danfojs-node lines that
// History.toDataFrame asks for. Also checks what the package ships (npm pack's file list).
// Takes 3-5 minutes; prints the tarball size, the installed size and the install time.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The repository root: the folder above this file holding slimspeech's package.json. */
function repoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'slimspeech') return dir;
    if (path.dirname(dir) === dir) throw new Error(`no slimspeech package.json above ${__dirname}`);
  }
}
const ROOT = repoRoot();
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const MINUTE = 60 * 1000;

const inside = (p: string, dir: string) => !path.relative(dir, p).startsWith('..') && !path.isAbsolute(path.relative(dir, p));

/**
 * The environment of a user's shell: without the variables `npm test` exports for this repository (its
 * package fields, prefix, lifecycle) and without this repository's node_modules/.bin on PATH, so that
 * nothing in the user's project can reach the checkout.
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^npm_(package_|lifecycle_|command$|execpath$|node_execpath$|config_(local_prefix|prefix|global_prefix|call|user_agent|npm_version|yes|allow_scripts)$)/i.test(k)) {
      delete env[k];
    }
  }
  env.PATH = (env.PATH ?? '').split(path.delimiter).filter((p) => p && !inside(path.resolve(p), ROOT)).join(path.delimiter);
  delete env.NODE_PATH;
  delete env.NODE_OPTIONS;
  delete env.SLIMSPEECH_BACKEND;
  return env;
}

interface Ran { stdout: string; stderr: string; seconds: number }

/** Runs a command; throws with its exit status and the end of its output when it fails. */
function run(cmd: string, args: string[], opts: { cwd: string; timeoutMin?: number; env?: NodeJS.ProcessEnv }): Ran {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd, env: opts.env ?? userEnv(), encoding: 'utf8', maxBuffer: 1 << 28, timeout: (opts.timeoutMin ?? 10) * MINUTE,
  });
  const seconds = (Date.now() - t0) / 1000;
  if (r.error || r.status !== 0) {
    const tail = (s: string) => (s ?? '').split('\n').filter((l) => l.trim()).slice(-40).join('\n');
    const why = r.error ? `${r.error.message}${(r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? ` (timed out after ${opts.timeoutMin ?? 10} min)` : ''}`
      : `exit status ${r.status}${r.signal ? `, signal ${r.signal}` : ''}`;
    throw new Error(`\`${cmd} ${args.join(' ')}\` in ${opts.cwd} failed (${why}) after ${seconds.toFixed(0)} s\n` +
      `--- stdout ---\n${tail(r.stdout)}\n--- stderr ---\n${tail(r.stderr)}`);
  }
  return { stdout: r.stdout, stderr: r.stderr, seconds };
}

/** Every installed copy of package `name` under `nodeModules` (nested node_modules included). */
function copiesOf(nodeModules: string, name: string): string[] {
  const found: string[] = [];
  const visit = (nm: string) => {
    if (!fs.existsSync(nm)) return;
    if (fs.existsSync(path.join(nm, name, 'package.json'))) found.push(path.join(nm, name));
    for (const e of fs.readdirSync(nm, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const dirs = e.name.startsWith('@') ? fs.readdirSync(path.join(nm, e.name)).map((s) => path.join(nm, e.name, s)) : [path.join(nm, e.name)];
      for (const d of dirs) visit(path.join(d, 'node_modules'));
    }
  };
  visit(nodeModules);
  return found;
}

/** Bytes of every file under `dir` (apparent size; links not followed). */
function sizeOf(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += sizeOf(p);
    else if (e.isFile()) total += fs.statSync(p).size;
  }
  return total;
}

const MB = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** `npm pack --json` output: the tarball's file list and sizes. */
interface PackInfo { filename: string; size: number; unpackedSize: number; files: { path: string }[] }

let tmp = '';
let project = '';
let tarball = '';
let packed: PackInfo;
let rootList: string[] = [];
let install: Ran;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-package-'));
  assert.ok(!inside(tmp, ROOT), `the temporary folder ${tmp} must lie outside the repository`);
  const npmEnv = userEnv();
  // What `npm pack` would put in the tarball from this checkout (read-only: no scripts run).
  const dry = JSON.parse(run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, env: npmEnv }).stdout) as PackInfo[];
  rootList = dry[0].files.map((f) => f.path);
  // The staging copy: those files, with dist/ compiled afresh from lib/ (prepare's tsc), so the test
  // packs the current sources whatever state this checkout's dist/ is in.
  const stage = path.join(tmp, 'stage');
  const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json',
    '--outDir', path.join(stage, 'dist')], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(tsc.status, 0, `compiling lib/ (as prepare does before npm pack) failed:\n${tsc.stdout}${tsc.stderr}`);
  for (const rel of rootList.filter((p) => !p.startsWith('dist/'))) {
    fs.mkdirSync(path.dirname(path.join(stage, rel)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, rel), path.join(stage, rel));
  }
  const pack = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: stage, env: npmEnv }).stdout) as PackInfo[];
  packed = pack[0];
  tarball = path.join(tmp, packed.filename);
  assert.ok(fs.existsSync(tarball), `npm pack wrote no ${tarball}`);
  // The user's empty project, and a plain install of the tarball: no override, default npm cache.
  project = path.join(tmp, 'project');
  fs.mkdirSync(project);
  run('npm', ['init', '-y'], { cwd: project });
  install = run('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: project, timeoutMin: 20 });
}, { timeout: 30 * MINUTE });

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('the package ships dist/, the embedded data and the notebooks; no tests, sources, build leftovers or caches', () => {
  const files = packed.files.map((f) => f.path);
  for (const list of [files, rootList]) {
    const stray = list.filter((p) => !/^(package\.json|README\.md|LICENSE(\.\w+)?|dist\/.+|data\/.+|notebooks\/[^/]+\.ipynb)$/.test(p) ||
      /^data\/build\/|(^|\/)(node_modules|__pycache__|\.ipynb_checkpoints)\//.test(p) ||
      /\.(map|tsbuildinfo|log|tgz|pyc)$|(^|\/)\.(DS_Store|gitattributes|gitignore|npmignore)$/.test(p));
    assert.deepEqual(stray, [], 'files the package must not ship');
  }
  // dist/: the compiled library and its types, every .js with its .d.ts and its lib/ source.
  const dist = files.filter((p) => p.startsWith('dist/'));
  for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cli.js']) assert.ok(dist.includes(f), `${f} is not in the package`);
  for (const js of dist.filter((p) => p.endsWith('.js'))) {
    assert.ok(dist.includes(js.replace(/\.js$/, '.d.ts')), `${js} ships without its .d.ts`);
    assert.ok(fs.existsSync(path.join(ROOT, 'lib', js.slice(5).replace(/\.js$/, '.ts'))), `${js} has no lib/ source (a build leftover)`);
  }
  // data/: every embedded file of the checkout (not the builder), so that the notebooks run offline.
  const dataFiles: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) { if (r !== 'data/build' && e.name !== '__pycache__') walk(r); } else if (e.name !== '.gitattributes') dataFiles.push(r);
    }
  };
  walk('data');
  const missing = dataFiles.filter((f) => !files.includes(f));
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} embedded data file(s) missing from the package`);
  for (const nb of fs.readdirSync(path.join(ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb'))) {
    assert.ok(files.includes(`notebooks/${nb}`), `notebooks/${nb} is not in the package`);
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', 'slimspeech', 'package.json'), 'utf8'));
  for (const dep of ['danfojs-node', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
    assert.equal(manifest.dependencies?.[dep], undefined, `${dep} must not be a dependency: users install it only when they want it`);
  }
});

test('plain npm install into an empty project: no override, one TensorFlow.js, no native tfjs, no danfojs', (t) => {
  const user = JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8'));
  assert.equal(user.overrides, undefined, 'the user project has no overrides');
  assert.match(user.dependencies?.slimspeech ?? '', /slimspeech-.*\.tgz$/);
  const nm = path.join(project, 'node_modules');
  assert.equal(copiesOf(nm, '@tensorflow/tfjs-core').length, 1, `copies of tfjs-core: ${copiesOf(nm, '@tensorflow/tfjs-core').join(', ')}`);
  assert.equal(copiesOf(nm, '@tensorflow/tfjs').length, 1, `copies of tfjs: ${copiesOf(nm, '@tensorflow/tfjs').join(', ')}`);
  for (const name of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'danfojs-node']) {
    assert.deepEqual(copiesOf(nm, name), [], `${name} was installed`);
  }
  for (const bin of ['slimspeech', 'tslab']) assert.ok(fs.existsSync(path.join(nm, '.bin', bin)), `node_modules/.bin/${bin} is missing`);
  const nmSize = sizeOf(nm);
  t.diagnostic(`tarball ${MB(fs.statSync(tarball).size)} (${packed.files.length} files, ${MB(packed.unpackedSize)} unpacked); ` +
    `node_modules ${MB(nmSize)} (apparent size); npm install ${install.seconds.toFixed(0)} s with the default npm cache`);
});

test('require, import * as, named imports and the default export work from the project', () => {
  fs.writeFileSync(path.join(project, 'use.cjs'), `
const ss = require('slimspeech');
(async () => {
  const b = await ss.useBackend();
  const kws = ss.data.embedded('kws');
  console.log(JSON.stringify({ backend: b.name, labels: kws.labels.length, from: require.resolve('slimspeech') }));
})().catch((e) => { console.error(e); process.exit(1); });
`);
  fs.writeFileSync(path.join(project, 'use.mjs'), `
import * as ss from 'slimspeech';
import { useBackend, data, tf, nn, experiments } from 'slimspeech';
import def from 'slimspeech';
const b = await useBackend();
console.log(JSON.stringify({ backend: b.name, labels: data.embedded('kws').labels.length, sameTf: ss.tf === tf && def.tf === tf,
  named: typeof nn.Linear === 'function' && typeof experiments.copyNotebooks === 'function', core: tf.version_core }));
`);
  const cjs = JSON.parse(run(process.execPath, ['use.cjs'], { cwd: project }).stdout.trim().split('\n').pop()!);
  assert.equal(cjs.backend, 'wasm');
  assert.ok(cjs.labels > 0);
  assert.ok(inside(cjs.from, path.join(project, 'node_modules', 'slimspeech')), `slimspeech resolved to ${cjs.from}`);
  const esm = JSON.parse(run(process.execPath, ['use.mjs'], { cwd: project }).stdout.trim().split('\n').pop()!);
  assert.deepEqual(esm, { backend: 'wasm', labels: cjs.labels, sameTf: true, named: true, core: '4.22.0' });
});

test('types resolve for TypeScript users: moduleResolution node16 (ESM and CJS) and bundler', () => {
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(project, rel)), { recursive: true });
    fs.writeFileSync(path.join(project, rel), text);
  };
  // A wrong type on purpose under @ts-expect-error: if slimspeech's types were missing or `any`, the
  // directive itself would be an error.
  write('ts-node16/esm.mts', `import * as ss from 'slimspeech';
import { useBackend, data, type BackendInfo } from 'slimspeech';
const info: BackendInfo = await useBackend();
const labels: string[] = data.embedded('kws').labels;
// @ts-expect-error: useBackend resolves to a BackendInfo
const wrong: number = await ss.useBackend();
console.log(info.name, labels, wrong, ss.tf.version_core);
`);
  write('ts-node16/cjs.cts', `import ss = require('slimspeech');
import { metrics } from 'slimspeech';
const h: ss.train.History = new ss.train.History();
const e: { eer: number; threshold: number } = metrics.eer([0.1, 0.9], [0, 1]);
// @ts-expect-error: History has no such method
h.noSuchMethod();
console.log(h, e);
`);
  write('ts-bundler/main.ts', `import * as ss from 'slimspeech';
import { useBackend, nn } from 'slimspeech';
export async function main(): Promise<string> {
  const m = new nn.Linear({ inFeatures: 2, outFeatures: 3 });
  // @ts-expect-error: useBackend resolves to a BackendInfo
  const wrong: number = await useBackend();
  return \`\${(await ss.useBackend()).name} \${m.numParams()} \${wrong}\`;
}
`);
  const base = { target: 'es2022', strict: true, noEmit: true, skipLibCheck: false };
  write('ts-node16/tsconfig.json', JSON.stringify({ compilerOptions: { ...base, module: 'node16', moduleResolution: 'node16' }, files: ['esm.mts', 'cjs.cts'] }));
  write('ts-bundler/tsconfig.json', JSON.stringify({ compilerOptions: { ...base, module: 'esnext', moduleResolution: 'bundler' }, files: ['main.ts'] }));
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const dir of ['ts-node16', 'ts-bundler']) {
    const r = spawnSync(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], { cwd: project, encoding: 'utf8' });
    const out = `${r.stdout}${r.stderr}`;
    const errors = out.split('\n').filter((l) => /^\S.*\(\d+,\d+\): error TS/.test(l));
    // Other packages' declarations may not check without skipLibCheck (tfjs 4.22's do not): only errors
    // in the files above and in slimspeech's own declarations count.
    const ours = errors.filter((l) => !l.startsWith('node_modules/') || l.startsWith('node_modules/slimspeech/'));
    assert.deepEqual(ours, [], `${dir}: type errors in the user's files or in slimspeech's declarations`);
    assert.ok(r.status === 0 || (r.status === 2 && errors.length > 0), `${dir}: tsc exited ${r.status}\n${out}`);
  }
});

test('npx slimspeech runs the quick preset in the project', () => {
  run('npx', ['--no', 'slimspeech', 'list'], { cwd: project });
  const r = run('npx', ['--no', 'slimspeech', 'run', 'slimmable-kws', '--preset', 'quick', '--out', 'out/kws'], { cwd: project, timeoutMin: 15 });
  const results = path.join(project, 'out', 'kws', 'results.json');
  assert.ok(fs.existsSync(results), `no ${results}; output:\n${r.stdout.slice(-3000)}`);
  JSON.parse(fs.readFileSync(results, 'utf8'));
});

test("a user's own notebook and the copied bundled quickstart run in the project through Jupyter", () => {
  const mine = path.join(project, 'mine.ipynb');
  const source = [
    "import * as ss from 'slimspeech';\n",
    'const info = await ss.useBackend();\n',
    "const kws = ss.data.embedded('kws');\n",
    'const sum = ss.tf.tidy(() => ss.tf.sum(ss.tf.range(1, 11)).arraySync() as number);\n',
    'console.log(`USER-NOTEBOOK backend=${info.name} labels=${kws.labels.length} sum=${sum}`);\n',
  ];
  fs.writeFileSync(mine, JSON.stringify({
    cells: [{ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source }],
    metadata: { kernelspec: { display_name: 'TypeScript', language: 'typescript', name: 'tslab' } }, nbformat: 4, nbformat_minor: 5,
  }, null, 1));
  const copy = run('npx', ['--no', 'slimspeech', 'notebooks', '--copy', 'notebooks'], { cwd: project });
  const copied = copy.stdout.trim().split('\n').filter((l) => l.endsWith('.ipynb'));
  const bundled = fs.readdirSync(path.join(ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort();
  assert.deepEqual(copied, bundled.map((f) => path.join(project, 'notebooks', f)));
  const quickstart = copied.find((p) => path.basename(p).startsWith('00_'))!;
  run('npx', ['--no', 'slimspeech', 'notebooks', '--preset', 'quick', '--out', 'out/nb', 'mine.ipynb', path.relative(project, quickstart)],
    { cwd: project, timeoutMin: 20 });
  type Cell = { cell_type: string; outputs?: { output_type: string; text?: string | string[]; ename?: string; evalue?: string }[] };
  const cells = (file: string): Cell[] => JSON.parse(fs.readFileSync(path.join(project, 'out', 'nb', file), 'utf8')).cells;
  const text = cells('mine.ipynb').flatMap((c) => c.outputs ?? []).map((o) => [o.text ?? ''].flat().join('')).join('');
  assert.match(text, /USER-NOTEBOOK backend=wasm labels=\d+ sum=55/);
  const errors = cells(path.basename(quickstart)).flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === 'error');
  assert.deepEqual(errors.map((o) => `${o.ename}: ${o.evalue}`), []);
});

test('History.toDataFrame without danfojs-node gives the package.json lines, and those lines work', () => {
  const script = `
const ss = require('slimspeech');
(async () => {
  await ss.useBackend();
  const h = new ss.train.History();
  h.epochs.push({ epoch: 0, loss: 1, seconds: 2 }, { epoch: 1, loss: 0.5, seconds: 2 });
  try { const df = await h.toDataFrame(); console.log(JSON.stringify({ shape: df.shape, columns: df.columns })); }
  catch (e) { console.log(JSON.stringify({ error: e.message })); }
})();
`;
  fs.writeFileSync(path.join(project, 'df.cjs'), script);
  const before = JSON.parse(run(process.execPath, ['df.cjs'], { cwd: project }).stdout.trim().split('\n').pop()!);
  const version = PKG.devDependencies['danfojs-node'];
  const override = PKG.overrides['danfojs-node'] as Record<string, string>;
  assert.ok(version && override, 'package.json lost danfojs-node (devDependency) or its override');
  const depLine = `"dependencies": { "danfojs-node": "${version}" }`;
  const overrideLine = `"overrides": { "danfojs-node": { ${Object.entries(override).map(([k, v]) => `"${k}": "${v}"`).join(', ')} } }`;
  assert.ok(typeof before.error === 'string', `toDataFrame worked without danfojs-node: ${JSON.stringify(before)}`);
  assert.ok(before.error.includes(depLine) && before.error.includes(overrideLine), `the error lacks the lines to add:\n${before.error}`);
  // Add exactly those lines and install: DataFrames work, still on one tfjs-core.
  const pj = path.join(project, 'package.json');
  const user = JSON.parse(fs.readFileSync(pj, 'utf8'));
  const added = JSON.parse(`{${depLine}, ${overrideLine}}`);
  Object.assign(user.dependencies, added.dependencies);
  user.overrides = added.overrides;
  fs.writeFileSync(pj, JSON.stringify(user, null, 2));
  run('npm', ['install', '--no-audit', '--no-fund'], { cwd: project, timeoutMin: 20 });
  const after = JSON.parse(run(process.execPath, ['df.cjs'], { cwd: project }).stdout.trim().split('\n').pop()!);
  assert.deepEqual(after, { shape: [2, 3], columns: ['epoch', 'loss', 'seconds'] });
  const cores = copiesOf(path.join(project, 'node_modules'), '@tensorflow/tfjs-core');
  assert.equal(cores.length, 1, `copies of tfjs-core with danfojs-node: ${cores.join(', ')}`);
});
