// The library through the core: the contract's library/playlists services on the router, cover
// thumbnails over the browser shell's HTTP route behind the launch token, tags of a format only a
// decoder plugin knows (the libsndfile plugin's metadata through the plugin runtime), and play
// history from the engine's events.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AppCore } from '../../app-core.js';
import { PlayHistory } from '../../library/play-history.js';
import { startBrowserShell, type BrowserShell } from '../../shell/browser-shell.js';
import { makeScratchHome, type ScratchHome } from '../../tools/scratch-home.js';
import type { PlayerStatus, TrackInfo } from '../../../src-shared/player-types.js';
import { makeTestLibrary, type TestLibrary } from './test-library.js';

let home: ScratchHome;
let core: AppCore;
let media: TestLibrary;
let shell: BrowserShell;
let rendererDir: string;

beforeAll(async () => {
  home = makeScratchHome({ prefix: 'stellatune-libcore', builtins: true });
  media = await makeTestLibrary(path.join(home.paths.home, 'media'), path.join(home.paths.home, 'templates'));
  // A Sony Wave64 file: music-metadata has no reader for it, the libsndfile decoder plugin does.
  fs.mkdirSync(path.join(media.root, 'Plugin Only'), { recursive: true });
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', media.templates.wav, '-c:a', 'pcm_s24le', '-f', 'w64', path.join(media.root, 'Plugin Only', 'Take 1.w64')]);
  core = await AppCore.start({ shell: 'test', paths: home.paths, engine: false, library: { watch: false } });
  rendererDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-renderer-'));
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  shell = await startBrowserShell({ core, rendererDir, port: 0 });
});

afterAll(async () => {
  await shell?.close();
  await core?.close();
  home?.cleanup();
  if (rendererDir) fs.rmSync(rendererDir, { recursive: true, force: true });
});

async function call(service: string, method: string, params: unknown): Promise<unknown> {
  const session = core.router.openSession('test');
  try {
    const r = await session.call('1', service, method, params);
    if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code });
    return r.value;
  } finally {
    session.close();
  }
}

