#!/usr/bin/env node
// Links node_modules/slimspeech to this checkout, so that notebooks (compiled by tslab, which cannot
// import TypeScript outside their folder) and examples import the built package by its name, exactly
// as a user's code does. Runs from `npm install` (prepare); harmless when the link already exists.
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const link = path.join(root, 'node_modules', 'slimspeech');
fs.mkdirSync(path.dirname(link), { recursive: true });
try {
  const st = fs.lstatSync(link);
  if (st.isSymbolicLink() && path.resolve(path.dirname(link), fs.readlinkSync(link)) === root) process.exit(0);
  fs.rmSync(link, { recursive: true, force: true });
} catch (e) {
  if (e.code !== 'ENOENT') throw e;
}
fs.symlinkSync('..', link, 'dir');
