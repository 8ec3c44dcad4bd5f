// The IPC contract between the renderer and the main-process core, declared once. Each service
// has promise-returning methods (a params schema and a result schema) and events (a payload
// schema). Everything else is derived from this object: the main-side router and its
// registration on ipcMain / the WebSocket server, the preload API, the renderer's client and its
// TypeScript types. Nothing here imports Node, the DOM or native code.
import type {
  AudioDevice,
  EngineMetrics,
  OutputChoice,
  PlayerStatus,
  QueueSnapshot,
  TrackFormat,
  TrackInfo,
  TrackSource,
} from './player-types.js';
import { sessionContract } from './contract-session.js';
import { replayGainApplied, replayGainContract } from './contract-replaygain.js';
import { libraryService, playlistsService } from './contract-library.js';
import { diagnosticsHistory } from './diagnostics-contract.js';
import { type Infer, type Schema, s } from './schema.js';

// ---- building blocks ------------------------------------------------------------------------------

export interface MethodSpec<P = unknown, R = unknown> {
  params: Schema<P>;
  result: Schema<R>;
  /** The call may run long (a plugin op); the client offers cancellation for it. */
  cancellable?: boolean;
}

export interface ServiceSpec {
  methods: Record<string, MethodSpec>;
  events: Record<string, Schema<unknown>>;
}

function method<P, R>(params: Schema<P>, result: Schema<R>, opts: { cancellable?: boolean } = {}): MethodSpec<P, R> {
  return { params, result, ...opts };
}

const none = s.void();
const id = s.string({ min: 1, max: 512 });
const pluginId = s.string({ min: 1, max: 256, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/ });
const typeId = s.string({ min: 1, max: 256 });
const path = s.string({ min: 1, max: 4096 });
const ms = s.number({ min: 0 });
const count = s.int({ min: 0 });

// ---- player data (mirrors src-shared/player-types.ts; checked below) ------------------------------

export const trackSource = s.tagged('kind', {
  file: s.object({ kind: s.literal('file'), path }),
  plugin: s.object({ kind: s.literal('plugin'), pluginId, typeId, item: s.jsonObject() }),
});

const trackFields = {
  source: trackSource,
  title: s.string({ max: 1024 }),
  artist: s.optional(s.string({ max: 1024 })),
  album: s.optional(s.string({ max: 1024 })),
  albumArtist: s.optional(s.string({ max: 1024 })),
  trackNo: s.optional(count),
  discNo: s.optional(count),
  durationMs: s.optional(ms),
  cover: s.optional(s.string({ max: 4096 })),
};
export const newTrack = s.object(trackFields);
export const trackInfo = s.object({ id, ...trackFields });

export const trackFormat = s.object({
  codec: s.string(),
  sampleRate: s.number({ min: 0 }),
  channels: count,
  bitsPerSample: s.optional(count),
  lossless: s.optional(s.boolean()),
  decoder: s.string(),
  streamPlugin: s.optional(s.string()),
});

export const outputChoice = s.tagged('kind', {
  portaudio: s.object({
    kind: s.literal('portaudio'),
    deviceId: s.nullable(s.int({ min: -1 })),
    hostApi: s.optional(s.string({ max: 256 })),
    bufferFrames: s.int({ min: 64, max: 65536 }),
    bitPerfect: s.optional(s.boolean()),
    sampleRate: s.optional(s.int({ min: 8000, max: 768000 })),
  }),
  plugin: s.object({
    kind: s.literal('plugin'),
    pluginId,
    typeId,
    target: s.jsonObject(),
    bitPerfect: s.optional(s.boolean()),
    sampleRate: s.optional(s.int({ min: 8000, max: 768000 })),
  }),
});

export const repeatMode = s.enum(['off', 'all', 'one']);

export const playerStatus = s.object({
  state: s.enum(['stopped', 'loading', 'playing', 'paused']),
  current: s.nullable(trackInfo),
  index: s.int({ min: -1 }),
  format: s.nullable(trackFormat),
  positionMs: ms,
  durationMs: s.nullable(ms),
  volume: s.number({ min: 0, max: 1 }),
  repeat: repeatMode,
  shuffle: s.boolean(),
  output: outputChoice,
  /** The ReplayGain the playing track plays at (absent: no engine, or nothing decided yet). */
  replayGain: s.optional(s.nullable(replayGainApplied)),
});

export const queueSnapshot = s.object({ tracks: s.array(trackInfo), index: s.int({ min: -1 }) });

