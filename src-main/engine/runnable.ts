// Where the engine's separately started entry points (the decode worker, the audio process) are
// as runnable JavaScript. Under the built app they sit beside this file in dist/. Under vitest
// this file is TypeScript run in place, and the entries are taken from dist/ (built by
// `tsc -b`, which `npm test` runs first).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The project root: the nearest folder above this file holding package.json. */
export const projectRoot: string = (() => {
  let dir = here;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'native-plugins'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(here, '..', '..');
    dir = up;
  }
})();

/** The JS file for `relFromSrcMain` (e.g. "engine/decode-worker.js"). */
export function runnableEntry(relFromSrcMain: string): string {
  const srcMain = path.resolve(here, '..');
  const beside = path.join(srcMain, relFromSrcMain);
  if (fs.existsSync(beside)) return beside;
  const built = path.join(projectRoot, 'dist', 'src-main', relFromSrcMain);
  if (fs.existsSync(built)) return built;
  throw new Error(`${relFromSrcMain} is not built: run \`npm run build\` (tsc -b) first`);
}
