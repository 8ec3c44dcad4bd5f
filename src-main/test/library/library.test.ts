// The library end to end on a generated music folder: a real SQLite file, the scanner worker,
// music-metadata, sharp, the folder watcher.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { needsReindex, openLibraryDb, reindexSearch } from '../../library/db.js';
import { Library } from '../../library/library.js';
import { formatM3u, parseM3u, Playlists } from '../../library/playlists.js';
import { SCHEMA_VERSION, V1_SQL } from '../../library/schema.js';
import { writeMp3 } from '../../tools/music-corpus.js';
import { makeTestLibrary, type TestLibrary } from './test-library.js';

let tmp: string;
let media: TestLibrary;
let lib: Library;
let playlists: Playlists;

async function until<T>(what: string, fn: () => T | null | undefined | false, timeoutMs = 8000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const byTitle = (title: string) => lib.tracks({ limit: 1000, includeMissing: true }).items.find((t) => t.title === title);

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-library-'));
  media = await makeTestLibrary(path.join(tmp, 'home-media'), path.join(tmp, 'templates'));
  lib = new Library({ home: path.join(tmp, 'app'), watchDebounceMs: 300 });
  playlists = new Playlists(lib);
  lib.addRoot(media.root);
  await lib.idle();
});

afterAll(async () => {
  await lib?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('scan', () => {
  test('reads every track with its tags and lists the bad files as problems', () => {
    const { items, total } = lib.tracks({ limit: 100 });
    expect(total).toBe(media.trackCount);
    expect(items).toHaveLength(media.trackCount);
    const joga = byTitle('Jóga')!; // ID3v2.3, Latin-1
    expect(joga).toMatchObject({ artist: 'Björk', album: 'Homogenic', trackNo: 1, year: 1997, genres: ['Electronic'], codec: 'MPEG 1 Layer 3', sampleRate: 44100, channels: 2 });
    expect(joga.durationMs).toBeGreaterThan(1900);
    expect(lib.track(joga.id).fields.rg_track_gain).toBe('-6.5');
    expect(byTitle('東京の夜')).toMatchObject({ artist: '坂本龍一', album: 'async' }); // ID3v2.4, UTF-16
    expect(byTitle('Trees')).toMatchObject({ codec: 'Vorbis I', album: 'Forest' });
    expect(byTitle('Sea')).toMatchObject({ artists: ['Beta', 'Gamma'], album: 'Summer Hits' }); // MP4 atoms, feat. split
    expect(lib.track(byTitle('Part 1.1')!.id).fields.mb_track_id).toBe('00000000-0000-0000-0000-000000000001');

    const problems = lib.problems().items;
    expect(problems.map((p) => path.basename(p.path)).sort()).toEqual(['garbage.mp3', 'truncated.flac']);
    for (const p of problems) expect(p.reason).toMatch(/\w/);
    const status = lib.scanStatus()!;
    expect(status).toMatchObject({ phase: 'done', added: media.trackCount, problems: 2 });
  });

  test('groups albums: a two-disc album in disc order, a compilation under Various Artists, covers embedded and from the folder', () => {
    const albums = lib.albums({ limit: 100 }).items;
    expect(albums.map((a) => a.title).sort()).toEqual(['Double Album', 'Forest', 'Homogenic', 'Summer Hits', 'async']);
    const double = albums.find((a) => a.title === 'Double Album')!;
    expect(lib.album(double.key).tracks.map((t) => t.title)).toEqual(['Part 1.1', 'Part 1.2', 'Part 2.1', 'Part 2.2']);
    expect(double.trackCount).toBe(4);
    const summer = albums.find((a) => a.title === 'Summer Hits')!;
    expect(summer).toMatchObject({ albumArtist: 'Various Artists', compilation: true, trackCount: 2 });
    const artists = lib.artists().items.map((a) => a.name);
    expect(artists).toEqual(['坂本龍一', 'Björk', 'Ensemble', 'Ogg Band', 'Various Artists'].sort((a, b) => (a === 'Various Artists' ? 1 : b === 'Various Artists' ? -1 : a.localeCompare(b, undefined, { sensitivity: 'base' }))));
    expect(lib.albums({ artist: 'Various Artists' }).items.map((a) => a.title)).toEqual(['Summer Hits']);
    for (const a of albums.filter((x) => x.title !== 'async' && x.title !== 'Summer Hits')) expect(a.coverId, a.title).toMatch(/^[0-9a-f]{24}$/);
    expect(albums.find((a) => a.title === 'async')!.coverId).toBeNull();
    expect(lib.genres().items.map((g) => g.name)).toEqual(['Ambient', 'Classical', 'Electronic', 'Folk', 'Pop']);
  });

  test('makes cover thumbnails once and caches them on disk', async () => {
    const album = lib.albums({ limit: 100 }).items.find((a) => a.title === 'Homogenic')!; // embedded PNG
    const file = await lib.covers.file(album.coverId!, 64);
    expect(file).not.toBeNull();
    const meta = await sharp(file!).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([64, 64, 'webp']);
    const mtime = fs.statSync(file!).mtimeMs;
    expect(await lib.covers.file(album.coverId!, 64)).toBe(file);
    expect(fs.statSync(file!).mtimeMs).toBe(mtime);
    const folder = lib.albums({ limit: 100 }).items.find((a) => a.title === 'Forest')!; // folder.png
    expect((await sharp((await lib.covers.file(folder.coverId!, 256))!).metadata()).width).toBe(256);
    expect(await lib.covers.file('0123456789abcdef01234567', 64)).toBeNull();
    expect(await lib.covers.file('../../etc/passwd', 64)).toBeNull();
  });

  test('an unchanged rescan writes nothing', async () => {
    const before = lib.db.pragma('data_version', { simple: true });
    lib.rescan();
    await lib.idle();
    expect(lib.scanStatus()).toMatchObject({ phase: 'done', added: 0, updated: 0, moved: 0, removed: 0, unchanged: media.trackCount });
    expect(lib.db.pragma('data_version', { simple: true })).toBe(before);
  });

  test('a changed file is read again, with the same id', async () => {
    const hunter = byTitle('Hunter')!;
    writeMp3(hunter.path, fs.readFileSync(media.templates.mp3), { title: 'Hunter (edit)', artist: 'Björk', album: 'Homogenic', track: '2/2', year: '1997' }, { version: 4, encoding: 3 });
    fs.utimesSync(hunter.path, new Date(), new Date(Date.now() + 5000));
    lib.rescan();
    await lib.idle();
    expect(lib.scanStatus()).toMatchObject({ updated: 1, added: 0 });
    expect(byTitle('Hunter (edit)')!.id).toBe(hunter.id);
  });
});

describe('user data survives moves and deletions', () => {
  test('a moved file keeps its id, play count, rating and playlist entry', async () => {
    const joga = byTitle('Jóga')!;
    lib.recordListen(joga.path, 'play');
    lib.recordListen(joga.path, 'play');
    lib.setRating(joga.id, 4);
    const pl = playlists.create('Favourites', { trackIds: [joga.id] });
    const moved = path.join(media.root, 'Moved', 'Renamed Jóga.mp3');
    fs.mkdirSync(path.dirname(moved), { recursive: true });
    fs.renameSync(joga.path, moved);
    lib.rescan();
    await lib.idle();
    expect(lib.scanStatus()).toMatchObject({ moved: 1, added: 0, removed: 0 });
    const after = byTitle('Jóga')!;
    expect(after).toMatchObject({ id: joga.id, path: moved, playCount: 2, rating: 4, missing: false });
    const entries = playlists.entries(pl.id).items;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ missing: false, path: moved, track: { id: joga.id } });
  });

  test('a deleted file becomes missing (not deleted) and comes back with its data', async () => {
    const trees = byTitle('Trees')!;
    lib.recordListen(trees.path, 'play');
    const pl = playlists.create('Forest walk', { trackIds: [trees.id] });
    const aside = path.join(tmp, 'aside.ogg');
    fs.renameSync(trees.path, aside);
    lib.rescan();
    await lib.idle();
    expect(lib.scanStatus()).toMatchObject({ removed: 1 });
    expect(byTitle('Trees')).toMatchObject({ id: trees.id, missing: true, playCount: 1 });
    expect(lib.tracks({ limit: 100 }).items.some((t) => t.id === trees.id)).toBe(false);
    expect(lib.albums({ limit: 100 }).items.some((a) => a.title === 'Forest')).toBe(false);
    expect(playlists.entries(pl.id).items[0]).toMatchObject({ missing: true, title: 'Trees' });
    fs.renameSync(aside, trees.path);
    lib.rescan();
    await lib.idle();
    expect(byTitle('Trees')).toMatchObject({ id: trees.id, missing: false, playCount: 1 });
    expect(playlists.entries(pl.id).items[0]).toMatchObject({ missing: false });
  });

  test('purging removes missing tracks for good; their playlist entries stay, shown missing', async () => {
    const sun = byTitle('Sun')!;
    const pl = playlists.create('Sunny', { trackIds: [sun.id] });
    fs.rmSync(sun.path);
    lib.rescan();
    await lib.idle();
    expect(lib.purgeMissing()).toBe(1);
    expect(byTitle('Sun')).toBeUndefined();
    expect(playlists.entries(pl.id).items[0]).toMatchObject({ missing: true, track: null, title: 'Sun', path: sun.path });
  });
});

