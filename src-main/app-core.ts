// The main-process core shared by both shells: the control plane (plugins, owners, metrics), the
// playback engine, the services behind the IPC contract, the contract router and the event bus.
// The Electron shell and the browser shell differ only in how they carry the contract.
import fs from 'node:fs';
import path from 'node:path';
import { type AppPaths, appPaths, repoRoot } from './app-paths.js';
import { ControlPlane } from './control/control-plane.js';
import { createPlayerEngine, type EngineOptions } from './engine/index.js';
import type { PlayerEngine } from './engine/player-engine.js';
import { installCrashGuard } from './plugins/crash-guard.js';
import type { PluginFolder } from './plugins/registry.js';
import type { AppInfo } from '../src-shared/contract.js';
import { type MprisService, startMpris } from './desktop/mpris.js';
import { DiagnosticsHistory } from './diagnostics/history.js';
import { stallMonitor } from './diagnostics/stall-monitor.js';
import { DetachedEngine } from './services/detached-engine.js';
import { QueueTags } from './services/queue-tags.js';
import { SessionState } from './services/session-state.js';
import { diagnosticsService } from './services/diagnostics-service.js';
import { filesService } from './services/files-service.js';
import { lyricsService } from './services/lyrics-service.js';
import { outputService } from './services/output-service.js';
import { playerService, queueService, relayEngineEvents } from './services/player-service.js';
import { pluginsService } from './services/plugins-service.js';
import { type ContractHandlers, ContractRouter, CoreEvents } from './services/router.js';
import { sourcesService } from './services/sources-service.js';
import { Library, type PluginDecoders } from './library/library.js';
import { PlayHistory } from './library/play-history.js';
import { Playlists } from './library/playlists.js';
import { libraryService, playlistsService, relayLibraryEvents } from './services/library-service.js';
import type { PluginGeneration } from './plugins/library.js';
import { configInForce } from './plugins/capability-host.js';
import { decoderCandidates } from './plugins/decoder-choice.js';
import type { SecretCipher } from './control/secret-store.js';

export interface AppCoreOptions {
  shell: AppInfo['shell'];
  paths?: AppPaths;
  /** More plugin folders (tests add the fixture folder). */
  extraFolders?: PluginFolder[];
  /** false: run without audio (unit tests); otherwise engine options. */
  engine?: false | Partial<Omit<EngineOptions, 'control' | 'paths'>>;
  log?: (message: string) => void;
  /** Fast watcher settings (tests). */
  registry?: { stableMs?: number; pollMs?: number };
  /** The MPRIS service (Linux; on by default in the real shells, off in 'test'). */
  mpris?: false | { name?: string; busAddress?: string };
  /** The session that survives restarts (on by default in the real shells, off in 'test'). */
  session?: boolean | { positionEveryMs?: number };
  /** Tags of queued files read on a worker (on by default in the real shells, off in 'test'). */
  tags?: boolean;
  /** The renderer's URL for a cached cover file (the shell serves it); none: no covers shown. */
  coverUrl?: (coverFile: string) => string | undefined;
  /** Library settings (tests shorten the watcher's quiet time). */
  library?: { watchDebounceMs?: number; watch?: boolean };
  /** Where plugin secrets go (see control/secret-vault.ts). Default: the OS keyring, if one
   * answers, in the real shells; 0600 files in 'test'. The Electron shell adds safeStorage. */
  secrets?: { keyring?: boolean; cipher?: SecretCipher };
}

