#!/usr/bin/env node
// Removes build leftovers from dist/: compiled files (.js, .d.ts and their maps) whose lib/ source no
// longer exists, and anything else tsc would not have written there, so that `npm pack` ships only what
// the current lib/ compiles to. tsc never deletes outputs of a removed or renamed source file.
// Runs from prepare (after tsc); prints what it removed. `--check` removes nothing and exits 1 if
// something would be removed.
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const lib = path.join(root, 'lib');
const check = process.argv.includes('--check');

/** The lib/ file a dist/ file is compiled or copied from. */
function sourceOf(rel) {
  for (const ext of ['.d.ts.map', '.js.map', '.d.ts', '.js']) {
    if (rel.endsWith(ext)) return path.join(lib, rel.slice(0, -ext.length) + '.ts');
  }
  return path.join(lib, rel); // e.g. a JSON file tsc copies (resolveJsonModule)
}

const stale = [];
function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      walk(p);
      if (!check && fs.readdirSync(p).length === 0) fs.rmdirSync(p);
    } else if (!fs.existsSync(sourceOf(path.relative(dist, p)))) {
      stale.push(path.relative(root, p));
      if (!check) fs.rmSync(p, { force: true });
    }
  }
}
if (fs.existsSync(dist)) walk(dist);
if (stale.length) {
  console.log(`prune-dist: ${check ? 'stale' : 'removed'} ${stale.length} file(s) without a lib/ source: ${stale.join(', ')}`);
  if (check) process.exit(1);
}
