// Loads a library's dependencies off the event loop before the registry's (synchronous) load:
// a worker thread dlopens a private copy first, so the main thread's dlopen of its shadow copy
// only maps the plugin itself. Measured by the stall monitor: the FFmpeg decoder's dlopen took
// 55–236 ms on the loop (libav* relocation) before this.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

let worker: Worker | null = null;
let nextId = 1;
const waiting = new Map<number, () => void>();

// The dynamic loader holds one lock while it maps or unmaps a library. A main-thread dlopen or
// dlclose while the warmer thread is inside one waits for it: the stall monitor saw a dlclose
// block the loop 105–157 ms, off CPU and not runnable, during reloads. So the main thread does
// its own loader calls when the warmer has nothing in hand (whenLoaderIdle).
let inHand = 0;
let idleWaiters: (() => void)[] = [];

function settle(): void {
  inHand = Math.max(0, inHand - 1);
  if (inHand > 0) return;
  const ready = idleWaiters;
  idleWaiters = [];
  for (const go of ready) go();
}

/** Resolves when the warmer thread holds no warm or release request (at once when it is idle),
 * or after `timeoutMs` (a stuck warmer must not hold a load or an unload back). */
export function whenLoaderIdle(timeoutMs = 2000): Promise<void> {
  if (inHand === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    idleWaiters.push(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function workerFile(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, 'dlopen-warmer-worker.js');
  if (fs.existsSync(beside)) return beside;
  // Tests run this file from source: the built worker.
  const built = path.resolve(here, '..', '..', 'dist', 'src-main', 'plugins', 'dlopen-warmer-worker.js');
  return fs.existsSync(built) ? built : null;
}

function ensureWorker(): Worker | null {
  if (worker) return worker;
  const file = workerFile();
  if (!file) return null;
  worker = new Worker(file);
  worker.unref();
  worker.on('message', (m: { id: number; released?: boolean }) => {
    settle();
    if (m.released) return;
    const done = waiting.get(m.id);
    waiting.delete(m.id);
    done?.();
  });
  worker.on('error', () => {
    // A warmer that died only costs the speed-up.
    for (const done of waiting.values()) done();
    waiting.clear();
    worker = null;
    inHand = 1;
    settle();
  });
  return worker;
}

/** Warm requests made so far (tests: a reload makes none). */
export let warmRequests = 0;

/** Warms `file` (copied into `scratchDir`); resolves with a release to call once the main
 * thread has loaded it. Never rejects. */
export async function warmDlopen(file: string, scratchDir: string): Promise<() => void> {
  warmRequests++;
  // Windows cannot delete a loaded DLL's file (the copy would linger): there the load stays as is.
  if (process.platform === 'win32') return () => {};
  const w = ensureWorker();
  if (!w) return () => {};
  const id = nextId++;
  fs.mkdirSync(scratchDir, { recursive: true });
  const copy = path.join(scratchDir, `warm-${process.pid}-${id}-${path.basename(file)}`);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000); // a stuck warmer must not stall a load
    waiting.set(id, () => {
      clearTimeout(timer);
      resolve();
    });
    inHand++;
    w.postMessage({ t: 'warm', id, file, copy });
  });
  return () => {
    if (!worker) return;
    inHand++;
    worker.postMessage({ t: 'release', id });
  };
}

/** Ends the warmer thread (tests, shutdown). */
export async function closeDlopenWarmer(): Promise<void> {
  const w = worker;
  worker = null;
  if (w) await w.terminate();
  inHand = 1;
  settle();
}
