// Tags for queue entries as soon as they are added (not only when they play): every new file entry
// without tags or cover goes to the tag worker (music-metadata on a worker thread), in batches, and
// what it finds is patched into the queue in one event per batch. Entries the worker cannot read
// get the decoder's tags when they play (engine.ts). Also the cover file per entry, for MPRIS.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { runnableEntry } from '../engine/runnable.js';
import type { PlayerEngine, TrackUpdate } from '../engine/player-engine.js';
import type { PlayerEvent, TrackInfo } from '../../src-shared/player-types.js';
import type { TagReply, TagRequest, TagWorkerData } from '../tag-worker/protocol.js';

export interface QueueTagsOptions {
  engine: PlayerEngine;
  /** The cover cache (files named by content hash). */
  coversDir: string;
  /** The URL the renderer loads a cached cover file from (none: the renderer shows no covers). */
  coverUrl?: (coverFile: string) => string | undefined;
  log?: (message: string) => void;
}

const BATCH = 32;
/** Updates are patched into the queue at most this often: each patch sends the whole queue to
 * the renderer, so 10,000 files added at once must not mean 300 queue events. */
const FLUSH_MS = 250;

export class QueueTags {
  private readonly worker: Worker;
  private readonly seen = new Set<string>();
  private pending: TrackInfo[] = [];
  private inFlight: number | null = null;
  private nextId = 1;
  private readonly coverFiles = new Map<string, string>();
  private readonly onEvent: (e: PlayerEvent) => void;
  private closed = false;
  private updates: TrackUpdate[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  /** Resolves whenever the worker has nothing left to do (tests, benchmarks). */
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: QueueTagsOptions) {
    this.worker = new Worker(runnableEntry('tag-worker/tag-worker.js'), { workerData: { coversDir: opts.coversDir } satisfies TagWorkerData });
    this.worker.unref();
    this.worker.on('message', (m: TagReply) => this.onReply(m));
    this.worker.on('error', (err) => opts.log?.(`tag worker: ${err.message}`));
    this.onEvent = (e) => {
      if (e.type === 'queue') this.scan(e.queue.tracks);
    };
    opts.engine.on('event', this.onEvent);
    this.scan(opts.engine.queue().tracks);
  }

  /** The cover of an entry as a file:// URL (for MPRIS, which loads files itself). */
  artUrl(track: TrackInfo): string | undefined {
    const file = this.coverFiles.get(track.id);
    return file ? pathToFileURL(file).href : undefined;
  }

  /** Resolves when every entry seen so far has been read. */
  idle(): Promise<void> {
    if (this.inFlight === null && this.pending.length === 0 && this.updates.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private scan(tracks: readonly TrackInfo[]): void {
    const ids = new Set<string>();
    for (const t of tracks) {
      ids.add(t.id);
      if (this.seen.has(t.id)) continue;
      this.seen.add(t.id);
      const untagged = t.artist === undefined && t.album === undefined;
      if (t.source.kind === 'file' && (untagged || t.durationMs === undefined || t.cover === undefined)) this.pending.push(t);
    }
    // Forget entries that left the queue.
    for (const id of this.seen) if (!ids.has(id)) this.seen.delete(id);
    for (const id of this.coverFiles.keys()) if (!ids.has(id)) this.coverFiles.delete(id);
    this.pending = this.pending.filter((t) => ids.has(t.id));
    this.pump();
  }

  private batch: TrackInfo[] = [];

  private pump(): void {
    if (this.closed || this.inFlight !== null) return;
    if (this.pending.length === 0) {
      if (this.updates.length === 0) for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    this.batch = this.pending.splice(0, BATCH);
    const id = this.nextId++;
    this.inFlight = id;
    this.worker.postMessage({ id, files: this.batch.map((t) => (t.source.kind === 'file' ? t.source.path : '')) } satisfies TagRequest);
  }

  private onReply(m: TagReply): void {
    if (m.id !== this.inFlight) return;
    this.inFlight = null;
    const updates: TrackUpdate[] = [];
    m.results.forEach((r, i) => {
      const t = this.batch[i];
      if (!t || !this.seen.has(t.id)) return;
      const tags: TrackUpdate['tags'] = {};
      if (r.title) tags.title = r.title;
      if (r.artist) tags.artist = r.artist;
      if (r.album) tags.album = r.album;
      if (r.albumArtist) tags.albumArtist = r.albumArtist;
      if (r.trackNo !== undefined) tags.trackNo = r.trackNo;
      if (r.discNo !== undefined) tags.discNo = r.discNo;
      if (r.durationMs !== undefined && t.durationMs === undefined) tags.durationMs = r.durationMs;
      if (r.coverFile) {
        this.coverFiles.set(t.id, r.coverFile);
        const url = this.opts.coverUrl?.(r.coverFile);
        if (url) tags.cover = url;
      }
      if (!r.ok && r.error) this.opts.log?.(`no tags in ${path.basename(t.source.kind === 'file' ? t.source.path : t.title)}: ${r.error}`);
      if (Object.keys(tags).length > 0) updates.push({ id: t.id, tags });
    });
    this.batch = [];
    this.updates.push(...updates);
    this.scheduleFlush();
    this.pump();
  }

  /** The first results go out at once (a few files added: no delay), later ones in bunches. */
  private scheduleFlush(): void {
    if (this.flushTimer || this.updates.length === 0 || this.closed) return;
    const wait = Math.max(0, this.lastFlush + FLUSH_MS - Date.now());
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.lastFlush = Date.now();
      const updates = this.updates;
      this.updates = [];
      if (!this.closed) this.opts.engine.queueUpdate(updates);
      if (this.inFlight === null && this.pending.length === 0) for (const w of this.idleWaiters.splice(0)) w();
    }, wait);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.opts.engine.off('event', this.onEvent);
    for (const w of this.idleWaiters.splice(0)) w();
    await this.worker.terminate();
  }
}
