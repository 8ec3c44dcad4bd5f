// Finds the Electron executable without triggering electron's download-on-require (which cannot
// reach the network here). Returns null when there is no binary.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function electronBinary() {
  // An Electron installed elsewhere (a distribution's package), or a stand-in in tests.
  const chosen = process.env.STELLATUNE_ELECTRON_BINARY;
  if (chosen) return fs.existsSync(chosen) ? chosen : null;
  const pkg = path.join(root, 'node_modules', 'electron');
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  let rel = null;
  try {
    rel = fs.readFileSync(path.join(pkg, 'path.txt'), 'utf8').trim();
  } catch {
    return null;
  }
  const exe = override ? path.join(override, rel) : path.join(pkg, 'dist', rel);
  return fs.existsSync(exe) ? exe : null;
}
