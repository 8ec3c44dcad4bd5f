// Owner actors: exactly one per (plugin, type) for SourceCatalog and for LyricsProvider.
//
// An owner serialises everything about its capability on the main event loop: a bounded mailbox
// (a full one answers `busy` at once), a deadline per request (counted from submission), caller
// cancellation, and the instances of each plugin generation. New requests go to the current
// instance; when the plugin is reloaded, reconfigured (recreate) or disabled, that instance is
// retired: it finishes (or, on disable, cancels) its pending ops, keeps serving its open streams,
// and is destroyed when both reach zero — which releases its generation so the registry can
// unload the old library. No OS thread is created per request; plugin work runs on the plugin's
// own threads behind async ops.
import { configInForce, reconfigure } from '../plugins/capability-host.js';
import type { PluginGeneration } from '../plugins/library.js';
import {
  createInstance,
  type LyricsInstance,
  type NativeOp,
  type NativeStream,
  type SourceInstance,
} from '../plugins/instances.js';
import { PluginCallError } from '../plugins/errors.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { stallMonitor } from '../diagnostics/stall-monitor.js';
import { ControlError } from './errors.js';
import type { ControlCounters } from './metrics.js';
import { type OpResult, runOp, type RunningOp } from './op-promise.js';
import type { PluginSettingsStore } from './plugin-settings.js';

export interface OwnerConfig {
  /** Requests accepted (queued + in flight) before `busy`. */
  mailboxCapacity: number;
  /** Ops started on the plugin at once; the rest wait in the mailbox. */
  maxInFlight: number;
  /** Default deadline per request, ms. */
  deadlineMs: number;
  /** Largest JSON result accepted from a plugin, bytes. */
  maxResultBytes: number;
  /** How long a retired instance waits for ops that ignore cancel before they are destroyed. */
  zombieGraceMs: number;
}

export const defaultOwnerConfig: OwnerConfig = {
  mailboxCapacity: 128,
  maxInFlight: 32,
  deadlineMs: 12_000,
  maxResultBytes: 4 * 1024 * 1024,
  zombieGraceMs: 30_000,
};

export interface OwnerDeps {
  registry: PluginRegistry;
  settings: PluginSettingsStore;
  counters: ControlCounters;
  config: OwnerConfig;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Overrides the owner's default deadline for this request. */
  deadlineMs?: number;
}

type CatalogInstance = SourceInstance | LyricsInstance;

/** One instance and what still depends on it. */
interface Slot<I extends CatalogInstance> {
  instance: I;
  ops: Set<RunningOp<unknown>>;
  streams: Set<number>;
  retired: boolean;
  zombieTimer: NodeJS.Timeout | null;
}

interface Job<I extends CatalogInstance> {
  opName: string;
  start: (instance: I) => NativeOp;
  accept: (result: OpResult, slot: Slot<I>) => unknown;
  submittedAt: number;
  deadlineMs: number;
  signal?: AbortSignal;
  resolve: (value: unknown) => void;
  reject: (err: ControlError) => void;
  onAbort?: () => void;
  deadlineTimer?: NodeJS.Timeout;
}

export type ConfigOutcome =
  | { outcome: 'hot_applied' }
  | { outcome: 'recreated' }
  | { outcome: 'stored' }
  | { outcome: 'rejected'; reason: string };

export abstract class CatalogOwner<I extends CatalogInstance> {
  protected current: Slot<I> | null = null;
  protected readonly retired = new Set<Slot<I>>();
  private readonly mailbox: Job<I>[] = [];
  private inFlight = 0;
  private reconfiguring = false;
  private closed = false;

  constructor(
    readonly kind: 'source' | 'lyrics',
    readonly pluginId: string,
    readonly typeId: string,
    protected readonly deps: OwnerDeps,
  ) {}

  /** Requests waiting or running. */
  get load(): number {
    return this.mailbox.length + this.inFlight;
  }

  /** Live op handles (pending, or zombies waiting to be destroyed). */
  get pendingOps(): number {
    let n = 0;
    for (const s of this.slots()) n += s.ops.size;
    return n;
  }

  get liveInstances(): number {
    return (this.current ? 1 : 0) + this.retired.size;
  }

  /** The generation (lease_id) new requests go to, if an instance exists. */
  get currentLeaseId(): number | null {
    return this.current?.instance.leaseId ?? null;
  }

  /** The registry retired `gen`: move our instance of it off the request path. */
  onGenerationRetired(gen: PluginGeneration): void {
    if (this.current && this.current.instance.gen === gen) {
      // The next generation (or the next start, after a disable) picks the state up.
      this.saveState(this.current);
      this.retireSlot(this.current);
      this.current = null;
    }
    // On disable nothing replaces the generation: cancel what is pending so the caller hears now.
    queueMicrotask(() => {
      if (this.deps.registry.current(this.pluginId)) return;
      for (const slot of this.retired) {
        if (slot.instance.gen !== gen) continue;
        for (const op of slot.ops) op.cancel(`${this.pluginId} was disabled`);
      }
      this.failQueued('disabled', `${this.pluginId} was disabled`);
    });
  }

