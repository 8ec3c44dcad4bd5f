// The control plane of the main process: the plugin registry, the persisted plugin settings, one
// owner per (plugin, type) for sources and lyrics, and the metrics. Everything the IPC layer asks
// of plugins goes through here; it never blocks the event loop on plugin work.
import fs from 'node:fs';
import path from 'node:path';
import type { AppPaths } from '../app-paths.js';
import type { CapabilityKindName } from '../plugins/library.js';
import { PluginRegistry, type PluginFolder, type PluginStatus, type RegistryOptions } from '../plugins/registry.js';
import { pendingNotifyListeners } from '../plugins/host-callbacks.js';
import { QuarantineBook } from '../plugins/quarantine.js';
import { configInForce } from '../plugins/capability-host.js';
import { validateConfig } from './config-schema.js';
import { ControlError } from './errors.js';
import { ControlCounters, EventLoopMonitor, type LoopDelaySnapshot, type OpCounters } from './metrics.js';
import {
  type ConfigOutcome,
  defaultOwnerConfig,
  LyricsOwner,
  type OwnerConfig,
  type OwnerDeps,
  type RequestOptions,
  SourceOwner,
  type StreamLease,
} from './owners.js';
import { PluginSettingsStore } from './plugin-settings.js';
import { type SecretCipher, type SecretHolder, isPlainObject, secretFields } from './secret-store.js';
import { openSecretStore } from './secret-vault.js';
import { ownerTag, sweepStaleFiles } from '../plugins/stale-files.js';

export interface ControlPlaneOptions {
  paths: Pick<AppPaths, 'userPlugins' | 'pluginData' | 'shadow' | 'settings' | 'builtinPlugins'> & Partial<Pick<AppPaths, 'crashes'>>;
  /** More plugin folders (tests add the fixture folder). */
  extraFolders?: PluginFolder[];
  owner?: Partial<OwnerConfig>;
  registry?: Pick<RegistryOptions, 'stableMs' | 'pollMs' | 'log'>;
  /** Watch the user plugin folder (default true). */
  watchUserFolder?: boolean;
  /** Where plugin secrets go: the OS keyring when `keyring` and one answers, else 0600 files
   * (sealed with `cipher` when given). Default: files. */
  secrets?: { keyring?: boolean; cipher?: SecretCipher };
}

export interface LiveCounts {
  pendingOps: number;
  openStreams: number;
  liveInstances: number;
  loadedGenerations: number;
  notifierRegistrations: number;
}

export interface ControlMetrics {
  eventLoop: LoopDelaySnapshot;
  ops: OpCounters[];
  live: LiveCounts;
  plugins: ReturnType<PluginRegistry['counts']>;
}

export interface CapabilityRef {
  pluginId: string;
  pluginName: string;
  typeId: string;
  displayName: string;
  configSchema: unknown;
  defaultConfig: unknown;
  config: unknown;
}

export class ControlPlane {
  readonly registry: PluginRegistry;
  readonly settings: PluginSettingsStore;
  readonly counters = new ControlCounters();
  readonly loop = new EventLoopMonitor();
  private readonly sources = new Map<string, SourceOwner>();
  private readonly lyricsOwners = new Map<string, LyricsOwner>();
  private readonly deps: OwnerDeps;
  /** Builds that crashed the player (null when this core keeps no crash records). */
  readonly quarantine: QuarantineBook | null;

  /** This core's own shadow-copy folder (see stale-files.ts). */
  private readonly shadowDir: string;
  /** The host's log, for what goes wrong while closing. */
  private readonly hostLog: ((level: number, message: string) => void) | undefined;

  private constructor(opts: ControlPlaneOptions, secrets: SecretHolder) {
    this.hostLog = opts.registry?.log ? (level, message) => opts.registry?.log?.('host', level, message) : undefined;
    // Before anything is loaded or written: what killed cores left behind goes.
    const swept = sweepStaleFiles(opts.paths.shadow, [opts.paths.settings, path.join(opts.paths.settings, 'plugins'), path.join(opts.paths.settings, 'secrets')]);
    if (swept.shadowCopies + swept.tempFiles > 0) {
      opts.registry?.log?.('host', 2, `removed ${swept.shadowCopies} stale shadow copies and ${swept.tempFiles} temp files left by stopped cores`);
    }
    this.shadowDir = path.join(opts.paths.shadow, ownerTag());
    this.settings = new PluginSettingsStore(path.join(opts.paths.settings, 'plugins'), {
      secrets,
      secretFields: (pluginId, kind, typeId) => secretFields(this.registry.current(pluginId)?.capability(kind as CapabilityKindName, typeId)?.configSchema),
    });
    // Plugin log lines and the host's own carry no secret: a plugin that logs its password (or a
    // URL with it) is logged with *** in its place.
    const rawLog = opts.registry?.log;
    const log = rawLog ? (source: string, level: number, message: string): void => rawLog(source, level, this.settings.scrub(message)) : undefined;
    this.quarantine = opts.paths.crashes
      ? new QuarantineBook(opts.paths.crashes, path.join(opts.paths.settings, 'quarantine.json'), (m) => log?.('crash guard', 1, m))
      : null;
    this.registry = new PluginRegistry({
      folders: [
        { dir: opts.paths.builtinPlugins, origin: 'builtin', watch: false },
        { dir: opts.paths.userPlugins, origin: 'user', watch: opts.watchUserFolder ?? true },
        ...(opts.extraFolders ?? []),
      ],
      dataRoot: opts.paths.pluginData,
      shadowDir: this.shadowDir,
      disabledIds: this.settings.disabledIds(),
      ...opts.registry,
      ...(log ? { log } : {}),
      ...(this.quarantine ? { quarantine: this.quarantine } : {}),
    });
    this.deps = {
      registry: this.registry,
      settings: this.settings,
      counters: this.counters,
      config: { ...defaultOwnerConfig, ...opts.owner },
    };
    this.registry.on('retired', (gen) => {
      for (const owner of this.ownersOf(gen.pluginId)) owner.onGenerationRetired(gen);
    });
  }