describe('watching', () => {
  test('the watcher picks up a new file within a few seconds, without a rescan', async () => {
    const file = path.join(media.root, 'New Artist', 'New Album', '01 Fresh.mp3');
    writeMp3(file, fs.readFileSync(media.templates.mp3), { title: 'Fresh', artist: 'New Artist', album: 'New Album', track: '1' }, { version: 4, encoding: 3 });
    const t0 = Date.now();
    const t = await until('the new file in the library', () => byTitle('Fresh'));
    expect(t.path).toBe(file);
    expect(Date.now() - t0).toBeLessThan(8000);
  });
});

describe('search', () => {
  test('"bjork" finds Björk (diacritics folded) and prefixes match as you type', () => {
    const r = lib.search('bjork');
    expect(r.artists.map((a) => a.name)).toEqual(['Björk']);
    expect(r.tracks.map((t) => t.title).sort()).toEqual(['Hunter (edit)', 'Jóga']);
    expect(r.albums.map((a) => a.title)).toEqual(['Homogenic']);
    expect(lib.search('homo').albums.map((a) => a.title)).toEqual(['Homogenic']);
    expect(lib.search('joga').tracks.map((t) => t.title)).toEqual(['Jóga']);
    expect(lib.search('classi').tracks).toHaveLength(4); // genre
    expect(lib.search('renamed').tracks.map((t) => t.title)).toEqual(['Jóga']); // file name
    expect(lib.search('bjork hunter').tracks.map((t) => t.title)).toEqual(['Hunter (edit)']);
  });

  test('a two-character CJK query finds its title; odd input finds nothing and does not throw', () => {
    expect(lib.search('東京').tracks.map((t) => t.title)).toEqual(['東京の夜']);
    expect(lib.search('の夜').tracks.map((t) => t.title)).toEqual(['東京の夜']);
    expect(lib.search('龍').artists.map((a) => a.name)).toEqual(['坂本龍一']);
    for (const q of ['"', 'AND', 'NEAR(', '*', '-', "'; DROP TABLE tracks; --", '   ']) expect(() => lib.search(q)).not.toThrow();
    expect(lib.search('zzzzqqq').tracks).toEqual([]);
  });
});

