// A throwaway app home for tests, benchmarks and tools: its own user plugin folder, data,
// shadow copies and settings under a temp folder, and optionally the checkout's built-in plugins.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type AppPaths, repoRoot } from '../app-paths.js';

export interface ScratchHome {
  paths: AppPaths;
  /** Copies a library into the user plugin folder (optionally under another file name). */
  install(library: string, name?: string): string;
  cleanup(): void;
}

export function makeScratchHome(opts: { prefix?: string; builtins?: boolean } = {}): ScratchHome {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `${opts.prefix ?? 'stellatune-scratch'}-`));
  const empty = path.join(home, 'no-builtins');
  fs.mkdirSync(empty);
  const paths: AppPaths = {
    home,
    userPlugins: path.join(home, 'plugins'),
    pluginData: path.join(home, 'plugin-data'),
    shadow: path.join(home, 'shadow'),
    settings: path.join(home, 'settings'),
    crashes: path.join(home, 'crashes'),
    builtinPlugins: opts.builtins ? path.join(process.env.STELLATUNE_NATIVE_BUILD ?? path.join(repoRoot, 'native-plugins', 'build'), 'plugins') : empty,
  };
  fs.mkdirSync(paths.userPlugins, { recursive: true });
  return {
    paths,
    install(library, name) {
      const dest = path.join(paths.userPlugins, name ?? path.basename(library));
      fs.copyFileSync(library, dest);
      return dest;
    },
    cleanup() {
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
