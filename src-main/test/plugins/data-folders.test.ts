// A plugin's data folder is named by its plugin id, not by its file name: a renamed library keeps
// its data, a folder of the old file-named layout is moved over, and the probe load that learns a
// new file's id leaves nothing behind.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { PluginGeneration } from '../../plugins/library.js';
import { fixtureEvents, makeTestHome, type TestHome } from '../harness.js';
import { fixturePlugin } from '../paths.js';

let home: TestHome;
afterEach(() => home?.cleanup());

it('names the data folder by plugin id and migrates the old file-named folder', async () => {
  home = makeTestHome();
  const root = home.paths.pluginData;
  const lib = path.join(home.paths.userPlugins, 'my-build.so');
  fs.copyFileSync(fixturePlugin, lib);
  // The old layout: <data root>/<file name without extension>.
  fs.mkdirSync(path.join(root, 'my-build'), { recursive: true });
  fs.writeFileSync(path.join(root, 'my-build', 'cache.txt'), 'kept');

  const opts = { shadowDir: home.paths.shadow, dataRoot: root, leaseId: 1 };
  const gen = PluginGeneration.load(lib, opts);
  expect(gen.dataDir).toBe(path.join(root, 'dev.stellatune.fixture'));
  expect(fs.readFileSync(path.join(gen.dataDir, 'cache.txt'), 'utf8')).toBe('kept');
  expect(fs.existsSync(path.join(root, 'my-build'))).toBe(false);
  expect(fs.readdirSync(root).filter((n) => n.startsWith('.probe'))).toEqual([]);
  await gen.unload();

  // Known now: loaded once, straight into its folder (one entry in its own lifecycle log).
  const before = fixtureEvents(home).filter((e) => e.startsWith('entry')).length;
  const again = PluginGeneration.load(lib, { ...opts, leaseId: 2 });
  expect(again.dataDir).toBe(path.join(root, 'dev.stellatune.fixture'));
  expect(fixtureEvents(home).filter((e) => e.startsWith('entry')).length).toBe(before + 1);
  await again.unload();

  // Renamed file, same plugin: the same folder.
  const renamed = path.join(home.paths.userPlugins, 'renamed.so');
  fs.renameSync(lib, renamed);
  const third = PluginGeneration.load(renamed, { ...opts, leaseId: 3 });
  expect(third.dataDir).toBe(path.join(root, 'dev.stellatune.fixture'));
  await third.unload();
});
