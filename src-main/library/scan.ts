// One library scan, run on the scanner worker thread: walk and stat the roots, diff against the
// database by size + mtime, read the tags of new and changed files, recognise moved files by
// their content fingerprint, mark vanished files missing, and write in batches (one transaction
// per batch, so the main thread's reads and its own small writes never wait long). A file that
// cannot be read becomes a Problem with its reason; it never stops the scan.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { albumKeyOf, type Db, ftsStatements, rebuildAlbums } from './db.js';
import { extOf, fingerprint, readTags, TAG_READER_EXTENSIONS, type EmbeddedPicture, type TrackTags } from './tags.js';

export interface ScanRoot {
  id: number;
  path: string;
}

export interface ScanProgress {
  phase: 'walking' | 'reading' | 'finishing' | 'done' | 'cancelled' | 'failed';
  root: string | null;
  found: number;
  toRead: number;
  read: number;
  added: number;
  updated: number;
  moved: number;
  removed: number;
  problems: number;
  unchanged: number;
  /** Files read per second so far. */
  ratePerSec: number;
  /** Estimated time left, null while unknown. */
  etaMs: number | null;
  elapsedMs: number;
}

export interface ScanHooks {
  progress(p: ScanProgress): void;
  cancelled(): boolean;
  /** Tags of a file only a decoder plugin understands (null: no plugin could read it). */
  pluginTags?(file: string, ext: string): Promise<TrackTags | null>;
  now?(): number;
}

export interface ScanOptions {
  /** Audio extensions (lowercase, no dot): music-metadata's plus the decoder plugins'. */
  extensions: string[];
  /** Only these folders (and below) of the roots are walked (the watcher's narrow rescans). */
  batchSize?: number;
  concurrency?: number;
}

const COVER_NAMES = ['cover', 'folder', 'front', 'album'];
const COVER_EXTS = ['jpg', 'jpeg', 'png', 'webp'];

interface Found {
  path: string;
  dir: string;
  name: string;
  size: number;
  mtimeMs: number;
}

interface Existing {
  id: number;
  path: string;
  size: number;
  mtime_ms: number;
  missing: number;
  fingerprint: string | null;
  album_key: string;
  root_id: number | null;
}

interface ReadResult {
  file: Found;
  tags: TrackTags;
  picture: EmbeddedPicture | null;
  fingerprint: string;
  /** The row this file updates (changed in place, or a move), or null for a new track. */
  existingId: number | null;
  moved: boolean;
}

/** The first cover image of a folder by name priority (cover, folder, front, album), or null. */
export function folderCover(entries: string[]): string | null {
  const lower = new Map(entries.map((e) => [e.toLowerCase(), e]));
  for (const n of COVER_NAMES) for (const x of COVER_EXTS) {
    const hit = lower.get(`${n}.${x}`);
    if (hit) return hit;
  }
  return null;
}

function walk(root: string, exts: Set<string>, cancelled: () => boolean, onFound: (n: number) => void): { files: Found[]; covers: Map<string, Found>; errors: { path: string; reason: string }[] } {
  const files: Found[] = [];
  const covers = new Map<string, Found>();
  const errors: { path: string; reason: string }[] = [];
  const stack = [root];
  const seenDirs = new Set<string>();
  while (stack.length > 0) {
    if (cancelled()) break;
    const dir = stack.pop()!;
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch {
      continue;
    }
    if (seenDirs.has(real)) continue; // symlink loops
    seenDirs.add(real);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if (dir === root) throw err;
      errors.push({ path: dir, reason: `cannot list the folder: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    const names: string[] = [];
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(dir, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        try {
          const st = fs.statSync(full);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          continue;
        }
      }
      if (isDir) stack.push(full);
      else if (isFile) {
        names.push(e.name);
        if (!exts.has(extOf(e.name))) continue;
        try {
          const st = fs.statSync(full);
          files.push({ path: full, dir, name: e.name, size: st.size, mtimeMs: Math.trunc(st.mtimeMs) });
        } catch (err) {
          errors.push({ path: full, reason: `cannot stat: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
        }
      }
    }
    onFound(files.length);
    const cover = folderCover(names);
    if (cover) {
      try {
        const full = path.join(dir, cover);
        const st = fs.statSync(full);
        covers.set(dir, { path: full, dir, name: cover, size: st.size, mtimeMs: Math.trunc(st.mtimeMs) });
      } catch {
        // the image vanished between listing and stat: no folder cover
      }
    }
  }
  return { files, covers, errors };
}

function reasonOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && e.syscall) return `${e.code}: cannot read the file`;
  return (e?.message ?? String(err)).split('\n')[0]!.slice(0, 500) || 'unreadable';
}

