// A plugin that crashes the player never takes it down twice: each crash fixture faults in its
// place (control thread, its own thread, the decoder on the decode worker, the DSP chain and the
// output sink in the audio process),
// the process dies (for the audio process, only that one), the crash record names the plugin, the next start
// quarantines that build while everything else loads, "Enable anyway" loads it, and a new build
// (another fingerprint) loads on its own. A WebAssembly bounds-check trap under the guard still
// arrives as a JS exception (the handler chains to V8's).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CrashRecord, readCrashRecords } from '../../plugins/crash-guard.js';
import { ensurePulse, sox } from '../engine/helpers.js';
import { fixturePluginDir, repoRoot } from '../paths.js';

const drill = path.join(repoRoot, 'dist', 'src-main', 'tools', 'crash-drill.js');
const crashDir = path.join(fixturePluginDir, 'crash');
const homes: string[] = [];

interface Listed {
  path: string;
  status: string;
  pluginId: string | null;
  error: { code: string; message: string } | null;
  quarantine: { step: string | null; signal: string; thread: string; process: string; fingerprint: string; crashes: number } | null;
}

function setup(variant: string): { home: string; extra: string; lib: string; media: string } {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-crash-'));
  homes.push(home);
  const extra = path.join(home, 'extra');
  fs.mkdirSync(extra);
  const lib = path.join(extra, `crash-${variant}.so`);
  fs.copyFileSync(path.join(crashDir, `${variant}.so`), lib);
  const media = path.join(home, 'tone.wav');
  return { home, extra, lib, media };
}

function run(home: string, extra: string, action: string, arg?: string): { status: number | null; signal: string | null; lines: Record<string, unknown>[]; stderr: string } {
  const r = spawnSync(process.execPath, [drill, home, extra, action, ...(arg ? [arg] : [])], { encoding: 'utf8', timeout: 40_000 });
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: r.status, signal: r.signal, lines, stderr: r.stderr };
}

function listed(home: string, extra: string, enable?: string): { plugins: Listed[] } {
  const r = run(home, extra, 'status', enable);
  expect(r.status, r.stderr).toBe(0);
  return { plugins: r.lines.find((l) => 'plugins' in l)!.plugins as Listed[] };
}

function onlyRecord(home: string): CrashRecord {
  const records = readCrashRecords(path.join(home, 'crashes'));
  expect(records.length).toBeGreaterThanOrEqual(1);
  // The audio process is restarted after a crash and may crash again: same plugin every time.
  expect(new Set(records.map((r) => r.fingerprint)).size).toBe(1);
  return records[0]!;
}

afterAll(() => {
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
});