  /**
   * Applies a new config: the plugin plans it, then it is hot-applied, applied by recreating the
   * instance (state exported from the old one and imported into the new), or rejected. The
   * applied config persists.
   */
  applyConfig(config: unknown): ConfigOutcome {
    const json = JSON.stringify(config);
    const slot = this.current;
    if (!slot) {
      this.deps.settings.setConfig(this.pluginId, this.kind, this.typeId, config);
      return { outcome: 'stored' };
    }
    this.reconfiguring = true;
    try {
      let fresh: Slot<I> | null = null;
      const r = stallMonitor.section(`config apply ${this.pluginId} ${this.kind}`, () => reconfigure(slot.instance, json, (cfg, state) => {
        fresh = this.newSlot(slot.instance.gen, cfg, state);
        return fresh.instance;
      }));
      if (r.outcome === 'rejected') return { outcome: 'rejected', reason: r.reason };
      if (r.outcome === 'recreated' && fresh) {
        this.retireSlot(slot);
        this.current = fresh;
        this.deps.settings.setState(this.pluginId, this.kind, this.typeId, r.state);
      }
      this.deps.settings.setConfig(this.pluginId, this.kind, this.typeId, config);
      return { outcome: r.outcome };
    } finally {
      this.reconfiguring = false;
    }
  }

  /** Cancels everything, saves the current instance's state and destroys what can be. */
  close(): void {
    this.closed = true;
    this.failQueued('disabled', 'the app is shutting down');
    if (this.current) {
      this.saveState(this.current);
      this.retireSlot(this.current);
      this.current = null;
    }
    for (const slot of this.retired) for (const op of slot.ops) op.forceDestroy('unload');
  }

  // ---- the mailbox ------------------------------------------------------------------------------

