import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Rng } from '../../lib/util/rng';
import { packageRoot } from '../../lib/util/package_root';
import * as fs from 'node:fs';
import * as path from 'node:path';

test('Rng: same seed, same stream; different seeds differ; state round-trips', () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const sa = Array.from({ length: 5 }, () => a.nextUint32());
  assert.deepEqual(sa, Array.from({ length: 5 }, () => b.nextUint32()));
  assert.notDeepEqual(sa, Array.from({ length: 5 }, () => c.nextUint32()));
  const st = a.getState();
  const x = a.next();
  a.setState(st);
  assert.equal(a.next(), x);
});

test('Rng: uniform mean and normal moments are right over many draws', () => {
  const r = new Rng(7);
  let s = 0, s2 = 0, u = 0;
  const n = 200000;
  for (let i = 0; i < n; i++) { const z = r.normal(); s += z; s2 += z * z; u += r.next(); }
  assert.ok(Math.abs(u / n - 0.5) < 0.005, `uniform mean ${u / n}`);
  assert.ok(Math.abs(s / n) < 0.01, `normal mean ${s / n}`);
  assert.ok(Math.abs(s2 / n - 1) < 0.02, `normal variance ${s2 / n}`);
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 60000; i++) counts[r.int(6)]++;
  for (const k of counts) assert.ok(Math.abs(k - 10000) < 400, `int(6) counts ${counts}`);
});

test('Rng.shuffle is a permutation and is seed-determined', () => {
  const p = new Rng(1).shuffle([...Array(50).keys()]);
  assert.deepEqual([...p].sort((x, y) => x - y), [...Array(50).keys()]);
  assert.deepEqual(p, new Rng(1).shuffle([...Array(50).keys()]));
  assert.notDeepEqual(p, [...Array(50).keys()]);
});

test('packageRoot finds the folder with slimspeech package.json', () => {
  const root = packageRoot();
  assert.equal(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).name, 'slimspeech');
});