describe('crash guard and quarantine', () => {
  it('a fault in begin_list_items: recorded, quarantined, Enable anyway loads it, a new build loads', () => {
    const { home, extra, lib } = setup('list');
    const crash = run(home, extra, 'list');
    expect(crash.signal).toBe('SIGSEGV');
    expect(crash.lines).toContainEqual({ started: true });
    expect(crash.lines).not.toContainEqual({ survived: true });
    const rec = onlyRecord(home);
    expect(rec).toMatchObject({ signal: 'SIGSEGV', pluginId: 'dev.stellatune.crash-list', process: 'main', mainThread: true, threadRole: 'control', step: 'begin_list_items' });
    expect(rec.frames[0]!.library).toMatch(/crash-list\.so$/);

    // Next start: quarantined, the built-ins all load, the record is folded into the book.
    const after = listed(home, extra).plugins;
    const mine = after.find((p) => p.path === lib)!;
    expect(mine.status).toBe('quarantined');
    expect(mine.pluginId).toBe('dev.stellatune.crash-list');
    expect(mine.quarantine).toMatchObject({ signal: 'SIGSEGV', step: 'begin_list_items', thread: 'the control thread', process: 'main' });
    const builtins = after.filter((p) => p.path !== lib);
    expect(builtins.length).toBeGreaterThanOrEqual(4);
    expect(builtins.every((p) => p.status === 'loaded')).toBe(true);
    expect(readCrashRecords(path.join(home, 'crashes'))).toEqual([]);
    // Still quarantined at the start after that (the book persists).
    expect(listed(home, extra).plugins.find((p) => p.path === lib)!.status).toBe('quarantined');

    // A new build of the same plugin (another fingerprint) is tried again, and works.
    const crashing = fs.readFileSync(lib);
    fs.copyFileSync(path.join(crashDir, 'list-fixed.so'), lib);
    const fixed = listed(home, extra, lib);
    expect(fixed.plugins.find((p) => p.path === lib)!.status).toBe('loaded');
    const items = run(home, extra, 'items', 'dev.stellatune.crash-list');
    expect(items.status, items.stderr).toBe(0);
    expect(JSON.stringify(items.lines)).toContain('"id":"a"');

    // The crashing build again: quarantined again; "Enable anyway" loads it (and it stays let in).
    fs.writeFileSync(lib, crashing);
    expect(listed(home, extra).plugins.find((p) => p.path === lib)!.status).toBe('quarantined');
    expect(listed(home, extra, lib).plugins.find((p) => p.path === lib)!.status).toBe('loaded');
    expect(listed(home, extra).plugins.find((p) => p.path === lib)!.status).toBe('loaded');
  });

  it('a fault on a thread the plugin started names a plugin thread', () => {
    const { home, extra, lib } = setup('thread');
    const crash = run(home, extra, 'thread');
    expect(crash.signal).toBe('SIGSEGV');
    const rec = onlyRecord(home);
    expect(rec).toMatchObject({ pluginId: 'dev.stellatune.crash-thread', process: 'main', mainThread: false, threadRole: null });
    const mine = listed(home, extra).plugins.find((p) => p.path === lib)!;
    expect(mine.status).toBe('quarantined');
    expect(mine.quarantine!.thread).toMatch(/^a plugin thread/);
    fs.copyFileSync(path.join(crashDir, 'thread-fixed.so'), lib);
    expect(listed(home, extra).plugins.find((p) => p.path === lib)!.status).toBe('loaded');
  });

  // The DSP chain and the output both run in the audio process: it dies, the main process lives
  // on, reads the record at once, unloads the plugin (so the restarted audio process does not
  // crash on it again) and keeps playing.
  it('a fault in process_f32 (DSP chain) and in write_f32 (output sink), both in the audio process', () => {
    ensurePulse();
    for (const variant of ['dsp', 'output'] as const) {
      const step = variant === 'dsp' ? 'process_f32' : 'write_f32';
      const { home, extra, lib, media } = setup(variant);
      sox('-n', '-r', '44100', '-c', '2', '-b', '16', media, 'synth', '12', 'sine', '440', 'vol', '0.3');
      const crash = run(home, extra, variant, media);
      const survived = crash.lines.find((l) => 'survived' in l)!;
      expect(survived, crash.stderr).toBeTruthy();
      expect(crash.stderr).toMatch(/audio process exited/);
      const live = (survived.plugins as Listed[]).find((p) => p.path === lib)!;
      expect(live).toMatchObject({ status: 'quarantined', pluginId: `dev.stellatune.crash-${variant}`, quarantine: { process: 'audio', step, signal: 'SIGSEGV', thread: "the host's output thread" } });
      expect(live.quarantine!.crashes).toBeLessThanOrEqual(2);
      expect(survived.status).toBe('playing');
      if (variant === 'output') expect(survived.output).toBe('portaudio');
      // Next start: still quarantined, everything else loads; "Enable anyway" loads it.
      const after = listed(home, extra).plugins;
      expect(after.find((p) => p.path === lib)!).toMatchObject({ status: 'quarantined', quarantine: { step, process: 'audio' } });
      expect(after.filter((p) => p.path !== lib).every((p) => p.status === 'loaded')).toBe(true);
      expect(listed(home, extra, lib).plugins.find((p) => p.path === lib)!.status).toBe('loaded');
    }
  });

  // The decoder runs on the decode worker, a worker_thread of the main process: a segfault there
  // ends the whole core (signals are per process), and the record names the worker's thread.
  it('a fault in read_f32 (decode worker): the core dies, the next start quarantines it, WAVs still play', () => {
    ensurePulse();
    const { home, extra, lib } = setup('decoder');
    const track = path.join(home, 'song.crash');
    fs.writeFileSync(track, Buffer.concat([Buffer.from('STCRASH'), Buffer.alloc(4096)]));
    const wav = path.join(home, 'tone.wav');
    sox('-n', '-r', '44100', '-c', '2', '-b', '16', wav, 'synth', '5', 'sine', '440', 'vol', '0.3');

    const crash = run(home, extra, 'decoder', track);
    expect(crash.signal, crash.stderr).toBe('SIGSEGV');
    expect(crash.lines).toContainEqual({ started: true });
    expect(crash.lines.find((l) => 'survived' in l)).toBeUndefined();
    const rec = onlyRecord(home);
    expect(rec).toMatchObject({ signal: 'SIGSEGV', pluginId: 'dev.stellatune.crash-decoder', process: 'main', mainThread: false, threadRole: 'decode-worker', step: 'read_f32' });
    expect(rec.frames[0]!.library).toMatch(/crash-decoder\.so$/);

    // Next start: quarantined, and the rest plays (a WAV through the built-in decoder).
    const after = run(home, extra, 'play', wav);
    expect(after.status, after.stderr).toBe(0);
    const played = after.lines.find((l) => 'status' in l)!;
    expect(played).toMatchObject({ status: 'playing' });
    expect(played.positionMs as number).toBeGreaterThan(0);
    const listedNow = played.plugins as Listed[];
    expect(listedNow.find((p) => p.path === lib)).toMatchObject({ status: 'quarantined', pluginId: 'dev.stellatune.crash-decoder', quarantine: { step: 'read_f32', thread: "the host's decode-worker thread", process: 'main' } });
    expect(listedNow.filter((p) => p.path !== lib).every((p) => p.status === 'loaded')).toBe(true);

    // "Enable anyway" loads it; then a new build (another fingerprint) loads and plays the file.
    expect(listed(home, extra, lib).plugins.find((p) => p.path === lib)!.status).toBe('loaded');
    fs.copyFileSync(path.join(crashDir, 'decoder-fixed.so'), lib);
    const fixed = run(home, extra, 'play', track);
    expect(fixed.status, fixed.stderr).toBe(0);
    const tone = fixed.lines.find((l) => 'status' in l)!;
    expect(tone).toMatchObject({ status: 'playing', codec: 'crash' });
    expect((tone.plugins as Listed[]).find((p) => p.path === lib)!.status).toBe('loaded');
  });

  it('a WebAssembly bounds-check trap still throws a RuntimeError under the guard', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-crash-'));
    homes.push(home);
    const extra = path.join(home, 'extra');
    fs.mkdirSync(extra);
    const r = run(home, extra, 'wasm');
    expect(r.status, r.stderr).toBe(0);
    expect(r.lines).toContainEqual({ traps: 200, inBounds: 0, guard: true });
    expect(readCrashRecords(path.join(home, 'crashes'))).toEqual([]);
  });
});
