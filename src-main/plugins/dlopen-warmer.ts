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
  worker.on('message', (m: { id: number }) => {
    const done = waiting.get(m.id);
    waiting.delete(m.id);
    done?.();
  });
  worker.on('error', () => {
    // A warmer that died only costs the speed-up.
    for (const done of waiting.values()) done();
    waiting.clear();
    worker = null;
  });
  return worker;
}

/** Warms `file` (copied into `scratchDir`); resolves with a release to call once the main
 * thread has loaded it. Never rejects. */
export async function warmDlopen(file: string, scratchDir: string): Promise<() => void> {
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
    w.postMessage({ t: 'warm', id, file, copy });
  });
  return () => {
    worker?.postMessage({ t: 'release', id });
  };
}

/** Ends the warmer thread (tests, shutdown). */
export async function closeDlopenWarmer(): Promise<void> {
  const w = worker;
  worker = null;
  if (w) await w.terminate();
}
