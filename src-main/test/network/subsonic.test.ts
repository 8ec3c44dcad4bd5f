// The Subsonic source plugin against a real Subsonic server: Debian's supysonic on 127.0.0.1 over
// a music folder generated with ffmpeg. Browse, search, paging, playlists, auth and not-found
// errors, streaming a track through the sndfile decoder, and seeking with HTTP Range requests.
import crypto from 'node:crypto';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../control/control-plane.js';
import { startFaultProxy, type FaultProxy } from '../../tools/net-servers/fault-proxy.js';
import { defaultLibrary, startSupysonic, type SupysonicServer } from '../../tools/net-servers/supysonic.js';
import { waitFor, type TestHome } from '../harness.js';
import {
  decodeAll,
  type Item,
  type ItemPage,
  maxDiff,
  openDecoder,
  referencePcm,
  rejection,
  startNetworkControl,
  SUBSONIC,
  SUBSONIC_TYPE,
} from './helpers.js';

let server: SupysonicServer;
let proxy: FaultProxy;
let playlistId: string;
let home: TestHome;
let cp: ControlPlane;

beforeAll(async () => {
  server = await startSupysonic();
  proxy = await startFaultProxy({ port: server.port });
  // A playlist of two tracks, made through the API (the CLI has no playlist command).
  const albums = (await server.api('getAlbumList2', { type: 'alphabeticalByName' })) as {
    albumList2: { album: { id: string; name: string }[] };
  };
  const firstLight = albums.albumList2.album.find((a) => a.name === 'First Light')!;
  const album = (await server.api('getAlbum', { id: firstLight.id })) as { album: { song: { id: string; title: string }[] } };
  const ids = album.album.song.filter((s) => s.title !== 'Noon').map((s) => s.id);
  await server.api('createPlaylist', { name: 'Road Mix', songId: ids });
  const lists = (await server.api('getPlaylists')) as { playlists: { playlist: { id: string; name: string }[] } };
  playlistId = String(lists.playlists.playlist.find((p) => p.name === 'Road Mix')?.id);
});

afterAll(async () => {
  await proxy?.stop();
  await server?.stop();
});

beforeEach(async () => {
  ({ home, cp } = await startNetworkControl());
  configure(server.pluginConfig());
});

afterEach(async () => {
  await waitFor(() => cp.live().pendingOps === 0, 8000, 'pending ops to drain');
  expect(cp.live()).toMatchObject({ pendingOps: 0, openStreams: 0 });
  await cp.close();
  expect(cp.live()).toMatchObject({ pendingOps: 0, openStreams: 0, liveInstances: 0, loadedGenerations: 0 });
  home.cleanup();
});

function configure(config: Record<string, unknown>): void {
  const outcome = cp.applyConfig(SUBSONIC, 'source', SUBSONIC_TYPE, config);
  expect(['stored', 'hot_applied']).toContain(outcome.outcome);
}

const list = (request: Record<string, unknown>): Promise<ItemPage> => cp.listItems(SUBSONIC, SUBSONIC_TYPE, request) as Promise<ItemPage>;

async function albumTracks(title: string): Promise<Item[]> {
  const albums = await list({ action: 'albums' });
  const album = albums.items.find((a) => a.title === title);
  expect(album).toBeDefined();
  return (await list({ action: 'browse', id: album!.id })).items;
}

