import * as fs from 'fs';
import * as path from 'path';

let cached: string | undefined;

/**
 * The folder holding slimspeech's package.json (where data/ and notebooks/ live), found by walking up
 * from this file; works from dist/, from a test build and through a node_modules link.
 */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if (JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'slimspeech') return (cached = dir);
      } catch {
        // not a readable package.json: keep walking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`slimspeech: cannot find the package root above ${__dirname}`);
    dir = up;
  }
}
