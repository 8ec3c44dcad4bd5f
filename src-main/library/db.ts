// Opening the library database: WAL (the scanner's writes never block reads on the main thread),
// foreign keys, the migrations, and the statements both sides share to keep the derived tables
// (search index, albums) in step with the tracks.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate, REINDEX_AFTER } from './schema.js';
import { cjkGrams } from './search-text.js';

export type Db = Database.Database;

export const LIBRARY_DB_FILE = 'library.sqlite';
export const VARIOUS_ARTISTS = 'Various Artists';

export function openLibraryDb(file: string, opts: { readonly?: boolean; busyTimeoutMs?: number } = {}): Db {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, opts.readonly ? { readonly: true } : {});
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 250}`);
  // The refill itself is the scanner thread's (reindexSearch): at 100k tracks it takes seconds.
  if (!opts.readonly && migrate(db).some((v) => REINDEX_AFTER.has(v)) && db.prepare('SELECT 1 FROM tracks LIMIT 1').get() !== undefined) {
    db.prepare("INSERT OR REPLACE INTO library_meta(key, value) VALUES ('reindex', '1')").run();
  }
  return db;
}

/** The search index and albums wait to be refilled after a migration. */
export function needsReindex(db: Db): boolean {
  return db.prepare("SELECT 1 FROM library_meta WHERE key = 'reindex'").get() !== undefined;
}

/**
 * Refills the search index and the albums from the tracks (after a migration made them anew), in
 * batches of `batch` rows per transaction, so that the main thread's own small writes (ratings,
 * play counts) never wait long behind it. Done, it clears the flag.
 */
export function reindexSearch(db: Db, batch = 2000): void {
  const fts = ftsStatements(db);
  const page = db.prepare('SELECT id, title, artists, album_artist, album, genres, file_name FROM tracks WHERE id > ? ORDER BY id LIMIT ?');
  db.exec('DELETE FROM album_artists; DELETE FROM albums; DELETE FROM albums_fts;');
  for (let after = 0; ; ) {
    const rows = page.all(after, batch) as FtsRow[];
    if (rows.length === 0) break;
    db.transaction(() => {
      for (const r of rows) fts.put(r);
    })();
    after = rows[rows.length - 1]!.id;
  }
  const keys = db.prepare('SELECT DISTINCT album_key FROM tracks').pluck().all() as string[];
  for (let i = 0; i < keys.length; i += batch / 4) db.transaction(() => rebuildAlbums(db, keys.slice(i, i + batch / 4)))();
  db.prepare("DELETE FROM library_meta WHERE key = 'reindex'").run();
}

/** The album a track belongs to: compilations group by title alone, under Various Artists. */
export function albumKeyOf(t: { album: string | null; albumArtist: string | null; artists: string[]; compilation: boolean; dir: string }): string {
  const album = (t.album ?? '').toLowerCase();
  if (!album) return `\u0001${t.dir}`; // untitled: one album per folder
  if (t.compilation || (t.albumArtist ?? '').toLowerCase() === VARIOUS_ARTISTS.toLowerCase()) return `va\u0000${album}`;
  return `${(t.albumArtist ?? t.artists[0] ?? '').toLowerCase()}\u0000${album}`;
}

export interface FtsRow {
  id: number;
  title: string | null;
  artists: string;
  album_artist: string | null;
  album: string | null;
  genres: string;
  file_name: string;
}

/** Keeps tracks_fts in step with tracks (contentless table: delete by rowid, then insert). */
export function ftsStatements(db: Db): { put(r: FtsRow): void; drop(id: number): void } {
  const del = db.prepare('DELETE FROM tracks_fts WHERE rowid = ?');
  const ins = db.prepare('INSERT INTO tracks_fts(rowid, title, artists, album_artist, album, genre, file_name, cjk) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  return {
    put: (r) => {
      del.run(r.id);
      const artists = r.artists.split('\u001f').join(' ; ');
      const genres = r.genres.split('\u001f').join(' ; ');
      ins.run(r.id, r.title ?? '', artists, r.album_artist ?? '', r.album ?? '', genres, r.file_name, cjkGrams([r.title, artists, r.album_artist, r.album, genres, r.file_name]));
    },
    drop: (id) => void del.run(id),
  };
}

/** Rebuilds the albums (and their artist rows) for the given keys from the present tracks. */
export function rebuildAlbums(db: Db, keys: Iterable<string>): void {
  const del = db.prepare('DELETE FROM albums WHERE key = ?');
  const agg = db.prepare(`
    SELECT album_key AS key, count(*) AS n, sum(coalesce(duration_ms, 0)) AS dur, min(added_at) AS added, max(year) AS year,
           max(compilation) AS comp, max(album) AS title
    FROM tracks WHERE album_key = ? AND +missing = 0`);
  const firstTrack = db.prepare(`
    SELECT album_artist, artists, cover_id FROM tracks WHERE album_key = ? AND +missing = 0
    ORDER BY coalesce(disc_no, 1), coalesce(track_no, 0), path LIMIT 1`);
  const anyArtist = db.prepare(`SELECT album_artist FROM tracks WHERE album_key = ? AND +missing = 0 AND album_artist IS NOT NULL LIMIT 1`);
  const anyCover = db.prepare(`SELECT cover_id FROM tracks WHERE album_key = ? AND +missing = 0 AND cover_id IS NOT NULL ORDER BY coalesce(disc_no, 1), coalesce(track_no, 0) LIMIT 1`);
  const ins = db.prepare('INSERT INTO albums(key, title, album_artist, year, compilation, cover_id, track_count, duration_ms, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const rowidOf = db.prepare('SELECT rowid FROM albums WHERE key = ?').pluck();
  const ftsDel = db.prepare('DELETE FROM albums_fts WHERE rowid = ?');
  const ftsIns = db.prepare('INSERT INTO albums_fts(rowid, title, album_artist, artists, genre, cjk) VALUES (?, ?, ?, ?, ?, ?)');
  const trackNames = db.prepare(`SELECT group_concat(DISTINCT artists) AS artists, group_concat(DISTINCT genres) AS genres FROM tracks WHERE album_key = ? AND +missing = 0`);
  const insArtist = db.prepare('INSERT OR IGNORE INTO album_artists(name, album_key) VALUES (?, ?)');
  for (const key of new Set(keys)) {
    const old = rowidOf.get(key) as number | undefined;
    if (old !== undefined) ftsDel.run(old);
    del.run(key);
    const a = agg.get(key) as { n: number; dur: number; added: number; year: number | null; comp: number; title: string | null };
    if (!a || a.n === 0) continue;
    const first = firstTrack.get(key) as { album_artist: string | null; artists: string; cover_id: string | null };
    const tagged = (anyArtist.get(key) as { album_artist: string } | undefined)?.album_artist ?? null;
    const compilation = a.comp === 1 || key.startsWith('va\u0000');
    const albumArtist = compilation ? VARIOUS_ARTISTS : (tagged ?? first.artists.split('\u001f')[0] ?? '') || 'Unknown artist';
    const cover = first.cover_id ?? (anyCover.get(key) as { cover_id: string } | undefined)?.cover_id ?? null;
    const rowid = Number(ins.run(key, a.title ?? 'Unknown album', albumArtist, a.year, compilation ? 1 : 0, cover, a.n, a.dur, a.added).lastInsertRowid);
    const names = trackNames.get(key) as { artists: string | null; genres: string | null };
    const artists = (names.artists ?? '').replaceAll('\u001f', ' ; ').replaceAll(',', ' ; ');
    const genres = (names.genres ?? '').replaceAll('\u001f', ' ; ');
    const title = a.title ?? '';
    ftsIns.run(rowid, title, albumArtist, artists, genres, cjkGrams([title, albumArtist, artists, genres]));
    if (compilation) insArtist.run(VARIOUS_ARTISTS, key);
    else for (const name of splitNames(albumArtist)) insArtist.run(name, key);
  }
}

const NAME_SPLIT = /\s*(?:;|\/|\bfeat\.?\s|\bft\.\s|\bfeaturing\s)\s*/i;
export function splitNames(value: string): string[] {
  return [...new Set(value.split(NAME_SPLIT).map((s) => s.trim()).filter(Boolean))];
}