export const audioDevice = s.object({
  id: s.int(),
  name: s.string(),
  hostApi: s.string(),
  maxOutputChannels: count,
  defaultSampleRate: s.number({ min: 0 }),
  isDefault: s.boolean(),
});

export const engineMetrics = s.object({
  underruns: count,
  deviceLosses: count,
  lastRecoveryMs: s.nullable(ms),
  ringFill: s.number({ min: 0, max: 1 }),
  ringFillMin: s.number({ min: 0, max: 1 }),
  ringCapacityFrames: count,
  outputLatencyMs: s.nullable(ms),
  outputDevice: s.nullable(s.string({ max: 512 })),
  blockLatencyP50: ms,
  blockLatencyP99: ms,
  /** Per block in the output callback (audio process), p50 / p99 over its last second, ms: the DSP
   * chain, and the output's own work (ring read, volume, fades, position). */
  dspBlockP50: ms,
  dspBlockP99: ms,
  outputBlockP50: ms,
  outputBlockP99: ms,
  audioProcessRestarts: count,
});

// ---- plugins, sources, lyrics, files -----------------------------------------------------------------

export const capabilityKind = s.enum(['decoder', 'dsp', 'source', 'lyrics', 'output']);

export const capabilityView = s.object({
  kind: capabilityKind,
  typeId: s.string(),
  displayName: s.string(),
  configSchema: s.json(),
  defaultConfig: s.json(),
  /** The config in force (persisted), or the default, without its secret fields (schema
   * `format: password` / `writeOnly`): those never reach the renderer. */
  config: s.json(),
  /** The secret fields that hold a stored value (the form shows "stored (unchanged)"; an apply
   * that leaves such a field out keeps it). */
  storedSecrets: s.array(s.string()),
  extensions: s.array(s.object({ ext: s.string(), score: s.number() })),
});

export const pluginView = s.object({
  path: s.string(),
  origin: s.enum(['builtin', 'user']),
  status: s.enum(['loaded', 'disabled', 'failed', 'removed', 'quarantined']),
  pluginId: s.nullable(s.string()),
  metadata: s.nullable(
    s.object({
      id: s.string(),
      name: s.string(),
      version: s.string(),
      abiVersion: s.int(),
      description: s.optional(s.string()),
      author: s.optional(s.string()),
      homepage: s.optional(s.string()),
    }),
  ),
  capabilities: s.array(capabilityView),
  error: s.nullable(s.object({ code: s.string(), message: s.string() })),
  leaseId: s.nullable(s.int()),
  retiredGenerations: count,
  /** Set when this build crashed the player and is kept out until "Enable anyway". */
  quarantine: s.nullable(
    s.object({ fingerprint: s.string(), signal: s.string(), step: s.nullable(s.string()), thread: s.string(), process: s.string(), atMs: s.number(), crashes: count }),
  ),
});

export const configOutcome = s.object({
  outcome: s.enum(['hot_applied', 'recreated', 'stored', 'rejected']),
  reason: s.optional(s.string()),
});

/** A capability of a loaded plugin, as the pickers show it. */
export const capabilityRef = s.object({
  pluginId: s.string(),
  pluginName: s.string(),
  typeId: s.string(),
  displayName: s.string(),
});

export const sourceAction = s.object({ action: s.string(), label: s.string(), query: s.boolean() });
export const sourceCatalog = s.object({ ...capabilityRef.shape, actions: s.array(sourceAction) });

/** list_items request (source.h); plugin-specific fields pass through. */
export const listRequest = s.object(
  {
    action: s.string({ min: 1, max: 64 }),
    query: s.optional(s.string({ max: 1024 })),
    id: s.optional(s.string({ max: 1024 })),
    offset: s.optional(count),
    limit: s.optional(s.int({ min: 1, max: 500 })),
  },
  { open: true },
);

export const sourceItem = s.object({
  id: s.string(),
  kind: s.string(),
  title: s.string(),
  artist: s.optional(s.string()),
  album: s.optional(s.string()),
  durationMs: s.optional(ms),
  /** The plugin's own item object, handed back verbatim to open_stream. */
  raw: s.jsonObject(),
});

export const lyricsQuery = s.object(
  {
    query: s.optional(s.string({ max: 1024 })),
    title: s.optional(s.string({ max: 1024 })),
    artist: s.optional(s.string({ max: 1024 })),
    album: s.optional(s.string({ max: 1024 })),
    durationMs: s.optional(ms),
    path: s.optional(path),
  },
  { open: true },
);

