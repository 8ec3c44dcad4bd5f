// The dlopen warmer's thread: dlopens a private copy of a library so that the dynamic loader maps
// and relocates it and everything it links (libavcodec and the like can take tens of ms) here
// rather than on the main event loop. The main thread's own dlopen of its shadow copy then finds
// the dependencies loaded. The handle is held until the main thread says it has loaded.
import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import koffi, { type LibraryHandle } from 'koffi';
import { checkLibraryFile } from './library-file.js';

type Msg = { t: 'warm'; id: number; file: string; copy: string } | { t: 'release'; id: number };

const held = new Map<number, { lib: LibraryHandle | null; copy: string }>();

parentPort!.on('message', (m: Msg) => {
  if (m.t === 'release') {
    const h = held.get(m.id);
    held.delete(m.id);
    try {
      h?.lib?.unload();
    } catch {
      // already gone
    }
    if (h) fs.rmSync(h.copy, { force: true });
    parentPort!.postMessage({ id: m.id, released: true });
    return;
  }
  let lib: LibraryHandle | null = null;
  try {
    fs.copyFileSync(m.file, m.copy, fs.constants.COPYFILE_FICLONE);
    // A truncated file would fault inside dlopen: the same structural check as the main load.
    if (checkLibraryFile(m.copy) === null) lib = koffi.load(m.copy);
  } catch {
    // Not loadable: the main thread's load reports why.
  }
  // The mapping outlives the name (POSIX): the copy leaves no file behind once loaded.
  fs.rmSync(m.copy, { force: true });
  held.set(m.id, { lib, copy: m.copy });
  parentPort!.postMessage({ id: m.id });
});
