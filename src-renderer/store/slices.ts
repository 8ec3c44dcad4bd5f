// The store's slices (zustand's slices pattern): each owns its state and the actions beside it.
// Actions call the contract client through api(); errors become readable state or toasts.
import type { StateCreator } from 'zustand';
import type {
  AppInfo,
  CapabilityRefView,
  ConfigOutcomeView,
  DiagnosticsSnapshot,
  FileEntry,
  LyricsCandidate,
  LyricsDoc,
  PluginView,
  SourceCatalog,
  SourceItem,
} from '../../src-shared/contract.js';
import type { AudioDevice, OutputChoice, PlayerStatus, QueueSnapshot, RepeatMode, TrackInfo } from '../../src-shared/player-types.js';
import { describeError, RpcError } from '../../src-shared/rpc-error.js';
import type { ConnectionState } from '../ipc/client.js';
import { api } from './api.js';
import type { MusicLibrarySlice } from './library.js';
import { position } from './position.js';

export type Screen = 'library' | 'queue' | 'sources' | 'lyrics' | 'plugins' | 'output' | 'diagnostics';
export type Theme = 'light' | 'dark';

export interface Toast {
  id: number;
  kind: 'info' | 'error';
  text: string;
  /** Technical words (a decoder's message) behind a "details" disclosure. */
  details?: string;
  /** How many identical toasts this one stands for. */
  count: number;
  /** Toasts with one key are one toast: a newer text replaces the older (a plugin reloaded over
   * and over says its latest generation in one toast, not a pile of them sliding in). */
  key?: string;
}

export type AppState = UiSlice & PlaybackSlice & QueueSlice & LibrarySlice & MusicLibrarySlice & PluginsSlice & SourcesSlice & LyricsSlice & OutputSlice & DiagnosticsSlice;
type Slice<T> = StateCreator<AppState, [], [], T>;

// ---- ui --------------------------------------------------------------------------------------------

export const SCREENS: readonly Screen[] = ['queue', 'sources', 'lyrics', 'plugins', 'output', 'diagnostics'];

export interface UiSlice {
  screen: Screen;
  theme: Theme;
  connection: ConnectionState;
  /** Closing the browser shell's window leaves the player playing. */
  keepPlayingInBackground: boolean;
  /** A session that was playing at quit plays on at start. */
  resumePlayback: boolean;
  /** The session was read once: a reconnect must not move the listener back to the saved screen. */
  sessionLoaded: boolean;
  info: AppInfo | null;
  toasts: Toast[];
  setScreen(screen: Screen): void;
  setTheme(theme: Theme): void;
  setConnection(state: UiSlice['connection']): void;
  /** Shows a toast; one identical to a visible toast (or with the same `key`) bumps its count
   * instead, taking the new text. */
  notify(kind: Toast['kind'], text: string, details?: string, key?: string): void;
  dismiss(id: number): void;
  loadInfo(): Promise<void>;
  /** The last run's screen and the listener's settings, from the core's session. */
  loadSession(): Promise<void>;
  setKeepPlayingInBackground(on: boolean): Promise<void>;
  setResumePlayback(on: boolean): Promise<void>;
}

let nextToast = 1;
const toastTimers = new Map<number, ReturnType<typeof setTimeout>>();

/** What a listener is told when a track cannot be played; the engine's words go to `details`. */
export function trackFailureText(track: TrackInfo, code: string, message: string): { text: string; details: string } {
  const name = track.source.kind === 'file' ? (track.source.path.split(/[\\/]/).pop() ?? track.title) : track.title;
  const why =
    code === 'decode'
      ? /no decoder handles/.test(message)
        ? 'no decoder plugin reads this kind of file'
        : 'the file is damaged'
      : code === 'io' || code === 'not_found'
        ? 'the file cannot be read'
        : code === 'network' || code === 'timeout'
          ? 'the source could not be reached'
          : 'it failed to open';
  return { text: `Could not play ‘${name}’: ${why}`, details: message };
}

