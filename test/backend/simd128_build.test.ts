// The plain SIMD128 kernel build, which runtimes without relaxed SIMD get (and SLIMSPEECH_WASM_FMA=0
// selects), passes the kernel tests too: the op-gradient and layer tests run again in a child process on
// that build. The rest of the suite runs on the build the runtime picks (relaxed SIMD on Node 20).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT } from '../helpers';

const backend = process.env.SLIMSPEECH_TEST_BACKEND ?? 'wasm';

test('the SIMD128 kernel build passes the op-gradient and layer tests', { skip: backend !== 'wasm' &&
  `the kernels run only on the wasm backend (SLIMSPEECH_TEST_BACKEND=${backend})` }, () => {
  const env: NodeJS.ProcessEnv = { ...process.env, SLIMSPEECH_WASM_FMA: '0' };
  // Set by the test runner in its child processes; inherited, it stops the nested runner from running files.
  delete env.NODE_TEST_CONTEXT;
  const kernels = path.join(__dirname, '..', '..', 'lib', 'backend', 'wasm_kernels.js');
  const probe = spawnSync(process.execPath, ['-e', `process.stdout.write(require(${JSON.stringify(kernels)}).compiledKernels().variant)`],
    { env, encoding: 'utf8' });
  assert.equal(probe.stdout, 'simd', `SLIMSPEECH_WASM_FMA=0 selects the SIMD128 build: ${probe.stderr}`);
  const files = [path.join(__dirname, 'ops_gradients.test.js'), path.join(__dirname, '..', 'nn', 'layers.test.js')];
  const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=tap', ...files],
    { env, cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  const out = `${run.stdout}${run.stderr}`;
  const count = (key: string) => Number(out.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? NaN);
  const lines = out.split('\n');
  const firstFailure = Math.max(0, lines.findIndex((l) => /^\s*not ok/.test(l)));
  assert.ok(count('fail') === 0 && run.status === 0,
    `failures on the SIMD128 build (SLIMSPEECH_WASM_FMA=0):\n${lines.slice(firstFailure, firstFailure + 60).join('\n')}`);
  assert.ok(count('pass') > 50, `${count('pass')} tests passed on the SIMD128 build, expected the op-gradient and layer cases`);
});