describe('browsing a Subsonic server', () => {
  it('ping reports the server and the API version', async () => {
    const r = (await list({ action: 'ping' })) as ItemPage & { ok: boolean; server: { api_version: string } };
    expect(r.ok).toBe(true);
    expect(r.server.api_version).toBe('1.10.2');
    expect(r.items).toEqual([]);
  });

  it('browses root -> albums -> an album, with what the UI and open_stream need', async () => {
    const root = await list({});
    expect(root.items.map((i) => [i.id, i.kind])).toEqual([
      ['menu:albums', 'folder'],
      ['menu:artists', 'folder'],
      ['menu:playlists', 'folder'],
    ]);
    const albums = await list({ action: 'browse', id: 'menu:albums' });
    expect(albums.items.map((a) => a.title).sort()).toEqual(['First Light', 'Night Signals']);
    const first = albums.items.find((a) => a.title === 'First Light')!;
    expect(first).toMatchObject({ kind: 'album', artist: 'Aurora Test', song_count: 3 });
    expect(first.id).toMatch(/^al:/);

    const album = await list({ action: 'browse', id: first.id });
    expect(album.album).toMatchObject({ title: 'First Light' });
    const tracks = album.items;
    expect(tracks.map((t) => [t.track_no, t.title, t.duration_ms])).toEqual([
      [1, 'Dawn', 4000],
      [2, 'Noon', 3000],
      [3, 'Dusk', 3000],
    ]);
    for (const t of tracks) {
      expect(t).toMatchObject({ kind: 'track', artist: 'Aurora Test', album: 'First Light', suffix: 'flac' });
      expect(t.id).toBe(`tr:${t.song_id}`);
      expect(t.size).toBeGreaterThan(1000);
    }
    // The same through the explicit action, with the prefix-less id.
    const direct = await list({ action: 'album', id: first.album_id });
    expect(direct.items.map((t) => t.title)).toEqual(['Dawn', 'Noon', 'Dusk']);
  });

  it('pages getAlbumList2 by type, offset and limit', async () => {
    const p1 = await list({ action: 'albums', type: 'alphabeticalByName', limit: 1 });
    expect(p1.items.map((a) => a.title)).toEqual(['First Light']);
    expect(p1.next_offset).toBe(1);
    const p2 = await list({ action: 'albums', type: 'alphabeticalByName', offset: 1, limit: 1 });
    expect(p2.items.map((a) => a.title)).toEqual(['Night Signals']);
    const p3 = await list({ action: 'albums', type: 'alphabeticalByName', offset: 2, limit: 1 });
    expect(p3.items).toEqual([]);
    expect(p3.next_offset).toBeUndefined();
    const newest = await list({ action: 'albums', type: 'newest' });
    expect(newest.items).toHaveLength(2);
  });

  it('lists artists and an artist\'s albums', async () => {
    const artists = await list({ action: 'artists' });
    expect(artists.items.map((a) => a.title).sort()).toEqual(['Aurora Test', 'Boreal Duo']);
    const boreal = artists.items.find((a) => a.title === 'Boreal Duo')!;
    expect(boreal).toMatchObject({ kind: 'artist', album_count: 1 });
    const albums = await list({ action: 'browse', id: boreal.id });
    expect(albums.items.map((a) => a.title)).toEqual(['Night Signals']);
    const paged = await list({ action: 'artists', limit: 1 });
    expect(paged.items).toHaveLength(1);
    expect(paged.next_offset).toBe(1);
  });

  it('searches with search3: artists, albums and tracks', async () => {
    const r = await list({ action: 'search', query: 'Beacon' });
    const tracks = r.items.filter((i) => i.kind === 'track');
    expect(tracks.map((t) => t.title)).toEqual(['Beacon']);
    expect(tracks[0]).toMatchObject({ artist: 'Boreal Duo', album: 'Night Signals', suffix: 'mp3', track_no: 1, duration_ms: 3000 });
    const byArtist = await list({ action: 'search', query: 'Boreal' });
    expect(byArtist.items.some((i) => i.kind === 'artist' && i.title === 'Boreal Duo')).toBe(true);
    const none = await list({ action: 'search', query: 'no such thing at all' });
    expect(none.items).toEqual([]);
  });

  it('lists playlists and a playlist\'s tracks', async () => {
    const lists = await list({ action: 'browse', id: 'menu:playlists' });
    const mix = lists.items.find((p) => p.title === 'Road Mix')!;
    expect(mix).toMatchObject({ kind: 'playlist', id: `pl:${playlistId}` });
    const tracks = await list({ action: 'playlist', id: mix.id });
    expect(tracks.items.map((t) => t.title).sort()).toEqual(['Dawn', 'Dusk']);
  });

  it('items carry a getCoverArt URL that serves the album art', async () => {
    const albums = await list({ action: 'albums' });
    const first = albums.items.find((a) => a.title === 'First Light')!;
    expect(first.cover_url).toContain(`${server.url}/rest/getCoverArt?`);
    const res = await fetch(first.cover_url!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\//);
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100);
    const tracks = await albumTracks('First Light');
    expect(tracks.every((t) => typeof t.cover_url === 'string')).toBe(true);
  });
});