describe('playlists', () => {
  test('M3U round trip: export relative paths with #EXTINF, import finds the same tracks and keeps a missing entry', () => {
    const ids = lib.tracks({ limit: 3, sort: 'title' }).items.map((t) => t.id);
    const pl = playlists.create('Round trip', { trackIds: ids });
    playlists.add(pl.id, { paths: [path.join(media.root, 'nowhere', 'Lost song.flac')] });
    const file = path.join(media.root, 'Playlists', 'round trip.m3u8');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    expect(playlists.exportM3u(pl.id, file)).toBe(4);
    const text = fs.readFileSync(file, 'utf8');
    expect(text.startsWith('#EXTM3U\n#EXTINF:')).toBe(true);
    expect(text).toContain('../');
    expect(text).not.toContain(media.root);
    const back = playlists.importM3u(file);
    expect(back).toMatchObject({ found: 3, missing: 1 });
    const entries = playlists.entries(back.playlist.id).items;
    expect(entries.slice(0, 3).map((e) => e.track?.id)).toEqual(ids);
    expect(entries[3]).toMatchObject({ missing: true, track: null, title: 'Lost song' });
  });

  test('reorder, rename, remove entries, delete', () => {
    const ids = lib.tracks({ limit: 3, sort: 'title' }).items.map((t) => t.id);
    const pl = playlists.create('Order', { trackIds: ids });
    const e = playlists.entries(pl.id).items;
    playlists.moveEntry(pl.id, e[0]!.entryId, 2);
    expect(playlists.entries(pl.id).items.map((x) => x.track!.id)).toEqual([ids[1], ids[2], ids[0]]);
    playlists.removeEntries(pl.id, [e[1]!.entryId]);
    expect(playlists.entries(pl.id).items.map((x) => [x.position, x.track!.id])).toEqual([[0, ids[2]], [1, ids[0]]]);
    expect(playlists.rename(pl.id, 'Renamed').name).toBe('Renamed');
    playlists.remove(pl.id);
    expect(playlists.list().some((p) => p.id === pl.id)).toBe(false);
  });

  test('M3U parsing: CRLF, BOM, file URLs, Windows separators, comments', () => {
    const text = '\uFEFF#EXTM3U\r\n#EXTINF:123,Artist - Title\r\nsub\\a b.mp3\r\n# a comment\r\nfile:///music/x%20y.flac\r\nhttp://radio.example/stream\r\n';
    expect(parseM3u(text, '/base')).toEqual([
      { path: path.resolve('/base/sub/a b.mp3'), title: 'Artist - Title', durationSec: 123 },
      { path: '/music/x y.flac', title: null, durationSec: null },
      { path: 'http://radio.example/stream', title: null, durationSec: null },
    ]);
    expect(formatM3u([{ path: '/base/x/ü.mp3', title: 'Ü', durationSec: 61.4 }], '/base')).toBe('#EXTM3U\n#EXTINF:61,Ü\nx/ü.mp3\n');
  });

  test('importing something that is not a playlist fails clearly', () => {
    const bin = path.join(tmp, 'bin.m3u');
    fs.writeFileSync(bin, Buffer.from([0, 1, 2, 3, 0]));
    expect(() => playlists.importM3u(bin)).toThrow(/not a text playlist/);
    expect(() => playlists.importM3u(path.join(tmp, 'none.m3u'))).toThrow(/Cannot read/);
  });
});

