// The plugin registry: discovers libraries in the plugin folders, loads each into a generation,
// and handles enable, disable and reload. A user folder is watched (fs.watch plus a periodic
// fingerprint scan), so a dropped-in library appears without a restart, a replaced one hot-reloads
// and a deleted one is disabled. A file is loaded only once its fingerprint (size, mtime) has been
// stable for `stableMs`, so a half-written copy is not loaded.
//
// Generations: reload and disable never unload a library that is still referenced. The old
// generation is "retired" (listeners such as the source owners move their instances off it) and
// unloaded when its last reference is released.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { every } from '../beat.js';
import { stallMonitor } from '../diagnostics/stall-monitor.js';
import { warmDlopen, whenLoaderIdle } from './dlopen-warmer.js';
import { PluginLoadError, type PluginLoadErrorCode } from './errors.js';
import { libraryFingerprint, prewarmLibraryFingerprint } from './crash-guard.js';
import { type CapabilityInfo, discardShadowCopy, type PluginMetadata, PluginGeneration, prepareShadowCopy } from './library.js';
import type { QuarantineBook, QuarantineEntry } from './quarantine.js';

export type PluginOrigin = 'builtin' | 'user';

export interface PluginFolder {
  dir: string;
  origin: PluginOrigin;
  /** Watch for added, replaced and deleted libraries. */
  watch: boolean;
}

export interface RegistryOptions {
  folders: PluginFolder[];
  /** Root of the per-plugin data folders. */
  dataRoot: string;
  /** Where shadow copies of loaded libraries live. */
  shadowDir: string;
  /** Plugin ids that start disabled (persisted by the caller). */
  disabledIds?: Iterable<string>;
  /** How long a new or changed file must keep its fingerprint before it is loaded. */
  stableMs?: number;
  /** Interval of the fallback fingerprint scan of watched folders (0 disables it). */
  pollMs?: number;
  log?: (source: string, level: number, message: string) => void;
  /** Builds that crashed the player; they are not loaded until let in (enableAnyway). */
  quarantine?: QuarantineBook;
}

export type PluginStatusName = 'loaded' | 'disabled' | 'failed' | 'removed' | 'quarantined';

/** What the UI and the IPC layer see of a plugin library. Plain data. */
export interface PluginStatus {
  path: string;
  origin: PluginOrigin;
  status: PluginStatusName;
  pluginId: string | null;
  metadata: PluginMetadata | null;
  capabilities: CapabilityInfo[];
  error: { code: PluginLoadErrorCode; message: string } | null;
  /** lease_id of the current generation, if loaded. */
  leaseId: number | null;
  /** Generations of this library still mapped because something references them. */
  retiredGenerations: number;
  /** Why the file's build is kept out (it crashed the player), when it is. */
  quarantine: QuarantineEntry | null;
}

interface Fingerprint {
  size: number;
  mtimeMs: number;
}

interface PluginRecord {
  path: string;
  origin: PluginOrigin;
  fingerprint: Fingerprint | null;
  /** Fingerprint seen but not yet stable: when it was first seen. */
  candidate: { fp: Fingerprint; since: number } | null;
  status: PluginStatusName;
  error: { code: PluginLoadErrorCode; message: string } | null;
  metadata: PluginMetadata | null;
  capabilities: CapabilityInfo[];
  current: PluginGeneration | null;
  retired: Set<PluginGeneration>;
  quarantine: QuarantineEntry | null;
}

const LIBRARY_EXT = /\.(so|dll|dylib)$/i;

export interface RegistryEvents {
  /** A library's status changed (loaded, failed, disabled, reloaded, removed). */
  changed: [status: PluginStatus];
  /** A generation stopped being current; holders must move new work off it. */
  retired: [gen: PluginGeneration];
  /** A generation became current. */
  activated: [gen: PluginGeneration];
  /** A retired generation was shut down and unloaded. */
  unloaded: [pluginId: string, leaseId: number];
}