export const createUiSlice: Slice<UiSlice> = (set, get) => ({
  screen: 'library',
  theme: 'dark',
  connection: 'connecting',
  keepPlayingInBackground: false,
  resumePlayback: false,
  sessionLoaded: false,
  info: null,
  toasts: [],
  setScreen: (screen) => {
    set({ screen });
    // Remembered by the core for the next start; losing it is harmless.
    void api()
      .session.setUi({ view: screen })
      .catch(() => {});
  },
  setTheme: (theme) => set({ theme }),
  setConnection: (connection) => set({ connection }),
  notify: (kind, text, details, key) => {
    const same = get().toasts.find((t) => t.kind === kind && (key !== undefined ? t.key === key : t.key === undefined && t.text === text && t.details === details));
    const id = same ? same.id : nextToast++;
    const fields = { kind, text, ...(details ? { details } : {}), ...(key !== undefined ? { key } : {}) };
    if (same) set((s) => ({ toasts: s.toasts.map((t) => (t.id === id ? { id, ...fields, count: t.count + 1 } : t)) }));
    else set((s) => ({ toasts: [...s.toasts.slice(-3), { id, ...fields, count: 1 }] }));
    // Each repeat keeps the toast up for the full time again.
    clearTimeout(toastTimers.get(id));
    toastTimers.set(id, setTimeout(() => get().dismiss(id), kind === 'error' ? 8000 : 4000));
  },
  dismiss: (id) => {
    clearTimeout(toastTimers.get(id));
    toastTimers.delete(id);
    set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) }));
  },
  loadInfo: async () => set({ info: await api().diagnostics.info() }),
  loadSession: async () => {
    const sv = await api().session.get();
    const view = get().sessionLoaded ? undefined : SCREENS.find((x) => x === sv.ui.view);
    set({ keepPlayingInBackground: sv.keepPlayingInBackground, resumePlayback: sv.resumePlayback, volumeBeforeMute: sv.ui.volumeBeforeMute, sessionLoaded: true, ...(view ? { screen: view } : {}) });
  },
  setKeepPlayingInBackground: async (on) => {
    set({ keepPlayingInBackground: on });
    await attempt(get, 'Settings', () => api().session.setKeepPlayingInBackground({ on }));
  },
  setResumePlayback: async (on) => {
    set({ resumePlayback: on });
    await attempt(get, 'Settings', () => api().session.setResumePlayback({ on }));
  },
});

/** Runs an action; a failure becomes an error toast (cancellations stay quiet). */
async function attempt<T>(get: () => AppState, what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (RpcError.from(err).code !== 'cancelled') get().notify('error', `${what}: ${describeError(err)}`);
    return undefined;
  }
}

// ---- playback --------------------------------------------------------------------------------------

export interface PlaybackSlice {
  /** Everything but the high-rate position (see position.ts). */
  status: PlayerStatus | null;
  applyStatus(status: PlayerStatus): void;
  refreshStatus(): Promise<void>;
  togglePlay(): Promise<void>;
  stop(): Promise<void>;
  next(): Promise<void>;
  previous(): Promise<void>;
  seek(positionMs: number): Promise<void>;
  setVolume(volume: number): Promise<void>;
  /** The volume "unmute" returns to (kept by the core across restarts); null when not muted. */
  volumeBeforeMute: number | null;
  toggleMute(): Promise<void>;
  cycleRepeat(): Promise<void>;
  toggleShuffle(): Promise<void>;
}

const REPEAT_ORDER: RepeatMode[] = ['off', 'all', 'one'];

