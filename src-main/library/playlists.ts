// Playlists: ordered entries that point at library tracks by id (so a moved file stays in its
// playlists) and keep the path and title they were added with (so an entry whose file is gone
// still shows, as missing). M3U/M3U8 import and export: UTF-8, #EXTINF, paths relative to the
// playlist's folder.
import fs from 'node:fs';
import path from 'node:path';
import type { PlaylistEntryView, PlaylistView } from '../../src-shared/contract-library.js';
import { RpcError } from '../../src-shared/rpc-error.js';
import type { Library } from './library.js';

export interface M3uEntry {
  path: string;
  title: string | null;
  durationSec: number | null;
}

/** Parses M3U/M3U8 text; relative paths resolve against `baseDir`. URLs are kept as they are. */
export function parseM3u(textIn: string, baseDir: string): M3uEntry[] {
  const text = textIn.replace(/^\uFEFF/, '');
  const out: M3uEntry[] = [];
  let pending: { title: string | null; durationSec: number | null } | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#')) {
      const m = /^#EXTINF:\s*(-?\d+(?:\.\d+)?)[^,]*,(.*)$/.exec(line);
      if (m) pending = { durationSec: Number(m[1]) >= 0 ? Number(m[1]) : null, title: m[2]!.trim() || null };
      continue;
    }
    let p = line;
    if (/^file:\/\//i.test(p)) {
      try {
        p = decodeURIComponent(new URL(p).pathname);
      } catch {
        // keep the text as a path
      }
    }
    const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(p);
    if (!isUrl) p = path.resolve(baseDir, p.replace(/\\/g, path.sep));
    out.push({ path: p, title: pending?.title ?? null, durationSec: pending?.durationSec ?? null });
    pending = null;
  }
  return out;
}

/** M3U8 text for `entries`, paths relative to `baseDir` when they are under or near it. */
export function formatM3u(entries: M3uEntry[], baseDir: string): string {
  const lines = ['#EXTM3U'];
  for (const e of entries) {
    lines.push(`#EXTINF:${e.durationSec === null ? -1 : Math.round(e.durationSec)},${(e.title ?? path.basename(e.path)).replace(/[\r\n]/g, ' ')}`);
    const rel = path.relative(baseDir, e.path);
    lines.push(path.isAbsolute(rel) ? e.path : rel.split(path.sep).join('/'));
  }
  return `${lines.join('\n')}\n`;
}

interface EntryRow {
  id: number;
  position: number;
  track_id: number | null;
  path: string | null;
  title: string | null;
  duration_ms: number | null;
}

export class Playlists {
  constructor(private readonly library: Library) {}

  private get db() {
    return this.library.db;
  }

  list(): PlaylistView[] {
    return (this.db.prepare(`SELECT p.id, p.name, p.updated_at AS updatedAt, count(e.id) AS entryCount,
        coalesce(sum(coalesce(t.duration_ms, e.duration_ms, 0)), 0) AS durationMs
      FROM playlists p LEFT JOIN playlist_entries e ON e.playlist_id = p.id LEFT JOIN tracks t ON t.id = e.track_id
      GROUP BY p.id ORDER BY p.name COLLATE NOCASE`).all() as PlaylistView[]);
  }

  get(id: number): PlaylistView {
    const v = this.list().find((p) => p.id === id);
    if (!v) throw new RpcError({ code: 'not_found', message: `no playlist ${id}` });
    return v;
  }

  create(name: string, items: { trackIds?: number[]; paths?: string[] } = {}): PlaylistView {
    const now = Date.now();
    const id = Number(this.db.prepare('INSERT INTO playlists(name, created_at, updated_at) VALUES (?, ?, ?)').run(name.trim() || 'Playlist', now, now).lastInsertRowid);
    this.add(id, items);
    return this.get(id);
  }

  rename(id: number, name: string): PlaylistView {
    const r = this.db.prepare('UPDATE playlists SET name = ?, updated_at = ? WHERE id = ?').run(name.trim() || 'Playlist', Date.now(), id);
    if (r.changes === 0) throw new RpcError({ code: 'not_found', message: `no playlist ${id}` });
    return this.get(id);
  }

  remove(id: number): void {
    const r = this.db.prepare('DELETE FROM playlists WHERE id = ?').run(id);
    if (r.changes === 0) throw new RpcError({ code: 'not_found', message: `no playlist ${id}` });
  }

