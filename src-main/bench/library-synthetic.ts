// The benchmark's synthetic library: `n` tracks written straight into a library database (no
// files), with artists, albums, genres and a few accented and CJK words, and its search index and
// albums built as the scanner builds them.
import path from 'node:path';
import { albumKeyOf, ftsStatements, openLibraryDb, rebuildAlbums } from '../library/db.js';

export function syntheticDb(home: string, n: number): void {
  const db = openLibraryDb(path.join(home, 'library.sqlite'));
  const fts = ftsStatements(db);
  // Names from syllables and titles from a word list, so that words spread over the library as in
  // a real one (no single word in every row).
  const syl = ['ka', 'ren', 'dor', 'mi', 'sol', 'va', 'lin', 'tor', 'be', 'nu', 'ra', 'qui', 'zel', 'fo', 'an', 'ti', 'mer', 'os', 'hal', 'jun'];
  const words = ['river', 'night', 'stone', 'light', 'dream', 'été', 'café', 'north', 'ocean', 'fire', 'glass', '夜明け', '東京', 'silver', 'winter',
    'love', 'the', 'of', 'heart', 'road', 'blue', 'sky', 'rain', 'home', 'wild', 'gold', 'storm', 'moon', 'city', 'song', 'time', 'summer', 'echo',
    'shadow', 'garden', 'mirror', 'paper', 'electric', 'velvet', 'thunder', 'honey', 'neon', 'desert', 'island', 'coast', 'forest', 'wolf', 'crown'];
  const cap = (x: string): string => x.charAt(0).toUpperCase() + x.slice(1);
  const name = (k: number): string => (k % 97 === 0 ? 'Björk' : `${cap(syl[k % 20]!)}${syl[(k * 7) % 20]} ${cap(syl[(k * 3 + 1) % 20]!)}${syl[(k * 11 + 5) % 20]}${k % 3 === 0 ? '' : syl[(k * 13) % 20]}`);
  const phrase = (k: number, n: number): string => Array.from({ length: n }, (_, j) => words[(k * (j * 17 + 3) + j * 29) % words.length]).join(' ');
  const rootId = Number(db.prepare('INSERT INTO roots(path, added_at) VALUES (?, ?)').run('/synthetic', Date.now()).lastInsertRowid);
  const ins = db.prepare(`INSERT INTO tracks(root_id, path, dir, file_name, size, mtime_ms, added_at, updated_at, title, artist, artists, album_artist, album,
    track_no, disc_no, year, genres, duration_ms, codec, sample_rate, channels, bitrate, album_key, play_count)
    VALUES (?, ?, ?, ?, 1000, 0, ?, 0, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, 'FLAC', 44100, 2, 900000, ?, ?)`);
  const keys = new Set<string>();
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const album = Math.floor(i / 10);
      const artist = name(Math.floor(album / 5));
      const albumTitle = cap(phrase(album + 1, 1 + (album % 3)));
      const title = cap(phrase(i + 7, 1 + (i % 4)));
      const dir = `/synthetic/${artist}/${albumTitle} ${album}`;
      const key = albumKeyOf({ album: `${albumTitle} ${album}`, albumArtist: null, artists: [artist], compilation: false, dir });
      keys.add(key);
      const id = Number(ins.run(rootId, `${dir}/${i}.flac`, dir, `${i}.flac`, Date.now() - i * 1000, title, artist, artist, null, `${albumTitle} ${album}`, (i % 10) + 1, 1960 + (album % 60), ['Rock', 'Jazz', 'Folk', 'Électro'][album % 4], 200_000 + (i % 100) * 1000, key, i % 13).lastInsertRowid);
      fts.put({ id, title, artists: artist, album_artist: null, album: `${albumTitle} ${album}`, genres: ['Rock', 'Jazz', 'Folk', 'Électro'][album % 4]!, file_name: `${i}.flac` });
    }
    rebuildAlbums(db, keys);
  })();
  // Built here as the scanner builds it: nothing for the scanner thread to refill.
  db.prepare("DELETE FROM library_meta WHERE key = 'reindex'").run();
  db.close();
}