function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export class AppCore {
  readonly events = new CoreEvents();
  readonly router: ContractRouter;
  private engineInstance: PlayerEngine;
  private engineReason: string | null;
  private unrelay: () => void;
  private mpris: MprisService | null = null;
  private tags: QueueTags | null = null;
  /** The persisted session; null when this core keeps none (tests). */
  session: SessionState | null = null;
  private memorySession = { ui: { view: null as string | null, volumeBeforeMute: null as number | null }, keepPlayingInBackground: false };
  private readonly unrelayLibrary: () => void;
  private readonly playHistory: PlayHistory;
  private readonly onHistoryEvent: (e: Parameters<PlayHistory['onEvent']>[0]) => void;
  readonly playlists: Playlists;
  readonly history: DiagnosticsHistory;

  private constructor(
    readonly control: ControlPlane,
    engine: PlayerEngine,
    engineReason: string | null,
    private readonly opts: AppCoreOptions,
    readonly paths: AppPaths,
    readonly library: Library,
  ) {
    this.engineInstance = engine;
    this.engineReason = engineReason;
    this.unrelay = relayEngineEvents(engine, this.events);
    this.unrelayLibrary = relayLibraryEvents(library, this.events);
    this.playlists = new Playlists(library);
    this.playHistory = new PlayHistory(library);
    this.onHistoryEvent = (e) => this.playHistory.onEvent(e);
    engine.on('event', this.onHistoryEvent);
    const eng = (): PlayerEngine => this.engineInstance;
    this.history = new DiagnosticsHistory({
      ops: () => control.counters.snapshot(),
      live: () => control.live(),
      engine: () => (this.engineReason === null ? this.engineInstance.metrics() : null),
      stalls: () => stallMonitor.count,
    });
    this.history.start();
    const handlers: ContractHandlers = {
      player: playerService(eng),
      queue: queueService(eng),
      files: filesService(() => this.audioExtensions()),
      sources: sourcesService(control),
      lyrics: lyricsService(control),
      plugins: pluginsService(control, eng, this.events),
      output: outputService(control, eng),
      session: {
        get: () => ({
          ui: this.session?.uiState ?? { ...this.memorySession.ui },
          keepPlayingInBackground: this.session?.settings.keepPlayingInBackground ?? this.memorySession.keepPlayingInBackground,
          restored: (this.session?.saved.queue?.tracks.length ?? 0) > 0,
        }),
        setUi: (p) => {
          const patch = { ...(p.view !== undefined ? { view: p.view } : {}), ...(p.volumeBeforeMute !== undefined ? { volumeBeforeMute: p.volumeBeforeMute } : {}) };
          if (this.session) this.session.setUi(patch);
          else this.memorySession.ui = { ...this.memorySession.ui, ...patch };
        },
        setKeepPlayingInBackground: (p) => {
          if (this.session) this.session.setSettings({ keepPlayingInBackground: p.on });
          else this.memorySession.keepPlayingInBackground = p.on;
        },
      },
      diagnostics: diagnosticsService({
        control,
        engine: eng,
        engineRunning: () => this.engineReason === null,
        transport: () => ({ connections: this.router.connections, pendingCalls: this.router.pendingCalls }),
        info: () => this.info(),
        stalls: stallMonitor,
        history: this.history,
        testHooks: process.env.STELLATUNE_TEST_HOOKS === '1',
      }),
      library: libraryService(() => this.library),
      playlists: playlistsService(() => this.playlists, this.events),
    };
    this.router = new ContractRouter(handlers, {
      onContractViolation: (where, message) => opts.log?.(`contract violation in ${where}: ${message}`),
      scrub: (text) => control.settings.scrub(text),
    });
    this.events.on('error', (err: Error) => opts.log?.(err.message));
  }

  static async start(opts: AppCoreOptions): Promise<AppCore> {
    // Before anything loads, so that start-up stalls are recorded too. STELLATUNE_STALL_MS lowers
    // the threshold when hunting smaller blocks.
    if (process.env.STELLATUNE_STALL_MS) stallMonitor.thresholdMs = Number(process.env.STELLATUNE_STALL_MS);
    if (process.env.STELLATUNE_STALL_PROFILE_COOLDOWN_MS) stallMonitor.profileCooldownMs = Number(process.env.STELLATUNE_STALL_PROFILE_COOLDOWN_MS);
    stallMonitor.start();
    const paths = opts.paths ?? appPaths();
    // Before any plugin loads: a plugin that crashes this process (or the audio process, which
    // inherits the folder through the environment) leaves a record the next start acts on.
    if (installCrashGuard(paths.crashes, 'main')) process.env.STELLATUNE_CRASH_DIR = paths.crashes;
    // Every line the core logs (its own, the engine's, the audio process's, plugins') has the
    // secrets it knows replaced by ***.
    let scrub = (m: string): string => m;
    const rawLog = opts.log;
    if (rawLog) opts = { ...opts, log: (m) => rawLog(scrub(m)) };
    const realShell = opts.shell !== 'test';
    const control = await ControlPlane.start({
      secrets: opts.secrets ?? { keyring: realShell },
      paths,
      ...(opts.extraFolders ? { extraFolders: opts.extraFolders } : {}),
      ...(opts.registry ? { registry: opts.registry } : {}),
      registry: {
        ...opts.registry,
        log: (source, level, message) => {
          if (level <= 2) opts.log?.(`[plugin ${source}] ${message}`);
        },
      },
    });
    scrub = (m) => control.settings.scrub(m);
    const sessionOpts = opts.session ?? realShell;
    const session = sessionOpts
      ? new SessionState({ dir: path.join(paths.home, 'session'), ...(typeof sessionOpts === 'object' ? sessionOpts : {}), ...(opts.log ? { log: opts.log } : {}) })
      : null;
    let engine: PlayerEngine;
    let reason: string | null = null;
    if (opts.engine === false) {
      reason = 'this core runs without audio';
      engine = new DetachedEngine(reason);
    } else {
      try {
        // The engine logs what the decode worker and the audio process report, plugin errors
        // among them: through the same scrubbing.
        const engineLog = (m: string): void => (rawLog ?? ((l: string) => console.warn(l)))(`[engine] ${scrub(m)}`);
        engine = await createPlayerEngine({ control, paths, log: engineLog, ...opts.engine });
        // The output of the last run, unless the caller names one; gone (a device unplugged, a
        // plugin removed), the default stays.
        const saved = session?.savedOutput;
        if (saved && !opts.engine?.output) {
          await engine.setOutput(saved).catch((err: Error) => opts.log?.(`the output of the last run is not available (${err.message}); using the default`));
        }
      } catch (err) {
        reason = (err as Error).message;
        opts.log?.(`playback engine unavailable: ${reason}`);
        engine = new DetachedEngine(reason);
      }
    }
    const library = new Library({ home: paths.home, decoders: pluginDecoders(control), ...opts.library, ...(opts.log ? { log: opts.log } : {}) });
    const core = new AppCore(control, engine, reason, opts, paths, library);
    core.session = session;
    if (opts.tags ?? realShell) {
      core.tags = new QueueTags({ engine, coversDir: path.join(paths.home, 'art'), ...(opts.coverUrl ? { coverUrl: opts.coverUrl } : {}), ...(opts.log ? { log: opts.log } : {}) });
    }
    session?.restoreInto(engine);
    const mprisWanted = opts.mpris !== undefined ? opts.mpris !== false : opts.shell !== 'test';
    if (mprisWanted && process.platform === 'linux') {
      const m = opts.mpris || {};
      core.mpris = await startMpris({
        engine: () => core.engineInstance,
        artUrl: (t) => core.tags?.artUrl(t) ?? (t.cover && /^(file|https?):/.test(t.cover) ? t.cover : undefined),
        ...m,
        ...(opts.log ? { log: opts.log } : {}),
      });
    }
    return core;
  }

  get engine(): PlayerEngine {
    return this.engineInstance;
  }

  info(): AppInfo {
    return {
      version: packageVersion(),
      shell: this.opts.shell,
      platform: process.platform,
      engineUnavailable: this.engineReason,
      pluginFolder: this.paths.userPlugins,
    };
  }

  private audioExtensions(): string[] {
    const exts = new Set<string>();
    for (const p of this.control.listPlugins()) {
      if (p.status !== 'loaded') continue;
      for (const c of p.capabilities) if (c.kind === 'decoder') for (const e of c.extensions) if (e.score > 0) exts.add(e.ext.replace(/^\./, ''));
    }
    return [...exts];
  }

  /** Resolves when the tags of every queued file have been read (tests). */
  tagsIdle(): Promise<void> {
    return this.tags?.idle() ?? Promise.resolve();
  }

  async close(): Promise<void> {
    // The session first: what is written now is what the next start finds.
    await this.session?.close();
    await this.mpris?.close();
    await this.tags?.close();
    this.history.stop();
    this.unrelay();
    this.unrelayLibrary();
    this.engineInstance.off('event', this.onHistoryEvent);
    await this.library.close().catch(() => {});
    await this.engineInstance.close().catch(() => {});
    await this.control.close();
  }
}

