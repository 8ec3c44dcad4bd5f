// The music library's slice: where the library screen is (tab, open album/artist/genre/playlist),
// the roots and the scan progress, the playlists, the folder picker and the properties dialog.
// The lists themselves are fetched page by page by the views (they can be 100k rows long); a
// change event bumps `lib.version` so the views showing it reload.
import type { StateCreator } from 'zustand';
import type {
  AlbumSort,
  LibraryChangeKind,
  LibraryRoot,
  LibraryTrack,
  PlaylistView,
  ScanProgressView,
  TrackDetails,
} from '../../src-shared/contract-library.js';
import type { FileEntry, NewTrackView } from '../../src-shared/contract.js';
import { describeError, RpcError } from '../../src-shared/rpc-error.js';
import { api } from './api.js';
import type { AppState } from './slices.js';

export type LibraryTab = 'albums' | 'artists' | 'tracks' | 'genres' | 'recent' | 'mostPlayed' | 'search' | 'folders' | 'problems' | 'playlist';
export type PlayMode = 'play' | 'next' | 'queue';
export type PlaylistFileAsk = { mode: 'import' } | { mode: 'export'; id: number; name: string };

export interface FolderPicker {
  dir: string;
  parent: string | null;
  entries: FileEntry[];
  roots: { label: string; path: string }[];
  error: string | null;
  loading: boolean;
}

export interface MusicLibrarySlice {
  lib: {
    loaded: boolean;
    roots: LibraryRoot[];
    progress: ScanProgressView | null;
    tab: LibraryTab;
    albumSort: AlbumSort;
    albumDescending: boolean;
    openAlbum: string | null;
    openArtist: string | null;
    openGenre: string | null;
    openPlaylist: number | null;
    playlists: PlaylistView[];
    /** Bumped when tracks or albums change (views reload). */
    version: number;
    /** Bumped when play counts or ratings change. */
    historyVersion: number;
    query: string;
    picker: FolderPicker | null;
    properties: TrackDetails | null;
    problemCount: number;
    playlistFile: PlaylistFileAsk | null;
  };
  loadLibrary(): Promise<void>;
  setLibraryTab(tab: LibraryTab): void;
  applyScanProgress(p: ScanProgressView): void;
  applyLibraryChange(what: LibraryChangeKind[]): void;
  addRoot(path: string): Promise<boolean>;
  removeRoot(id: number): Promise<void>;
  rescan(rootId?: number): Promise<void>;
  cancelScan(): Promise<void>;
  openAlbum(key: string | null): void;
  openArtist(name: string | null): void;
  openGenre(name: string | null): void;
  setAlbumSort(sort: AlbumSort, descending?: boolean): void;
  setQuery(query: string): void;
  playTracks(tracks: LibraryTrack[], mode: PlayMode): Promise<void>;
  playTrackIds(ids: number[], mode: PlayMode): Promise<void>;
  openPicker(dir?: string): Promise<void>;
  pickerBrowse(dir: string): Promise<void>;
  closePicker(): void;
  showProperties(id: number): Promise<void>;
  closeProperties(): void;
  setRating(id: number, rating: number): Promise<void>;
  refreshPlaylists(): Promise<void>;
  openPlaylist(id: number | null): void;
  createPlaylist(name: string, items?: { trackIds?: number[]; paths?: string[] }): Promise<PlaylistView | null>;
  addToPlaylist(id: number, trackIds: number[]): Promise<void>;
  renamePlaylist(id: number, name: string): Promise<void>;
  deletePlaylist(id: number): Promise<void>;
  saveQueueAsPlaylist(name: string): Promise<void>;
  /** Both say whether it worked (the dialog stays open on a failure, which is shown). */
  /** Null when done; otherwise why not, for the dialog that asked to show (it covers the toasts). */
  importM3u(file: string): Promise<string | null>;
  exportM3u(id: number, file: string): Promise<string | null>;
  /** The in-app dialog that picks the M3U file to import or the place to export to. */
  openPlaylistFile(ask: PlaylistFileAsk): void;
  closePlaylistFile(): void;
  /** Files and folders dropped on the window: folders become library roots, files go to the queue. */
  dropPaths(paths: string[]): Promise<void>;
}

type Slice<T> = StateCreator<AppState, [], [], T>;

export function newTrackOf(t: LibraryTrack): NewTrackView {
  const n: NewTrackView = { source: { kind: 'file', path: t.path }, title: t.title };
  if (t.artist) n.artist = t.artist;
  if (t.album) n.album = t.album;
  if (t.durationMs !== null) n.durationMs = t.durationMs;
  return n;
}

