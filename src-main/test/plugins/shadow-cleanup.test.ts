// A failed load whose shadow copy cannot be deleted right away — Windows refuses (EPERM) to delete
// a DLL the loader still maps — reports the load's own reason, and the copy goes on a later load.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PluginLoadError } from '../../plugins/errors.js';
import { PluginGeneration } from '../../plugins/library.js';
import { makeTestHome, type TestHome } from '../harness.js';
import { badFixtureDir, fixturePlugin, libExt } from '../paths.js';

let home: TestHome;
afterEach(() => {
  vi.restoreAllMocks();
  home?.cleanup();
});

function loadError(file: string, leaseId: number): PluginLoadError {
  try {
    PluginGeneration.load(file, { shadowDir: home.paths.shadow, dataRoot: home.paths.pluginData, leaseId });
  } catch (err) {
    if (err instanceof PluginLoadError) return err;
    throw err;
  }
  throw new Error(`${file} loaded`);
}

describe('shadow copies of failed loads', () => {
  it('a locked shadow copy never hides the reason, and is removed later', async () => {
    home = makeTestHome();
    const realRm = fs.rmSync;
    const locked = vi.spyOn(fs, 'rmSync').mockImplementation(() => {
      throw Object.assign(new Error('EPERM: operation not permitted, unlink'), { code: 'EPERM' });
    });
    const err = loadError(path.join(badFixtureDir, `entry-null${libExt}`), 1);
    expect(err.code).toBe('entry_null');
    expect(err.message).not.toMatch(/EPERM/);
    const notALibrary = path.join(home.paths.userPlugins, `junk${libExt}`);
    fs.writeFileSync(notALibrary, 'not a library\n');
    expect(loadError(notALibrary, 2).code).toBe('not_a_library');
    expect(locked).toHaveBeenCalled();
    expect(fs.readdirSync(home.paths.shadow)).toHaveLength(2); // both copies still there

    // Once the files can be deleted again, the next load clears them.
    locked.mockImplementation(realRm);
    const gen = PluginGeneration.load(fixturePlugin, { shadowDir: home.paths.shadow, dataRoot: home.paths.pluginData, leaseId: 3 });
    expect(fs.readdirSync(home.paths.shadow)).toEqual([path.basename(gen.shadowPath)]);
    await gen.unload();
    expect(fs.readdirSync(home.paths.shadow)).toEqual([]);
  });

  it('the copy of an unloaded generation is removed off the event loop, and gone when unload resolves', async () => {
    home = makeTestHome();
    const rmSync = vi.spyOn(fs, 'rmSync');
    const unlinkSync = vi.spyOn(fs, 'unlinkSync');
    const gen = PluginGeneration.load(fixturePlugin, { shadowDir: home.paths.shadow, dataRoot: home.paths.pluginData, leaseId: 1 });
    expect(fs.readdirSync(home.paths.shadow)).toEqual([path.basename(gen.shadowPath)]);
    await gen.unload();
    expect(fs.readdirSync(home.paths.shadow)).toEqual([]);
    // No synchronous unlink on the loop (it may wait for the copy's writeback on a busy disk).
    const synchronous = [...rmSync.mock.calls, ...unlinkSync.mock.calls].filter(([p]) => String(p) === gen.shadowPath);
    expect(synchronous).toEqual([]);
  });
});
