// The music library on the main thread: roots and their watchers, the scanner worker, and every
// read the views make (indexed queries on the WAL database, so they never wait for the scanner).
// Writes here are small (roots, ratings, history, purges); the scanner writes the tracks.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type {
  AlbumSort,
  LibraryAlbum,
  LibraryArtist,
  LibraryChangeKind,
  LibraryGenre,
  LibraryProblem,
  LibraryRoot,
  LibraryTrack,
  ScanProgressView,
  TrackDetails,
  TrackSort,
} from '../../src-shared/contract-library.js';
import { RpcError } from '../../src-shared/rpc-error.js';
import { runnableEntry } from '../engine/runnable.js';
import type { GenerationRef } from '../plugins/capability-host.js';
import { CoverCache } from './covers.js';
import { type Db, ftsStatements, LIBRARY_DB_FILE, needsReindex, openLibraryDb, rebuildAlbums } from './db.js';
import type { FromScanner, ToScanner } from './scan-worker.js';
import { hasCjk, matchExpression } from './search-text.js';
import { TAG_READER_EXTENSIONS } from './tags.js';
import type { LibraryGainInfo } from '../../src-shared/replay-gain.js';

/** A decoder the scanner may ask for a file's metadata, with the config to create it with. */
export interface CapabilityRefMsg {
  gen: GenerationRef;
  typeId: string;
  configJson: string;
}

export interface PluginDecoders {
  /** Decoder extensions with a positive score (lowercase, no dot). */
  extensions(): string[];
  /** Candidates for the scanner; each generation among them is retained once, until release(). */
  forScan(exts: string[]): Record<string, CapabilityRefMsg[]>;
  release(leaseId: number): void;
}

export interface LibraryOptions {
  /** The app's data folder; the database is library.sqlite in it, thumbnails in covers/. */
  home: string;
  decoders?: PluginDecoders;
  /** Quiet time after the last file-system event before a watched root is rescanned. */
  watchDebounceMs?: number;
  watch?: boolean;
  log?: (message: string) => void;
}

export interface LibraryEvents {
  progress: [ScanProgressView];
  changed: [LibraryChangeKind[]];
}

interface TrackRow {
  id: number;
  path: string;
  title: string | null;
  artist: string | null;
  artists: string;
  album_artist: string | null;
  album: string | null;
  album_key: string;
  track_no: number | null;
  disc_no: number | null;
  year: number | null;
  genres: string;
  duration_ms: number | null;
  codec: string | null;
  sample_rate: number | null;
  bit_depth: number | null;
  channels: number | null;
  bitrate: number | null;
  play_count: number;
  skip_count: number;
  last_played: number | null;
  rating: number;
  added_at: number;
  cover_id: string | null;
  missing: number;
  file_name: string;
}

const TRACK_COLS = `t.id, t.path, t.title, t.artist, t.artists, t.album_artist, t.album, t.album_key, t.track_no, t.disc_no, t.year, t.genres,
  t.duration_ms, t.codec, t.sample_rate, t.bit_depth, t.channels, t.bitrate, t.play_count, t.skip_count, t.last_played, t.rating,
  t.added_at, t.cover_id, t.missing, t.file_name`;

const nonNeg = (v: number | null): number | null => (v === null || v < 0 ? null : Math.round(v));
const list = (v: string): string[] => (v ? v.split('\u001f') : []);

export function trackOf(r: TrackRow): LibraryTrack {
  return {
    id: r.id,
    path: r.path,
    title: r.title ?? r.file_name,
    artist: r.artist,
    artists: list(r.artists),
    albumArtist: r.album_artist,
    album: r.album,
    albumKey: r.album_key,
    trackNo: nonNeg(r.track_no),
    discNo: nonNeg(r.disc_no),
    year: r.year,
    genres: list(r.genres),
    durationMs: nonNeg(r.duration_ms),
    codec: r.codec,
    sampleRate: nonNeg(r.sample_rate),
    bitDepth: nonNeg(r.bit_depth),
    channels: nonNeg(r.channels),
    bitrate: nonNeg(r.bitrate),
    playCount: r.play_count,
    skipCount: r.skip_count,
    lastPlayed: r.last_played,
    rating: r.rating,
    addedAt: r.added_at,
    coverId: r.cover_id,
    missing: r.missing === 1,
  };
}

