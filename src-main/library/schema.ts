// The library database's schema, as numbered migrations. `PRAGMA user_version` records the version
// a file is at; opening runs the missing steps in one transaction each, so a database written by
// any earlier build moves forward without losing rows. Never edit a shipped step: add one.
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  why: string;
  up(db: Database.Database): void;
}

/** Version 1: roots, tracks with the basic tags, playlists (the first shipped layout). */
export const V1_SQL = `
CREATE TABLE roots (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  added_at INTEGER NOT NULL
);
CREATE TABLE tracks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  root_id INTEGER REFERENCES roots(id) ON DELETE SET NULL,
  path TEXT NOT NULL UNIQUE,
  size INTEGER NOT NULL,
  mtime_ms INTEGER NOT NULL,
  title TEXT,
  artist TEXT,
  album TEXT,
  duration_ms INTEGER,
  play_count INTEGER NOT NULL DEFAULT 0,
  added_at INTEGER NOT NULL
);
CREATE TABLE playlists (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE playlist_entries (
  id INTEGER PRIMARY KEY,
  playlist_id INTEGER NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  track_id INTEGER REFERENCES tracks(id) ON DELETE SET NULL
);
`;

const V2_SQL = `
ALTER TABLE tracks ADD COLUMN dir TEXT NOT NULL DEFAULT '';
ALTER TABLE tracks ADD COLUMN file_name TEXT NOT NULL DEFAULT '';
ALTER TABLE tracks ADD COLUMN fingerprint TEXT;
ALTER TABLE tracks ADD COLUMN missing INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tracks ADD COLUMN missing_since INTEGER;
ALTER TABLE tracks ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tracks ADD COLUMN artists TEXT NOT NULL DEFAULT '';
ALTER TABLE tracks ADD COLUMN album_artist TEXT;
ALTER TABLE tracks ADD COLUMN track_no INTEGER;
ALTER TABLE tracks ADD COLUMN track_total INTEGER;
ALTER TABLE tracks ADD COLUMN disc_no INTEGER;
ALTER TABLE tracks ADD COLUMN disc_total INTEGER;
ALTER TABLE tracks ADD COLUMN year INTEGER;
ALTER TABLE tracks ADD COLUMN date TEXT;
ALTER TABLE tracks ADD COLUMN genres TEXT NOT NULL DEFAULT '';
ALTER TABLE tracks ADD COLUMN composer TEXT;
ALTER TABLE tracks ADD COLUMN compilation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tracks ADD COLUMN rg_track_gain REAL;
ALTER TABLE tracks ADD COLUMN rg_track_peak REAL;
ALTER TABLE tracks ADD COLUMN rg_album_gain REAL;
ALTER TABLE tracks ADD COLUMN rg_album_peak REAL;
ALTER TABLE tracks ADD COLUMN mb_track_id TEXT;
ALTER TABLE tracks ADD COLUMN mb_album_id TEXT;
ALTER TABLE tracks ADD COLUMN mb_artist_id TEXT;
ALTER TABLE tracks ADD COLUMN codec TEXT;
ALTER TABLE tracks ADD COLUMN sample_rate INTEGER;
ALTER TABLE tracks ADD COLUMN bit_depth INTEGER;
ALTER TABLE tracks ADD COLUMN channels INTEGER;
ALTER TABLE tracks ADD COLUMN bitrate INTEGER;
ALTER TABLE tracks ADD COLUMN lossless INTEGER;
ALTER TABLE tracks ADD COLUMN cover_id TEXT;
ALTER TABLE tracks ADD COLUMN album_key TEXT NOT NULL DEFAULT '';
ALTER TABLE tracks ADD COLUMN last_played INTEGER;
ALTER TABLE tracks ADD COLUMN skip_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tracks ADD COLUMN rating INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tracks ADD COLUMN tag_source TEXT NOT NULL DEFAULT 'music-metadata';
ALTER TABLE tracks ADD COLUMN tags_json TEXT NOT NULL DEFAULT '{}';
CREATE INDEX tracks_root ON tracks(root_id);
CREATE INDEX tracks_fingerprint ON tracks(fingerprint);
CREATE INDEX tracks_album_key ON tracks(album_key, disc_no, track_no);
-- The tracks table's orders, led by \`missing\` so that listing the present tracks in order reads
-- only the index (ids come with it): a 100k-row list without a table lookup per row.
CREATE INDEX tracks_added ON tracks(missing, added_at);
CREATE INDEX tracks_plays ON tracks(missing, play_count);
CREATE INDEX tracks_title ON tracks(missing, title COLLATE NOCASE);
CREATE INDEX tracks_artist_order ON tracks(missing, artist COLLATE NOCASE, album COLLATE NOCASE, disc_no, track_no);
CREATE INDEX tracks_album_order ON tracks(missing, album COLLATE NOCASE, disc_no, track_no);

ALTER TABLE playlists ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
-- An entry whose file cannot be found keeps its path and the title it had, and shows as missing.
ALTER TABLE playlist_entries ADD COLUMN path TEXT;
ALTER TABLE playlist_entries ADD COLUMN title TEXT;
ALTER TABLE playlist_entries ADD COLUMN duration_ms INTEGER;
CREATE INDEX playlist_entries_order ON playlist_entries(playlist_id, position);
CREATE INDEX playlist_entries_track ON playlist_entries(track_id);

CREATE TABLE problems (
  path TEXT PRIMARY KEY,
  root_id INTEGER REFERENCES roots(id) ON DELETE CASCADE,
  reason TEXT NOT NULL,
  -- The file as it was when it failed: an unchanged bad file is not read again on every rescan.
  size INTEGER,
  mtime_ms INTEGER,
  at INTEGER NOT NULL
);

CREATE TABLE covers (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('embedded', 'file')),
  path TEXT NOT NULL,
  mime TEXT
);

-- One row per album, rebuilt for the album keys a scan batch touched (the grid reads this, not
-- a GROUP BY over every track).
CREATE TABLE albums (
  key TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  album_artist TEXT NOT NULL,
  year INTEGER,
  compilation INTEGER NOT NULL,
  cover_id TEXT,
  track_count INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  added_at INTEGER NOT NULL
);
CREATE INDEX albums_artist ON albums(album_artist COLLATE NOCASE, year);
CREATE INDEX albums_added ON albums(added_at);
CREATE TABLE album_artists (
  name TEXT NOT NULL,
  album_key TEXT NOT NULL REFERENCES albums(key) ON DELETE CASCADE,
  PRIMARY KEY (name, album_key)
);
CREATE INDEX album_artists_key ON album_artists(album_key);
`;