export class PluginRegistry extends EventEmitter<RegistryEvents> {
  private readonly records = new Map<string, PluginRecord>();
  private readonly disabled: Set<string>;
  private readonly watchers: fs.FSWatcher[] = [];
  private stopPoll: (() => void) | null = null;
  private scanQueued: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private nextLeaseId = 1;
  private readonly unloads = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly opts: RegistryOptions) {
    super();
    this.disabled = new Set(opts.disabledIds ?? []);
  }

  /** Scans every folder once (loading what is there) and starts watching. */
  async start(): Promise<void> {
    await this.scan({ initial: true });
    for (const folder of this.opts.folders) {
      if (!folder.watch) continue;
      fs.mkdirSync(folder.dir, { recursive: true });
      const watcher = fs.watch(folder.dir, { persistent: false }, () => this.queueScan());
      watcher.on('error', () => this.queueScan());
      this.watchers.push(watcher);
    }
    const pollMs = this.opts.pollMs ?? 2000;
    if (pollMs > 0 && this.opts.folders.some((f) => f.watch)) {
      // On the shared beat, and scanned in the same wake-up (no debounce: nothing to coalesce).
      this.stopPoll = every(pollMs, () => {
        if (this.closed || this.scanQueued || this.scanning) return;
        void stallMonitor.dispatch('plugin folder scan', () => this.scan());
      });
    }
  }

  /** Current status of every known library, sorted by path. */
  list(): PluginStatus[] {
    return [...this.records.values()].sort((a, b) => a.path.localeCompare(b.path)).map((r) => this.statusOf(r));
  }

  /** Status of the library providing `pluginId`. */
  get(pluginId: string): PluginStatus | null {
    const r = this.recordById(pluginId);
    return r ? this.statusOf(r) : null;
  }

  /** The current generation of `pluginId`, or null if not loaded. */
  current(pluginId: string): PluginGeneration | null {
    return this.recordById(pluginId)?.current ?? null;
  }

  /** Every current generation (for capability lookup). */
  loaded(): PluginGeneration[] {
    return [...this.records.values()].flatMap((r) => (r.current ? [r.current] : []));
  }

  /** Counts for diagnostics. */
  counts(): { libraries: number; loaded: number; failed: number; disabled: number; generations: number } {
    let loaded = 0;
    let failed = 0;
    let disabled = 0;
    let generations = 0;
    for (const r of this.records.values()) {
      if (r.status === 'loaded') loaded++;
      if (r.status === 'failed') failed++;
      if (r.status === 'disabled') disabled++;
      generations += (r.current ? 1 : 0) + r.retired.size;
    }
    return { libraries: this.records.size, loaded, failed, disabled, generations };
  }

  disabledIds(): string[] {
    return [...this.disabled].sort();
  }

  /** Disables a plugin: its generation is retired and unloaded once unreferenced. */
  async disable(pluginId: string): Promise<PluginStatus> {
    const r = this.requireRecord(pluginId);
    this.disabled.add(pluginId);
    this.retireCurrent(r);
    r.status = 'disabled';
    return this.changed(r);
  }

  /** Enables a disabled plugin (loads a new generation). */
  async enable(pluginId: string): Promise<PluginStatus> {
    const r = this.requireRecord(pluginId);
    this.disabled.delete(pluginId);
    if (!r.current) await this.loadRecordWarm(r);
    return this.changed(r);
  }

  /** "Enable anyway": lets the quarantined build of the library at `file` load. */
  async enableAnyway(file: string): Promise<PluginStatus> {
    const r = this.records.get(file);
    if (!r || r.status === 'removed') throw new PluginLoadError('io', `no plugin library at ${file}`, file);
    const book = this.opts.quarantine;
    if (book && r.quarantine) book.allow(r.quarantine.fingerprint);
    const id = r.quarantine?.pluginId;
    if (id) this.disabled.delete(id);
    r.quarantine = null;
    this.loadRecord(r);
    return this.changed(r);
  }

  /**
   * Quarantines loaded builds that crashed another process of this player (the audio process):
   * their generation retires now instead of at the next start, so a restarted process does not
   * load them again.
   */
  quarantineRunning(entries: QuarantineEntry[]): PluginStatus[] {
    const out: PluginStatus[] = [];
    for (const e of entries) {
      for (const r of this.records.values()) {
        if (!r.current || r.current.fingerprint !== e.fingerprint) continue;
        this.retireCurrent(r);
        r.status = 'quarantined';
        r.quarantine = e;
        r.metadata = null;
        r.capabilities = [];
        r.error = { code: 'quarantined', message: `this build crashed the ${e.process} process (${e.signal}${e.step ? ` in ${e.step}` : ''}); unloaded` };
        out.push(this.changed(r));
      }
    }
    return out;
  }

  /** Loads a fresh generation from the file and retires the old one. */
  async reload(pluginId: string): Promise<PluginStatus> {
    const r = this.requireRecord(pluginId);
    if (this.disabled.has(pluginId)) throw new PluginLoadError('io', `${pluginId} is disabled`, r.path);
    await this.loadRecordWarm(r);
    return this.changed(r);
  }

  /** Rescans the folders now (also run by the watcher and the poll timer). */
  scan(opts: { initial?: boolean } = {}): Promise<void> {
    if (this.scanning) return this.scanning.then(() => this.scan(opts));
    this.scanning = this.scanOnce(opts.initial ?? false).finally(() => {
      this.scanning = null;
    });
    return this.scanning;
  }

  /** Retires everything and waits until every generation is unloaded. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.watchers) w.close();
    this.stopPoll?.();
    if (this.scanQueued) clearTimeout(this.scanQueued);
    await this.scanning;
    for (const r of this.records.values()) this.retireCurrent(r);
    await Promise.all([...this.unloads]);
  }

  /** Waits for unloads in progress (tests). */
  async settled(): Promise<void> {
    await this.scanning;
    await Promise.all([...this.unloads]);
  }

  // ---- internals ------------------------------------------------------------------------------

  private queueScan(): void {
    if (this.closed || this.scanQueued) return;
    this.scanQueued = setTimeout(() => {
      this.scanQueued = null;
      void stallMonitor.dispatch('plugin folder scan', () => this.scan());
    }, 50);
    this.scanQueued.unref();
  }

  private listLibraries(folder: PluginFolder): string[] {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(folder.dir, { withFileTypes: true });
    } catch {
      return [];
    }
    const files: string[] = [];
    for (const e of entries) {
      const full = path.join(folder.dir, e.name);
      if (e.isFile() && LIBRARY_EXT.test(e.name)) files.push(full);
      else if (e.isDirectory()) {
        // One level of subfolders: <plugins>/<name>/<library>.
        try {
          for (const sub of fs.readdirSync(full, { withFileTypes: true })) {
            if (sub.isFile() && LIBRARY_EXT.test(sub.name)) files.push(path.join(full, sub.name));
          }
        } catch {
          // unreadable subfolder: skip
        }
      }
    }
    return files.sort();
  }

  private async scanOnce(initial: boolean): Promise<void> {
    if (this.closed) return;
    const seen = new Set<string>();
    const stableMs = this.opts.stableMs ?? 500;
    let needRecheck = false;
    for (const folder of this.opts.folders) {
      for (const file of this.listLibraries(folder)) {
        seen.add(file);
        let fp: Fingerprint;
        try {
          const st = fs.statSync(file);
          fp = { size: st.size, mtimeMs: st.mtimeMs };
        } catch {
          continue;
        }
        let r = this.records.get(file);
        if (!r) {
          r = {
            path: file,
            origin: folder.origin,
            fingerprint: null,
            candidate: null,
            status: 'failed',
            error: null,
            metadata: null,
            capabilities: [],
            current: null,
            retired: new Set(),
            quarantine: null,
          };
          this.records.set(file, r);
        }
        if (r.fingerprint && sameFp(r.fingerprint, fp) && r.status !== 'removed') continue;
        // Built-in folders and the first scan trust the files as they are; watched folders wait
        // until a new or changed file stops changing.
        const trust = initial || !folder.watch;
        if (!trust) {
          if (!r.candidate || !sameFp(r.candidate.fp, fp)) {
            r.candidate = { fp, since: Date.now() };
            needRecheck = true;
            continue;
          }
          if (Date.now() - r.candidate.since < stableMs) {
            needRecheck = true;
            continue;
          }
        }
        r.candidate = null;
        r.fingerprint = fp;
        if (r.metadata && this.disabled.has(r.metadata.id)) {
          r.status = 'disabled';
          this.changed(r);
          continue;
        }
        await this.loadRecordWarm(r);
        this.changed(r);
        // One library per turn of the event loop: a folder of plugins (start-up loads them all)
        // must not block the loop for the sum of their dlopens.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    for (const r of this.records.values()) {
      if (seen.has(r.path) || r.status === 'removed') continue;
      this.retireCurrent(r);
      r.status = 'removed';
      r.fingerprint = null;
      this.changed(r);
      if (r.retired.size === 0) this.records.delete(r.path);
    }
    if (needRecheck && !this.closed) {
      const t = setTimeout(() => this.queueScan(), stableMs);
      t.unref();
    }
  }

  /** loadRecord with the file work done off the loop first: the library's dependencies dlopened
   * by the warmer thread, the shadow copy written and the file hashed with asynchronous I/O (the
   * stall monitor measured the synchronous copy at up to 78 ms of loop block). */
  private async loadRecordWarm(r: PluginRecord): Promise<void> {
    const prepared: { shadow: string | null } = { shadow: null };
    const [release] = await Promise.all([
      // A reload needs no warming: the generation still loaded holds the dependencies mapped, so
      // the new copy's dlopen maps only the plugin itself. And a warmer thread inside dlopen holds
      // the loader lock that a plugin's first op takes on the main thread when it starts its
      // worker threads (pthread_create allocates TLS under it): scenario C saw such calls block
      // the loop ~50 ms off CPU, and a C test 170 ms.
      r.current ? (): void => {} : warmDlopen(r.path, this.opts.shadowDir),
      prepareShadowCopy(r.path, this.opts.shadowDir).then(
        async (shadow) => {
          prepared.shadow = shadow;
          await prewarmLibraryFingerprint(shadow, r.path);
        },
        () => {}, // the synchronous copy reports why
      ),
    ]);
    await whenLoaderIdle();
    try {
      if (this.closed) return;
      this.loadRecord(r, prepared);
    } finally {
      if (prepared.shadow) void discardShadowCopy(prepared.shadow);
      release();
    }
  }

  /** Loads a new generation for `r`; on success it becomes current and the old one retires. */
  private loadRecord(r: PluginRecord, prepared?: { shadow: string | null }): void {
    const book = this.opts.quarantine;
    if (book && !book.empty) {
      let fp: string | null = null;
      try {
        fp = libraryFingerprint(r.path);
      } catch {
        // unreadable: the load below reports it
      }
      const blocking = fp ? book.blocking(fp) : null;
      if (blocking) {
        const at = new Date(blocking.atMs).toLocaleTimeString();
        const message = `this build crashed the player at ${at} (${blocking.signal}${blocking.step ? ` in ${blocking.step}` : ''}); not loaded`;
        r.error = { code: 'quarantined', message };
        // A quarantined replacement leaves the previous build serving.
        if (!r.current) {
          r.status = 'quarantined';
          r.quarantine = blocking;
          r.metadata = null;
          r.capabilities = [];
        }
        return;
      }
    }
    r.quarantine = null;
    let gen: PluginGeneration;
    try {
      gen = stallMonitor.section(`load ${path.basename(r.path)}`, () => PluginGeneration.load(r.path, {
        shadowDir: this.opts.shadowDir,
        dataRoot: this.opts.dataRoot,
        leaseId: this.nextLeaseId++,
        log: this.opts.log,
        prepared,
      }));
    } catch (err) {
      const e = err instanceof PluginLoadError ? err : new PluginLoadError('io', String(err), r.path);
      // A failed reload keeps the previous generation running.
      if (!r.current) {
        r.status = 'failed';
        r.metadata = null;
        r.capabilities = [];
      }
      r.error = { code: e.code, message: e.message };
      return;
    }
    const owner = [...this.records.values()].find(
      (o) => o !== r && o.metadata?.id === gen.pluginId && (o.current || o.status === 'disabled'),
    );
    if (owner) {
      this.trackUnload(gen);
      r.status = 'failed';
      r.current = null;
      r.metadata = null;
      r.capabilities = [];
      r.error = { code: 'duplicate_id', message: `plugin id ${gen.pluginId} is already provided by ${owner.path}` };
      return;
    }
    r.metadata = gen.metadata;
    r.capabilities = gen.capabilities;
    r.error = null;
    if (this.disabled.has(gen.pluginId)) {
      this.trackUnload(gen);
      r.status = 'disabled';
      return;
    }
    this.retireCurrent(r);
    r.current = gen;
    r.status = 'loaded';
    this.emit('activated', gen);
  }

  private retireCurrent(r: PluginRecord): void {
    const old = r.current;
    if (!old) return;
    r.current = null;
    old.state = 'retired';
    r.retired.add(old);
    this.emit('retired', old);
    const finish = (): void => {
      const p = old.unload().finally(() => {
        r.retired.delete(old);
        this.unloads.delete(p);
        this.emit('unloaded', old.pluginId, old.leaseId);
        if (r.status === 'removed' && r.retired.size === 0 && !r.current) this.records.delete(r.path);
      });
      this.unloads.add(p);
    };
    if (old.refs === 0) finish();
    else old.onIdle(finish);
  }

  /** Unloads a generation that never became current. */
  private trackUnload(gen: PluginGeneration): void {
    gen.state = 'retired';
    const p = gen.unload().finally(() => this.unloads.delete(p));
    this.unloads.add(p);
  }

  private recordById(pluginId: string): PluginRecord | undefined {
    for (const r of this.records.values()) if ((r.metadata?.id ?? r.quarantine?.pluginId) === pluginId && r.status !== 'removed') return r;
    return undefined;
  }

  private requireRecord(pluginId: string): PluginRecord {
    const r = this.recordById(pluginId);
    if (!r) throw new PluginLoadError('io', `no plugin with id ${pluginId}`, '');
    return r;
  }

  private statusOf(r: PluginRecord): PluginStatus {
    return {
      path: r.path,
      origin: r.origin,
      status: r.status,
      pluginId: r.metadata?.id ?? r.quarantine?.pluginId ?? null,
      metadata: r.metadata,
      capabilities: r.capabilities,
      error: r.error,
      leaseId: r.current?.leaseId ?? null,
      retiredGenerations: r.retired.size,
      quarantine: r.quarantine,
    };
  }

  private changed(r: PluginRecord): PluginStatus {
    const s = this.statusOf(r);
    this.emit('changed', s);
    return s;
  }
}

function sameFp(a: Fingerprint, b: Fingerprint): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs;
}