describe('roots', () => {
  test('refuses folders that do not exist or are already inside a root', () => {
    expect(() => lib.addRoot(path.join(tmp, 'no such folder'))).toThrow(/Cannot add/);
    expect(() => lib.addRoot(path.join(media.root, 'Björk'))).toThrow(/already in the library/);
    expect(() => lib.addRoot(byTitle('Trees')!.path)).toThrow(/not a folder/);
  });
});

describe('schema', () => {
  test('migrates a version-1 database, keeping its rows', () => {
    const file = path.join(tmp, 'v1', 'library.sqlite');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const old = new Database(file);
    old.exec(V1_SQL);
    old.pragma('user_version = 1');
    old.prepare('INSERT INTO roots(id, path, added_at) VALUES (1, ?, 1)').run('/music');
    old.prepare("INSERT INTO tracks(id, root_id, path, size, mtime_ms, title, artist, album, duration_ms, play_count, added_at) VALUES (7, 1, '/music/a.mp3', 10, 20, 'Old song', 'Old artist', 'Old album', 1000, 5, 1)").run();
    old.prepare("INSERT INTO playlists(id, name, created_at) VALUES (3, 'Old list', 1)").run();
    old.prepare('INSERT INTO playlist_entries(playlist_id, position, track_id) VALUES (3, 0, 7)').run();
    old.close();

    const db = openLibraryDb(file);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.prepare('SELECT id, title, play_count, rating, missing, skip_count FROM tracks').get()).toEqual({ id: 7, title: 'Old song', play_count: 5, rating: 0, missing: 0, skip_count: 0 });
    expect(db.prepare('SELECT track_id FROM playlist_entries WHERE playlist_id = 3').pluck().get()).toBe(7);
    // The search index and the albums are rebuilt from the rows that were there (by the scanner
    // thread: here by hand), in batches; then the flag is gone.
    expect(needsReindex(db)).toBe(true);
    reindexSearch(db, 4);
    expect(needsReindex(db)).toBe(false);
    expect(db.prepare('SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ?').pluck().all('"old"* AND "son"*')).toEqual([7]);
    expect(db.prepare('SELECT a.title FROM albums_fts f JOIN albums a ON a.rowid = f.rowid WHERE albums_fts MATCH ?').pluck().all('"old"*')).toEqual(['Old album']);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
    // A database from a newer build is refused, not damaged.
    const newer = new Database(file);
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    newer.close();
    expect(() => openLibraryDb(file)).toThrow(/newer than this build/);
  });

  test('a migrated library refills its search index on the scanner thread, not at open', async () => {
    const home = path.join(tmp, 'v1-lib');
    fs.mkdirSync(home, { recursive: true });
    const old = new Database(path.join(home, 'library.sqlite'));
    old.exec(V1_SQL);
    old.pragma('user_version = 1');
    old.prepare('INSERT INTO roots(id, path, added_at) VALUES (1, ?, 1)').run('/music');
    const ins = old.prepare("INSERT INTO tracks(root_id, path, size, mtime_ms, title, artist, album, added_at) VALUES (1, ?, 1, 1, ?, 'Sigur Rós', 'Ágætis byrjun', 1)");
    for (let i = 0; i < 50; i++) ins.run(`/music/${i}.flac`, i === 49 ? 'Svefn-g-englar' : `Track ${i}`);
    old.close();
    const lib = new Library({ home, watch: false });
    try {
      await lib.whenSearchReady();
      expect(lib.search('svefn').tracks.map((t) => t.title)).toEqual(['Svefn-g-englar']);
      expect(lib.search('byrj').albums.map((a) => a.title)).toEqual(['Ágætis byrjun']);
      expect(needsReindex(lib.db)).toBe(false);
    } finally {
      await lib.close();
    }
  });
});