describe('errors', () => {
  it('a wrong password is an auth error', async () => {
    configure(server.pluginConfig({ password: 'wrong' }));
    const err = await rejection(list({ action: 'ping' }));
    expect(err).toMatchObject({ code: 'plugin_error', status: 'auth', pluginId: SUBSONIC, op: 'list_items' });
    expect(err.message).toContain('Subsonic error 40');
  });

  it('token auth against a server without it explains the plain_password opt-in', async () => {
    configure(server.pluginConfig({ plain_password: false }));
    const err = await rejection(list({ action: 'ping' }));
    expect(err.code).toBe('plugin_error');
    expect(err.message).toContain('plain_password');
  });

  it('token auth sends t = md5(password + salt) with a fresh salt per request', async () => {
    configure(server.pluginConfig({ server_url: proxy.url, plain_password: false }));
    await proxy.clearRequests();
    await rejection(list({ action: 'ping' }));
    await rejection(list({ action: 'ping' }));
    const queries = (await proxy.requests()).map((r) => new URL(r.target, 'http://x').searchParams);
    expect(queries).toHaveLength(2);
    for (const q of queries) {
      expect(q.get('p')).toBeNull();
      expect(q.get('u')).toBe(server.user);
      expect(q.get('t')).toBe(crypto.createHash('md5').update(server.password + q.get('s')!).digest('hex'));
    }
    expect(queries[0]!.get('s')).not.toBe(queries[1]!.get('s'));
  });

  it('an unknown album or track is not_found; a missing server is a network error', async () => {
    const missing = crypto.randomUUID();
    expect(await rejection(list({ action: 'album', id: missing }))).toMatchObject({ code: 'plugin_error', status: 'not_found' });
    expect(await rejection(cp.openStream(SUBSONIC, SUBSONIC_TYPE, { id: `tr:${missing}`, kind: 'track' }))).toMatchObject({
      code: 'plugin_error',
      status: 'not_found',
      op: 'open_stream',
    });
    configure(server.pluginConfig({ server_url: 'http://127.0.0.1:9' }));
    const gone = await rejection(list({ action: 'ping' }));
    expect(gone).toMatchObject({ code: 'plugin_error', status: 'network' });
  });

  it('malformed requests are refused with a reason', async () => {
    expect(await rejection(list({ action: 'dance' }))).toMatchObject({ status: 'unsupported' });
    expect(await rejection(list({ action: 'album' }))).toMatchObject({ status: 'invalid_arg' });
    expect(await rejection(cp.openStream(SUBSONIC, SUBSONIC_TYPE, { id: 'al:123' }))).toMatchObject({ status: 'invalid_arg' });
    expect(() => cp.applyConfig(SUBSONIC, 'source', SUBSONIC_TYPE, { server_url: 'ftp://x' })).toThrow(/server_url/);
  });
});

