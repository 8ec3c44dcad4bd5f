// Where the app keeps its files. STELLATUNE_HOME overrides the per-user default, which tests and
// portable installs use.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface AppPaths {
  /** Root of everything the app writes. */
  home: string;
  /** The user's plugin folder: drop a library here and it loads without a restart. */
  userPlugins: string;
  /** Per-plugin data folders (st_host_t.data_dir). */
  pluginData: string;
  /** Shadow copies of loaded plugin libraries. */
  shadow: string;
  /** Persisted settings (plugin configs, enabled state, ...). */
  settings: string;
  /** Crash records the crash guard writes (read and cleared at the next start). */
  crashes: string;
  /** Built-in plugins shipped with the app. */
  builtinPlugins: string;
}

function defaultHome(): string {
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? os.homedir(), 'StellaTune');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', 'StellaTune');
  return path.join(process.env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'), 'stellatune');
}

/** The repository root when running from a checkout: this file runs as src-main/app-paths.ts
 * (tests) or dist/src-main/app-paths.js (the built app). */
export const repoRoot = ((): string => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const fromSource = path.resolve(here, '..');
  return fs.existsSync(path.join(fromSource, 'native-plugins')) ? fromSource : path.resolve(here, '..', '..');
})();

export function appPaths(home = process.env.STELLATUNE_HOME ?? defaultHome()): AppPaths {
  // Packaged builds ship plugins in resources/plugins; a checkout uses the CMake output. An
  // unpackaged Electron run also has a resourcesPath (Electron's own), without our plugins.
  const resources = (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath;
  const shipped = resources ? path.join(resources, 'plugins') : null;
  const packaged = shipped && fs.existsSync(shipped) ? shipped : null;
  return {
    home,
    userPlugins: path.join(home, 'plugins'),
    pluginData: path.join(home, 'plugin-data'),
    shadow: path.join(home, 'shadow'),
    settings: path.join(home, 'settings'),
    crashes: path.join(home, 'crashes'),
    // STELLATUNE_BUILTIN_PLUGINS: another built-in folder (the QA suite replaces built-in files).
    builtinPlugins: process.env.STELLATUNE_BUILTIN_PLUGINS || (packaged ?? path.join(repoRoot, 'native-plugins', 'build', 'plugins')),
  };
}
