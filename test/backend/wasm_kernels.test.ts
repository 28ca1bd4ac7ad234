// The committed kernel binary was built from the committed C source, imports only its memory, carries no
// data segment, and, where clang 16 is installed, rebuilding reproduces it byte for byte.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { ROOT } from '../helpers';
import { KERNELS_SOURCE_SHA256, KERNELS_WASM_BASE64, KERNELS_WASM_RELAXED_BASE64 } from '../../lib/backend/wasm_kernels_binary';
import { compiledKernels } from '../../lib/backend/wasm_kernels';

test('wasm_kernels_binary.ts was generated from the current kernels.c', () => {
  const src = fs.readFileSync(path.join(ROOT, 'lib', 'backend', 'kernels', 'kernels.c'));
  assert.equal(crypto.createHash('sha256').update(src).digest('hex'), KERNELS_SOURCE_SHA256,
    'kernels.c changed since the binary was built: run scripts/build-kernels.sh');
});

test('both kernel builds import only a memory and export the same kernels; the runtime picks one', () => {
  const variant = compiledKernels().variant;
  const base = new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
  assert.deepEqual(WebAssembly.Module.imports(base), [{ module: 'env', name: 'memory', kind: 'memory' }]);
  assert.ok(WebAssembly.Module.exports(base).some((e) => e.name === 'batch_matmul'));
  if (variant === 'relaxed-simd') {
    const relaxed = new WebAssembly.Module(Buffer.from(KERNELS_WASM_RELAXED_BASE64, 'base64'));
    assert.deepEqual(WebAssembly.Module.imports(relaxed), WebAssembly.Module.imports(base));
    assert.deepEqual(WebAssembly.Module.exports(relaxed), WebAssembly.Module.exports(base));
  }
  assert.ok(['simd', 'relaxed-simd'].includes(variant));
});

test('rebuilding the kernels reproduces the committed binary (when clang 16 is installed)', (t) => {
  if (spawnSync('sh', ['-c', 'command -v clang-16 && command -v wasm-ld-16']).status !== 0) {
    t.skip('clang-16 / lld-16 not installed (npm run setup-tests, or apt-get install clang-16 lld-16); ' +
      'the hash test above still guards the source');
    return;
  }
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-kernels-'));
  for (const d of ['lib/backend/kernels', 'scripts']) fs.mkdirSync(path.join(copy, d), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'lib/backend/kernels/kernels.c'), path.join(copy, 'lib/backend/kernels/kernels.c'));
  for (const f of ['build-kernels.sh', 'embed-wasm.js']) fs.copyFileSync(path.join(ROOT, 'scripts', f), path.join(copy, 'scripts', f));
  execFileSync('bash', [path.join(copy, 'scripts', 'build-kernels.sh')], { stdio: 'pipe' });
  const rebuilt = fs.readFileSync(path.join(copy, 'lib/backend/wasm_kernels_binary.ts'), 'utf8');
  assert.equal(rebuilt, fs.readFileSync(path.join(ROOT, 'lib/backend/wasm_kernels_binary.ts'), 'utf8'));
});
