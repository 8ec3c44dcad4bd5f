// Local files for the queue until the library lands: browse folders (the browser shell has no
// native file dialog, so the renderer browses through here) and expand files and folders into
// tracks the decoders can play.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { NewTrack } from '../engine/player-engine.js';
import type { FileEntry } from '../../src-shared/contract.js';
import { RpcError } from '../../src-shared/rpc-error.js';
import type { ServiceHandlers } from './router.js';

/** Used when no decoder plugin declares extensions (e.g. before plugins load). */
const FALLBACK_EXTENSIONS = ['wav', 'flac', 'ogg', 'oga', 'opus', 'mp3', 'aiff', 'aif'];
const MAX_TRACKS = 10_000;

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

    browse: async ({ dir }) => {
      const abs = path.resolve(dir);
      let dirents;
      try {
        dirents = await fs.readdir(abs, { withFileTypes: true });
      } catch (err) {
        throw new RpcError({ code: 'io', message: `Cannot open ${abs}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      }
      const exts = extSet();
      const entries: FileEntry[] = [];
      for (const d of dirents) {
        if (d.name.startsWith('.')) continue;
        const full = path.join(abs, d.name);
        let isDir = d.isDirectory();
        if (d.isSymbolicLink()) isDir = await fs.stat(full).then((st) => st.isDirectory(), () => false);
        if (isDir) entries.push({ name: d.name, path: full, kind: 'dir' });
        else if (isAudio(d.name, exts)) {
          const size = await fs.stat(full).then((st) => st.size, () => undefined);
          entries.push(size === undefined ? { name: d.name, path: full, kind: 'audio' } : { name: d.name, path: full, kind: 'audio', sizeBytes: size });
        }
      }
      entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name, undefined, { numeric: true }) : a.kind === 'dir' ? -1 : 1));
      const parent = path.dirname(abs);
      return { dir: abs, parent: parent === abs ? null : parent, entries };
    },

    expand: async ({ paths, recursive }, { signal }) => {
      const exts = extSet();
      const tracks: NewTrack[] = [];
      let skipped = 0;
      const walk = async (p: string, depth: number): Promise<void> => {
        if (signal.aborted) throw new RpcError({ code: 'cancelled', message: 'cancelled' });
        if (tracks.length >= MAX_TRACKS) return;
        const st = await fs.stat(p).catch(() => null);
        if (!st) {
          skipped++;
          return;
        }
        if (st.isDirectory()) {
          if (depth > 0 && recursive === false) return;
          // A folder's own files first, then its subfolders (CD 1, CD 2 …), each in natural order.
          const entries = (await fs.readdir(p, { withFileTypes: true }).catch(() => [])).filter((d) => !d.name.startsWith('.'));
          const natural = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name, undefined, { numeric: true });
          const dirs = entries.filter((d) => d.isDirectory()).sort(natural);
          const others = entries.filter((d) => !d.isDirectory()).sort(natural);
          for (const d of [...others, ...dirs]) await walk(path.join(p, d.name), depth + 1);
        } else if (isAudio(p, exts)) tracks.push(trackFromFile(p));
        else if (depth === 0) skipped++;
      };
      for (const p of paths) await walk(path.resolve(p), 0);
      return { tracks, skipped };
    },

    audioExtensions: () => [...extSet()].sort(),
  };
}