/** Search: FTS5 over the words (diacritics folded, prefix queries), plus a column of CJK
 * unigrams and bigrams, because unicode61 keeps a run of CJK characters as one token and a
 * two-character query would otherwise find nothing inside a title. */
const V3_SQL = `
CREATE VIRTUAL TABLE tracks_fts USING fts5(
  title, artists, album_artist, album, genre, file_name, cjk,
  content='', contentless_delete=1,
  tokenize='unicode61 remove_diacritics 2', prefix='1 2 3'
);
-- Albums have their own index (rowid = albums.rowid): the grouped results search ten times fewer
-- rows than the tracks, and a word common to most tracks costs little there.
CREATE VIRTUAL TABLE albums_fts USING fts5(
  title, album_artist, artists, genre, cjk,
  content='', contentless_delete=1,
  tokenize='unicode61 remove_diacritics 2', prefix='1 2 3'
);
`;

/** Prefix indexes up to six characters: a prefix longer than every prefix index makes FTS5 merge
 * the doclists of every word that starts with it before the first row comes back (1–2 ms at
 * 100k tracks for "elect"), where an indexed prefix reads one doclist lazily up to the LIMIT
 * (0.1 ms). The cost is about a third more index. The tables are refilled on the scanner thread
 * (library_meta 'reindex', see db.ts). */
const V4_SQL = `
CREATE TABLE library_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
DROP TABLE tracks_fts;
DROP TABLE albums_fts;
CREATE VIRTUAL TABLE tracks_fts USING fts5(
  title, artists, album_artist, album, genre, file_name, cjk,
  content='', contentless_delete=1,
  tokenize='unicode61 remove_diacritics 2', prefix='1 2 3 4 5 6'
);
CREATE VIRTUAL TABLE albums_fts USING fts5(
  title, album_artist, artists, genre, cjk,
  content='', contentless_delete=1,
  tokenize='unicode61 remove_diacritics 2', prefix='1 2 3 4 5 6'
);
`;

/** Migrations after which the search index and the albums are rebuilt from the tracks (v3 made
 * the index and left it empty for the tracks already there). */
export const REINDEX_AFTER = new Set([3, 4]);

export const MIGRATIONS: Migration[] = [
  { version: 1, why: 'roots, tracks, playlists', up: (db) => db.exec(V1_SQL) },
  { version: 2, why: 'full tags, fingerprints, missing files, history, covers, albums, problems', up: (db) => db.exec(V2_SQL) },
  {
    version: 3,
    why: 'full-text search',
    // The index is filled from the tracks that exist after the migrations (REINDEX_AFTER).
    up: (db) => db.exec(V3_SQL),
  },
  { version: 4, why: 'search: prefix indexes up to six characters', up: (db) => db.exec(V4_SQL) },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Brings `db` to SCHEMA_VERSION; returns the versions it ran. */
export function migrate(db: Database.Database): number[] {
  const at = db.pragma('user_version', { simple: true }) as number;
  if (at > SCHEMA_VERSION) throw new Error(`the library database is version ${at}, newer than this build (${SCHEMA_VERSION})`);
  const ran: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.version <= at) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    })();
    ran.push(m.version);
  }
  return ran;
}
