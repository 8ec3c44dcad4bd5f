// The plugin settings store writes off the main loop: a change is in force at once, its file
// follows asynchronously (no synchronous write or rename on the loop, which was a stall during hot
// reloads), the changes of one turn become one atomic write, nothing is lost at flush or at exit,
// and a failed write is reported without losing the change.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { PluginSettingsStore } from '../../control/plugin-settings.js';
import { repoRoot } from '../paths.js';

let dir = '';
afterEach(() => {
  vi.restoreAllMocks();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = '';
});

function tempDir(): string {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-settings-'));
  return dir;
}

function onDisk(folder: string, id: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(folder, `${id}.json`), 'utf8'));
}

it('a change is in force at once and reaches the file without a synchronous write on the loop', async () => {
  const folder = path.join(tempDir(), 'plugins');
  const store = new PluginSettingsStore(folder);
  const writeSync = vi.spyOn(fs, 'writeFileSync');
  const renameSync = vi.spyOn(fs, 'renameSync');
  store.setEnabled('dev.x', false);
  store.setConfig('dev.x', 'source', 's', { url: 'http://a' });
  store.setState('dev.x', 'source', 's', '{"n":1}');
  // In force for every reader now, not yet on disk.
  expect(store.get('dev.x')).toMatchObject({ enabled: false, configs: { 'source/s': { url: 'http://a' } }, states: { 'source/s': '{"n":1}' } });
  expect(fs.existsSync(path.join(folder, 'dev.x.json'))).toBe(false);
  await store.flush();
  expect(writeSync).not.toHaveBeenCalled();
  expect(renameSync).not.toHaveBeenCalled();
  // Three changes in one turn: one write.
  expect(store.writes).toBe(1);
  expect(onDisk(folder, 'dev.x')).toEqual({ enabled: false, configs: { 'source/s': { url: 'http://a' } }, states: { 'source/s': '{"n":1}' } });
  expect((fs.statSync(path.join(folder, 'dev.x.json')).mode & 0o077).toString(8)).toBe('0');
  expect(fs.readdirSync(folder)).toEqual(['dev.x.json']);
  expect(new PluginSettingsStore(folder).disabledIds()).toEqual(['dev.x']);
});

it('a change made while a write runs is written after it; the last one wins', async () => {
  const folder = path.join(tempDir(), 'plugins');
  const store = new PluginSettingsStore(folder);
  for (let i = 0; i < 50; i++) {
    store.setState('dev.x', 'source', 's', JSON.stringify({ n: i }));
    store.setState('dev.y', 'lyrics', 'l', JSON.stringify({ n: i }));
    // Some turns of the loop pass between changes, so writes overlap later changes.
    if (i % 7 === 0) await new Promise((r) => setImmediate(r));
  }
  await store.flush();
  expect(onDisk(folder, 'dev.x')).toMatchObject({ states: { 'source/s': '{"n":49}' } });
  expect(onDisk(folder, 'dev.y')).toMatchObject({ states: { 'lyrics/l': '{"n":49}' } });
  // Coalesced: far fewer files written than changes made.
  expect(store.writes).toBeLessThan(40);
  expect(fs.readdirSync(folder).sort()).toEqual(['dev.x.json', 'dev.y.json']);
});

it('a write that fails is reported by flush and the change is kept and written with the next', async () => {
  const root = tempDir();
  const folder = path.join(root, 'plugins');
  const store = new PluginSettingsStore(folder);
  store.setEnabled('dev.ok', false);
  await store.flush();
  // A folder where the temp file would go: its write fails (as on a full disk; the tests run as
  // root, who ignores a read-only folder's mode).
  const blocker = path.join(folder, `dev.x.json.${process.pid}.tmp`);
  fs.mkdirSync(blocker);
  store.setEnabled('dev.x', false);
  await expect(store.flush()).rejects.toThrow();
  expect(store.get('dev.x').enabled).toBe(false);
  expect(fs.existsSync(path.join(folder, 'dev.x.json'))).toBe(false);
  fs.rmdirSync(blocker);
  store.setConfig('dev.x', 'source', 's', { a: 1 });
  await store.flush();
  expect(onDisk(folder, 'dev.x')).toEqual({ enabled: false, configs: { 'source/s': { a: 1 } }, states: {} });
});

it('a process that exits right after a change still leaves it on disk', () => {
  const folder = path.join(tempDir(), 'plugins');
  const mod = path.join(repoRoot, 'dist', 'src-main', 'control', 'plugin-settings.js');
  // The built module in a child that exits in the same turn as the change (no flush, no await).
  execFileSync(process.execPath, ['--input-type=module', '-e', `
    const { PluginSettingsStore } = await import(${JSON.stringify(mod)});
    const store = new PluginSettingsStore(${JSON.stringify(folder)});
    store.setEnabled('dev.first', false);
    store.setState('dev.x', 'source', 's', '{"saved":true}');
    process.exit(0);
  `]);
  expect(onDisk(folder, 'dev.x')).toEqual({ enabled: true, configs: {}, states: { 'source/s': '{"saved":true}' } });
  expect(onDisk(folder, 'dev.first')).toMatchObject({ enabled: false });
  expect(fs.readdirSync(folder).sort()).toEqual(['dev.first.json', 'dev.x.json']);
});