export const createPlaybackSlice: Slice<PlaybackSlice> = (set, get) => ({
  status: null,
  applyStatus: (status) => {
    set({ status });
    position.update(status.positionMs, status.durationMs, status.state === 'playing');
  },
  refreshStatus: async () => get().applyStatus(await api().player.status()),
  togglePlay: async () => {
    const st = get().status;
    await attempt(get, 'Playback', async () => {
      if (st?.state === 'playing') await api().player.pause();
      else if (st?.state === 'paused') await api().player.resume();
      else await api().player.play(st && st.index >= 0 ? { index: st.index } : {});
    });
  },
  stop: async () => void (await attempt(get, 'Stop', () => api().player.stop())),
  next: async () => void (await attempt(get, 'Next', () => api().player.next())),
  previous: async () => void (await attempt(get, 'Previous', () => api().player.previous())),
  seek: async (positionMs) => {
    position.update(positionMs, position.duration());
    await attempt(get, 'Seek', () => api().player.seek({ positionMs: Math.max(0, Math.round(positionMs)) }));
  },
  setVolume: async (volume) => {
    const st = get().status;
    if (st) set({ status: { ...st, volume } });
    await attempt(get, 'Volume', () => api().player.setVolume({ volume }));
  },
  volumeBeforeMute: null,
  toggleMute: async () => {
    const volume = get().status?.volume ?? 1;
    if (volume > 0) {
      set({ volumeBeforeMute: volume });
      void api()
        .session.setUi({ volumeBeforeMute: volume })
        .catch(() => {});
      await get().setVolume(0);
    } else {
      const back = get().volumeBeforeMute ?? 1;
      set({ volumeBeforeMute: null });
      void api()
        .session.setUi({ volumeBeforeMute: null })
        .catch(() => {});
      await get().setVolume(back > 0 ? back : 1);
    }
  },
  cycleRepeat: async () => {
    const cur = get().status?.repeat ?? 'off';
    const mode = REPEAT_ORDER[(REPEAT_ORDER.indexOf(cur) + 1) % REPEAT_ORDER.length]!;
    await attempt(get, 'Repeat', () => api().player.setRepeat({ mode }));
  },
  toggleShuffle: async () => void (await attempt(get, 'Shuffle', () => api().player.setShuffle({ on: !(get().status?.shuffle ?? false) }))),
});

// ---- queue -----------------------------------------------------------------------------------------

export interface QueueSlice {
  queue: QueueSnapshot;
  applyQueue(queue: QueueSnapshot): void;
  refreshQueue(): Promise<void>;
  playAt(index: number): Promise<void>;
  removeTracks(ids: string[]): Promise<void>;
  /** Moves locally at once (drag feedback), then asks the engine. */
  moveTrack(id: string, toIndex: number): Promise<void>;
  clearQueue(): Promise<void>;
}

export function moveInQueue(queue: QueueSnapshot, id: string, toIndex: number): QueueSnapshot {
  const from = queue.tracks.findIndex((t) => t.id === id);
  if (from < 0) return queue;
  const current = queue.tracks[queue.index];
  const tracks = [...queue.tracks];
  const [entry] = tracks.splice(from, 1);
  tracks.splice(Math.max(0, Math.min(toIndex, tracks.length)), 0, entry!);
  return { tracks, index: current ? tracks.indexOf(current) : queue.index };
}

export const createQueueSlice: Slice<QueueSlice> = (set, get) => ({
  queue: { tracks: [], index: -1 },
  applyQueue: (queue) => set({ queue }),
  refreshQueue: async () => set({ queue: await api().queue.get() }),
  playAt: async (index) => void (await attempt(get, 'Play', () => api().player.play({ index }))),
  removeTracks: async (ids) => void (await attempt(get, 'Remove', () => api().queue.remove({ ids }))),
  moveTrack: async (id, toIndex) => {
    const before = get().queue;
    set({ queue: moveInQueue(before, id, toIndex) });
    const ok = await attempt(get, 'Reorder', async () => {
      await api().queue.move({ id, toIndex });
      return true;
    });
    if (!ok) set({ queue: before });
  },
  clearQueue: async () => void (await attempt(get, 'Clear', () => api().queue.clear())),
});

// ---- library (local files) ---------------------------------------------------------------------------

export interface LibrarySlice {
  browser: { open: boolean; dir: string; parent: string | null; entries: FileEntry[]; selected: string[]; loading: boolean; error: string | null; roots: { label: string; path: string }[] };
  openBrowser(): Promise<void>;
  closeBrowser(): void;
  browse(dir: string): Promise<void>;
  toggleSelected(path: string): void;
  /** Expands the selection (or the given paths) into tracks and adds them to the queue. */
  addFiles(paths?: string[], play?: boolean): Promise<number>;
}

const LAST_DIR = 'stellatune.lastDir';