  /** Adds library tracks and/or paths (a path of a library file becomes its track). */
  add(id: number, items: { trackIds?: number[]; paths?: string[]; titles?: (string | null)[]; durations?: (number | null)[] }, index?: number): PlaylistView {
    if (!this.db.prepare('SELECT 1 FROM playlists WHERE id = ?').get(id)) throw new RpcError({ code: 'not_found', message: `no playlist ${id}` });
    const rows: { trackId: number | null; path: string | null; title: string | null; durationMs: number | null }[] = [];
    for (const t of this.library.tracksById(items.trackIds ?? [])) rows.push({ trackId: t.id, path: t.path, title: t.title, durationMs: t.durationMs });
    (items.paths ?? []).forEach((p, i) => {
      const t = this.library.trackByPath(p);
      const title = items.titles?.[i] ?? null;
      const dur = items.durations?.[i] ?? null;
      rows.push(t ? { trackId: t.id, path: t.path, title: t.title, durationMs: t.durationMs } : { trackId: null, path: p, title: title ?? path.basename(p).replace(/\.[^.]+$/, ''), durationMs: dur });
    });
    this.db.transaction(() => {
      const n = (this.db.prepare('SELECT count(*) AS n FROM playlist_entries WHERE playlist_id = ?').get(id) as { n: number }).n;
      const at = index === undefined ? n : Math.max(0, Math.min(index, n));
      this.db.prepare('UPDATE playlist_entries SET position = position + ? WHERE playlist_id = ? AND position >= ?').run(rows.length, id, at);
      const ins = this.db.prepare('INSERT INTO playlist_entries(playlist_id, position, track_id, path, title, duration_ms) VALUES (?, ?, ?, ?, ?, ?)');
      rows.forEach((r, i) => ins.run(id, at + i, r.trackId, r.path, r.title, r.durationMs));
      this.db.prepare('UPDATE playlists SET updated_at = ? WHERE id = ?').run(Date.now(), id);
    })();
    return this.get(id);
  }

  entries(id: number, offset = 0, limit = 1000): { items: PlaylistEntryView[]; total: number } {
    this.get(id);
    const total = (this.db.prepare('SELECT count(*) AS n FROM playlist_entries WHERE playlist_id = ?').get(id) as { n: number }).n;
    const rows = this.db.prepare('SELECT id, position, track_id, path, title, duration_ms FROM playlist_entries WHERE playlist_id = ? ORDER BY position LIMIT ? OFFSET ?').all(id, limit, offset) as EntryRow[];
    const tracks = new Map(this.library.tracksById(rows.map((r) => r.track_id).filter((x): x is number => x !== null)).map((t) => [t.id, t]));
    return {
      total,
      items: rows.map((r, i) => {
        const t = r.track_id !== null ? (tracks.get(r.track_id) ?? null) : null;
        return { entryId: r.id, position: offset + i, track: t, path: t?.path ?? r.path, title: t?.title ?? r.title ?? (r.path ? path.basename(r.path) : 'Unknown'), missing: !t || t.missing };
      }),
    };
  }

  removeEntries(id: number, entryIds: number[]): PlaylistView {
    this.db.transaction(() => {
      const del = this.db.prepare('DELETE FROM playlist_entries WHERE playlist_id = ? AND id = ?');
      for (const e of entryIds) del.run(id, e);
      this.renumber(id);
    })();
    return this.get(id);
  }

  moveEntry(id: number, entryId: number, toIndex: number): void {
    this.db.transaction(() => {
      const ids = this.db.prepare('SELECT id FROM playlist_entries WHERE playlist_id = ? ORDER BY position').pluck().all(id) as number[];
      const from = ids.indexOf(entryId);
      if (from < 0) throw new RpcError({ code: 'not_found', message: `no entry ${entryId} in playlist ${id}` });
      ids.splice(from, 1);
      ids.splice(Math.max(0, Math.min(toIndex, ids.length)), 0, entryId);
      const set = this.db.prepare('UPDATE playlist_entries SET position = ? WHERE id = ?');
      ids.forEach((e, i) => set.run(i, e));
      this.db.prepare('UPDATE playlists SET updated_at = ? WHERE id = ?').run(Date.now(), id);
    })();
  }

  private renumber(id: number): void {
    const ids = this.db.prepare('SELECT id FROM playlist_entries WHERE playlist_id = ? ORDER BY position').pluck().all(id) as number[];
    const set = this.db.prepare('UPDATE playlist_entries SET position = ? WHERE id = ?');
    ids.forEach((e, i) => set.run(i, e));
    this.db.prepare('UPDATE playlists SET updated_at = ? WHERE id = ?').run(Date.now(), id);
  }

  importM3u(file: string, name?: string): { playlist: PlaylistView; found: number; missing: number } {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new RpcError({ code: 'io', message: `Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
    if (text.includes('\u0000')) throw new RpcError({ code: 'invalid_argument', message: `${file} is not a text playlist` });
    const entries = parseM3u(text, path.dirname(path.resolve(file)));
    const base = name ?? path.basename(file).replace(/\.m3u8?$/i, '');
    const pl = this.create(base);
    this.add(pl.id, { paths: entries.map((e) => e.path), titles: entries.map((e) => e.title), durations: entries.map((e) => (e.durationSec === null ? null : e.durationSec * 1000)) });
    const view = this.entries(pl.id, 0, 100_000);
    const missing = view.items.filter((e) => e.missing).length;
    return { playlist: this.get(pl.id), found: view.items.length - missing, missing };
  }

  exportM3u(id: number, file: string): number {
    const { items } = this.entries(id, 0, 1_000_000);
    const entries: M3uEntry[] = items
      .filter((e) => e.path)
      .map((e) => ({ path: e.path!, title: e.track ? [e.track.artist, e.track.title].filter(Boolean).join(' - ') : e.title, durationSec: e.track?.durationMs != null ? e.track.durationMs / 1000 : null }));
    const abs = path.resolve(file);
    const tmp = `${abs}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, formatM3u(entries, path.dirname(abs)), 'utf8');
    fs.renameSync(tmp, abs);
    return entries.length;
  }
}