/** The decoder plugins as the library scanner sees them: extensions, and retained generations
 * for a scan's plugin-only files (released as the scan worker lets each go). */
function pluginDecoders(control: ControlPlane): PluginDecoders {
  const retained = new Map<number, PluginGeneration>();
  return {
    extensions: () => {
      const exts = new Set<string>();
      for (const gen of control.registry.loaded()) {
        for (const cap of gen.capabilities) if (cap.kind === 'decoder') for (const e of cap.extensions) if (e.score > 0 && e.ext !== '*') exts.add(e.ext.replace(/^\./, '').toLowerCase());
      }
      return [...exts];
    },
    forScan: (exts) => {
      const out: ReturnType<PluginDecoders['forScan']> = {};
      const held = new Set<number>();
      for (const ext of exts) {
        const cands = decoderCandidates(control.registry.loaded(), ext).filter((c) => c.extScore > 0);
        out[ext] = cands.map((c) => {
          if (!held.has(c.gen.leaseId)) {
            held.add(c.gen.leaseId);
            c.gen.retain();
            retained.set(c.gen.leaseId, c.gen);
          }
          const config = configInForce(control.settings.config(c.gen.pluginId, 'decoder', c.typeId), c.gen.capability('decoder', c.typeId));
          return {
            gen: { pluginId: c.gen.pluginId, leaseId: c.gen.leaseId, shadowPath: c.gen.shadowPath, sourcePath: c.gen.sourcePath, modulePointer: c.gen.modulePointer },
            typeId: c.typeId,
            configJson: JSON.stringify(config),
          };
        });
      }
      return out;
    },
    release: (leaseId) => retained.get(leaseId)?.release(),
  };
}
