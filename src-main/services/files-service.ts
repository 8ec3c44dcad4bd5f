// Local files for the queue until the library lands: browse folders (the browser shell has no
// native file dialog, so the renderer browses through here) and expand files and folders into
// tracks the decoders can play.
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { NewTrack } from '../engine/player-engine.js';
import type { FileEntry } from '../../src-shared/contract.js';
import { RpcError } from '../../src-shared/rpc-error.js';
import type { ServiceHandlers } from './router.js';
import { sortYielding } from './yielding-sort.js';

/** Used when no decoder plugin declares extensions (e.g. before plugins load). */
const FALLBACK_EXTENSIONS = ['wav', 'flac', 'ogg', 'oga', 'opus', 'mp3', 'aiff', 'aif'];
const MAX_TRACKS = 10_000;
/** Natural order ("2" before "10"); a collator compares far faster than localeCompare. */
const naturalOrder = new Intl.Collator(undefined, { numeric: true });

export function trackFromFile(file: string): NewTrack {
  const base = path.basename(file);
  const dot = base.lastIndexOf('.');
  return { source: { kind: 'file', path: file }, title: dot > 0 ? base.slice(0, dot) : base };
}

export function filesService(audioExtensions: () => string[]): ServiceHandlers<'files'> {
  const extSet = (): Set<string> => {
    const list = audioExtensions();
    return new Set((list.length > 0 ? list : FALLBACK_EXTENSIONS).map((e) => e.toLowerCase()));
  };
  const isAudio = (name: string, exts: Set<string>): boolean => exts.has(path.extname(name).slice(1).toLowerCase());

  return {
    roots: async () => {
      const home = os.homedir();
      const roots = [{ label: 'Home', path: home }];
      for (const name of ['Music', 'Downloads']) {
        const p = path.join(home, name);
        if (await fs.stat(p).then((st) => st.isDirectory(), () => false)) roots.push({ label: name, path: p });
      }
      roots.push({ label: 'Computer', path: path.parse(home).root });
      return { home, roots };
    },

    browse: async ({ dir, extensions }) => {
      const abs = path.resolve(dir);
      let dirents;
      try {
        dirents = await fs.readdir(abs, { withFileTypes: true });
      } catch (err) {
        throw new RpcError({ code: 'io', message: `Cannot open ${abs}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      }
      const exts = extSet();
      const asked = new Set((extensions ?? []).map((e) => e.toLowerCase().replace(/^\./, '')));
      const entries: FileEntry[] = [];
      for (const d of dirents) {
        if (d.name.startsWith('.')) continue;
        const full = path.join(abs, d.name);
        let isDir = d.isDirectory();
        if (d.isSymbolicLink()) isDir = await fs.stat(full).then((st) => st.isDirectory(), () => false);
        if (isDir) entries.push({ name: d.name, path: full, kind: 'dir' });
        else if (isAudio(d.name, exts) || asked.has(path.extname(d.name).slice(1).toLowerCase())) {
          const kind = isAudio(d.name, exts) ? 'audio' : 'file';
          // Only regular files are listed: a FIFO, socket or device named *.flac is left out.
          const st = await fs.stat(full).catch(() => null);
          if (st && !st.isFile()) continue;
          entries.push(st ? { name: d.name, path: full, kind, sizeBytes: st.size } : { name: d.name, path: full, kind });
        }
      }
      const sorted = await sortYielding(entries, (a, b) => (a.kind === b.kind ? naturalOrder.compare(a.name, b.name) : a.kind === 'dir' ? -1 : 1));
      const parent = path.dirname(abs);
      return { dir: abs, parent: parent === abs ? null : parent, entries: sorted };
    },

    expand: async ({ paths, recursive }, { signal }) => {
      const exts = extSet();
      const tracks: NewTrack[] = [];
      // Folders and files already taken, by device and inode: a symlink loop (or a folder linked
      // twice) is walked once, and each file is found once.
      const seen = new Set<string>();
      let skipped = 0;
      const cancelled = (): RpcError => new RpcError({ code: 'cancelled', message: 'cancelled' });
      const walk = async (p: string, depth: number, entry?: Dirent): Promise<void> => {
        if (signal.aborted) throw cancelled();
        if (tracks.length >= MAX_TRACKS) return;
        // The folder listing already says what most entries are: no stat for a cover.jpg.
        if (entry && entry.isFile() && !isAudio(p, exts)) return;
        const st = await fs.stat(p).catch(() => null);
        if (!st) {
          skipped++;
          return;
        }
        const id = `${st.dev}:${st.ino}`;
        if (st.isDirectory()) {
          if (depth > 0 && recursive === false) return;
          if (seen.has(id)) return;
          seen.add(id);
          // Read in batches (a folder of 100k entries is not one big block of the event loop).
          const entries: Dirent[] = [];
          try {
            for await (const d of await fs.opendir(p, { bufferSize: 256 })) if (!d.name.startsWith('.')) entries.push(d);
          } catch {
            // unreadable: nothing from it
          }
          // A folder's own files first, then its subfolders (CD 1, CD 2 …), each in natural order.
          const natural = (a: Dirent, b: Dirent): number => naturalOrder.compare(a.name, b.name);
          const dirs = await sortYielding(entries.filter((d) => d.isDirectory()), natural, signal).catch((err: unknown) => {
            throw signal.aborted ? cancelled() : err;
          });
          const others = await sortYielding(entries.filter((d) => !d.isDirectory()), natural, signal).catch((err: unknown) => {
            throw signal.aborted ? cancelled() : err;
          });
          for (const d of [...others, ...dirs]) await walk(path.join(p, d.name), depth + 1, d);
        } else if (st.isFile() && isAudio(p, exts)) {
          if (seen.has(id)) return;
          seen.add(id);
          tracks.push(trackFromFile(p));
        } else if (depth === 0) skipped++;
      };
      for (const p of paths) await walk(path.resolve(p), 0);
      return { tracks, skipped };
    },

    audioExtensions: () => [...extSet()].sort(),
  };
}