  static async start(opts: ControlPlaneOptions): Promise<ControlPlane> {
    const secrets = await openSecretStore({
      dir: path.join(opts.paths.settings, 'secrets'),
      ...opts.secrets,
      ...(opts.registry?.log ? { log: (m: string) => opts.registry?.log?.('host', 2, m) } : {}),
    });
    if (opts.secrets?.keyring) opts.registry?.log?.('host', 2, `plugin secrets are kept in ${secrets.backend}`);
    const cp = new ControlPlane(opts, secrets);
    await cp.registry.start();
    if (opts.paths.crashes) cp.watchCrashes(opts.paths.crashes);
    return cp;
  }

  private crashWatcher: fs.FSWatcher | null = null;

  /** A record written by another process of this player (the audio process, which the engine
   * restarts) quarantines that build at once, not only at the next start. */
  private watchCrashes(dir: string): void {
    const book = this.quarantine;
    if (!book) return;
    let queued: NodeJS.Timeout | null = null;
    try {
      fs.mkdirSync(dir, { recursive: true });
      this.crashWatcher = fs.watch(dir, { persistent: false }, () => {
        if (queued) return;
        queued = setTimeout(() => {
          queued = null;
          const blamed = book.absorbRecords();
          const entries = blamed.flatMap((r) => (r.fingerprint ? [book.entry(r.fingerprint)!] : []));
          if (entries.length) this.registry.quarantineRunning(entries);
        }, 20);
      });
      this.crashWatcher.on('error', () => this.crashWatcher?.close());
    } catch {
      // no live quarantine; the next start still applies the records
    }
  }

  // ---- sources and lyrics ---------------------------------------------------------------------

  source(pluginId: string, typeId: string): SourceOwner {
    const key = `${pluginId}\u0000${typeId}`;
    let owner = this.sources.get(key);
    if (!owner) {
      owner = new SourceOwner(pluginId, typeId, this.deps);
      this.sources.set(key, owner);
    }
    return owner;
  }

  lyrics(pluginId: string, typeId: string): LyricsOwner {
    const key = `${pluginId}\u0000${typeId}`;
    let owner = this.lyricsOwners.get(key);
    if (!owner) {
      owner = new LyricsOwner(pluginId, typeId, this.deps);
      this.lyricsOwners.set(key, owner);
    }
    return owner;
  }

  listItems(pluginId: string, typeId: string, request: unknown, opts?: RequestOptions): Promise<unknown> {
    return this.source(pluginId, typeId).listItems(request, opts);
  }

  openStream(pluginId: string, typeId: string, track: unknown, opts?: RequestOptions): Promise<StreamLease> {
    return this.source(pluginId, typeId).openStream(track, opts);
  }

  closeStream(lease: Pick<StreamLease, 'pluginId' | 'typeId' | 'streamId'>): boolean {
    return this.source(lease.pluginId, lease.typeId).closeStream(lease.streamId);
  }

  searchLyrics(pluginId: string, typeId: string, query: unknown, opts?: RequestOptions): Promise<unknown> {
    return this.lyrics(pluginId, typeId).search(query, opts);
  }

  fetchLyrics(pluginId: string, typeId: string, track: unknown, opts?: RequestOptions): Promise<unknown> {
    return this.lyrics(pluginId, typeId).fetch(track, opts);
  }

  /** Loaded capabilities of one kind, with their schemas and the config in force. */
  capabilities(kind: CapabilityKindName): CapabilityRef[] {
    return this.registry.loaded().flatMap((gen) =>
      gen.capabilities
        .filter((c) => c.kind === kind)
        .map((c) => ({
          pluginId: gen.pluginId,
          pluginName: gen.metadata.name,
          typeId: c.typeId,
          displayName: c.displayName,
          configSchema: c.configSchema,
          defaultConfig: c.defaultConfig,
          config: configInForce(this.settings.config(gen.pluginId, kind, c.typeId), c),
        })),
    );
  }

  // ---- plugin lifecycle -----------------------------------------------------------------------

  listPlugins(): PluginStatus[] {
    return this.registry.list();
  }

