// Executes every notebook in notebooks/ top to bottom through real Jupyter (nbconvert + nbclient, tslab
// kernel) at the quick preset, as `npx slimspeech notebooks --preset quick` does; any cell error fails.
// Needs the built package (dist/, from npm install) because notebooks import 'slimspeech' by name.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../helpers';
import { runNotebooks } from '../../lib/experiments/notebooks';

const notebooks = fs.readdirSync(path.join(ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort();

test('there are notebooks to run, committed without outputs', () => {
  assert.ok(notebooks.length >= 1, 'notebooks/ holds no notebook');
  for (const nb of notebooks) {
    const json = JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', nb), 'utf8'));
    const withOutputs = json.cells.filter((c: { outputs?: unknown[] }) => (c.outputs ?? []).length > 0).length;
    assert.equal(withOutputs, 0, `${nb}: ${withOutputs} cell(s) committed with outputs (clear them; executed copies go to out/)`);
    const src = json.cells.map((c: { source: string | string[] }) => (Array.isArray(c.source) ? c.source.join('') : c.source)).join('\n');
    assert.doesNotMatch(src, /\.\.\/(lib|dist)\//, `${nb} imports the library by path; import 'slimspeech'`);
  }
});

for (const nb of notebooks) {
  test(`${nb} runs top to bottom through Jupyter at the quick preset`, { timeout: 20 * 60 * 1000 }, () => {
    assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'index.js')), 'dist/ is missing: run npm install (it builds the package)');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-nb-'));
    const [run] = runNotebooks({ notebooks: [path.join(ROOT, 'notebooks', nb)], outDir: out, preset: 'quick', html: true, log: () => undefined });
    assert.ok(run.ok, `${nb} failed:\n${run.error}`);
    const executed = JSON.parse(fs.readFileSync(run.executed, 'utf8'));
    const errors = executed.cells.flatMap((c: { outputs?: { output_type: string; ename?: string; evalue?: string }[] }) =>
      (c.outputs ?? []).filter((o) => o.output_type === 'error').map((o) => `${o.ename}: ${o.evalue}`));
    assert.deepEqual(errors, [], `${nb}: error outputs`);
    const codeCells = executed.cells.filter((c: { cell_type: string }) => c.cell_type === 'code');
    // tslab does not report execution counts; nbclient records when each cell's execution was answered.
    const ran = (c: { metadata?: { execution?: Record<string, string> } }) => c.metadata?.execution?.['shell.execute_reply'] !== undefined;
    assert.ok(codeCells.every(ran), `${nb}: ${codeCells.filter((c: object) => !ran(c)).length} code cell(s) did not run`);
    assert.ok(run.html && fs.existsSync(run.html), `${nb}: no HTML export`);
  });
}