export const lyricsCandidate = s.object({
  id: s.optional(s.string()),
  title: s.optional(s.string()),
  artist: s.optional(s.string()),
  album: s.optional(s.string()),
  durationMs: s.optional(ms),
  synced: s.boolean(),
  instrumental: s.boolean(),
  raw: s.jsonObject(),
});

export const lyricsLine = s.object({ timeMs: ms, text: s.string() });
export const lyricsDoc = s.object({
  id: s.optional(s.string()),
  synced: s.nullable(s.array(lyricsLine)),
  plain: s.nullable(s.string()),
  instrumental: s.boolean(),
});

export const fileEntry = s.object({
  name: s.string(),
  path: s.string(),
  /** 'file': a file of one of the extensions the browse call asked for (e.g. playlists). */
  kind: s.enum(['dir', 'audio', 'file']),
  sizeBytes: s.optional(count),
});

// ---- diagnostics ------------------------------------------------------------------------------------

export const opCounters = s.object({
  pluginId: s.string(),
  op: s.string(),
  completed: count,
  failed: count,
  timeout: count,
  cancelled: count,
  busy: count,
  rejected: count,
});

export const diagnosticsSnapshot = s.object({
  at: s.number(),
  eventLoop: s.object({ p50: ms, p99: ms, max: ms, mean: ms, count: count }),
  ops: s.array(opCounters),
  live: s.object({
    pendingOps: count,
    openStreams: count,
    liveInstances: count,
    loadedGenerations: count,
    notifierRegistrations: count,
  }),
  plugins: s.object({ libraries: count, loaded: count, failed: count, disabled: count, generations: count }),
  engine: s.nullable(engineMetrics),
  transport: s.object({ connections: count, pendingCalls: count }),
  /** Main-loop blocks over the stall threshold seen since start (diagnostics.history lists them). */
  stalls: count,
});

export const appInfo = s.object({
  version: s.string(),
  shell: s.enum(['electron', 'browser', 'test']),
  platform: s.string(),
  /** Null when the audio engine runs; otherwise why it does not. */
  engineUnavailable: s.nullable(s.string()),
  pluginFolder: s.string(),
});

// ---- the contract -------------------------------------------------------------------------------------

