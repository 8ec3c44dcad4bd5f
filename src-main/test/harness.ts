// Test harness for the plugin runtime and control plane: a throwaway app home with its own user
// plugin folder, into which tests copy real compiled plugins.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { ControlPlane, type ControlPlaneOptions } from '../control/control-plane.js';
import { ControlError } from '../control/errors.js';
import { makeScratchHome, type ScratchHome } from '../tools/scratch-home.js';

export type TestHome = ScratchHome;

export function makeTestHome(opts: { builtins?: boolean } = {}): TestHome {
  return makeScratchHome({ prefix: 'stellatune-test', ...opts });
}

/** Awaits `p`, expecting a structured ControlError, and returns it. */
export async function rejection(p: Promise<unknown>): Promise<ControlError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ControlError);
    return err as ControlError;
  }
  throw new Error('expected a rejection');
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
export function fixtureEvents(home: TestHome, pluginId = 'dev.stellatune.fixture'): string[] {
  const file = path.join(home.paths.pluginData, pluginId, 'fixture-events.log');
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