const MAX_QUEUE_ADD = 10_000;

export const createMusicLibrarySlice: Slice<MusicLibrarySlice> = (set, get) => {
  const patch = (p: Partial<MusicLibrarySlice['lib']>): void => set((s) => ({ lib: { ...s.lib, ...p } }));
  const fail = (what: string, err: unknown): void => {
    if (RpcError.from(err).code !== 'cancelled') get().notify('error', `${what}: ${describeError(err)}`);
  };
  const refreshProblems = async (): Promise<void> => {
    const p = await api().library.problems({ limit: 1 }).catch(() => null);
    if (p) patch({ problemCount: p.total });
  };
  return {
    lib: {
      loaded: false,
      roots: [],
      progress: null,
      tab: 'albums',
      albumSort: 'albumArtist',
      albumDescending: false,
      openAlbum: null,
      openArtist: null,
      openGenre: null,
      openPlaylist: null,
      playlists: [],
      version: 0,
      historyVersion: 0,
      query: '',
      picker: null,
      properties: null,
      problemCount: 0,
      playlistFile: null,
    },
    loadLibrary: async () => {
      const [roots, progress, playlists] = await Promise.all([api().library.roots(), api().library.scanStatus(), api().playlists.list()]);
      patch({ loaded: true, roots, progress, playlists, version: get().lib.version + 1 });
      await refreshProblems();
    },
    setLibraryTab: (tab) => patch({ tab, openAlbum: null, ...(tab !== 'artists' ? { openArtist: null } : {}), ...(tab !== 'genres' ? { openGenre: null } : {}) }),
    applyScanProgress: (progress) => patch({ progress }),
    applyLibraryChange: (what) => {
      if (what.includes('tracks') || what.includes('albums')) patch({ version: get().lib.version + 1 });
      if (what.includes('history')) patch({ historyVersion: get().lib.historyVersion + 1 });
      if (what.includes('roots')) void api().library.roots().then((roots) => patch({ roots }), () => {});
      if (what.includes('problems')) void refreshProblems();
    },
    addRoot: async (path) => {
      try {
        await api().library.addRoot({ path });
        patch({ roots: await api().library.roots() });
        return true;
      } catch (err) {
        fail('Add folder', err);
        return false;
      }
    },
    removeRoot: async (id) => {
      try {
        await api().library.removeRoot({ id });
        patch({ roots: await api().library.roots() });
      } catch (err) {
        fail('Remove folder', err);
      }
    },
    rescan: async (rootId) => {
      await api().library.rescan(rootId === undefined ? {} : { rootId }).catch((err: unknown) => fail('Rescan', err));
    },
    cancelScan: async () => {
      await api().library.cancelScan().catch((err: unknown) => fail('Cancel', err));
    },
    openAlbum: (key) => patch({ openAlbum: key }),
    openArtist: (name) => patch({ openArtist: name, openAlbum: null }),
    openGenre: (name) => patch({ openGenre: name }),
    setAlbumSort: (albumSort, albumDescending = false) => patch({ albumSort, albumDescending }),
    setQuery: (query) => patch({ query, tab: 'search', openAlbum: null }),
    playTracks: async (tracks, mode) => {
      const list = tracks.filter((t) => !t.missing).slice(0, MAX_QUEUE_ADD).map(newTrackOf);
      if (list.length === 0) return;
      try {
        if (mode === 'play') {
          await api().queue.clear();
          await api().queue.add({ tracks: list, play: true });
        } else if (mode === 'next') {
          const q = await api().queue.get();
          const at = q.index >= 0 ? q.index + 1 : q.tracks.length;
          await api().queue.insert({ index: at, tracks: list });
          get().notify('info', list.length === 1 ? `“${list[0]!.title}” plays next.` : `${list.length} tracks play next.`);
        } else {
          await api().queue.add({ tracks: list });
          get().notify('info', list.length === 1 ? `Queued “${list[0]!.title}”.` : `Queued ${list.length} tracks.`);
        }
      } catch (err) {
        fail(mode === 'play' ? 'Play' : 'Queue', err);
      }
    },
    playTrackIds: async (ids, mode) => {
      const tracks: LibraryTrack[] = [];
      try {
        for (let i = 0; i < Math.min(ids.length, MAX_QUEUE_ADD); i += 5000) tracks.push(...(await api().library.tracksById({ ids: ids.slice(i, i + 5000) })));
      } catch (err) {
        fail('Play', err);
        return;
      }
      await get().playTracks(tracks, mode);
    },
    openPicker: async (dir) => {
      const roots = await api().files.roots().catch(() => null);
      patch({ picker: { dir: '', parent: null, entries: [], roots: roots?.roots ?? [], error: null, loading: true } });
      const music = roots?.roots.find((r) => r.label === 'Music');
      await get().pickerBrowse(dir ?? music?.path ?? roots?.home ?? '/');
    },
    pickerBrowse: async (dir) => {
      const cur = get().lib.picker;
      if (!cur) return;
      patch({ picker: { ...cur, loading: true, error: null } });
      try {
        const r = await api().files.browse({ dir });
        const p = get().lib.picker;
        if (p) patch({ picker: { ...p, dir: r.dir, parent: r.parent, entries: r.entries.filter((e) => e.kind === 'dir'), loading: false } });
      } catch (err) {
        const p = get().lib.picker;
        if (p) patch({ picker: { ...p, loading: false, error: describeError(err) } });
      }
    },
    closePicker: () => patch({ picker: null }),
    showProperties: async (id) => {
      try {
        patch({ properties: await api().library.track({ id }) });
      } catch (err) {
        fail('Properties', err);
      }
    },
    closeProperties: () => patch({ properties: null }),
    setRating: async (id, rating) => {
      await api().library.setRating({ id, rating }).catch((err: unknown) => fail('Rating', err));
    },
    refreshPlaylists: async () => patch({ playlists: await api().playlists.list() }),
    openPlaylist: (id) => patch({ openPlaylist: id, tab: 'playlist', openAlbum: null }),
    createPlaylist: async (name, items = {}) => {
      try {
        const v = await api().playlists.create({ name, ...items });
        await get().refreshPlaylists();
        return v;
      } catch (err) {
        fail('New playlist', err);
        return null;
      }
    },
    addToPlaylist: async (id, trackIds) => {
      try {
        const v = await api().playlists.add({ id, trackIds });
        await get().refreshPlaylists();
        get().notify('info', `Added ${trackIds.length === 1 ? 'a track' : `${trackIds.length} tracks`} to “${v.name}”.`);
      } catch (err) {
        fail('Add to playlist', err);
      }
    },
    renamePlaylist: async (id, name) => {
      await api().playlists.rename({ id, name }).catch((err: unknown) => fail('Rename', err));
      await get().refreshPlaylists();
    },
    deletePlaylist: async (id) => {
      await api().playlists.remove({ id }).catch((err: unknown) => fail('Delete playlist', err));
      if (get().lib.openPlaylist === id) patch({ openPlaylist: null, tab: 'albums' });
      await get().refreshPlaylists();
    },
    saveQueueAsPlaylist: async (name) => {
      const paths = get().queue.tracks.flatMap((t) => (t.source.kind === 'file' ? [t.source.path] : []));
      if (paths.length === 0) {
        get().notify('info', 'The queue has no local files to save.');
        return;
      }
      const v = await get().createPlaylist(name, { paths });
      if (v) {
        get().notify('info', `Saved the queue as “${v.name}”.`);
        get().openPlaylist(v.id);
      }
    },
    importM3u: async (file) => {
      try {
        const r = await api().playlists.importM3u({ file });
        await get().refreshPlaylists();
        get().notify('info', `Imported “${r.playlist.name}”: ${r.found} found${r.missing ? `, ${r.missing} missing` : ''}.`);
        get().openPlaylist(r.playlist.id);
        return null;
      } catch (err) {
        return describeError(err);
      }
    },
    exportM3u: async (id, file) => {
      try {
        const r = await api().playlists.exportM3u({ id, file });
        get().notify('info', `Wrote ${r.written} entries to ${file}.`);
        return null;
      } catch (err) {
        return describeError(err);
      }
    },
    openPlaylistFile: (ask) => patch({ playlistFile: ask }),
    closePlaylistFile: () => patch({ playlistFile: null }),
    dropPaths: async (paths) => {
      try {
        const { folders, files } = await api().library.classifyPaths({ paths });
        for (const f of folders) await get().addRoot(f);
        if (folders.length > 0) {
          get().setScreen('library');
          get().setLibraryTab('folders');
        }
        if (files.length > 0) await get().addFiles(files);
      } catch (err) {
        fail('Drop', err);
      }
    },
  };
};
