// The LRCLIB lyrics plugin against an LRCLIB-compatible server on 127.0.0.1: search by free text
// and by track/artist, fetch by candidate id and by signature, instrumental tracks, 404s.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../control/control-plane.js';
import { startLrclibServer, type LrclibServer } from '../../tools/net-servers/lrclib-server.js';
import { waitFor, type TestHome } from '../harness.js';
import { LRCLIB, LRCLIB_TYPE, rejection, startNetworkControl } from './helpers.js';

interface Candidate {
  id: string;
  lrclib_id: number;
  title: string;
  artist: string;
  album?: string;
  duration_ms?: number;
  synced: boolean;
  instrumental: boolean;
}

interface Lyrics {
  id: string;
  title: string;
  synced_lrc: string;
  plain: string;
  instrumental: boolean;
  duration_ms: number;
}

let server: LrclibServer;
let home: TestHome;
let cp: ControlPlane;

beforeAll(async () => {
  server = await startLrclibServer();
});

afterAll(async () => {
  await server?.stop();
});

beforeEach(async () => {
  ({ home, cp } = await startNetworkControl());
  expect(['stored', 'hot_applied']).toContain(cp.applyConfig(LRCLIB, 'lyrics', LRCLIB_TYPE, { base_url: `${server.url}/`, timeout_ms: 3000 }).outcome);
  server.requests.length = 0;
});

afterEach(async () => {
  await waitFor(() => cp.live().pendingOps === 0, 8000, 'pending ops to drain');
  await cp.close();
  expect(cp.live()).toMatchObject({ pendingOps: 0, liveInstances: 0, loadedGenerations: 0 });
  home.cleanup();
});

const search = async (q: Record<string, unknown>): Promise<Candidate[]> =>
  ((await cp.searchLyrics(LRCLIB, LRCLIB_TYPE, q)) as { candidates: Candidate[] }).candidates;
const fetchLyrics = (t: Record<string, unknown>): Promise<Lyrics> => cp.fetchLyrics(LRCLIB, LRCLIB_TYPE, t) as Promise<Lyrics>;

describe('LRCLIB lyrics', () => {
  it('searches by free text with q=', async () => {
    const found = await search({ query: 'aurora dawn' });
    expect(found.map((c) => c.title).sort()).toEqual(['Dawn', 'Dawn (Reprise)']);
    const dawn = found.find((c) => c.title === 'Dawn')!;
    expect(dawn).toMatchObject({ id: 'lrclib:101', lrclib_id: 101, artist: 'Aurora Test', album: 'First Light', duration_ms: 4000, synced: true, instrumental: false });
    expect(server.requests).toEqual(['/api/search?q=aurora%20dawn']);
  });

  it('searches by track and artist', async () => {
    const found = await search({ title: 'Beacon', artist: 'Boreal Duo', duration_ms: 3000 });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ title: 'Beacon', synced: false, instrumental: false });
    expect(server.requests[0]).toBe('/api/search?track_name=Beacon&artist_name=Boreal%20Duo');
    expect(await search({ title: 'Nothing Like This' })).toEqual([]);
  });

  it('fetches a candidate by its id: synced LRC and plain text', async () => {
    const [dawn] = await search({ title: 'Dawn', artist: 'Aurora Test', album: 'First Light' });
    const lyrics = await fetchLyrics(dawn as unknown as Record<string, unknown>);
    expect(lyrics).toMatchObject({
      id: 'lrclib:101',
      title: 'Dawn',
      synced_lrc: '[00:00.50] First light on the water\n[00:02.00] The morning comes',
      plain: 'First light on the water\nThe morning comes',
      instrumental: false,
      duration_ms: 4000,
    });
    expect(server.requests.at(-1)).toBe('/api/get/101');
  });

  it('fetches by signature (track, artist, album, duration in seconds)', async () => {
    const lyrics = await fetchLyrics({ title: 'Beacon', artist: 'Boreal Duo', album: 'Night Signals', duration_ms: 3400 });
    expect(lyrics).toMatchObject({ synced_lrc: '', plain: 'A light across the bay\nCalling ships back home', instrumental: false });
    expect(server.requests.at(-1)).toBe('/api/get?track_name=Beacon&artist_name=Boreal%20Duo&album_name=Night%20Signals&duration=3');
  });

  it('an instrumental track has the flag and no text', async () => {
    const lyrics = await fetchLyrics({ title: 'Noon', artist: 'Aurora Test', album: 'First Light', duration_ms: 3000 });
    expect(lyrics).toMatchObject({ instrumental: true, synced_lrc: '', plain: '' });
  });

  it('a track LRCLIB does not know is not_found; a bad request is refused', async () => {
    const missing = await rejection(fetchLyrics({ title: 'Dawn', artist: 'Aurora Test', album: 'First Light', duration_ms: 60_000 }));
    expect(missing).toMatchObject({ code: 'plugin_error', status: 'not_found', pluginId: LRCLIB, op: 'fetch' });
    expect(missing.message).toContain('Failed to find specified track');
    expect(await rejection(fetchLyrics({ id: 'lrclib:999' }))).toMatchObject({ status: 'not_found' });
    expect(await rejection(fetchLyrics({ title: 'Only a title' }))).toMatchObject({ status: 'invalid_arg' });
    expect(await rejection(cp.searchLyrics(LRCLIB, LRCLIB_TYPE, {}))).toMatchObject({ status: 'invalid_arg' });
  });

  it('a config change is hot-applied to the live instance', async () => {
    expect(await search({ query: 'dawn' })).toHaveLength(2);
    expect(cp.applyConfig(LRCLIB, 'lyrics', LRCLIB_TYPE, { base_url: 'http://127.0.0.1:9', timeout_ms: 3000 }).outcome).toBe('hot_applied');
    expect(await rejection(search({ query: 'dawn' }))).toMatchObject({ status: 'network' });
    expect(() => cp.applyConfig(LRCLIB, 'lyrics', LRCLIB_TYPE, { base_url: 'lrclib.net' })).toThrow(/base_url/);
  });
});
