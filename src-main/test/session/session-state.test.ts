// The session files: atomic writes that SIGKILL cannot tear (a child writes them in a tight loop
// and is killed at random moments), and a reader that takes damaged or foreign files as a fresh
// start instead of failing.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import type { PlayerEngine } from '../../engine/player-engine.js';
import { readSession, restoredIndex, SESSION_VERSION, SessionState, type SavedPlayer } from '../../services/session-state.js';
import { DetachedEngine } from '../../services/detached-engine.js';
import { DEFAULT_REPLAY_GAIN } from '../../../src-shared/replay-gain.js';
import { repoRoot } from '../paths.js';

let dir: string;
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
const writeJson = (file: string, value: unknown): void => fs.writeFileSync(file, JSON.stringify(value));
const fresh = (): string => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-session-')));

const player = (over: Partial<SavedPlayer> = {}): SavedPlayer => ({
  version: SESSION_VERSION,
  savedAt: 1,
  index: 0,
  currentSource: null,
  positionMs: 0,
  wasPlaying: false,
  volume: 1,
  repeat: 'off',
  shuffle: false,
  output: null,
  ui: { view: null, volumeBeforeMute: null },
  settings: { keepPlayingInBackground: false, resumePlayback: false },
  ...over,
});

describe('session files', () => {
  it('are never torn by SIGKILL during a write', async () => {
    fresh();
    const mod = pathToFileURL(path.join(repoRoot, 'dist', 'src-main', 'services', 'session-state.js')).href;
    // 2,000 tagged entries (~300 KB a write), rewritten as fast as the disk allows (the
    // background writer the core uses), with a sequence number in both files.
    const script = `
      import { writeJsonAtomicAsync } from ${JSON.stringify(mod)};
      import path from 'node:path';
      const dir = ${JSON.stringify(dir)};
      const tracks = Array.from({ length: 2000 }, (_, i) => ({ source: { kind: 'file', path: '/music/Ådalen/' + i + '.flac' }, title: 'Spår ' + i + ' — 月', artist: 'Ådalen', album: 'Nattljus', durationMs: 180000 + i }));
      const base = Number(process.argv[1]);
      for (let seq = base; ; seq++) {
        await writeJsonAtomicAsync(path.join(dir, 'queue.json'), { version: ${SESSION_VERSION}, savedAt: seq, tracks });
        await writeJsonAtomicAsync(path.join(dir, 'player.json'), { version: ${SESSION_VERSION}, savedAt: seq, index: seq % 2000, positionMs: seq, volume: 0.5 });
        // Killed from the second write on, so every kill lands in the middle of the writing.
        if (seq === base) process.stdout.write('ready\\n');
      }`;
    let lastSeq = -1;
    let progressed = 0;
    for (let round = 0; round < 8; round++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, String(lastSeq + 1)], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 40 + Math.random() * 160));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const s = readSession(dir, (m) => {
        throw new Error(m);
      });
      expect(s.queue?.tracks).toHaveLength(2000);
      expect(s.queue?.tracks[1999]).toEqual({ source: { kind: 'file', path: '/music/Ådalen/1999.flac' }, title: 'Spår 1999 — 月', artist: 'Ådalen', album: 'Nattljus', durationMs: 181999 });
      expect(s.player?.volume).toBe(0.5);
      // Never older than what the last round left.
      expect(s.player!.savedAt).toBeGreaterThan(lastSeq);
      if (s.player!.savedAt > lastSeq + 1) progressed++;
      lastSeq = s.player!.savedAt;
      // Leftover temporary files are not what the reader reads.
      for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))) fs.rmSync(path.join(dir, f));
    }
    // The writer got past its first pair of writes in most rounds (the kills hit a busy writer).
    expect(progressed).toBeGreaterThan(0);
  }, 60_000);

  it('read as a fresh start when damaged, and drop entries that make no sense', () => {
    fresh();
    const logs: string[] = [];
    fs.writeFileSync(path.join(dir, 'queue.json'), '{"version":1,"tracks":[{"source":{"kind":"file","path":"/a.flac"},"title":"A"},');
    fs.writeFileSync(path.join(dir, 'player.json'), '\u0000\u0000\u0000');
    expect(readSession(dir, (m) => logs.push(m))).toEqual({ queue: null, player: null });
    expect(logs).toHaveLength(2);

    writeJson(path.join(dir, 'queue.json'), {
      version: 1,
      tracks: [{ source: { kind: 'file', path: '/a.flac' }, title: 'A', durationMs: -5 }, { source: { kind: 'smb', path: '/x' }, title: 'X' }, 'garbage', { source: { kind: 'file', path: '/b.flac' }, title: 'B', artist: 'Björk' }],
    });
    writeJson(path.join(dir, 'player.json'), { version: 1, index: 99, volume: 7, repeat: 'sometimes', output: { kind: 'portaudio', bufferFrames: 1e9, deviceId: 'x' }, ui: { view: 'x'.repeat(500) } });
    const s = readSession(dir);
    expect(s.queue?.tracks).toEqual([
      { source: { kind: 'file', path: '/a.flac' }, title: 'A' },
      { source: { kind: 'file', path: '/b.flac' }, title: 'B', artist: 'Björk' },
    ]);
    expect(s.player).toMatchObject({ index: 99, volume: 1, repeat: 'off', output: { kind: 'portaudio', bufferFrames: 65536, deviceId: null }, ui: { view: null } });
    writeJson(path.join(dir, 'player.json'), { version: 1, output: { kind: 'portaudio', deviceId: 3, bufferFrames: 2048, bitPerfect: true, sampleRate: 96000 } });
    expect(readSession(dir).player?.output).toEqual({ kind: 'portaudio', deviceId: 3, bufferFrames: 2048, bitPerfect: true, sampleRate: 96000 });
    writeJson(path.join(dir, 'player.json'), { version: 1, output: { kind: 'portaudio', deviceId: null, bufferFrames: 512, bitPerfect: 'yes', sampleRate: 12 } });
    expect(readSession(dir).player?.output).toEqual({ kind: 'portaudio', deviceId: null, bufferFrames: 512 });
    // Another version's files are not guessed at.
    writeJson(path.join(dir, 'queue.json'), { version: 2, tracks: [] });
    expect(readSession(dir).queue).toBeNull();
  });

  it('find the current entry by source when the queue file is older than the player file', () => {
    const t = (p: string) => ({ source: { kind: 'file' as const, path: p }, title: p });
    const tracks = [t('/a'), t('/b'), t('/c')];
    expect(restoredIndex(tracks, player({ index: 1, currentSource: { kind: 'file', path: '/b' } }))).toBe(1);
    expect(restoredIndex(tracks, player({ index: 0, currentSource: { kind: 'file', path: '/c' } }))).toBe(2);
    expect(restoredIndex(tracks, player({ index: 7, currentSource: { kind: 'file', path: '/gone' } }))).toBe(2);
    expect(restoredIndex([], player({ index: 0 }))).toBe(-1);
  });

  it('keep the ReplayGain settings with the player; damaged ones read as the defaults', async () => {
    fresh();
    const first = new SessionState({ dir });
    const e1 = new DetachedEngine('test');
    first.restoreInto(e1);
    const settings = { mode: 'auto' as const, preampDb: 3.5, untaggedDb: -2, preventClipping: false };
    e1.setReplayGain(settings);
    await first.close();
    expect(readSession(dir).player?.replayGain).toEqual(settings);
    const second = new SessionState({ dir });
    const e2 = new DetachedEngine('test');
    second.restoreInto(e2);
    expect(e2.replayGain()).toEqual(settings);
    await second.close();

    writeJson(path.join(dir, 'player.json'), { version: 1, replayGain: { mode: 'loud', preampDb: 3 } });
    expect(readSession(dir).player?.replayGain).toBeUndefined();
    writeJson(path.join(dir, 'player.json'), { version: 1, replayGain: { mode: 'track', preampDb: 99, untaggedDb: 'x' } });
    expect(readSession(dir).player?.replayGain).toEqual({ ...DEFAULT_REPLAY_GAIN, mode: 'track', preampDb: 15 });
  });
});