export const createLibrarySlice: Slice<LibrarySlice> = (set, get) => ({
  browser: { open: false, dir: '', parent: null, entries: [], selected: [], loading: false, error: null, roots: [] },
  openBrowser: async () => {
    set((s) => ({ browser: { ...s.browser, open: true, selected: [], error: null } }));
    const roots = await attempt(get, 'Files', () => api().files.roots());
    if (!roots) return;
    set((s) => ({ browser: { ...s.browser, roots: roots.roots } }));
    const last = typeof localStorage !== 'undefined' ? localStorage.getItem(LAST_DIR) : null;
    await get().browse(last ?? roots.roots[1]?.path ?? roots.home);
  },
  closeBrowser: () => set((s) => ({ browser: { ...s.browser, open: false } })),
  browse: async (dir) => {
    set((s) => ({ browser: { ...s.browser, loading: true, error: null } }));
    try {
      const r = await api().files.browse({ dir });
      if (typeof localStorage !== 'undefined') localStorage.setItem(LAST_DIR, r.dir);
      set((s) => ({ browser: { ...s.browser, dir: r.dir, parent: r.parent, entries: r.entries, selected: [], loading: false } }));
    } catch (err) {
      set((s) => ({ browser: { ...s.browser, loading: false, error: describeError(err) } }));
    }
  },
  toggleSelected: (p) =>
    set((s) => ({
      browser: { ...s.browser, selected: s.browser.selected.includes(p) ? s.browser.selected.filter((x) => x !== p) : [...s.browser.selected, p] },
    })),
  addFiles: async (paths, play) => {
    const chosen = paths ?? get().browser.selected;
    if (chosen.length === 0) return 0;
    const r = await attempt(get, 'Add files', async () => {
      const { tracks, skipped } = await api().files.expand({ paths: chosen, recursive: true });
      if (tracks.length > 0) await api().queue.add(play ? { tracks, play } : { tracks });
      return { added: tracks.length, skipped };
    });
    if (!r) return 0;
    get().closeBrowser();
    get().notify('info', r.added === 0 ? 'No playable files there.' : `Added ${r.added} track${r.added === 1 ? '' : 's'} to the queue.`);
    return r.added;
  },
});

// ---- plugins -----------------------------------------------------------------------------------------

export interface PluginsSlice {
  plugins: PluginView[];
  pluginBusy: Record<string, boolean>;
  /** Last apply outcome per "pluginId/kind/typeId". */
  applyOutcome: Record<string, ConfigOutcomeView | { outcome: 'error'; reason: string }>;
  applyPlugins(list: PluginView[]): void;
  refreshPlugins(): Promise<void>;
  setPluginEnabled(pluginId: string, enabled: boolean): Promise<void>;
  reloadPlugin(pluginId: string): Promise<void>;
  /** Loads a quarantined build (it crashed the player) anyway. */
  enableAnyway(path: string): Promise<void>;
  applyConfig(pluginId: string, kind: PluginView['capabilities'][number]['kind'], typeId: string, config: Record<string, unknown>): Promise<void>;
}

export const capKey = (pluginId: string, kind: string, typeId: string): string => `${pluginId}/${kind}/${typeId}`;