export const contract = {
  player: {
    methods: {
      status: method(none, playerStatus),
      play: method(s.object({ index: s.optional(s.int({ min: 0 })) }), none),
      pause: method(none, none),
      resume: method(none, none),
      stop: method(none, none),
      seek: method(s.object({ positionMs: ms }), none),
      next: method(none, none),
      previous: method(none, none),
      setVolume: method(s.object({ volume: s.number({ min: 0, max: 1 }) }), none),
      setRepeat: method(s.object({ mode: repeatMode }), none),
      setShuffle: method(s.object({ on: s.boolean() }), none),
    },
    events: {
      didChangeStatus: playerStatus,
      didChangePosition: s.object({ positionMs: ms, durationMs: s.nullable(ms) }),
      didFailTrack: s.object({ track: trackInfo, code: s.string(), message: s.string() }),
      didEnd: none,
    },
  },
  queue: {
    methods: {
      get: method(none, queueSnapshot),
      add: method(s.object({ tracks: s.array(newTrack, { max: 10_000 }), play: s.optional(s.boolean()) }), s.array(trackInfo)),
      insert: method(s.object({ index: count, tracks: s.array(newTrack, { max: 10_000 }) }), s.array(trackInfo)),
      remove: method(s.object({ ids: s.array(id, { max: 10_000 }) }), none),
      move: method(s.object({ id, toIndex: count }), none),
      clear: method(none, none),
    },
    events: { didChange: queueSnapshot },
  },
  files: {
    methods: {
      roots: method(none, s.object({ home: s.string(), roots: s.array(s.object({ label: s.string(), path: s.string() })) })),
      browse: method(
        /** `extensions`: files of these extensions are listed too (kind 'file'), e.g. m3u, m3u8. */
        s.object({ dir: path, extensions: s.optional(s.array(s.string({ max: 16 }), { max: 16 })) }),
        s.object({ dir: s.string(), parent: s.nullable(s.string()), entries: s.array(fileEntry) }),
      ),
      /** Audio files under the given files and folders, as tracks ready for the queue. */
      expand: method(
        s.object({ paths: s.array(path, { max: 1000 }), recursive: s.optional(s.boolean()) }),
        s.object({ tracks: s.array(newTrack), skipped: count }),
        { cancellable: true },
      ),
      audioExtensions: method(none, s.array(s.string())),
    },
    events: {},
  },
  sources: {
    methods: {
      catalogs: method(none, s.array(sourceCatalog)),
      list: method(
        s.object({ pluginId, typeId, request: listRequest, deadlineMs: s.optional(s.int({ min: 1, max: 120_000 })) }),
        s.object({ items: s.array(sourceItem), nextOffset: s.nullable(count) }),
        { cancellable: true },
      ),
    },
    events: {},
  },
  lyrics: {
    methods: {
      providers: method(none, s.array(capabilityRef)),
      search: method(
        s.object({ pluginId, typeId, query: lyricsQuery, deadlineMs: s.optional(s.int({ min: 1, max: 120_000 })) }),
        s.object({ candidates: s.array(lyricsCandidate) }),
        { cancellable: true },
      ),
      fetch: method(
        s.object({ pluginId, typeId, track: s.jsonObject(), deadlineMs: s.optional(s.int({ min: 1, max: 120_000 })) }),
        lyricsDoc,
        { cancellable: true },
      ),
    },
    events: {},
  },
  plugins: {
    methods: {
      list: method(none, s.array(pluginView)),
      enable: method(s.object({ pluginId }), pluginView),
      disable: method(s.object({ pluginId }), pluginView),
      reload: method(s.object({ pluginId }), pluginView),
      /** Loads a quarantined build (it crashed the player) anyway; by library path. */
      enableAnyway: method(s.object({ path: s.string({ min: 1, max: 4096 }) }), pluginView),
      applyConfig: method(s.object({ pluginId, kind: capabilityKind, typeId, config: s.jsonObject() }), configOutcome),
    },
    events: { didChangeList: s.array(pluginView) },
  },
  output: {
    methods: {
      // `opened`: the device the output plays on now ("PulseAudio" for its own PulseAudio stream).
      devices: method(none, s.object({ hostApis: s.array(s.string()), devices: s.array(audioDevice), opened: s.nullable(s.string({ max: 512 })) })),
      sinks: method(none, s.array(capabilityRef)),
      sinkTargets: method(s.object({ pluginId, typeId }), s.array(s.jsonObject())),
      current: method(none, outputChoice),
      set: method(s.object({ choice: outputChoice }), none),
      dsps: method(none, s.array(s.object({ ...capabilityRef.shape, configSchema: s.json(), config: s.json() }))),
      applyDsp: method(s.object({ pluginId, typeId, config: s.jsonObject() }), configOutcome),
    },
    events: {},
  },
  session: sessionContract,
  replayGain: replayGainContract,
  diagnostics: {
    methods: {
      info: method(none, appInfo),
      snapshot: method(none, diagnosticsSnapshot),
      /** The core's history (one sample a second, the last hour) and its stall records. */
      history: method(s.object({ sinceMs: s.optional(s.number({ min: 0 })) }), diagnosticsHistory),
      /** Test hook: blocks the main loop for `ms`. Answers unknown_method unless the core was
       * started with STELLATUNE_TEST_HOOKS=1 (the stall monitor's test uses it). */
      testBlock: method(s.object({ ms: s.int({ min: 1, max: 2000 }) }), none),
    },
    events: {},
  },
  library: libraryService,
  playlists: playlistsService,
} as const satisfies Record<string, ServiceSpec>;

// ---- derived types --------------------------------------------------------------------------------------

export type Contract = typeof contract;
export type ServiceName = keyof Contract;
export type MethodName<S extends ServiceName> = keyof Contract[S]['methods'] & string;
export type EventName<S extends ServiceName> = keyof Contract[S]['events'] & string;
export type ParamsOf<S extends ServiceName, M extends MethodName<S>> = Contract[S]['methods'][M] extends MethodSpec<infer P, unknown> ? P : never;
export type ResultOf<S extends ServiceName, M extends MethodName<S>> = Contract[S]['methods'][M] extends MethodSpec<unknown, infer R> ? R : never;
export type EventPayload<S extends ServiceName, E extends EventName<S>> = Infer<Contract[S]['events'][E]>;

