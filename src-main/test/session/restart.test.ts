// Resume across restarts of the real core (browser shell, real audio): the queue with its tags,
// the current track and its position, volume, repeat, shuffle, output and buffer size, the last
// view, the EQ. The core is killed with SIGKILL in a loop while it plays (and so while it writes
// its session): each time the session files parse and the position lost is at most 2 s.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSession } from '../../services/session-state.js';
import type { PlayerStatus, QueueSnapshot } from '../../../src-shared/player-types.js';
import { ensurePulse, ffmpeg, sleep } from '../engine/helpers.js';
import { connect, type CoreClient, type CoreProcess, exited, startCore } from './core-process.js';

let home: string;
let media: string;
let core: CoreProcess | null = null;
let client: CoreClient | null = null;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const status = (): Promise<PlayerStatus> => client!.call<PlayerStatus>('player', 'status');

async function boot(): Promise<void> {
  core = await startCore(home);
  client = await connect(core.url);
}

beforeAll(() => {
  ensurePulse();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-restart-'));
  media = path.join(home, 'Music', 'Ådalen — Nattljus');
  fs.mkdirSync(media, { recursive: true });
  // Tagged FLACs (Vorbis comments), 40 s each, so the loop below never reaches a track's end.
  for (const [i, title] of ['Första ljuset', 'Andra vågen', '第三の月'].entries()) {
    ffmpeg('-f', 'lavfi', '-i', `sine=frequency=${330 + i * 110}:duration=40`, '-ac', '2', '-ar', '44100', '-metadata', `title=${title}`, '-metadata', 'artist=Ådalen', '-metadata', 'album=Nattljus', '-metadata', `track=${i + 1}`, path.join(media, `0${i + 1}.flac`));
  }
});

afterAll(async () => {
  client?.close();
  if (core && core.proc.exitCode === null) {
    core.proc.kill('SIGKILL');
    await exited(core.proc).catch(() => null);
  }
  fs.rmSync(home, { recursive: true, force: true });
});