describe('streaming', () => {
  it('streams a FLAC track: size from Content-Length, decoded sample-exact by sndfile', async () => {
    const dawn = (await albumTracks('First Light')).find((t) => t.title === 'Dawn')!;
    const lease = await cp.openStream(SUBSONIC, SUBSONIC_TYPE, dawn);
    expect(lease.meta).toMatchObject({ ext: 'flac', mime: 'audio/flac', title: 'Dawn', size: dawn.size, transcoded: false });
    const decoder = openDecoder(cp, lease);
    try {
      expect(decoder.info()).toMatchObject({ sampleRate: 44100, channels: 2, durationFrames: 4 * 44100, seekable: true });
      const pcm = decodeAll(decoder);
      const ref = referencePcm(path.join(server.musicDir, defaultLibrary[0]!.file));
      expect(pcm.length).toBe(ref.length);
      expect(maxDiff(pcm, 0, ref, 0, ref.length)).toBeLessThan(1e-4);
    } finally {
      decoder.destroy();
      expect(cp.closeStream(lease)).toBe(true);
    }
  });

  it('streams an MP3 track', async () => {
    const beacon = (await albumTracks('Night Signals')).find((t) => t.title === 'Beacon')!;
    const lease = await cp.openStream(SUBSONIC, SUBSONIC_TYPE, beacon);
    expect(lease.meta).toMatchObject({ ext: 'mp3', mime: 'audio/mpeg' });
    const decoder = openDecoder(cp, lease);
    try {
      const frames = decodeAll(decoder).length / 2;
      expect(Math.abs(frames - 3 * 44100)).toBeLessThan(2 * 1152);
    } finally {
      decoder.destroy();
      cp.closeStream(lease);
    }
  });

  it('a transcoded stream (format mp3, sent without a length) is spooled: sized, seekable, decoded to the end', async () => {
    configure(server.pluginConfig({ format: 'mp3', max_bitrate_kbps: 96 }));
    const dawn = (await albumTracks('First Light')).find((t) => t.title === 'Dawn')!;
    const lease = await cp.openStream(SUBSONIC, SUBSONIC_TYPE, dawn);
    expect(lease.meta).toMatchObject({ ext: 'mp3', mime: 'audio/mpeg', transcoded: true, spooled: true });
    // 96 kbps for 4 s, give or take the MP3 framing.
    expect(Number(lease.meta.size)).toBeGreaterThan(40_000);
    expect(Number(lease.meta.size)).toBeLessThan(60_000);
    const decoder = openDecoder(cp, lease);
    try {
      const frames = decodeAll(decoder).length / 2;
      expect(Math.abs(frames - 4 * 44100)).toBeLessThan(3 * 1152);
      expect(decoder.seekMs(1000)).toBeGreaterThan(0);
      expect(decoder.read(new Float32Array(1024 * 2), 1024)).toBe(1024);
    } finally {
      decoder.destroy();
      cp.closeStream(lease);
    }
  });

  it('seeks with HTTP Range requests and lands on the same samples as a full decode', async () => {
    configure(server.pluginConfig({ server_url: proxy.url }));
    const dawn = (await albumTracks('First Light')).find((t) => t.title === 'Dawn')!;
    const ref = referencePcm(path.join(server.musicDir, defaultLibrary[0]!.file));
    await proxy.clearRequests();
    const lease = await cp.openStream(SUBSONIC, SUBSONIC_TYPE, dawn);
    const decoder = openDecoder(cp, lease);
    try {
      const block = new Float32Array(4096 * 2);
      for (const ms of [3000, 1000, 2500]) {
        const frame = decoder.seekMs(ms);
        expect(frame).toBe((ms * 44100) / 1000);
        const n = decoder.read(block, 4096);
        expect(n).toBe(4096);
        expect(maxDiff(block, 0, ref, frame * 2, 4096 * 2)).toBeLessThan(1e-4);
      }
    } finally {
      decoder.destroy();
      cp.closeStream(lease);
    }
    const streams = (await proxy.requests()).filter((r) => r.target.startsWith('/rest/stream'));
    const ranges = streams.map((r) => r.headers.range).filter(Boolean) as string[];
    expect(streams[0]!.headers.range).toBeUndefined();
    expect(ranges.length).toBeGreaterThanOrEqual(2);
    for (const r of ranges) expect(r).toMatch(/^bytes=\d+-$/);
    const offsets = ranges.map((r) => Number(/\d+/.exec(r)![0]));
    expect(Math.max(...offsets)).toBeGreaterThan(Number(dawn.size) / 2);
  });

  it('a stream keeps playing from its generation through a plugin reload; closing it unloads the old library', async () => {
    const dawn = (await albumTracks('First Light')).find((t) => t.title === 'Dawn')!;
    const oldGen = cp.registry.current(SUBSONIC)!;
    const lease = await cp.openStream(SUBSONIC, SUBSONIC_TYPE, dawn);
    const decoder = openDecoder(cp, lease);
    const first = decodeAll(decoder, 44100);
    const unloaded: number[] = [];
    cp.registry.on('unloaded', (_id, leaseId) => unloaded.push(leaseId));
    await cp.reloadPlugin(SUBSONIC);
    expect(cp.registry.current(SUBSONIC)!.leaseId).toBeGreaterThan(oldGen.leaseId);
    // The new generation serves new requests while the old one's stream reads on (with Range
    // requests through the old copy of the library and its libcurl state).
    expect((await list({ action: 'albums' })).items).toHaveLength(2);
    decoder.seekMs(3000);
    const rest = decodeAll(decoder);
    expect(first.length / 2).toBeGreaterThanOrEqual(44100);
    expect(rest.length / 2).toBe(44100);
    decoder.destroy();
    expect(unloaded).toEqual([]);
    expect(cp.closeStream(lease)).toBe(true);
    await cp.registry.settled();
    expect(unloaded).toEqual([oldGen.leaseId]);
  });

  it('closes a stream in the middle of a transfer at once', async () => {
    const dawn = (await albumTracks('First Light')).find((t) => t.title === 'Dawn')!;
    const lease = await cp.openStream(SUBSONIC, SUBSONIC_TYPE, dawn);
    const decoder = openDecoder(cp, lease);
    decoder.read(new Float32Array(1024 * 2), 1024);
    decoder.destroy();
    const t0 = performance.now();
    expect(cp.closeStream(lease)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(50);
  });
});