export const createPluginsSlice: Slice<PluginsSlice> = (set, get) => {
  const busy = (id: string, on: boolean): void => set((s) => ({ pluginBusy: { ...s.pluginBusy, [id]: on } }));
  const replace = (view: PluginView): void => set((s) => ({ plugins: s.plugins.map((p) => (p.path === view.path ? view : p)) }));
  return {
    plugins: [],
    pluginBusy: {},
    applyOutcome: {},
    // A plugin whose view did not change keeps its object, so its card does not render again: a
    // reload sends the whole list, and only the reloaded plugin's generation changed.
    applyPlugins: (list) => {
      const before = new Map(get().plugins.map((p) => [p.path, p]));
      let changed = list.length !== before.size;
      const plugins = list.map((p, i) => {
        const old = before.get(p.path);
        if (old && JSON.stringify(old) === JSON.stringify(p)) {
          if (get().plugins[i] !== old) changed = true;
          return old;
        }
        changed = true;
        return p;
      });
      if (changed) set({ plugins });
    },
    refreshPlugins: async () => set({ plugins: await api().plugins.list() }),
    setPluginEnabled: async (pluginId, enabled) => {
      busy(pluginId, true);
      const v = await attempt(get, enabled ? 'Enable' : 'Disable', () => (enabled ? api().plugins.enable({ pluginId }) : api().plugins.disable({ pluginId })));
      if (v) replace(v);
      busy(pluginId, false);
    },
    reloadPlugin: async (pluginId) => {
      busy(pluginId, true);
      const v = await attempt(get, 'Reload', () => api().plugins.reload({ pluginId }));
      if (v) {
        replace(v);
        get().notify('info', `Reloaded ${v.metadata?.name ?? pluginId} (generation ${v.leaseId ?? '–'}).`, undefined, `reloaded ${pluginId}`);
      }
      busy(pluginId, false);
    },
    enableAnyway: async (path) => {
      const v = await attempt(get, 'Enable anyway', () => api().plugins.enableAnyway({ path }));
      if (v) {
        replace(v);
        if (v.status === 'loaded') get().notify('info', `Loaded ${v.metadata?.name ?? path} despite its crash.`);
      }
    },
    applyConfig: async (pluginId, kind, typeId, config) => {
      const key = capKey(pluginId, kind, typeId);
      try {
        const outcome = await api().plugins.applyConfig({ pluginId, kind, typeId, config });
        set((s) => ({ applyOutcome: { ...s.applyOutcome, [key]: outcome } }));
        if (outcome.outcome !== 'rejected') await get().refreshPlugins();
      } catch (err) {
        set((s) => ({ applyOutcome: { ...s.applyOutcome, [key]: { outcome: 'error', reason: describeError(err) } } }));
      }
    },
  };
};

// ---- sources -----------------------------------------------------------------------------------------

export interface SourcesSlice {
  catalogs: SourceCatalog[];
  catalogKey: string | null;
  sourceBrowse: {
    items: SourceItem[];
    /** Folder trail for browse actions. */
    trail: { id: string; title: string }[];
    pending: boolean;
    error: string | null;
    cancelled: boolean;
    lastRequest: string | null;
    /** Where the next page starts (the plugin's next_offset), for "Load more". */
    nextOffset: number | null;
  };
  refreshCatalogs(): Promise<void>;
  selectCatalog(key: string): void;
  listItems(request: { action: string; query?: string; id?: string; offset?: number }, trail?: { id: string; title: string }[], append?: boolean): Promise<void>;
  cancelList(): void;
  loadMore(): Promise<void>;
  playItem(item: SourceItem, mode: 'play' | 'enqueue'): Promise<void>;
}

let listController: AbortController | null = null;
let lastListRequest: { action: string; query?: string; id?: string; offset?: number } | null = null;

export const catalogKeyOf = (c: { pluginId: string; typeId: string }): string => `${c.pluginId}/${c.typeId}`;

function itemToTrack(catalog: SourceCatalog, item: SourceItem): Omit<TrackInfo, 'id'> {
  const t: Omit<TrackInfo, 'id'> = { source: { kind: 'plugin', pluginId: catalog.pluginId, typeId: catalog.typeId, item: item.raw }, title: item.title };
  if (item.artist) t.artist = item.artist;
  if (item.album) t.album = item.album;
  if (item.durationMs !== undefined) t.durationMs = item.durationMs;
  return t;
}