describe('resume after a restart', () => {
  it('brings everything back after a clean stop, with tags read when the tracks were added', async () => {
    await boot();
    const files = ['01.flac', '02.flac', '03.flac'].map((f) => ({ source: { kind: 'file', path: path.join(media, f) }, title: f.replace('.flac', '') }));
    await client!.call('queue', 'add', { tracks: files });
    // The tag worker fills in title, artist, album and duration of every entry, not only the playing one.
    const q = await waitFor('the tags', async () => {
      const snap = await client!.call<QueueSnapshot>('queue', 'get');
      return snap.tracks.every((t) => t.artist === 'Ådalen' && t.durationMs !== undefined) ? snap : undefined;
    });
    expect(q.tracks.map((t) => [t.title, t.artist, t.album, Math.round((t.durationMs ?? 0) / 1000)])).toEqual([
      ['Första ljuset', 'Ådalen', 'Nattljus', 40],
      ['Andra vågen', 'Ådalen', 'Nattljus', 40],
      ['第三の月', 'Ådalen', 'Nattljus', 40],
    ]);
    await client!.call('output', 'set', { choice: { kind: 'portaudio', deviceId: null, bufferFrames: 2048 } });
    const eq = (await client!.call<{ pluginId: string; typeId: string; config: { bands: { gain_db: number }[] } }[]>('output', 'dsps')).find((d) => d.typeId === 'eq10')!;
    const bands = eq.config.bands.map((b, i) => ({ ...b, gain_db: i === 0 ? 6 : i === 9 ? -4.5 : 0 }));
    await client!.call('output', 'applyDsp', { pluginId: eq.pluginId, typeId: 'eq10', config: { ...eq.config, preamp_db: -3, bands } });
    await client!.call('player', 'play', { index: 1 });
    await waitFor('playing', async () => (await status()).state === 'playing');
    await client!.call('player', 'seek', { positionMs: 15_000 });
    await client!.call('player', 'setVolume', { volume: 0.55 });
    await client!.call('player', 'setRepeat', { mode: 'all' });
    await client!.call('player', 'setShuffle', { on: true });
    await client!.call('session', 'setUi', { view: 'lyrics', volumeBeforeMute: 0.8 });
    await client!.call('session', 'setKeepPlayingInBackground', { on: true });
    await waitFor('the position past 16 s', async () => (await status()).positionMs >= 16_000);
    const before = await status();

    client!.close();
    core!.proc.kill('SIGTERM');
    expect(await exited(core!.proc)).toBe(0);
    await boot();

    const after = await status();
    expect(after.current?.title).toBe('Andra vågen');
    expect(after.index).toBe(1);
    expect(Math.abs(after.positionMs - before.positionMs)).toBeLessThanOrEqual(2000);
    expect(after).toMatchObject({ state: 'stopped', volume: 0.55, repeat: 'all', shuffle: true, output: { kind: 'portaudio', bufferFrames: 2048 } });
    const restored = await client!.call<QueueSnapshot>('queue', 'get');
    expect(restored.tracks.map((t) => [t.title, t.artist, t.album])).toEqual(q.tracks.map((t) => [t.title, t.artist, t.album]));
    expect(await client!.call('session', 'get')).toEqual({ ui: { view: 'lyrics', volumeBeforeMute: 0.8 }, keepPlayingInBackground: true, resumePlayback: false, restored: true });
    const eqAfter = (await client!.call<{ typeId: string; config: { preamp_db: number; bands: { gain_db: number }[] } }[]>('output', 'dsps')).find((d) => d.typeId === 'eq10')!;
    expect(eqAfter.config.preamp_db).toBe(-3);
    expect(eqAfter.config.bands.map((b) => b.gain_db)).toEqual([6, 0, 0, 0, 0, 0, 0, 0, 0, -4.5]);
    // Play goes on from the saved position, not from the start.
    await client!.call('player', 'resume');
    await waitFor('playing again', async () => (await status()).state === 'playing');
    const resumed = await status();
    expect(resumed.current?.title).toBe('Andra vågen');
    expect(resumed.positionMs).toBeGreaterThanOrEqual(before.positionMs - 2000);
  }, 90_000);

  it('survives SIGKILL at any moment: the session parses and at most 2 s of position are lost', async () => {
    await client!.call('player', 'setShuffle', { on: false });
    for (let round = 0; round < 3; round++) {
      if ((await status()).state !== 'playing') {
        await client!.call('player', 'resume');
        await waitFor('playing', async () => (await status()).state === 'playing');
      }
      // Random moments, so some kills land during a write.
      await sleep(1200 + Math.random() * 1300);
      const heard = (await status()).positionMs;
      const title = (await status()).current?.title;
      core!.proc.kill('SIGKILL');
      await exited(core!.proc);
      client!.close();

      const saved = readSession(path.join(home, 'session'));
      expect(saved.queue?.tracks).toHaveLength(3);
      expect(saved.player).not.toBeNull();
      expect(heard - saved.player!.positionMs).toBeLessThanOrEqual(2000);
      expect(fs.readdirSync(path.join(home, 'session')).filter((f) => f.endsWith('.json'))).toEqual(['player.json', 'queue.json']);

      await boot();
      const back = await status();
      expect(back.current?.title).toBe(title);
      expect(heard - back.positionMs).toBeLessThanOrEqual(2000);
      expect(back.positionMs).toBeLessThanOrEqual(heard + 500);
    }
  }, 120_000);

  it('starts fresh from a damaged queue file, and keeps the default output when the saved one is gone', async () => {
    core!.proc.kill('SIGKILL');
    await exited(core!.proc);
    client!.close();
    const dir = path.join(home, 'session');
    fs.writeFileSync(path.join(dir, 'queue.json'), '{"version":1,"tracks":[{"source":');
    const player = JSON.parse(fs.readFileSync(path.join(dir, 'player.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(dir, 'player.json'), JSON.stringify({ ...player, output: { kind: 'plugin', pluginId: 'dev.example.gone', typeId: 'sink', target: {} } }));
    await boot();
    const st = await status();
    expect(st).toMatchObject({ state: 'stopped', current: null, volume: player.volume, output: { kind: 'portaudio' } });
    expect((await client!.call<QueueSnapshot>('queue', 'get')).tracks).toEqual([]);
    expect(core!.log()).toMatch(/ignoring a damaged queue\.json/);
    expect(core!.log()).toMatch(/the output of the last run is not available/);
    // It still plays.
    await client!.call('queue', 'add', { tracks: [{ source: { kind: 'file', path: path.join(media, '01.flac') }, title: 'one' }], play: true });
    await waitFor('playing', async () => (await status()).state === 'playing');
  }, 60_000);
});