  async enablePlugin(pluginId: string): Promise<PluginStatus> {
    this.requireKnown(pluginId);
    this.settings.setEnabled(pluginId, true);
    return this.registry.enable(pluginId);
  }

  async disablePlugin(pluginId: string): Promise<PluginStatus> {
    this.requireKnown(pluginId);
    this.settings.setEnabled(pluginId, false);
    return this.registry.disable(pluginId);
  }

  /** Lets a quarantined build load despite its crash (the Plugins view's "Enable anyway"). */
  async enableAnyway(file: string): Promise<PluginStatus> {
    const st = await this.registry.enableAnyway(file);
    if (st.pluginId) this.settings.setEnabled(st.pluginId, true);
    return st;
  }

  /** Refuses an id no discovered library has, before anything (a settings file) is written for it. */
  private requireKnown(pluginId: string): void {
    if (!this.registry.get(pluginId)) throw new ControlError({ code: 'not_found', message: `no plugin with id ${pluginId}`, pluginId });
  }

  async reloadPlugin(pluginId: string): Promise<PluginStatus> {
    return this.registry.reload(pluginId);
  }

  /**
   * Applies a capability's config: sources and lyrics through their owner (plan, then hot-apply,
   * recreate or reject); other kinds are stored and used by the engine's next instance.
   */
  applyConfig(pluginId: string, kind: CapabilityKindName, typeId: string, sent: unknown): ConfigOutcome {
    const config = this.completeConfig(pluginId, kind, typeId, sent);
    this.checkConfig(pluginId, kind, typeId, config);
    try {
      if (kind === 'source') return this.source(pluginId, typeId).applyConfig(config);
      if (kind === 'lyrics') return this.lyrics(pluginId, typeId).applyConfig(config);
    } catch (err) {
      if (err instanceof ControlError) throw err;
      throw new ControlError({ code: 'plugin_error', message: (err as Error).message, pluginId, op: 'apply_config' });
    }
    this.settings.setConfig(pluginId, kind, typeId, config);
    return { outcome: 'stored' };
  }

  /** A config from the renderer with the stored secrets it left out (see withKeptSecrets). */
  completeConfig<T>(pluginId: string, kind: CapabilityKindName, typeId: string, sent: T): T {
    if (!isPlainObject(sent)) return sent;
    const config = this.settings.withKeptSecrets(pluginId, kind, typeId, sent);
    this.settings.noteSecrets(pluginId, kind, typeId, config);
    return config as T;
  }

  /** Throws a structured error unless `config` is an object that meets the capability's schema. */
  checkConfig(pluginId: string, kind: CapabilityKindName, typeId: string, config: unknown): void {
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new ControlError({ code: 'invalid_argument', message: 'a config must be a JSON object', pluginId });
    }
    const gen = this.registry.current(pluginId);
    const cap = gen?.capability(kind, typeId);
    if (gen && !cap) {
      throw new ControlError({ code: 'not_found', message: `${pluginId} has no ${kind} "${typeId}"`, pluginId });
    }
    const issues = cap ? validateConfig(cap.configSchema, config) : [];
    if (issues.length > 0) {
      throw new ControlError({
        code: 'invalid_argument',
        message: issues.map((i) => `${i.path} ${i.message}`).join('; '),
        pluginId,
        op: 'apply_config',
      });
    }
  }

  // ---- metrics ----------------------------------------------------------------------------------

  live(): LiveCounts {
    let pendingOps = 0;
    let openStreams = 0;
    let liveInstances = 0;
    for (const o of this.sources.values()) {
      pendingOps += o.pendingOps;
      openStreams += o.openStreamCount;
      liveInstances += o.liveInstances;
    }
    for (const o of this.lyricsOwners.values()) {
      pendingOps += o.pendingOps;
      liveInstances += o.liveInstances;
    }
    return {
      pendingOps,
      openStreams,
      liveInstances,
      loadedGenerations: this.registry.counts().generations,
      notifierRegistrations: pendingNotifyListeners(),
    };
  }

  metrics(): ControlMetrics {
    return { eventLoop: this.loop.snapshot(), ops: this.counters.snapshot(), live: this.live(), plugins: this.registry.counts() };
  }

  async close(): Promise<void> {
    this.crashWatcher?.close();
    for (const o of this.sources.values()) o.close();
    for (const o of this.lyricsOwners.values()) o.close();
    await this.registry.close();
    // A settings file that could not be written (a full disk) must not keep the app from closing:
    // the change is tried once more as the process exits.
    await this.settings.flush().catch((err: Error) => this.hostLog?.(1, `could not save plugin settings: ${err.message}`));
    try {
      fs.rmSync(this.shadowDir, { recursive: true, force: true });
    } catch {
      // Windows may still map a DLL for a moment: the next start's sweep removes the folder.
    }
    this.loop.close();
  }

  private ownersOf(pluginId: string): (SourceOwner | LyricsOwner)[] {
    return [...this.sources.values(), ...this.lyricsOwners.values()].filter((o) => o.pluginId === pluginId);
  }
}