export const createSourcesSlice: Slice<SourcesSlice> = (set, get) => ({
  catalogs: [],
  catalogKey: null,
  sourceBrowse: { items: [], trail: [], pending: false, error: null, cancelled: false, lastRequest: null, nextOffset: null },
  refreshCatalogs: async () => {
    const catalogs = await api().sources.catalogs();
    const key = get().catalogKey;
    set({ catalogs, catalogKey: key && catalogs.some((c) => catalogKeyOf(c) === key) ? key : catalogs[0] ? catalogKeyOf(catalogs[0]) : null });
  },
  selectCatalog: (key) => {
    listController?.abort();
    set({ catalogKey: key, sourceBrowse: { items: [], trail: [], pending: false, error: null, cancelled: false, lastRequest: null, nextOffset: null } });
  },
  listItems: async (request, trail, append = false) => {
    const catalog = get().catalogs.find((c) => catalogKeyOf(c) === get().catalogKey);
    if (!catalog) return;
    if (!append) lastListRequest = request;
    listController?.abort();
    const controller = new AbortController();
    listController = controller;
    set((s) => ({ sourceBrowse: { ...s.sourceBrowse, pending: true, error: null, cancelled: false, lastRequest: request.action } }));
    try {
      const r = await api().sources.list({ pluginId: catalog.pluginId, typeId: catalog.typeId, request }, { signal: controller.signal });
      if (listController !== controller) return;
      set((s) => ({
        sourceBrowse: { ...s.sourceBrowse, items: append ? [...s.sourceBrowse.items, ...r.items] : r.items, trail: trail ?? s.sourceBrowse.trail, pending: false, nextOffset: r.nextOffset },
      }));
    } catch (err) {
      if (listController !== controller) return;
      const cancelled = RpcError.from(err).code === 'cancelled';
      set((s) => ({ sourceBrowse: { ...s.sourceBrowse, pending: false, cancelled, error: cancelled ? null : describeError(err) } }));
    } finally {
      if (listController === controller) listController = null;
    }
  },
  cancelList: () => listController?.abort(),
  loadMore: async () => {
    const { nextOffset } = get().sourceBrowse;
    if (nextOffset === null || !lastListRequest) return;
    await get().listItems({ ...lastListRequest, offset: nextOffset } as NonNullable<typeof lastListRequest>, undefined, true);
  },
  playItem: async (item, mode) => {
    const catalog = get().catalogs.find((c) => catalogKeyOf(c) === get().catalogKey);
    if (!catalog) return;
    const track = itemToTrack(catalog, item);
    const added = await attempt(get, mode === 'play' ? 'Play' : 'Enqueue', () => api().queue.add(mode === 'play' ? { tracks: [track], play: true } : { tracks: [track] }));
    if (added && mode === 'enqueue') get().notify('info', `Queued “${item.title}”.`);
  },
});

// ---- lyrics ------------------------------------------------------------------------------------------

export interface LyricsSlice {
  lyricsProviders: CapabilityRefView[];
  lyrics: {
    /** Track the lyrics belong to (queue entry id). */
    trackId: string | null;
    candidates: (LyricsCandidate & { provider: CapabilityRefView })[];
    chosen: number;
    doc: LyricsDoc | null;
    pending: boolean;
    /** Searched everywhere, found nothing (an empty state, not an error). */
    empty: boolean;
    error: string | null;
    /** Providers that failed (offline, timed out…): quiet notes, the plugin's words as details. */
    notes: LyricsNote[];
  };
  refreshLyricsProviders(): Promise<void>;
  /** Searches every provider for the track, then fetches the best candidate. */
  lyricsForTrack(track: TrackInfo, opts?: { force?: boolean }): Promise<void>;
  /** Fetches candidate `index`; `auto` marks the store's own pick (a user's pick is kept). */
  chooseCandidate(index: number, opts?: { auto?: boolean }): Promise<void>;
  cancelLyrics(): void;
}

export interface LyricsNote {
  provider: string;
  text: string;
  details: string;
}

/** A provider's failure in a listener's words; the plugin's own text stays in `details`. */
export function lyricsNoteOf(provider: CapabilityRefView, err: unknown): LyricsNote {
  const e = RpcError.from(err);
  const name = provider.displayName || provider.pluginName;
  const network = e.code === 'timeout' || e.status === 'network' || e.status === 'timeout' || /\b(resolve|connect|refused|reset|unreachable|TLS|SSL)\b/i.test(e.message);
  return { provider: name, text: network ? `${name} could not be reached.` : `${name} could not search.`, details: describeError(err) };
}

let searchController: AbortController | null = null;
let fetchController: AbortController | null = null;
/** Whether the user picked a candidate for the current track (then later answers do not switch). */
let userPicked = false;

function lyricsQueryOf(track: TrackInfo): Record<string, unknown> {
  const q: Record<string, unknown> = { title: track.title };
  if (track.artist) q.artist = track.artist;
  if (track.album) q.album = track.album;
  if (track.durationMs !== undefined) q.durationMs = track.durationMs;
  if (track.source.kind === 'file') q.path = track.source.path;
  return q;
}

