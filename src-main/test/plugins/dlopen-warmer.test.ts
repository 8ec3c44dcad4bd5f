// The dlopen warmer and the loader gate: the main thread's own dlopen/dlclose wait until the
// warmer thread holds no request, so they never queue behind its loader lock; a reload does not
// warm at all (the loaded generation holds the dependencies; a warmer inside dlopen would hold the
// loader lock that a plugin's first op takes on the main thread to start its worker threads).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as warmer from '../../plugins/dlopen-warmer.js';
import { closeDlopenWarmer, warmDlopen, whenLoaderIdle } from '../../plugins/dlopen-warmer.js';
import { PluginRegistry } from '../../plugins/registry.js';
import { makeTestHome } from '../harness.js';
import { builtinPluginDir, fixturePlugin } from '../paths.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-warmer-'));

afterAll(async () => {
  await closeDlopenWarmer();
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** Whether `p` has settled after the pending callbacks ran. */
async function settled(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('dlopen warmer', () => {
  it('keeps the loader gate closed while a warm or a release is in hand, and leaves no copy behind', async () => {
    expect(await settled(whenLoaderIdle())).toBe(true);
    const lib = path.join(builtinPluginDir, 'ffmpeg-decoder.so');
    const warming = warmDlopen(lib, scratch);
    // The request is posted synchronously; the gate waits for its answer.
    const gateDuringWarm = whenLoaderIdle(10_000);
    expect(await settled(gateDuringWarm)).toBe(false);
    const release = await warming;
    await gateDuringWarm;
    expect(await settled(whenLoaderIdle())).toBe(true);
    release();
    const gateDuringRelease = whenLoaderIdle(10_000);
    expect(await settled(gateDuringRelease)).toBe(false);
    await gateDuringRelease;
    expect(await settled(whenLoaderIdle())).toBe(true);
    expect(fs.readdirSync(scratch)).toEqual([]);
  });

  it('opens the gate after its timeout when the warmer does not answer', async () => {
    const lib = path.join(builtinPluginDir, 'ffmpeg-decoder.so');
    const warming = warmDlopen(lib, scratch);
    const t0 = performance.now();
    await whenLoaderIdle(1);
    expect(performance.now() - t0).toBeLessThan(1000);
    (await warming)();
    await whenLoaderIdle(10_000);
  });
});

describe('the registry and the warmer', () => {
  it('warms a first load, not a reload of a loaded plugin', async () => {
    const home = makeTestHome();
    home.install(fixturePlugin);
    const registry = new PluginRegistry({
      folders: [{ dir: home.paths.userPlugins, origin: 'user', watch: false }],
      dataRoot: home.paths.pluginData,
      shadowDir: home.paths.shadow,
    });
    try {
      const before = warmer.warmRequests;
      await registry.start();
      expect(registry.current('dev.stellatune.fixture')).not.toBeNull();
      expect(warmer.warmRequests).toBe(before + 1);
      const first = registry.current('dev.stellatune.fixture')!.leaseId;
      for (let i = 0; i < 3; i++) await registry.reload('dev.stellatune.fixture');
      expect(registry.current('dev.stellatune.fixture')!.leaseId).toBeGreaterThan(first);
      expect(warmer.warmRequests).toBe(before + 1);
    } finally {
      await registry.close();
      home.cleanup();
    }
  });
});
