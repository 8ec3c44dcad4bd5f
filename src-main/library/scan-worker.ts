// The library scanner's worker thread: owns a second connection to the library database (WAL:
// the main thread's reads never wait for these writes) and runs scans one at a time. For files
// only a decoder plugin understands, it attaches to the plugin's loaded generation (as the decode
// worker does) and asks the decoder for its metadata; the generations are let go after each scan.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { GenerationHost } from '../plugins/capability-host.js';
import { closeFileStream, openFileStream } from '../plugins/host-lib.js';
import { createInstance } from '../plugins/instances.js';
import type { CapabilityRefMsg } from './library.js';
import { needsReindex, openLibraryDb, reindexSearch, type Db } from './db.js';
import { runScan, type ScanProgress, type ScanRoot } from './scan.js';
import { tagsFromPluginJson, type TrackTags } from './tags.js';

export type ToScanner =
  | { type: 'scan'; id: number; dbFile: string; roots: ScanRoot[]; extensions: string[]; decoders: Record<string, CapabilityRefMsg[]> }
  /** Refill the search index and albums after a migration (before any scan that follows). */
  | { type: 'reindex'; dbFile: string }
  | { type: 'cancel' };

export type FromScanner =
  | { type: 'progress'; progress: ScanProgress }
  | { type: 'done'; id: number; result: ScanProgress }
  | { type: 'failed'; id: number; message: string }
  | { type: 'detached'; leaseId: number }
  | { type: 'reindexed'; tookMs: number }
  | { type: 'reindexFailed'; message: string };

if (!parentPort) throw new Error('scan-worker must run as a worker thread');

/** Nice level of the scanner thread: a scan is background work. */
export const SCANNER_NICE = 10;

// The scanner yields the CPU to the main thread: on a busy machine (two cores, other work) the
// main loop's stalls during a scan were its time waiting for a core, not work it did, and a
// scanner at the main thread's priority is one more task it waits behind. Linux nices threads
// one by one (setpriority on the thread id); elsewhere this is skipped.
function lowerThreadPriority(): void {
  if (process.platform !== 'linux') return;
  try {
    const tid = Number(path.basename(fs.readlinkSync('/proc/thread-self')));
    if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, Math.max(os.getPriority(tid), SCANNER_NICE));
  } catch {
    // No /proc or not permitted: the scan runs at the process's priority.
  }
}
lowerThreadPriority();
const port = parentPort;
const post = (m: FromScanner): void => port.postMessage(m);

let db: Db | null = null;
let dbFile = '';
let cancelled = false;
const queue: Extract<ToScanner, { type: 'scan' | 'reindex' }>[] = [];

function openDb(file: string): Db {
  if (!db || dbFile !== file) {
    db?.close();
    db = openLibraryDb(file, { busyTimeoutMs: 5000 });
    dbFile = file;
  }
  return db;
}
let running = false;

function pluginTagsWith(decoders: Record<string, CapabilityRefMsg[]>, host: GenerationHost): (file: string, ext: string) => Promise<TrackTags | null> {
  return async (file, ext) => {
    const failures: string[] = [];
    for (const cand of decoders[ext] ?? []) {
      const gen = host.attach(cand.gen);
      const stream = openFileStream(file);
      const decoder = (() => {
        try {
          return createInstance(gen, 'decoder', cand.typeId, cand.configJson);
        } catch (err) {
          closeFileStream(stream);
          throw err;
        }
      })();
      try {
        decoder.open(stream, { path: file, ext });
        const info = decoder.info();
        let json: unknown;
        try {
          json = JSON.parse(decoder.metadataJson());
        } catch (err) {
          throw new Error(`${cand.gen.pluginId}/${cand.typeId} returned metadata that is not JSON (${(err as Error).message})`);
        }
        const meta = json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
        const durationMs = info.durationFrames !== null && info.sampleRate > 0 ? Math.round((info.durationFrames * 1000) / info.sampleRate) : null;
        return tagsFromPluginJson(meta, `plugin:${cand.gen.pluginId}/${cand.typeId}`, { sampleRate: info.sampleRate, channels: info.channels, durationMs, lossless: info.lossless });
      } catch (err) {
        failures.push(`${cand.gen.pluginId}/${cand.typeId}: ${(err as Error).message}`);
      } finally {
        decoder.destroy();
        closeFileStream(stream);
      }
    }
    if (failures.length > 0) throw new Error(failures.join('; '));
    return null;
  };
}

async function runNext(): Promise<void> {
  if (running) return;
  const job = queue.shift();
  if (!job) return;
  running = true;
  if (job.type === 'reindex') {
    try {
      const t0 = performance.now();
      const d = openDb(job.dbFile);
      if (needsReindex(d)) reindexSearch(d);
      post({ type: 'reindexed', tookMs: performance.now() - t0 });
    } catch (err) {
      post({ type: 'reindexFailed', message: (err as Error).message });
    } finally {
      running = false;
      void runNext();
    }
    return;
  }
  cancelled = false;
  // Every generation main retained for this scan is handed back once (attached or not).
  const host = new GenerationHost({ onDetached: (leaseId) => post({ type: 'detached', leaseId }) });
  try {
    const result = await runScan(openDb(job.dbFile), job.roots, { extensions: job.extensions }, {
      progress: (progress) => post({ type: 'progress', progress }),
      cancelled: () => cancelled,
      pluginTags: pluginTagsWith(job.decoders, host),
    });
    post({ type: 'done', id: job.id, result });
  } catch (err) {
    post({ type: 'failed', id: job.id, message: (err as Error).message });
  } finally {
    const offered = new Set(Object.values(job.decoders).flatMap((list) => list.map((c) => c.gen.leaseId)));
    for (const leaseId of offered) host.retire(leaseId);
    running = false;
    void runNext();
  }
}

port.on('message', (m: ToScanner) => {
  if (m.type === 'cancel') {
    cancelled = true;
    return;
  }
  queue.push(m);
  void runNext();
});