type RankedCandidate = LyricsSlice['lyrics']['candidates'][number];

/** A sidecar of this very file beats a database match; synced beats plain. */
function rankOf(track: TrackInfo): (c: RankedCandidate) => number {
  const localPath = track.source.kind === 'file' ? track.source.path : null;
  return (c) => (localPath !== null && c.raw.path === localPath ? 4 : 0) + (c.synced ? 2 : 0);
}

export const createLyricsSlice: Slice<LyricsSlice> = (set, get) => ({
  lyricsProviders: [],
  lyrics: { trackId: null, candidates: [], chosen: -1, doc: null, pending: false, empty: false, error: null, notes: [] },
  refreshLyricsProviders: async () => set({ lyricsProviders: await api().lyrics.providers() }),
  lyricsForTrack: async (track, opts = {}) => {
    if (!opts.force && get().lyrics.trackId === track.id && (get().lyrics.doc || get().lyrics.pending)) return;
    searchController?.abort();
    fetchController?.abort();
    const controller = new AbortController();
    searchController = controller;
    userPicked = false;
    set({ lyrics: { trackId: track.id, candidates: [], chosen: -1, doc: null, pending: true, empty: false, error: null, notes: [] } });
    const query = lyricsQueryOf(track);
    const providers = get().lyricsProviders;
    const rank = rankOf(track);
    const failures: unknown[] = [];
    // Providers answer at their own pace (a network one may be slow): show the first lyrics found
    // and keep adding candidates as the others answer.
    await Promise.all(
      providers.map(async (provider) => {
        try {
          const r = await api().lyrics.search({ pluginId: provider.pluginId, typeId: provider.typeId, query }, { signal: controller.signal });
          if (searchController !== controller || r.candidates.length === 0) return;
          const cur = get().lyrics;
          const chosen = cur.candidates[cur.chosen];
          const candidates = [...cur.candidates, ...r.candidates.map((c) => ({ ...c, provider }))].sort((a, b) => rank(b) - rank(a));
          set({ lyrics: { ...cur, candidates, chosen: chosen ? candidates.indexOf(chosen) : -1 } });
          // The first answer is shown at once; a better one arriving later (e.g. the sidecar of
          // this very file) replaces it unless the user picked one.
          if (!chosen || (!userPicked && rank(candidates[0]!) > rank(chosen))) await get().chooseCandidate(0, { auto: true });
        } catch (err) {
          failures.push(err);
          const e = RpcError.from(err);
          // "Not found" is an answer, not a failure; a cancel is the user's.
          if (searchController === controller && e.code !== 'cancelled' && e.status !== 'not_found') {
            set((s) => ({ lyrics: { ...s.lyrics, notes: [...s.lyrics.notes, lyricsNoteOf(provider, err)] } }));
          }
        }
      }),
    );
    if (searchController !== controller) return;
    searchController = null;
    if (get().lyrics.candidates.length > 0) return;
    const cancelled = failures.some((f) => RpcError.from(f).code === 'cancelled');
    set((s) => ({
      lyrics: {
        ...s.lyrics,
        pending: false,
        empty: !cancelled && providers.length > 0,
        error: cancelled ? 'Cancelled.' : providers.length === 0 ? 'No lyrics provider is loaded.' : null,
      },
    }));
  },
  chooseCandidate: async (index, opts = {}) => {
    const c = get().lyrics.candidates[index];
    if (!c) return;
    if (!opts.auto) userPicked = true;
    fetchController?.abort();
    const controller = new AbortController();
    fetchController = controller;
    set((s) => ({ lyrics: { ...s.lyrics, chosen: index, pending: true, error: null } }));
    try {
      const doc = await api().lyrics.fetch({ pluginId: c.provider.pluginId, typeId: c.provider.typeId, track: c.raw }, { signal: controller.signal });
      if (fetchController !== controller) return;
      set((s) => ({ lyrics: { ...s.lyrics, doc, pending: false } }));
    } catch (err) {
      if (fetchController !== controller) return;
      const cancelled = RpcError.from(err).code === 'cancelled';
      set((s) => ({
        lyrics: { ...s.lyrics, pending: false, error: cancelled ? 'Cancelled.' : null, notes: cancelled ? s.lyrics.notes : [...s.lyrics.notes, lyricsNoteOf(c.provider, err)] },
      }));
    } finally {
      if (fetchController === controller) fetchController = null;
    }
  },
  cancelLyrics: () => {
    searchController?.abort();
    fetchController?.abort();
  },
});

