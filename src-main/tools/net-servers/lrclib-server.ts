// An LRCLIB-compatible server on 127.0.0.1 for tests and benchmarks (the public service is
// unreachable here). It implements the documented read endpoints over fixture records:
//   GET /api/search?q=…  or  ?track_name=…[&artist_name=…][&album_name=…]   -> [record…]
//   GET /api/get?track_name&artist_name&album_name&duration                 -> record | 404
//   GET /api/get/<id>                                                        -> record | 404
// Records have LRCLIB's shape: id, trackName, artistName, albumName, duration (seconds),
// instrumental, plainLyrics, syncedLyrics. /api/get matches names case-insensitively and the
// duration within ±2 s, as LRCLIB does.
import http from 'node:http';
import type net from 'node:net';

export interface LrclibRecord {
  id: number;
  trackName: string;
  artistName: string;
  albumName: string;
  duration: number;
  instrumental: boolean;
  plainLyrics: string | null;
  syncedLyrics: string | null;
}

export const fixtureLyrics: LrclibRecord[] = [
  {
    id: 101,
    trackName: 'Dawn',
    artistName: 'Aurora Test',
    albumName: 'First Light',
    duration: 4,
    instrumental: false,
    plainLyrics: 'First light on the water\nThe morning comes',
    syncedLyrics: '[00:00.50] First light on the water\n[00:02.00] The morning comes',
  },
  {
    id: 102,
    trackName: 'Noon',
    artistName: 'Aurora Test',
    albumName: 'First Light',
    duration: 3,
    instrumental: true,
    plainLyrics: null,
    syncedLyrics: null,
  },
  {
    id: 103,
    trackName: 'Beacon',
    artistName: 'Boreal Duo',
    albumName: 'Night Signals',
    duration: 3,
    instrumental: false,
    plainLyrics: 'A light across the bay\nCalling ships back home',
    syncedLyrics: null,
  },
  {
    id: 104,
    trackName: 'Dawn (Reprise)',
    artistName: 'Aurora Test',
    albumName: 'Later Light',
    duration: 95,
    instrumental: false,
    plainLyrics: 'Once more the light',
    syncedLyrics: '[00:01.00] Once more the light',
  },
];

export interface LrclibServer {
  url: string;
  /** Request paths with their query, in arrival order. */
  requests: string[];
  stop(): Promise<void>;
}

const norm = (s: string | null): string => (s ?? '').trim().toLowerCase();

export async function startLrclibServer(records: LrclibRecord[] = fixtureLyrics): Promise<LrclibServer> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://localhost');
    requests.push(`${u.pathname}${u.search}`);
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const notFound = (): void => send(404, { code: 404, name: 'TrackNotFound', message: 'Failed to find specified track' });
    if (req.method !== 'GET') return send(405, { code: 405, name: 'MethodNotAllowed', message: 'GET only' });
    if (u.pathname === '/api/search') {
      const q = norm(u.searchParams.get('q'));
      const track = norm(u.searchParams.get('track_name'));
      const artist = norm(u.searchParams.get('artist_name'));
      const album = norm(u.searchParams.get('album_name'));
      if (!q && !track) return send(400, { code: 400, name: 'QueryParamsMissing', message: 'q or track_name is required' });
      const hits = records.filter((r) =>
        q
          ? [r.trackName, r.artistName, r.albumName].some((f) => norm(f).includes(q)) ||
            q.split(/\s+/).every((w) => `${norm(r.trackName)} ${norm(r.artistName)} ${norm(r.albumName)}`.includes(w))
          : norm(r.trackName).includes(track) &&
            (!artist || norm(r.artistName).includes(artist)) &&
            (!album || norm(r.albumName).includes(album)),
      );
      return send(200, hits);
    }
    const byId = /^\/api\/get\/(\d+)$/.exec(u.pathname);
    if (byId) {
      const r = records.find((x) => x.id === Number(byId[1]));
      return r ? send(200, r) : notFound();
    }
    if (u.pathname === '/api/get') {
      const track = norm(u.searchParams.get('track_name'));
      const artist = norm(u.searchParams.get('artist_name'));
      if (!track || !artist) return send(400, { code: 400, name: 'QueryParamsMissing', message: 'track_name and artist_name are required' });
      const album = u.searchParams.get('album_name');
      const duration = u.searchParams.get('duration');
      const r = records.find(
        (x) =>
          norm(x.trackName) === track &&
          norm(x.artistName) === artist &&
          (album === null || norm(x.albumName) === norm(album)) &&
          (duration === null || Math.abs(x.duration - Number(duration)) <= 2),
      );
      return r ? send(200, r) : notFound();
    }
    return send(404, { code: 404, name: 'NotFound', message: 'no such endpoint' });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