interface AlbumRow {
  key: string;
  title: string;
  album_artist: string;
  year: number | null;
  compilation: number;
  cover_id: string | null;
  track_count: number;
  duration_ms: number;
  added_at: number;
}

function albumOf(r: AlbumRow): LibraryAlbum {
  return {
    key: r.key,
    title: r.title,
    albumArtist: r.album_artist,
    year: r.year,
    compilation: r.compilation === 1,
    coverId: r.cover_id,
    trackCount: r.track_count,
    durationMs: r.duration_ms,
    addedAt: r.added_at,
  };
}

const TRACK_ORDER: Record<TrackSort, string> = {
  title: 't.title COLLATE NOCASE',
  artist: 't.artist COLLATE NOCASE, t.album COLLATE NOCASE, t.disc_no, t.track_no',
  album: 't.album COLLATE NOCASE, t.disc_no, t.track_no',
  trackNo: 't.track_no',
  durationMs: 't.duration_ms',
  year: 't.year',
  genre: 't.genres COLLATE NOCASE',
  codec: 't.codec',
  playCount: 't.play_count',
  rating: 't.rating',
  addedAt: 't.added_at',
  lastPlayed: 't.last_played',
  path: 't.path',
};

const ALBUM_ORDER: Record<AlbumSort, string> = {
  albumArtist: 'a.album_artist COLLATE NOCASE, a.year, a.title COLLATE NOCASE',
  year: 'a.year, a.album_artist COLLATE NOCASE, a.title COLLATE NOCASE',
  title: 'a.title COLLATE NOCASE',
  addedAt: 'a.added_at',
};

export interface TrackQuery {
  offset?: number;
  limit?: number;
  sort?: TrackSort;
  descending?: boolean;
  genre?: string;
  albumKey?: string;
  artist?: string;
  played?: boolean;
  includeMissing?: boolean;
}

export class Library extends EventEmitter<LibraryEvents> {
  readonly db: Db;
  readonly dbFile: string;
  readonly covers: CoverCache;
  private worker: Worker | null = null;
  private scanId = 0;
  private scanning = false;
  private pendingRoots: Set<number> | null = null;
  private lastProgress: ScanProgressView | null = null;
  private readonly watchers = new Map<number, fs.FSWatcher>();
  private readonly watchTimers = new Map<number, NodeJS.Timeout>();
  private readonly scanWaiters: (() => void)[] = [];
  private closed = false;
  private readonly statements = new Map<string, Database.Statement>();
  private searchReady: Promise<void> = Promise.resolve();
  private onReindexed: () => void = () => {};

  constructor(private readonly opts: LibraryOptions) {
    super();
    this.dbFile = path.join(opts.home, LIBRARY_DB_FILE);
    this.db = openLibraryDb(this.dbFile);
    this.covers = new CoverCache(this.db, path.join(opts.home, 'covers'));
    if (opts.watch !== false) for (const r of this.rootRows()) this.watch(r.id, r.path);
    // After a migration the search index and albums are refilled on the scanner thread (seconds
    // at 100k tracks); until then search finds less.
    if (needsReindex(this.db)) {
      this.searchReady = new Promise((resolve) => (this.onReindexed = resolve));
      this.post({ type: 'reindex', dbFile: this.dbFile });
    }
  }

  /** Resolves once the search index is complete (at once unless a migration refills it). */
  whenSearchReady(): Promise<void> {
    return this.searchReady;
  }

