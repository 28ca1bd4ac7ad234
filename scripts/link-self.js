#!/usr/bin/env node
// Links node_modules/slimspeech to this checkout, so that notebooks (compiled by tslab, which cannot
// import TypeScript outside their folder) and examples import the built package by its name, exactly
// as a user's code does; and node_modules/.bin/slimspeech to the CLI, so that `npx slimspeech` in the
// checkout runs this package (without it npx would look the name up in the registry).
// Runs from `npm install` (prepare); harmless when the links already exist.
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');

function link(at, target, type) {
  fs.mkdirSync(path.dirname(at), { recursive: true });
  try {
    const st = fs.lstatSync(at);
    if (st.isSymbolicLink() && fs.readlinkSync(at) === target) return;
    fs.rmSync(at, { recursive: true, force: true });
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
  fs.symlinkSync(target, at, type);
}

link(path.join(root, 'node_modules', 'slimspeech'), '..', 'dir');
link(path.join(root, 'node_modules', '.bin', 'slimspeech'), path.join('..', '..', 'dist', 'cli.js'), 'file');
const cli = path.join(root, 'dist', 'cli.js');
if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);