/** The part of AbortSignal the clients use (shared code has neither DOM nor Node types). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface CallOptions {
  signal?: AbortSignalLike;
}

type ClientMethod<P, R> = [P] extends [void] | [undefined]
  ? (params?: P, opts?: CallOptions) => Promise<R>
  : Partial<P> extends P
    ? (params?: P, opts?: CallOptions) => Promise<R>
    : (params: P, opts?: CallOptions) => Promise<R>;

/** `didChangeStatus` -> `onDidChangeStatus`. */
export type ListenerKey<E extends string> = `on${Capitalize<E>}`;
export function listenerKey<E extends string>(event: E): ListenerKey<E> {
  return `on${event.charAt(0).toUpperCase()}${event.slice(1)}` as ListenerKey<E>;
}

export type ServiceClient<S extends ServiceName> = {
  [M in MethodName<S>]: ClientMethod<ParamsOf<S, M>, ResultOf<S, M>>;
} & {
  [E in EventName<S> as ListenerKey<E>]: (listener: (payload: EventPayload<S, E>) => void) => () => void;
};

/** What the renderer holds: one object per service. */
export type ContractClient = { [S in ServiceName]: ServiceClient<S> };

/** Names of every method and event, for registration loops. */
export function methodsOf(): { service: ServiceName; method: string; spec: MethodSpec }[] {
  const out: { service: ServiceName; method: string; spec: MethodSpec }[] = [];
  for (const service of Object.keys(contract) as ServiceName[]) {
    for (const [name, spec] of Object.entries(contract[service].methods)) out.push({ service, method: name, spec: spec as MethodSpec });
  }
  return out;
}

export function eventsOf(): { service: ServiceName; event: string; schema: Schema<unknown> }[] {
  const out: { service: ServiceName; event: string; schema: Schema<unknown> }[] = [];
  for (const service of Object.keys(contract) as ServiceName[]) {
    for (const [name, schema] of Object.entries(contract[service].events)) out.push({ service, event: name, schema: schema as Schema<unknown> });
  }
  return out;
}

export function findMethod(service: string, name: string): MethodSpec | null {
  if (!Object.prototype.hasOwnProperty.call(contract, service)) return null;
  const methods = contract[service as ServiceName].methods as Record<string, MethodSpec>;
  return Object.prototype.hasOwnProperty.call(methods, name) ? (methods[name] ?? null) : null;
}

/** Absent params of a method that takes an object become {} (all its keys may be optional). */
export function normaliseParams(spec: MethodSpec, params: unknown): unknown {
  if (params !== undefined && params !== null) return params;
  return 'shape' in spec.params ? {} : undefined;
}

/** The channel name a method travels on (ipcMain.handle channel, WebSocket "method" field). */
export function channelOf(service: string, name: string): string {
  return `st:${service}.${name}`;
}
export const CANCEL_CHANNEL = 'st:cancel';
export const EVENT_CHANNEL = 'st:event';

// Derived data types for the renderer and the services.
export type PluginView = Infer<typeof pluginView>;
export type CapabilityView = Infer<typeof capabilityView>;
export type ConfigOutcomeView = Infer<typeof configOutcome>;
export type SourceCatalog = Infer<typeof sourceCatalog>;
export type SourceItem = Infer<typeof sourceItem>;
export type ListRequest = Infer<typeof listRequest>;
export type LyricsCandidate = Infer<typeof lyricsCandidate>;
export type LyricsDoc = Infer<typeof lyricsDoc>;
export type LyricsLine = Infer<typeof lyricsLine>;
export type FileEntry = Infer<typeof fileEntry>;
export type CapabilityRefView = Infer<typeof capabilityRef>;
export type DiagnosticsSnapshot = Infer<typeof diagnosticsSnapshot>;
export type AppInfo = Infer<typeof appInfo>;
export type NewTrackView = Infer<typeof newTrack>;

// ---- the schemas above must describe exactly the shared player types -------------------------------
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function assertSame<T extends true>(): T | void {}
assertSame<Same<Infer<typeof trackSource>, TrackSource>>();
assertSame<Same<Infer<typeof trackInfo>, TrackInfo>>();
assertSame<Same<Infer<typeof trackFormat>, TrackFormat>>();
assertSame<Same<Infer<typeof playerStatus>, PlayerStatus>>();
assertSame<Same<Infer<typeof queueSnapshot>, QueueSnapshot>>();
assertSame<Same<Infer<typeof outputChoice>, OutputChoice>>();
assertSame<Same<Infer<typeof audioDevice>, AudioDevice>>();
assertSame<Same<Infer<typeof engineMetrics>, EngineMetrics>>();