describe('library through the contract', () => {
  test('add a folder, progress events, then albums, search and a plugin-only format', async () => {
    const progress: { phase: string; found: number; read: number }[] = [];
    core.events.on('event', (service, event, payload) => {
      if (service === 'library' && event === 'didProgress') progress.push(payload as (typeof progress)[number]);
    });
    const root = (await call('library', 'addRoot', { path: media.root })) as { id: number; path: string };
    expect(root.path).toBe(media.root);
    await core.library.idle();
    expect(progress.some((p) => p.phase === 'reading')).toBe(true);
    expect(progress.at(-1)).toMatchObject({ phase: 'done', found: media.trackCount + 3, read: media.trackCount + 3 });

    const tracks = (await call('library', 'tracks', { limit: 100 })) as { total: number; items: { title: string; codec: string | null; sampleRate: number; durationMs: number }[] };
    expect(tracks.total).toBe(media.trackCount + 1);
    const w64 = tracks.items.find((t) => t.title === 'Take 1')!;
    expect(w64).toMatchObject({ sampleRate: 44100 });
    expect(w64.durationMs).toBeGreaterThan(1900);
    const details = (await call('library', 'track', { id: (w64 as unknown as { id: number }).id })) as { fields: Record<string, string | null> };
    expect(details.fields.tag_source).toBe('plugin:dev.stellatune.sndfile/sndfile');

    const found = (await call('library', 'search', { query: 'bjork' })) as { artists: { name: string }[]; tracks: unknown[] };
    expect(found.artists.map((a) => a.name)).toEqual(['Björk']);
    expect(found.tracks).toHaveLength(2);
    await expect(call('library', 'tracks', { limit: 0 })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(call('library', 'album', { key: 'no such album' })).rejects.toMatchObject({ code: 'not_found' });
    await expect(call('library', 'addRoot', { path: '/definitely/not/here' })).rejects.toMatchObject({ code: 'not_found' });
  });

  test('cover thumbnails over HTTP: session cookie required, cache headers, ETag, bad ids and sizes refused', async () => {
    const albums = (await call('library', 'albums', { limit: 50 })) as { items: { title: string; coverId: string | null }[] };
    const id = albums.items.find((a) => a.title === 'Homogenic')!.coverId!;
    const url = `${shell.origin}/covers/${id}/256`;
    const session = await fetch(`${shell.origin}/session?key=${shell.token}`, { redirect: 'manual' });
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(cookie).toMatch(/=/);
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { Cookie: 'stellatune_session=wrong' } })).status).toBe(401);
    const ok = await fetch(url, { headers: { Cookie: cookie } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/webp');
    expect(ok.headers.get('cache-control')).toMatch(/max-age=31536000/);
    const body = Buffer.from(await ok.arrayBuffer());
    expect(body.toString('latin1', 0, 4)).toBe('RIFF');
    const again = await fetch(url, { headers: { Cookie: cookie, 'If-None-Match': ok.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect((await fetch(`${shell.origin}/covers/${id}/999`, { headers: { Cookie: cookie } })).status).toBe(404);
    expect((await fetch(`${shell.origin}/covers/${'0'.repeat(24)}/64`, { headers: { Cookie: cookie } })).status).toBe(404);
    expect((await fetch(`${shell.origin}/covers/..%2F..%2Fetc/64`, { headers: { Cookie: cookie } })).status).toBe(404);
  });

  test('playlists through the contract', async () => {
    const ids = ((await call('library', 'trackIds', { sort: 'title' })) as number[]).slice(0, 2);
    const pl = (await call('playlists', 'create', { name: 'Mix', trackIds: ids })) as { id: number; entryCount: number };
    expect(pl.entryCount).toBe(2);
    const entries = (await call('playlists', 'entries', { id: pl.id })) as { items: { track: { id: number } }[] };
    expect(entries.items.map((e) => e.track.id)).toEqual(ids);
    await expect(call('playlists', 'rename', { id: 99999, name: 'x' })).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('play history', () => {
  const track = (id: string, p: string): TrackInfo => ({ id, source: { kind: 'file', path: p }, title: id });
  const status = (current: TrackInfo | null, state: PlayerStatus['state'], durationMs: number): PlayerStatus => ({
    state, current, index: current ? 0 : -1, format: null, positionMs: 0, durationMs, volume: 1, repeat: 'off', shuffle: false,
    output: { kind: 'portaudio', deviceId: null, bufferFrames: 1024 },
  });

  test('a play counts after half the track (or 4 minutes); leaving earlier is a skip; seeking ahead is not listening', () => {
    const log: string[] = [];
    const h = new PlayHistory({ recordListen: (p, kind) => log.push(`${kind} ${p}`) });
    const a = track('a', '/m/a.mp3');
    h.onEvent({ type: 'status', status: status(a, 'playing', 10_000) });
    for (let t = 0; t <= 4000; t += 250) h.onEvent({ type: 'position', positionMs: t, durationMs: 10_000 });
    expect(log).toEqual([]);
    h.onEvent({ type: 'position', positionMs: 9000, durationMs: 10_000 }); // a seek
    expect(log).toEqual([]);
    for (let t = 9000; t <= 10_000; t += 250) h.onEvent({ type: 'position', positionMs: t, durationMs: 10_000 });
    expect(log).toEqual(['play /m/a.mp3']);

    const b = track('b', '/m/b.mp3');
    h.onEvent({ type: 'status', status: status(b, 'playing', 600_000) });
    for (let t = 0; t <= 3000; t += 250) h.onEvent({ type: 'position', positionMs: t, durationMs: 600_000 });
    const c = track('c', '/m/c.mp3');
    h.onEvent({ type: 'status', status: status(c, 'playing', 600_000) });
    expect(log).toEqual(['play /m/a.mp3', 'skip /m/b.mp3']);
    // A long track counts after 4 minutes, not half.
    for (let t = 0; t <= 240_000; t += 1000) h.onEvent({ type: 'position', positionMs: t, durationMs: 600_000 });
    expect(log.at(-1)).toBe('play /m/c.mp3');
  });

  test('recordListen updates the library row by path', () => {
    const t = core.library.tracks({ limit: 1 }).items[0]!;
    expect(core.library.recordListen(t.path, 'play')).toBe(true);
    expect(core.library.recordListen(t.path, 'skip')).toBe(true);
    expect(core.library.tracksById([t.id])[0]).toMatchObject({ playCount: t.playCount + 1, skipCount: t.skipCount + 1 });
    expect(core.library.recordListen('/not/in/library.mp3', 'play')).toBe(false);
  });
});
