// Cores killed with SIGKILL leave shadow copies and half-written temp files; the next start removes
// them, but never those of a core that is still running on the same app home.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { makeTestHome } from '../harness.js';
import { fixturePlugin } from '../paths.js';
import { startShellProcess, type ShellProcess } from './shell-process.js';

const home = makeTestHome();
home.install(fixturePlugin);
const running: ShellProcess[] = [];

afterAll(async () => {
  for (const s of running) await s.stop();
  home.cleanup();
});

const shadowFolders = (): string[] => (fs.existsSync(home.paths.shadow) ? fs.readdirSync(home.paths.shadow).sort() : []);
const folderOf = (pid: number): string | undefined => shadowFolders().find((n) => n.startsWith(`${pid}-`));

async function start(): Promise<ShellProcess> {
  const s = await startShellProcess(['--no-audio'], home);
  running.push(s);
  return s;
}

async function kill9(s: ShellProcess): Promise<void> {
  const gone = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGKILL');
  await gone;
}

it('start-up after kill -9 leaves no shadow copies or temp files behind, and spares a live core', async () => {
  const pluginsDir = path.join(home.paths.settings, 'plugins');
  for (let round = 0; round < 3; round++) {
    const s = await start();
    const own = folderOf(s.proc.pid!);
    expect(own, 'the core keeps its shadow copies in a folder of its own').toBeDefined();
    // The previous round's killed core left its folder and temp file; this start removed both.
    expect(shadowFolders()).toEqual([own]);
    expect(fs.existsSync(pluginsDir) ? fs.readdirSync(pluginsDir).filter((n) => n.endsWith('.tmp')) : []).toEqual([]);
    expect(fs.readdirSync(path.join(home.paths.shadow, own!)).length).toBeGreaterThan(0);
    // What a kill mid-write leaves: the settings write's temp file.
    fs.mkdirSync(pluginsDir, { recursive: true });
    fs.writeFileSync(path.join(pluginsDir, `dev.stellatune.fixture.json.${s.proc.pid}.tmp`), '{"enab');
    await kill9(s);
  }
  expect(shadowFolders()).toHaveLength(1);

  const live = await start();
  const liveFolder = folderOf(live.proc.pid!)!;
  expect(shadowFolders()).toEqual([liveFolder]);
  expect(fs.readdirSync(pluginsDir).filter((n) => n.endsWith('.tmp'))).toEqual([]);

  // A second core on the same home while the first runs: the first's copies stay.
  const second = await start();
  expect(shadowFolders()).toEqual([liveFolder, folderOf(second.proc.pid!)!].sort());
  expect(fs.readdirSync(path.join(home.paths.shadow, liveFolder)).length).toBeGreaterThan(0);
  // The first still serves (its libraries were not pulled from under it).
  const res = await fetch(`${live.origin}/session?key=${live.token}`, { redirect: 'manual' });
  expect(res.status).toBe(303);

  // A clean stop removes the core's own folder.
  await second.stop();
  await live.stop();
  expect(shadowFolders()).toEqual([]);
});
