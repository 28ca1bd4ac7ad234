// A stand-in for a running tslab kernel: tslab/dist/jupyter.js with a live lastWriteDisplayData and a
// public.js whose display.html records what it is given, loaded into require.cache the way the kernel
// has them, so plot.display takes its real in-kernel path.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** What the fake kernel received through display.html, in order. */
export interface FakeKernel {
  outputs: string[];
  /** Makes the kernel look idle (lastWriteDisplayData null, as before its first cell) or busy again. */
  setReady(ready: boolean): void;
}

/** Writes and loads a fake tslab under a temporary node_modules. */
export function startFakeTslab(): FakeKernel {
  const dist = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'slimspeech-tslab-')), 'node_modules', 'tslab', 'dist');
  fs.mkdirSync(dist, { recursive: true });
  fs.writeFileSync(path.join(dist, 'jupyter.js'), 'exports.lastWriteDisplayData = function () {};\n');
  fs.writeFileSync(path.join(dist, 'public.js'),
    'exports.outputs = [];\nexports.display = { html: function (s) { exports.outputs.push(s); } };\n');
  process.on('exit', () => fs.rmSync(path.dirname(path.dirname(path.dirname(dist))), { recursive: true, force: true }));
  const jupyter = require(path.join(dist, 'jupyter.js')) as { lastWriteDisplayData: unknown };
  const pub = require(path.join(dist, 'public.js')) as { outputs: string[] };
  return {
    outputs: pub.outputs,
    setReady(ready: boolean) { jupyter.lastWriteDisplayData = ready ? () => undefined : null; },
  };
}