export async function runScan(db: Db, roots: ScanRoot[], opts: ScanOptions, hooks: ScanHooks): Promise<ScanProgress> {
  const now = hooks.now ?? Date.now;
  const started = now();
  const exts = new Set(opts.extensions.map((e) => e.toLowerCase()));
  const batchSize = opts.batchSize ?? 250;
  const concurrency = opts.concurrency ?? 8;
  const p: ScanProgress = {
    phase: 'walking', root: null, found: 0, toRead: 0, read: 0, added: 0, updated: 0, moved: 0, removed: 0, problems: 0, unchanged: 0,
    ratePerSec: 0, etaMs: null, elapsedMs: 0,
  };
  let lastEmit = 0;
  const emit = (force = false): void => {
    const t = now();
    if (!force && t - lastEmit < 100) return;
    lastEmit = t;
    p.elapsedMs = t - started;
    p.ratePerSec = p.elapsedMs > 0 ? Math.round((p.read * 1000) / p.elapsedMs) : 0;
    p.etaMs = p.phase === 'reading' && p.ratePerSec > 0 ? Math.round(((p.toRead - p.read) * 1000) / p.ratePerSec) : null;
    hooks.progress({ ...p });
  };

  const fts = ftsStatements(db);
  const st = {
    existing: db.prepare('SELECT id, path, size, mtime_ms, missing, fingerprint, album_key, root_id FROM tracks WHERE root_id = ?'),
    missingElsewhere: db.prepare('SELECT id, path, size, mtime_ms, missing, fingerprint, album_key, root_id FROM tracks WHERE missing = 1 AND fingerprint IS NOT NULL'),
    insert: db.prepare(`INSERT INTO tracks(root_id, path, dir, file_name, size, mtime_ms, fingerprint, missing, added_at, updated_at,
      title, artist, artists, album_artist, album, track_no, track_total, disc_no, disc_total, year, date, genres, composer, compilation,
      rg_track_gain, rg_track_peak, rg_album_gain, rg_album_peak, mb_track_id, mb_album_id, mb_artist_id, duration_ms, codec,
      sample_rate, bit_depth, channels, bitrate, lossless, cover_id, album_key, tag_source, tags_json)
      VALUES (@root_id, @path, @dir, @file_name, @size, @mtime_ms, @fingerprint, 0, @now, @now,
      @title, @artist, @artists, @album_artist, @album, @track_no, @track_total, @disc_no, @disc_total, @year, @date, @genres, @composer, @compilation,
      @rg_track_gain, @rg_track_peak, @rg_album_gain, @rg_album_peak, @mb_track_id, @mb_album_id, @mb_artist_id, @duration_ms, @codec,
      @sample_rate, @bit_depth, @channels, @bitrate, @lossless, @cover_id, @album_key, @tag_source, @tags_json)`),
    update: db.prepare(`UPDATE tracks SET root_id=@root_id, path=@path, dir=@dir, file_name=@file_name, size=@size, mtime_ms=@mtime_ms,
      fingerprint=@fingerprint, missing=0, missing_since=NULL, updated_at=@now,
      title=@title, artist=@artist, artists=@artists, album_artist=@album_artist, album=@album, track_no=@track_no, track_total=@track_total,
      disc_no=@disc_no, disc_total=@disc_total, year=@year, date=@date, genres=@genres, composer=@composer, compilation=@compilation,
      rg_track_gain=@rg_track_gain, rg_track_peak=@rg_track_peak, rg_album_gain=@rg_album_gain, rg_album_peak=@rg_album_peak,
      mb_track_id=@mb_track_id, mb_album_id=@mb_album_id, mb_artist_id=@mb_artist_id, duration_ms=@duration_ms, codec=@codec,
      sample_rate=@sample_rate, bit_depth=@bit_depth, channels=@channels, bitrate=@bitrate, lossless=@lossless, cover_id=@cover_id,
      album_key=@album_key, tag_source=@tag_source, tags_json=@tags_json WHERE id=@id`),
    // A file back where it was, unchanged: present again, nothing else to do.
    unmiss: db.prepare('UPDATE tracks SET missing = 0, missing_since = NULL WHERE id = ?'),
    markMissing: db.prepare('UPDATE tracks SET missing = 1, missing_since = ? WHERE id = ? AND missing = 0'),
    cover: db.prepare('INSERT OR IGNORE INTO covers(id, kind, path, mime) VALUES (?, ?, ?, ?)'),
    // Rewrites a problem only when something about it changed (an unchanged rescan writes nothing).
    problem: db.prepare(`INSERT INTO problems(path, root_id, reason, size, mtime_ms, at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT(path) DO UPDATE SET reason = excluded.reason, size = excluded.size, mtime_ms = excluded.mtime_ms, at = excluded.at
      WHERE reason IS NOT excluded.reason OR size IS NOT excluded.size OR mtime_ms IS NOT excluded.mtime_ms`),
    knownProblems: db.prepare('SELECT path, size, mtime_ms FROM problems WHERE root_id = ?'),
    clearProblem: db.prepare('DELETE FROM problems WHERE path = ?'),
    problemsOfRoot: db.prepare('SELECT path FROM problems WHERE root_id = ?'),
    ftsRow: db.prepare('SELECT id, title, artists, album_artist, album, genres, file_name FROM tracks WHERE id = ?'),
  };

  for (const root of roots) {
    if (hooks.cancelled()) break;
    p.root = root.path;
    p.phase = 'walking';
    emit(true);
    let walked: ReturnType<typeof walk>;
    try {
      walked = walk(root.path, exts, hooks.cancelled, (n) => {
        p.found = n;
        emit();
      });
    } catch (err) {
      st.problem.run(root.path, root.id, `cannot open the folder: ${reasonOf(err)}`, null, null, now());
      p.problems++;
      continue;
    }
    if (hooks.cancelled()) break;
    const existingRows = st.existing.all(root.id) as Existing[];
    const byPath = new Map(existingRows.map((r) => [r.path, r]));
    const foundPaths = new Set(walked.files.map((f) => f.path));
    // Rows that lost their file: candidates for a move (matched by fingerprint), else missing.
    const vanished = new Map<number, Existing>();
    for (const r of existingRows) if (!foundPaths.has(r.path)) vanished.set(r.id, r);
    for (const r of st.missingElsewhere.all() as Existing[]) if (!foundPaths.has(r.path) && !fs.existsSync(r.path)) vanished.set(r.id, r);
    const byFingerprint = new Map<string, Existing[]>();
    for (const r of vanished.values()) {
      if (!r.fingerprint) continue;
      const list = byFingerprint.get(r.fingerprint) ?? [];
      list.push(r);
      byFingerprint.set(r.fingerprint, list);
    }

    const toRead: { file: Found; existing: Existing | null }[] = [];
    const unmiss: number[] = [];
    const badAsBefore = new Set<string>();
    for (const r of st.knownProblems.all(root.id) as { path: string; size: number | null; mtime_ms: number | null }[]) badAsBefore.add(`${r.path}\u0000${r.size}\u0000${r.mtime_ms}`);
    for (const f of walked.files) {
      if (badAsBefore.has(`${f.path}\u0000${f.size}\u0000${f.mtimeMs}`)) {
        p.problems++;
        continue;
      }
      const e = byPath.get(f.path);
      if (e && e.size === f.size && e.mtime_ms === f.mtimeMs) {
        if (e.missing) unmiss.push(e.id);
        else p.unchanged++;
        continue;
      }
      toRead.push({ file: f, existing: e ?? null });
    }
    p.found = walked.files.length;
    p.toRead += toRead.length;
    p.phase = 'reading';
    emit(true);

    const touchedAlbums = new Set<string>();
    const coverIdOf = (dir: string): string | null => {
      const c = walked.covers.get(dir);
      return c ? crypto.createHash('sha1').update(`${c.path}|${c.size}|${c.mtimeMs}`).digest('hex').slice(0, 24) : null;
    };

    const writeBatch = db.transaction((results: ReadResult[], failures: { path: string; reason: string; size?: number; mtimeMs?: number }[]) => {
      const t = now();
      for (const r of results) {
        const tags = r.tags;
        let cover: string | null = null;
        if (r.picture) {
          cover = crypto.createHash('sha1').update(r.picture.data).digest('hex').slice(0, 24);
          st.cover.run(cover, 'embedded', r.file.path, r.picture.mime);
        } else {
          cover = coverIdOf(r.file.dir);
          if (cover) st.cover.run(cover, 'file', walked.covers.get(r.file.dir)!.path, null);
        }
        const albumKey = albumKeyOf({ album: tags.album, albumArtist: tags.albumArtist, artists: tags.artists, compilation: tags.compilation, dir: r.file.dir });
        const row = {
          root_id: root.id, path: r.file.path, dir: r.file.dir, file_name: r.file.name, size: r.file.size, mtime_ms: r.file.mtimeMs,
          fingerprint: r.fingerprint, now: t, title: tags.title ?? r.file.name.replace(/\.[^.]+$/, ''),
          artist: tags.artists.join(', ') || null, artists: tags.artists.join('\u001f'), album_artist: tags.albumArtist, album: tags.album,
          track_no: tags.trackNo, track_total: tags.trackTotal, disc_no: tags.discNo, disc_total: tags.discTotal, year: tags.year, date: tags.date,
          genres: tags.genres.join('\u001f'), composer: tags.composer, compilation: tags.compilation ? 1 : 0,
          rg_track_gain: tags.rgTrackGain, rg_track_peak: tags.rgTrackPeak, rg_album_gain: tags.rgAlbumGain, rg_album_peak: tags.rgAlbumPeak,
          mb_track_id: tags.mbTrackId, mb_album_id: tags.mbAlbumId, mb_artist_id: tags.mbArtistId, duration_ms: tags.durationMs, codec: tags.codec,
          sample_rate: tags.sampleRate, bit_depth: tags.bitDepth, channels: tags.channels, bitrate: tags.bitrate,
          lossless: tags.lossless === null ? null : tags.lossless ? 1 : 0, cover_id: cover, album_key: albumKey, tag_source: tags.tagSource,
          tags_json: JSON.stringify(tags.all),
        };
        let id: number;
        if (r.existingId !== null) {
          const prev = db.prepare('SELECT album_key FROM tracks WHERE id = ?').get(r.existingId) as { album_key: string } | undefined;
          if (prev) touchedAlbums.add(prev.album_key);
          st.update.run({ ...row, id: r.existingId });
          id = r.existingId;
        } else {
          id = Number(st.insert.run(row).lastInsertRowid);
        }
        touchedAlbums.add(albumKey);
        fts.put(st.ftsRow.get(id) as Parameters<typeof fts.put>[0]);
        st.clearProblem.run(r.file.path);
      }
      for (const f of failures) st.problem.run(f.path, root.id, f.reason, f.size ?? null, f.mtimeMs ?? null, t);
    });

    let results: ReadResult[] = [];
    let failures: { path: string; reason: string; size?: number; mtimeMs?: number }[] = [...walked.errors];
    const flush = (): void => {
      if (results.length === 0 && failures.length === 0) return;
      writeBatch(results, failures);
      results = [];
      failures = [];
    };

    const readOne = async (item: { file: Found; existing: Existing | null }): Promise<void> => {
      const f = item.file;
      try {
        const ext = extOf(f.name);
        let tags: TrackTags | null;
        let picture: EmbeddedPicture | null = null;
        if (TAG_READER_EXTENSIONS.has(ext)) ({ tags, picture } = await readTags(f.path));
        else tags = hooks.pluginTags ? await hooks.pluginTags(f.path, ext) : null;
        if (!tags) throw new Error(`no tag reader or decoder plugin reads ".${ext}" files`);
        const fp = fingerprint(f.path, f.size, tags);
        let existingId = item.existing?.id ?? null;
        let moved = false;
        if (existingId === null) {
          const cands = byFingerprint.get(fp);
          const hit = cands?.shift();
          if (hit) {
            existingId = hit.id;
            moved = true;
            vanished.delete(hit.id);
          }
        }
        if (existingId === null) p.added++;
        else if (moved) p.moved++;
        else p.updated++;
        results.push({ file: f, tags, picture, fingerprint: fp, existingId, moved });
      } catch (err) {
        p.problems++;
        failures.push({ path: f.path, reason: reasonOf(err), size: f.size, mtimeMs: f.mtimeMs });
      }
      p.read++;
    };

    // A few reads in flight overlap their file I/O; the writes go out in batches.
    let next = 0;
    const runners = Array.from({ length: Math.min(concurrency, toRead.length) }, async () => {
      while (next < toRead.length && !hooks.cancelled()) {
        const item = toRead[next++]!;
        await readOne(item);
        if (results.length + failures.length >= batchSize) flush();
        emit();
      }
    });
    await Promise.all(runners);
    flush();
    if (hooks.cancelled()) break;

    p.phase = 'finishing';
    emit(true);
    db.transaction(() => {
      const t = now();
      for (const id of unmiss) {
        st.unmiss.run(id);
        const r = existingRows.find((x) => x.id === id);
        if (r) touchedAlbums.add(r.album_key);
      }
      for (const r of vanished.values()) {
        if (r.root_id !== root.id || r.missing) continue;
        st.markMissing.run(t, r.id);
        touchedAlbums.add(r.album_key);
        p.removed++;
      }
      // Problems of files that are gone (or now read fine) go away.
      for (const { path: pp } of st.problemsOfRoot.all(root.id) as { path: string }[]) {
        if (pp !== root.path && !foundPaths.has(pp) && !walked.errors.some((e) => e.path === pp)) st.clearProblem.run(pp);
      }
      if (touchedAlbums.size > 0) rebuildAlbums(db, touchedAlbums);
    })();
  }
  p.phase = hooks.cancelled() ? 'cancelled' : 'done';
  p.root = null;
  emit(true);
  return { ...p };
}
