// Test harness for the plugin runtime and control plane: a throwaway app home with its own user
// plugin folder, into which tests copy real compiled plugins.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AppPaths } from '../app-paths.js';
import { ControlPlane, type ControlPlaneOptions } from '../control/control-plane.js';
import { builtinPluginDir } from './paths.js';

export interface TestHome {
  paths: AppPaths;
  /** Copies a library into the user plugin folder (optionally under another file name). */
  install(library: string, name?: string): string;
  cleanup(): void;
}

export function makeTestHome(opts: { builtins?: boolean } = {}): TestHome {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-test-'));
  const empty = path.join(home, 'no-builtins');
  fs.mkdirSync(empty);
  const paths: AppPaths = {
    home,
    userPlugins: path.join(home, 'plugins'),
    pluginData: path.join(home, 'plugin-data'),
    shadow: path.join(home, 'shadow'),
    settings: path.join(home, 'settings'),
    builtinPlugins: opts.builtins ? builtinPluginDir : empty,
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

/** Starts a control plane over `home` with fast watcher settings for tests. */
export function startControl(home: TestHome, extra: Partial<ControlPlaneOptions> = {}): Promise<ControlPlane> {
  return ControlPlane.start({
    paths: home.paths,
    registry: { stableMs: 150, pollMs: 100, ...extra.registry },
    ...extra,
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` until it holds or `timeoutMs` passes. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The fixture's lifecycle log in its data folder. */
export function fixtureEvents(home: TestHome, libraryFile = 'st-fixture'): string[] {
  const file = path.join(home.paths.pluginData, libraryFile, 'fixture-events.log');
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