  protected submit<T>(
    opName: string,
    start: (instance: I) => NativeOp,
    accept: (result: OpResult, slot: Slot<I>) => T,
    opts: RequestOptions = {},
  ): Promise<T> {
    const refuse = (code: ControlError['code'], message: string, outcome: 'busy' | 'rejected'): Promise<T> => {
      this.deps.counters.record(this.pluginId, opName, outcome);
      return Promise.reject(new ControlError({ code, message, pluginId: this.pluginId, op: opName }));
    };
    if (this.closed) return refuse('disabled', 'the app is shutting down', 'rejected');
    if (this.reconfiguring) return refuse('frozen', `${this.pluginId} is being reconfigured`, 'rejected');
    const gen = this.deps.registry.current(this.pluginId);
    if (!gen) {
      const status = this.deps.registry.get(this.pluginId);
      return status
        ? refuse('disabled', `${this.pluginId} is ${status.status}`, 'rejected')
        : refuse('not_found', `no plugin ${this.pluginId}`, 'rejected');
    }
    if (!gen.capability(this.kind, this.typeId)) {
      return refuse('not_found', `${this.pluginId} has no ${this.kind} "${this.typeId}"`, 'rejected');
    }
    if (this.load >= this.deps.config.mailboxCapacity) {
      return refuse('busy', `${this.pluginId}/${this.typeId} has ${this.load} requests waiting`, 'busy');
    }
    if (opts.signal?.aborted) {
      this.deps.counters.record(this.pluginId, opName, 'cancelled');
      return Promise.reject(new ControlError({ code: 'cancelled', message: 'cancelled before it started', pluginId: this.pluginId, op: opName }));
    }
    return new Promise<T>((resolve, reject) => {
      const job: Job<I> = {
        opName,
        start,
        accept,
        submittedAt: Date.now(),
        deadlineMs: opts.deadlineMs ?? this.deps.config.deadlineMs,
        signal: opts.signal,
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      // While queued, the job's own deadline and abort apply; once started, runOp takes over.
      job.deadlineTimer = setTimeout(() => this.dropQueued(job, 'timeout', `${opName} waited ${job.deadlineMs} ms in the queue`), job.deadlineMs);
      if (job.signal) {
        job.onAbort = () => this.dropQueued(job, 'cancelled', 'the caller cancelled the request');
        job.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.mailbox.push(job);
      this.pump();
    });
  }

  private dropQueued(job: Job<I>, code: 'timeout' | 'cancelled' | 'disabled', message: string): void {
    const i = this.mailbox.indexOf(job);
    if (i < 0) return;
    this.mailbox.splice(i, 1);
    this.detachQueued(job);
    this.deps.counters.record(this.pluginId, job.opName, code === 'disabled' ? 'rejected' : code);
    job.reject(new ControlError({ code, message, pluginId: this.pluginId, op: job.opName }));
  }

  private detachQueued(job: Job<I>): void {
    if (job.deadlineTimer) clearTimeout(job.deadlineTimer);
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
  }

  private failQueued(code: 'disabled', message: string): void {
    for (const job of [...this.mailbox]) this.dropQueued(job, code, message);
  }

  private pump(): void {
    while (this.inFlight < this.deps.config.maxInFlight && this.mailbox.length > 0) {
      const job = this.mailbox.shift() as Job<I>;
      this.detachQueued(job);
      this.start(job);
    }
  }

  private start(job: Job<I>): void {
    const fail = (err: ControlError): void => {
      this.deps.counters.record(this.pluginId, job.opName, err.code === 'plugin_error' ? 'failed' : 'rejected');
      job.reject(err);
    };
    let slot: Slot<I>;
    let op: NativeOp;
    try {
      slot = this.ensureCurrent();
      const instance = slot.instance;
      op = stallMonitor.section(`begin ${job.opName} ${this.pluginId}`, () => job.start(instance));
    } catch (err) {
      fail(this.asControlError(err, job.opName));
      return;
    }
    const remaining = Math.max(1, job.deadlineMs - (Date.now() - job.submittedAt));
    this.inFlight++;
    let running: RunningOp<unknown> | null = null;
    running = runOp(op, {
      deadlineMs: remaining,
      signal: job.signal,
      accept: (r) => job.accept(r, slot),
      pluginId: this.pluginId,
      opName: job.opName,
      maxResultBytes: this.deps.config.maxResultBytes,
      onOutcome: (outcome) => this.deps.counters.record(this.pluginId, job.opName, outcome),
      onDestroyed: () => {
        if (running) slot.ops.delete(running);
        this.maybeDestroy(slot);
      },
    });
    if (running.alive) slot.ops.add(running);
    running.promise.then(
      (value) => {
        this.inFlight--;
        job.resolve(value);
        this.pump();
      },
      (err: ControlError) => {
        this.inFlight--;
        job.reject(err);
        this.pump();
      },
    );
  }

  // ---- instances --------------------------------------------------------------------------------

  private ensureCurrent(): Slot<I> {
    const gen = this.deps.registry.current(this.pluginId);
    if (!gen) throw new ControlError({ code: 'disabled', message: `${this.pluginId} is not loaded`, pluginId: this.pluginId });
    if (this.current && this.current.instance.gen === gen) return this.current;
    if (this.current) {
      this.retireSlot(this.current);
      this.current = null;
    }
    const cap = gen.capability(this.kind, this.typeId);
    const config = JSON.stringify(configInForce(this.deps.settings.config(this.pluginId, this.kind, this.typeId), cap));
    this.current = this.newSlot(gen, config, this.deps.settings.state(this.pluginId, this.kind, this.typeId));
    return this.current;
  }

  private newSlot(gen: PluginGeneration, configJson: string, stateJson: string): Slot<I> {
    const instance = stallMonitor.section(`create_instance ${this.pluginId} ${this.kind}`, () => createInstance(gen, this.kind, this.typeId, configJson) as I);
    try {
      if (stateJson) stallMonitor.section(`import_state ${this.pluginId}`, () => instance.importState(stateJson));
    } catch {
      // State from an older plugin version that it no longer accepts: start fresh.
    }
    return { instance, ops: new Set(), streams: new Set(), retired: false, zombieTimer: null };
  }

  protected retireSlot(slot: Slot<I>): void {
    if (slot.retired) return;
    slot.retired = true;
    this.retired.add(slot);
    if (!this.maybeDestroy(slot) && slot.ops.size > 0) {
      // Ops that ignore cancel must not pin an old library forever.
      slot.zombieTimer = setTimeout(() => {
        for (const op of slot.ops) op.forceDestroy('unload');
      }, this.deps.config.zombieGraceMs);
      slot.zombieTimer.unref();
    }
  }

  /** Destroys a retired slot once nothing uses it; true if it was destroyed. */
  protected maybeDestroy(slot: Slot<I>): boolean {
    if (!slot.retired || slot.ops.size > 0 || slot.streams.size > 0) return false;
    if (!this.retired.delete(slot)) return false;
    if (slot.zombieTimer) clearTimeout(slot.zombieTimer);
    stallMonitor.section(`destroy ${this.pluginId} ${this.kind}`, () => slot.instance.destroy());
    return true;
  }

  private saveState(slot: Slot<I>): void {
    try {
      const state = stallMonitor.section(`export_state ${this.pluginId}`, () => slot.instance.exportState());
      stallMonitor.section('settings write', () => this.deps.settings.setState(this.pluginId, this.kind, this.typeId, state));
    } catch {
      // A plugin that fails to export keeps its previous saved state.
    }
  }

  private *slots(): Iterable<Slot<I>> {
    if (this.current) yield this.current;
    yield* this.retired;
  }

  protected asControlError(err: unknown, op: string): ControlError {
    if (err instanceof ControlError) return err;
    if (err instanceof PluginCallError) {
      return new ControlError({ code: 'plugin_error', message: err.message, pluginId: this.pluginId, op, status: err.statusName });
    }
    return new ControlError({ code: 'plugin_error', message: String((err as Error)?.message ?? err), pluginId: this.pluginId, op });
  }

  /** Parses a plugin's JSON result, enforcing the size limit. */
  protected parseJson(result: OpResult, opName: string): unknown {
    const text = result.kind === 'json' ? result.json : '';
    if (text.length > this.deps.config.maxResultBytes) {
      throw new ControlError({
        code: 'result_too_large',
        message: `${opName} returned ${text.length} bytes (limit ${this.deps.config.maxResultBytes})`,
        pluginId: this.pluginId,
        op: opName,
      });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new ControlError({
        code: 'malformed_result',
        message: `${opName} returned malformed JSON: ${(err as Error).message}`,
        pluginId: this.pluginId,
        op: opName,
      });
    }
  }
}

// ---- SourceCatalog ------------------------------------------------------------------------------

/** A plugin stream handed out by a SourceOwner; close it with closeStream. */
export interface StreamLease {
  streamId: number;
  pluginId: string;
  typeId: string;
  /** The plugin generation that opened the stream (and must close it). */
  leaseId: number;
  /** Track metadata from the plugin (e.g. {"ext":"flac"}). */
  meta: Record<string, unknown>;
  /** The raw stream for the decode worker's direct io calls. */
  stream: NativeStream;
}

let nextStreamId = 1;

export class SourceOwner extends CatalogOwner<SourceInstance> {
  private readonly openStreams = new Map<number, { slot: Slot<SourceInstance>; lease: StreamLease }>();

  constructor(pluginId: string, typeId: string, deps: OwnerDeps) {
    super('source', pluginId, typeId, deps);
  }

  get openStreamCount(): number {
    return this.openStreams.size;
  }

  listItems(request: unknown, opts?: RequestOptions): Promise<unknown> {
    return this.submit('list_items', (i) => i.beginListItems(JSON.stringify(request ?? {})), (r) => this.parseJson(r, 'list_items'), opts);
  }

  openStream(track: unknown, opts?: RequestOptions): Promise<StreamLease> {
    return this.submit(
      'open_stream',
      (i) => i.beginOpenStream(JSON.stringify(track ?? {})),
      (r, slot) => {
        if (r.kind !== 'stream') throw new ControlError({ code: 'malformed_result', message: 'open_stream yielded no stream', pluginId: this.pluginId, op: 'open_stream' });
        let meta: Record<string, unknown> = {};
        try {
          const parsed = JSON.parse(r.meta || '{}') as unknown;
          if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) meta = parsed as Record<string, unknown>;
        } catch {
          // Metadata is advisory; a stream with garbage metadata still plays (ext from the track).
        }
        const lease: StreamLease = {
          streamId: nextStreamId++,
          pluginId: this.pluginId,
          typeId: this.typeId,
          leaseId: slot.instance.leaseId,
          meta,
          stream: r.stream,
        };
        slot.streams.add(lease.streamId);
        this.openStreams.set(lease.streamId, { slot, lease });
        return lease;
      },
      opts,
    );
  }

  /** CloseStream: closes the lease on the instance (generation) that opened it. */
  closeStream(streamId: number): boolean {
    const entry = this.openStreams.get(streamId);
    if (!entry) return false;
    this.openStreams.delete(streamId);
    const { slot, lease } = entry;
    try {
      slot.instance.closeStream(lease.stream);
    } finally {
      slot.streams.delete(streamId);
      this.maybeDestroy(slot);
    }
    return true;
  }
}

// ---- LyricsProvider -----------------------------------------------------------------------------

export class LyricsOwner extends CatalogOwner<LyricsInstance> {
  constructor(pluginId: string, typeId: string, deps: OwnerDeps) {
    super('lyrics', pluginId, typeId, deps);
  }

  search(query: unknown, opts?: RequestOptions): Promise<unknown> {
    return this.submit('search', (i) => i.beginSearch(JSON.stringify(query ?? {})), (r) => this.parseJson(r, 'search'), opts);
  }

  fetch(track: unknown, opts?: RequestOptions): Promise<unknown> {
    return this.submit('fetch', (i) => i.beginFetch(JSON.stringify(track ?? {})), (r) => this.parseJson(r, 'fetch'), opts);
  }
}