  /** A prepared statement, made once per SQL text (reads run on every keystroke). */
  private q(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  // ---- roots and scans --------------------------------------------------------------------------------

  private rootRows(): { id: number; path: string }[] {
    return this.q('SELECT id, path FROM roots ORDER BY path').all() as { id: number; path: string }[];
  }

  roots(): LibraryRoot[] {
    const counts = this.q('SELECT count(*) AS n, coalesce(sum(missing), 0) AS m FROM tracks WHERE root_id = ?');
    return this.rootRows().map((r) => {
      const c = counts.get(r.id) as { n: number; m: number };
      return { id: r.id, path: r.path, trackCount: c.n - c.m, missingCount: c.m, watching: this.watchers.has(r.id) };
    });
  }

  addRoot(dir: string): LibraryRoot {
    const abs = path.resolve(dir);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch (err) {
      throw new RpcError({ code: 'not_found', message: `Cannot add ${abs}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
    if (!st.isDirectory()) throw new RpcError({ code: 'invalid_argument', message: `${abs} is not a folder` });
    const nested = this.rootRows().find((r) => abs === r.path || abs.startsWith(r.path + path.sep));
    if (nested) throw new RpcError({ code: 'invalid_argument', message: `${abs} is already in the library (under ${nested.path})` });
    const id = Number(this.q('INSERT INTO roots(path, added_at) VALUES (?, ?)').run(abs, Date.now()).lastInsertRowid);
    // A new root that contains older roots absorbs them (their tracks keep their ids).
    for (const r of this.rootRows()) {
      if (r.id !== id && r.path.startsWith(abs + path.sep)) {
        this.q('UPDATE tracks SET root_id = ? WHERE root_id = ?').run(id, r.id);
        this.unwatch(r.id);
        this.q('DELETE FROM roots WHERE id = ?').run(r.id);
      }
    }
    if (this.opts.watch !== false) this.watch(id, abs);
    this.changed(['roots']);
    this.rescan(id);
    return this.roots().find((r) => r.id === id)!;
  }

  removeRoot(id: number): void {
    const row = this.q('SELECT path FROM roots WHERE id = ?').get(id) as { path: string } | undefined;
    if (!row) throw new RpcError({ code: 'not_found', message: `no library folder ${id}` });
    this.unwatch(id);
    const fts = ftsStatements(this.db);
    this.db.transaction(() => {
      const keys = (this.q('SELECT DISTINCT album_key FROM tracks WHERE root_id = ?').all(id) as { album_key: string }[]).map((r) => r.album_key);
      // Playlist entries keep the path and title, so they show as missing instead of vanishing.
      this.q(`UPDATE playlist_entries SET path = (SELECT path FROM tracks WHERE tracks.id = playlist_entries.track_id),
        title = coalesce(title, (SELECT title FROM tracks WHERE tracks.id = playlist_entries.track_id))
        WHERE track_id IN (SELECT id FROM tracks WHERE root_id = ?)`).run(id);
      for (const { id: tid } of this.q('SELECT id FROM tracks WHERE root_id = ?').all(id) as { id: number }[]) fts.drop(tid);
      this.q('DELETE FROM tracks WHERE root_id = ?').run(id);
      this.q('DELETE FROM roots WHERE id = ?').run(id);
      rebuildAlbums(this.db, keys);
    })();
    this.changed(['roots', 'tracks', 'albums', 'problems']);
  }

  /** Starts a scan (of one root or all); a scan asked for while one runs follows it. */
  rescan(rootId?: number): void {
    const ids = rootId !== undefined ? [rootId] : this.rootRows().map((r) => r.id);
    if (this.scanning) {
      this.pendingRoots ??= new Set();
      for (const id of ids) this.pendingRoots.add(id);
      return;
    }
    const roots = this.rootRows().filter((r) => ids.includes(r.id));
    if (roots.length === 0) return;
    this.scanning = true;
    const exts = [...new Set([...TAG_READER_EXTENSIONS, ...(this.opts.decoders?.extensions() ?? [])])];
    const pluginOnly = exts.filter((e) => !TAG_READER_EXTENSIONS.has(e));
    const decoders = pluginOnly.length > 0 && this.opts.decoders ? this.opts.decoders.forScan(pluginOnly) : {};
    this.post({ type: 'scan', id: ++this.scanId, dbFile: this.dbFile, roots, extensions: exts, decoders });
  }

  cancelScan(): void {
    this.pendingRoots = null;
    this.worker?.postMessage({ type: 'cancel' } satisfies ToScanner);
  }

  scanStatus(): ScanProgressView | null {
    return this.lastProgress;
  }

  get isScanning(): boolean {
    return this.scanning;
  }

  /** Resolves when no scan runs or is pending (tests, the benchmark). */
  idle(): Promise<void> {
    if (!this.scanning) return Promise.resolve();
    return new Promise((resolve) => this.scanWaiters.push(resolve));
  }

  private post(msg: ToScanner): void {
    if (!this.worker) {
      const w = new Worker(runnableEntry('library/scan-worker.js'));
      w.on('message', (m: FromScanner) => this.onWorker(m));
      w.on('error', (err) => {
        this.opts.log?.(`library scanner failed: ${err.message}`);
        this.worker = null;
        this.onReindexed();
        this.finishScan({ ...(this.lastProgress ?? emptyProgress()), phase: 'failed' });
      });
      this.worker = w;
    }
    // Held while a scan runs (someone may be awaiting it), let go when idle.
    if (msg.type === 'scan') this.worker.ref();
    this.worker.postMessage(msg);
  }

  private onWorker(m: FromScanner): void {
    switch (m.type) {
      case 'progress':
        this.lastProgress = m.progress;
        this.emit('progress', m.progress);
        // Views fill in while a long first scan runs.
        if (m.progress.phase === 'finishing') this.changed(['tracks', 'albums']);
        break;
      case 'done':
        this.finishScan(m.result);
        break;
      case 'failed':
        this.opts.log?.(`library scan failed: ${m.message}`);
        this.finishScan({ ...(this.lastProgress ?? emptyProgress()), phase: 'failed' });
        break;
      case 'detached':
        this.opts.decoders?.release(m.leaseId);
        break;
      case 'reindexed':
        this.opts.log?.(`library: search index and albums rebuilt in ${Math.round(m.tookMs)} ms`);
        this.onReindexed();
        this.changed(['tracks', 'albums']);
        break;
      case 'reindexFailed':
        this.opts.log?.(`library: rebuilding the search index failed (${m.message}); search may miss tracks until the next start`);
        this.onReindexed();
        break;
    }
  }

  private finishScan(result: ScanProgressView): void {
    this.scanning = false;
    this.worker?.unref();
    this.lastProgress = result;
    this.emit('progress', result);
    const wrote = result.added + result.updated + result.moved + result.removed + result.problems > 0;
    this.changed(wrote ? ['roots', 'tracks', 'albums', 'problems'] : ['roots']);
    const pending = this.pendingRoots;
    this.pendingRoots = null;
    if (pending && pending.size > 0 && !this.closed) {
      for (const id of pending) this.rescan(id);
      return;
    }
    for (const w of this.scanWaiters.splice(0)) w();
  }

  private watch(id: number, dir: string): void {
    try {
      const w = fs.watch(dir, { recursive: true, persistent: false }, () => {
        clearTimeout(this.watchTimers.get(id));
        this.watchTimers.set(id, setTimeout(() => {
          this.watchTimers.delete(id);
          if (!this.closed) this.rescan(id);
        }, this.opts.watchDebounceMs ?? 1500));
      });
      w.on('error', (err) => {
        this.opts.log?.(`stopped watching ${dir}: ${err.message}`);
        this.unwatch(id);
      });
      this.watchers.set(id, w);
    } catch (err) {
      this.opts.log?.(`cannot watch ${dir}: ${(err as Error).message}`);
    }
  }

  private unwatch(id: number): void {
    this.watchers.get(id)?.close();
    this.watchers.delete(id);
    clearTimeout(this.watchTimers.get(id));
    this.watchTimers.delete(id);
  }

  changed(what: LibraryChangeKind[]): void {
    this.emit('changed', what);
  }

  // ---- reads --------------------------------------------------------------------------------------------

  problems(offset = 0, limit = 200): { items: LibraryProblem[]; total: number } {
    const total = (this.q('SELECT count(*) AS n FROM problems').get() as { n: number }).n;
    const items = this.q('SELECT path, reason, at FROM problems ORDER BY path LIMIT ? OFFSET ?').all(limit, offset) as LibraryProblem[];
    return { items, total };
  }

  private trackWhere(q: TrackQuery): { sql: string; args: unknown[] } {
    const where: string[] = [];
    const args: unknown[] = [];
    // A filtered list is found through its filter's index; only a plain list reads the order's
    // covering index (led by `missing`), so the unary + keeps `missing` from picking it then.
    const filtered = q.albumKey !== undefined || q.artist !== undefined;
    if (!q.includeMissing) where.push(filtered ? '+t.missing = 0' : 't.missing = 0');
    if (q.albumKey !== undefined) {
      where.push('t.album_key = ?');
      args.push(q.albumKey);
    }
    if (q.genre !== undefined) {
      // Genres are stored \u001f-separated; match one whole genre.
      where.push("('\u001f' || t.genres || '\u001f') LIKE ? ESCAPE '\\'");
      args.push(`%\u001f${q.genre.replace(/[\\%_]/g, (c) => `\\${c}`)}\u001f%`);
    }
    if (q.artist !== undefined) {
      where.push('t.album_key IN (SELECT album_key FROM album_artists WHERE name = ?)');
      args.push(q.artist);
    }
    if (q.played) where.push('t.play_count > 0');
    return { sql: where.length > 0 ? `WHERE ${where.join(' AND ')}` : '', args };
  }

  tracks(q: TrackQuery): { items: LibraryTrack[]; total: number } {
    const { sql, args } = this.trackWhere(q);
    const dir = q.descending ? 'DESC' : 'ASC';
    const order = `${TRACK_ORDER[q.sort ?? 'artist'].split(', ').map((c) => `${c} ${dir}`).join(', ')}, t.id ${dir}`;
    const total = (this.q(`SELECT count(*) AS n FROM tracks t ${sql}`).get(...args) as { n: number }).n;
    const rows = this.q(`SELECT ${TRACK_COLS} FROM tracks t ${sql} ORDER BY ${order} LIMIT ? OFFSET ?`).all(...args, q.limit ?? 500, q.offset ?? 0) as TrackRow[];
    return { items: rows.map(trackOf), total };
  }

  trackIds(q: TrackQuery): number[] {
    const { sql, args } = this.trackWhere(q);
    const dir = q.descending ? 'DESC' : 'ASC';
    const order = `${TRACK_ORDER[q.sort ?? 'artist'].split(', ').map((c) => `${c} ${dir}`).join(', ')}, t.id ${dir}`;
    return (this.q(`SELECT t.id FROM tracks t ${sql} ORDER BY ${order}`).pluck().all(...args) as number[]);
  }

  tracksById(ids: number[]): LibraryTrack[] {
    if (ids.length === 0) return [];
    const rows = this.q(`SELECT ${TRACK_COLS} FROM tracks t WHERE t.id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(ids)) as TrackRow[];
    const byId = new Map(rows.map((r) => [r.id, trackOf(r)]));
    return ids.map((id) => byId.get(id)).filter((t): t is LibraryTrack => t !== undefined);
  }

  /** The ReplayGain tags and album place of a library file (the engine asks as a track starts). */
  replayGainInfo(p: string): LibraryGainInfo | null {
    const r = this.q(
      'SELECT album, album_key, album_artist, disc_no, track_no, rg_track_gain, rg_track_peak, rg_album_gain, rg_album_peak FROM tracks WHERE path = ?',
    ).get(p) as
      | { album: string | null; album_key: string; album_artist: string | null; disc_no: number | null; track_no: number | null; rg_track_gain: number | null; rg_track_peak: number | null; rg_album_gain: number | null; rg_album_peak: number | null }
      | undefined;
    if (!r) return null;
    const fin = (v: number | null): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    return {
      // The album key already tells albums of the same name apart (album artist).
      album: r.album_key || r.album,
      albumArtist: r.album_key ? null : r.album_artist,
      discNo: r.disc_no,
      trackNo: r.track_no,
      tags: { trackGainDb: fin(r.rg_track_gain), trackPeak: fin(r.rg_track_peak), albumGainDb: fin(r.rg_album_gain), albumPeak: fin(r.rg_album_peak) },
    };
  }

  trackByPath(p: string): LibraryTrack | null {
    const r = this.q(`SELECT ${TRACK_COLS} FROM tracks t WHERE t.path = ?`).get(p) as TrackRow | undefined;
    return r ? trackOf(r) : null;
  }

  track(id: number): TrackDetails {
    const r = this.q('SELECT * FROM tracks WHERE id = ?').get(id) as (TrackRow & Record<string, unknown> & { tags_json: string }) | undefined;
    if (!r) throw new RpcError({ code: 'not_found', message: `no track ${id} in the library` });
    let tags: Record<string, string> = {};
    try {
      tags = JSON.parse(r.tags_json) as Record<string, string>;
    } catch {
      tags = {};
    }
    const fields: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(r)) if (k !== 'tags_json') fields[k] = v === null || v === undefined ? null : String(v).replaceAll('\u001f', '; ');
    return { track: trackOf(r), tags, fields };
  }

  albums(q: { offset?: number; limit?: number; sort?: AlbumSort; descending?: boolean; artist?: string }): { items: LibraryAlbum[]; total: number } {
    const where = q.artist !== undefined ? 'WHERE a.key IN (SELECT album_key FROM album_artists WHERE name = ?)' : '';
    const args = q.artist !== undefined ? [q.artist] : [];
    const total = (this.q(`SELECT count(*) AS n FROM albums a ${where}`).get(...args) as { n: number }).n;
    const dir = q.descending ? 'DESC' : 'ASC';
    const order = ALBUM_ORDER[q.sort ?? 'albumArtist'].split(', ').map((c) => `${c} ${dir}`).join(', ');
    const rows = this.q(`SELECT * FROM albums a ${where} ORDER BY ${order}, a.key LIMIT ? OFFSET ?`).all(...args, q.limit ?? 200, q.offset ?? 0) as AlbumRow[];
    return { items: rows.map(albumOf), total };
  }

  album(key: string): { album: LibraryAlbum; tracks: LibraryTrack[] } {
    const a = this.q('SELECT * FROM albums WHERE key = ?').get(key) as AlbumRow | undefined;
    if (!a) throw new RpcError({ code: 'not_found', message: 'no such album in the library' });
    const rows = this.q(`SELECT ${TRACK_COLS} FROM tracks t WHERE t.album_key = ? AND +t.missing = 0
      ORDER BY coalesce(t.disc_no, 1), coalesce(t.track_no, 0), t.path LIMIT 5000`).all(key) as TrackRow[];
    return { album: albumOf(a), tracks: rows.map(trackOf) };
  }

  artists(offset = 0, limit = 500): { items: LibraryArtist[]; total: number } {
    const total = (this.q('SELECT count(DISTINCT name) AS n FROM album_artists').get() as { n: number }).n;
    const items = this.q(`SELECT name, count(*) AS albumCount FROM album_artists GROUP BY name
      ORDER BY (name = 'Various Artists'), name COLLATE NOCASE LIMIT ? OFFSET ?`).all(limit, offset) as LibraryArtist[];
    return { items, total };
  }

  genres(offset = 0, limit = 500): { items: LibraryGenre[]; total: number } {
    // Genres are few; count them from the distinct genre strings.
    const counts = new Map<string, number>();
    for (const r of this.q("SELECT genres, count(*) AS n FROM tracks WHERE missing = 0 AND genres <> '' GROUP BY genres").all() as { genres: string; n: number }[]) {
      for (const g of list(r.genres)) counts.set(g, (counts.get(g) ?? 0) + r.n);
    }
    const all = [...counts].map(([name, trackCount]) => ({ name, trackCount })).sort((a, b) => a.name.localeCompare(b.name));
    return { items: all.slice(offset, offset + limit), total: all.length };
  }

  /** Search as you type, grouped: artists, albums, tracks. */
  search(query: string, limit = 50): { artists: LibraryArtist[]; albums: LibraryAlbum[]; tracks: LibraryTrack[]; tookMs: number } {
    const t0 = performance.now();
    const all = matchExpression(query);
    if (!all) return { artists: [], albums: [], tracks: [], tookMs: 0 };
    const byArtist = matchExpression(query, ['artists', 'album_artist']);
    // FTS hits are capped before the join: a one-letter query matches most of a large library,
    // and the first few hundred are what a list of results can show anyway.
    const rows = this.q(`SELECT ${TRACK_COLS} FROM (SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ? LIMIT ?) f
      JOIN tracks t ON t.id = f.rowid WHERE +t.missing = 0 ORDER BY t.play_count DESC, t.title COLLATE NOCASE LIMIT ?`).all(all, limit * 4, limit) as TrackRow[];
    const albumRows = this.q(`SELECT a.* FROM (SELECT rowid FROM albums_fts WHERE albums_fts MATCH ? LIMIT 200) f
      JOIN albums a ON a.rowid = f.rowid ORDER BY a.album_artist COLLATE NOCASE, a.year LIMIT ?`).all(all, Math.min(limit, 24)) as AlbumRow[];
    const artists = this.q(`SELECT name, count(*) AS albumCount FROM album_artists WHERE album_key IN (
        SELECT a.key FROM (SELECT rowid FROM albums_fts WHERE albums_fts MATCH ? LIMIT 200) f JOIN albums a ON a.rowid = f.rowid)
      GROUP BY name ORDER BY name COLLATE NOCASE LIMIT 100`).all(byArtist ?? all) as LibraryArtist[];
    // An album matched through a track artist of a compilation brings "Various Artists": keep the
    // names the query itself matches.
    const fold = (x: string): string => x.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
    const wanted = fold(query).split(/\s+/).filter(Boolean);
    const artistHits = artists
      .filter((a) => wanted.every((w) => hasCjk(w) ? a.name.includes(w) || [...w].every((c) => a.name.includes(c)) : fold(a.name).split(/[^\p{L}\p{N}]+/u).some((x) => x.startsWith(w))))
      .slice(0, Math.min(limit, 24));
    return { artists: artistHits, albums: albumRows.map(albumOf), tracks: rows.map(trackOf), tookMs: performance.now() - t0 };
  }

  // ---- user data ------------------------------------------------------------------------------------------

  setRating(id: number, rating: number): void {
    const r = this.q('UPDATE tracks SET rating = ? WHERE id = ?').run(rating, id);
    if (r.changes === 0) throw new RpcError({ code: 'not_found', message: `no track ${id} in the library` });
    this.changed(['history']);
  }

  /** A play that counted (half the track or 4 minutes), or a skip before that. */
  recordListen(p: string, kind: 'play' | 'skip', at = Date.now()): boolean {
    const r =
      kind === 'play'
        ? this.q('UPDATE tracks SET play_count = play_count + 1, last_played = ? WHERE path = ?').run(at, p)
        : this.q('UPDATE tracks SET skip_count = skip_count + 1 WHERE path = ?').run(p);
    if (r.changes > 0) this.changed(['history']);
    return r.changes > 0;
  }

  purgeMissing(ids?: number[]): number {
    const fts = ftsStatements(this.db);
    return this.db.transaction(() => {
      const rows = (ids
        ? this.q('SELECT id, album_key, path, title FROM tracks WHERE missing = 1 AND id IN (SELECT value FROM json_each(?))').all(JSON.stringify(ids))
        : this.q('SELECT id, album_key, path, title FROM tracks WHERE missing = 1').all()) as { id: number; album_key: string; path: string; title: string | null }[];
      const keep = this.q('UPDATE playlist_entries SET path = ?, title = coalesce(title, ?) WHERE track_id = ?');
      const del = this.q('DELETE FROM tracks WHERE id = ?');
      for (const r of rows) {
        keep.run(r.path, r.title, r.id);
        fts.drop(r.id);
        del.run(r.id);
      }
      rebuildAlbums(this.db, rows.map((r) => r.album_key));
      if (rows.length > 0) this.changed(['tracks', 'albums', 'roots']);
      return rows.length;
    })();
  }

  classifyPaths(paths: string[]): { folders: string[]; files: string[] } {
    const folders: string[] = [];
    const files: string[] = [];
    for (const p of paths) {
      const st = fs.statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) folders.push(path.resolve(p));
      else if (st?.isFile()) files.push(path.resolve(p));
    }
    return { folders, files };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.watchers.keys()]) this.unwatch(id);
    if (this.worker) {
      this.cancelScan();
      // A scan stops at its next file; plugin generations it attached are let go before the end.
      await Promise.race([this.idle(), new Promise((r) => setTimeout(r, 3000))]);
      await this.worker.terminate().catch(() => 0);
      this.worker = null;
    }
    for (const w of this.scanWaiters.splice(0)) w();
    this.db.close();
  }
}

function emptyProgress(): ScanProgressView {
  return { phase: 'done', root: null, found: 0, toRead: 0, read: 0, added: 0, updated: 0, moved: 0, removed: 0, problems: 0, unchanged: 0, ratePerSec: 0, etaMs: null, elapsedMs: 0 };
}
