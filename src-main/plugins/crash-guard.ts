// The crash guard's koffi binding (native-plugins/host/crash_guard.c) and its crash records.
//
// Every process that loads plugins installs the guard once; every thread that calls plugin code
// marks the step it is in (one short C call per plugin call while the guard is on). When a plugin
// faults, the C handler writes a record naming the plugin id and the build's fingerprint, then the
// process dies as before; the registry reads the records at the next start and quarantines that
// build (see quarantine.ts). koffi declarations are per thread, so a worker thread attaches itself.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import koffi from 'koffi';
import { hostLibraryPath } from './host-lib.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fn = (...args: any[]) => any;

interface GuardFns {
  install: Fn;
  addLibrary: Fn;
  removeLibrary: Fn;
  setStep: Fn;
}

let fns: GuardFns | null = null;
let active = false;

function guard(): GuardFns {
  if (fns) return fns;
  const lib = koffi.load(hostLibraryPath());
  fns = {
    install: lib.func('st_host_crash_guard_install', 'int', ['const char *', 'const char *']),
    addLibrary: lib.func('st_host_crash_guard_add_library', 'int', ['const char *', 'const char *', 'const char *']),
    removeLibrary: lib.func('st_host_crash_guard_remove_library', 'void', ['const char *']),
    setStep: lib.func('st_host_crash_guard_set_step', 'void', ['const char *', 'const char *']),
  };
  return fns;
}

/**
 * Installs the handlers in this process (idempotent; a second call only moves the folder) and
 * marks the calling thread with `threadRole`. Returns false where the guard does not exist
 * (Windows, or no host library), in which case everything else here is a no-op.
 */
export function installCrashGuard(recordDir: string, processRole: string, threadRole = 'control'): boolean {
  try {
    fs.mkdirSync(recordDir, { recursive: true });
    if ((guard().install(recordDir, processRole) as number) !== 0) return false;
  } catch {
    return false;
  }
  active = true;
  guard().setStep(threadRole, 'idle');
  return true;
}

/** A worker thread of a process whose guard is installed: declares the functions on this thread
 * and names it. */
export function attachCrashGuard(threadRole: string): void {
  try {
    guard().setStep(threadRole, 'idle');
    active = true;
  } catch {
    active = false;
  }
}

export function crashGuardActive(): boolean {
  return active;
}

/** Tells the handler what this thread is doing now ("list_items", "process_f32"). */
export function crashStep(step: string): void {
  if (active) fns!.setStep(null, step);
}

export function guardLibrary(mappedPath: string, pluginId: string, fingerprint: string): void {
  if (active) guard().addLibrary(mappedPath, pluginId, fingerprint);
}

export function unguardLibrary(mappedPath: string): void {
  if (active) guard().removeLibrary(mappedPath);
}

const fingerprints = new Map<string, { size: number; mtimeMs: number; ino: number; fp: string }>();

/**
 * A library build's identity: the SHA-256 of its bytes (short form). A rebuild changes it even
 * when size and time do not. Hashing runs on the event loop, so it is cached by `keyFile`'s
 * (the original library's) size, mtime and inode: a reload of an unchanged file does not rehash.
 * `file` is what is hashed (the shadow copy about to be loaded).
 */
export function libraryFingerprint(file: string, keyFile = file): string {
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(keyFile);
  } catch {
    // hash without caching
  }
  const hit = fingerprints.get(keyFile);
  if (st && hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && hit.ino === st.ino) return hit.fp;
  const fp = `sha256:${crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 32)}`;
  if (st) fingerprints.set(keyFile, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, fp });
  return fp;
}

/** libraryFingerprint's cache filled with asynchronous I/O (hashed off the loop in the thread
 * pool's read, then on it in one call), so the synchronous load that follows finds it. */
export async function prewarmLibraryFingerprint(file: string, keyFile = file): Promise<void> {
  try {
    const st = await fs.promises.stat(keyFile);
    const hit = fingerprints.get(keyFile);
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && hit.ino === st.ino) return;
    const fp = `sha256:${crypto.createHash('sha256').update(await fs.promises.readFile(file)).digest('hex').slice(0, 32)}`;
    fingerprints.set(keyFile, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, fp });
  } catch {
    // the synchronous call reports it
  }
}

export interface CrashFrame {
  pc: string;
  library: string | null;
  offset: string;
  symbol: string | null;
}

/** One record as crash_guard.c writes it. */
export interface CrashRecord {
  version: number;
  signal: string;
  signo: number;
  pluginId: string | null;
  fingerprint: string | null;
  library: string | null;
  process: string;
  pid: number;
  tid: number;
  mainThread: boolean;
  threadRole: string | null;
  threadName: string;
  step: string | null;
  faultAddress: string;
  pc: string;
  timeMs: number;
  frames: CrashFrame[];
  /** The file it was read from. */
  file: string;
}

/** Reads every crash record in `dir` (malformed files are skipped, not fatal). */
export function readCrashRecords(dir: string): CrashRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => /^crash-.*\.json$/.test(n));
  } catch {
    return [];
  }
  const out: CrashRecord[] = [];
  for (const n of names.sort()) {
    const file = path.join(dir, n);
    try {
      const r = JSON.parse(fs.readFileSync(file, 'utf8')) as CrashRecord;
      if (typeof r.signal !== 'string' || typeof r.timeMs !== 'number') continue;
      out.push({ ...r, file });
    } catch {
      // a record cut short by a second fault: nothing to learn from it
    }
  }
  return out;
}

/** Which thread a record names, in the words the checker and the log use. */
export function describeCrashThread(r: Pick<CrashRecord, 'mainThread' | 'threadRole' | 'threadName' | 'tid'>): string {
  if (r.threadRole === 'control' || (r.mainThread && !r.threadRole)) return 'the control thread';
  if (r.threadRole) return `the host's ${r.threadRole} thread`;
  return `a plugin thread (tid ${r.tid}${r.threadName ? `, "${r.threadName}"` : ''})`;
}
