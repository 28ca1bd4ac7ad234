#!/usr/bin/env node
// Runs the compiled test suite (build/test, from `tsc -p tsconfig.test.json`) with node's test runner,
// names the skipped tests, prints a final "N passed, N failed, N skipped" line (todo tests count as
// skipped), and fails when a test fails or when no test ran at all.
// Arguments narrow the run to files or folders: `npm test -- test/audio test/nn/linear.test.ts`.
// SLIMSPEECH_BUILD_DIR names another compiled tree (tsc --outDir build-x), default build/.
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const buildDir = path.join(root, process.env.SLIMSPEECH_BUILD_DIR || 'build');
const buildTest = path.join(buildDir, 'test');
if (!fs.existsSync(buildTest)) {
  console.error('build/test is missing: run `npx tsc -p tsconfig.test.json` (npm test does it first).');
  process.exit(1);
}

function toBuilt(arg) {
  const rel = path.relative(root, path.resolve(arg)).replace(/\.ts$/, '.js');
  return path.join(buildDir, rel);
}
const targets = process.argv.slice(2).filter((a) => !a.startsWith('-')).map(toBuilt);
const files = [];
function collect(p) {
  if (!fs.existsSync(p)) throw new Error(`no compiled test at ${p}`);
  if (fs.statSync(p).isDirectory()) {
    for (const e of fs.readdirSync(p).sort()) collect(path.join(p, e));
  } else if (/\.test\.js$/.test(p)) {
    files.push(p);
  }
}
(targets.length ? targets : [buildTest]).forEach(collect);
if (files.length === 0) {
  console.error('0 passed, 0 failed: no test files found');
  process.exit(1);
}

const tap = path.join(os.tmpdir(), `slimspeech-tests-${process.pid}.tap`);
const concurrency = process.env.SLIMSPEECH_TEST_CONCURRENCY || String(Math.max(1, Math.min(2, os.cpus().length)));
const res = spawnSync(process.execPath, [
  '--test', `--test-concurrency=${concurrency}`,
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tap}`,
  ...files,
], { stdio: 'inherit', cwd: root, env: { ...process.env, SLIMSPEECH_QUIET: process.env.SLIMSPEECH_QUIET ?? '1' } });

const text = fs.existsSync(tap) ? fs.readFileSync(tap, 'utf8') : '';
fs.rmSync(tap, { force: true });
const count = (key) => {
  const m = text.match(new RegExp(`^# ${key} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : 0;
};
const passed = count('pass');
const failed = count('fail') + count('cancelled');
const skipped = count('skipped') + count('todo');
// TAP test points: `ok 3 - name # SKIP reason` (indented for subtests).
for (const m of text.matchAll(/^\s*(?:not )?ok \d+ - (.*?) # (SKIP|TODO)\b ?(.*)$/gm)) {
  const why = m[2] === 'TODO' ? `todo${m[3] ? `: ${m[3]}` : ''}` : m[3];
  console.log(`skipped: ${m[1]}${why ? ` (${why})` : ''}`);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (res.status !== 0 || failed > 0 || passed === 0) process.exit(res.status || 1);