// ---- output ------------------------------------------------------------------------------------------

export interface OutputSlice {
  outputInfo: {
    hostApis: string[];
    devices: AudioDevice[];
    sinks: CapabilityRefView[];
    targets: Record<string, Record<string, unknown>[]>;
    /** The device the output plays on now (null: not open). */
    opened: string | null;
    error: string | null;
    loading: boolean;
  };
  dsps: (CapabilityRefView & { configSchema: unknown; config: unknown })[];
  refreshOutput(): Promise<void>;
  loadSinkTargets(pluginId: string, typeId: string): Promise<void>;
  setOutput(choice: OutputChoice): Promise<void>;
  refreshDsps(): Promise<void>;
  applyDsp(pluginId: string, typeId: string, config: Record<string, unknown>): Promise<ConfigOutcomeView | null>;
}

export const createOutputSlice: Slice<OutputSlice> = (set, get) => ({
  outputInfo: { hostApis: [], devices: [], sinks: [], targets: {}, opened: null, error: null, loading: false },
  dsps: [],
  refreshOutput: async () => {
    set((s) => ({ outputInfo: { ...s.outputInfo, loading: true, error: null } }));
    const sinks = await api().output.sinks().catch(() => []);
    try {
      const d = await api().output.devices();
      set((s) => ({ outputInfo: { ...s.outputInfo, hostApis: d.hostApis, devices: d.devices, opened: d.opened, sinks, loading: false } }));
    } catch (err) {
      set((s) => ({ outputInfo: { ...s.outputInfo, sinks, loading: false, error: describeError(err) } }));
    }
  },
  loadSinkTargets: async (pluginId, typeId) => {
    const targets = await attempt(get, 'Output targets', () => api().output.sinkTargets({ pluginId, typeId }));
    if (targets) set((s) => ({ outputInfo: { ...s.outputInfo, targets: { ...s.outputInfo.targets, [`${pluginId}/${typeId}`]: targets } } }));
  },
  setOutput: async (choice) => {
    const done = await attempt(get, 'Output', async () => {
      await api().output.set({ choice });
      return true;
    });
    if (done) {
      get().notify('info', 'Output changed.');
      // What it opened on (PulseAudio's own stream or a PortAudio device) is the device list's.
      const d = await api().output.devices().catch(() => null);
      if (d) set((s) => ({ outputInfo: { ...s.outputInfo, opened: d.opened } }));
    }
  },
  refreshDsps: async () => set({ dsps: await api().output.dsps() }),
  applyDsp: async (pluginId, typeId, config) => {
    const r = (await attempt(get, 'Equalizer', () => api().output.applyDsp({ pluginId, typeId, config }))) ?? null;
    // The core persisted it: the store holds it too, so the panel shows it when it mounts again.
    if (r && r.outcome !== 'rejected') set((s) => ({ dsps: s.dsps.map((d) => (d.pluginId === pluginId && d.typeId === typeId ? { ...d, config } : d)) }));
    return r;
  },
});

// ---- diagnostics ---------------------------------------------------------------------------------------

export interface DiagnosticsSlice {
  /** Low-rate parts (counter tables) only; the live numbers go straight to the DOM. */
  diagnostics: Pick<DiagnosticsSnapshot, 'ops' | 'plugins'> | null;
  applyDiagnostics(snapshot: DiagnosticsSnapshot): void;
}

export const createDiagnosticsSlice: Slice<DiagnosticsSlice> = (set, get) => ({
  diagnostics: null,
  applyDiagnostics: (snap) => {
    const prev = get().diagnostics;
    // Re-render the tables only when a counter changed.
    if (prev && JSON.stringify(prev.ops) === JSON.stringify(snap.ops) && JSON.stringify(prev.plugins) === JSON.stringify(snap.plugins)) return;
    set({ diagnostics: { ops: snap.ops, plugins: snap.plugins } });
  },
});