describe('resume playback on start', () => {
  /** The engine calls restoreInto makes, written down (no audio needed for what is decided). */
  const recordingEngine = (): { engine: PlayerEngine; calls: string[] } => {
    const calls: string[] = [];
    const rec = (name: string) => (...args: unknown[]) => void calls.push(`${name}(${args.map((a) => JSON.stringify(a)).join(', ')})`);
    const engine = Object.assign(new EventEmitter(), {
      queueAdd: rec('queueAdd'),
      cue: rec('cue'),
      setVolume: rec('setVolume'),
      setRepeat: rec('setRepeat'),
      setShuffle: rec('setShuffle'),
      resume: async () => void calls.push('resume()'),
      setReplayGain: rec('setReplayGain'),
      replayGain: () => DEFAULT_REPLAY_GAIN,
      // What close() writes back: the cued track, paused.
      queue: () => ({ tracks: [{ id: 1, source: { kind: 'file', path: '/music/a.flac' }, title: 'A' }] }),
      status: () => ({ state: 'paused', index: 0, current: { source: { kind: 'file', path: '/music/a.flac' } }, positionMs: 61_000, volume: 1, repeat: 'off', shuffle: false, output: null }),
    });
    return { engine: engine as unknown as PlayerEngine, calls };
  };
  const seed = (over: Partial<SavedPlayer>): void => {
    fresh();
    const track = { source: { kind: 'file', path: '/music/a.flac' }, title: 'A' };
    writeJson(path.join(dir, 'queue.json'), { version: SESSION_VERSION, tracks: [track] });
    writeJson(path.join(dir, 'player.json'), player({ index: 0, currentSource: track.source as SavedPlayer['currentSource'], positionMs: 61_000, ...over }));
  };

  it('comes back paused at its position by default, and plays on when the setting is on and it was playing', async () => {
    for (const [over, resumes] of [
      [{ wasPlaying: true }, false],
      [{ wasPlaying: false, settings: { keepPlayingInBackground: false, resumePlayback: true } }, false],
      [{ wasPlaying: true, settings: { keepPlayingInBackground: false, resumePlayback: true } }, true],
    ] as [Partial<SavedPlayer>, boolean][]) {
      seed(over);
      const state = new SessionState({ dir });
      const { engine, calls } = recordingEngine();
      expect(state.restoreInto(engine)).toBe(resumes);
      expect(calls).toContain('cue(0, 61000)');
      expect(calls.includes('resume()')).toBe(resumes);
      expect(state.settings.resumePlayback).toBe(over.settings?.resumePlayback ?? false);
      await state.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // The setting is saved with the session and read back by the next start.
    seed({ wasPlaying: true });
    const first = new SessionState({ dir, positionEveryMs: 10 });
    first.restoreInto(recordingEngine().engine);
    first.setSettings({ resumePlayback: true });
    await first.close();
    expect(new SessionState({ dir }).settings.resumePlayback).toBe(true);
  });
});
