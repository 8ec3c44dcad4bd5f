// The `library` and `playlists` services of the IPC contract (added to `contract` in
// contract.ts). The library is the SQLite catalogue of the user's music folders: roots, scans and
// their problems, tracks with their tags, albums, artists, genres, search, history and ratings.
// List methods take offset/limit, return a page and the total, and are cancellable; covers are
// referenced by id and fetched by URL (never as bytes inside a reply).
import { type Infer, s } from './schema.js';

const none = s.void();
const count = s.int({ min: 0 });
const ms = s.number({ min: 0 });
const trackId = s.int({ min: 1 });
const playlistId = s.int({ min: 1 });
const text = s.string({ max: 4096 });
const optText = s.nullable(text);
const path = s.string({ min: 1, max: 4096 });
const page = { offset: s.optional(count), limit: s.optional(s.int({ min: 1, max: 5000 })) };
const coverId = s.nullable(s.string({ pattern: /^[0-9a-f]{24}$/ }));

export const libraryTrack = s.object({
  id: trackId,
  path: s.string(),
  title: s.string(),
  artist: optText,
  artists: s.array(text),
  albumArtist: optText,
  album: optText,
  albumKey: s.string(),
  trackNo: s.nullable(count),
  discNo: s.nullable(count),
  year: s.nullable(s.int()),
  genres: s.array(text),
  durationMs: s.nullable(ms),
  codec: optText,
  sampleRate: s.nullable(count),
  bitDepth: s.nullable(count),
  channels: s.nullable(count),
  bitrate: s.nullable(count),
  playCount: count,
  skipCount: count,
  lastPlayed: s.nullable(ms),
  rating: s.int({ min: 0, max: 5 }),
  addedAt: ms,
  coverId,
  missing: s.boolean(),
});

export const trackDetails = s.object({
  track: libraryTrack,
  tags: s.record(s.string()),
  // Every stored column as text, for the properties dialog.
  fields: s.record(s.nullable(s.string())),
});

export const libraryAlbum = s.object({
  key: s.string(),
  title: s.string(),
  albumArtist: s.string(),
  year: s.nullable(s.int()),
  compilation: s.boolean(),
  coverId,
  trackCount: count,
  durationMs: ms,
  addedAt: ms,
});

export const libraryArtist = s.object({ name: s.string(), albumCount: count });
export const libraryGenre = s.object({ name: s.string(), trackCount: count });

export const libraryRoot = s.object({ id: s.int({ min: 1 }), path: s.string(), trackCount: count, missingCount: count, watching: s.boolean() });
export const libraryProblem = s.object({ path: s.string(), reason: s.string(), at: ms });

export const scanProgress = s.object({
  phase: s.enum(['walking', 'reading', 'finishing', 'done', 'cancelled', 'failed']),
  root: s.nullable(s.string()),
  found: count,
  toRead: count,
  read: count,
  added: count,
  updated: count,
  moved: count,
  removed: count,
  problems: count,
  unchanged: count,
  ratePerSec: count,
  etaMs: s.nullable(ms),
  elapsedMs: ms,
});

export const trackSort = s.enum(['title', 'artist', 'album', 'trackNo', 'durationMs', 'year', 'genre', 'codec', 'playCount', 'rating', 'addedAt', 'lastPlayed', 'path']);
export const albumSort = s.enum(['albumArtist', 'year', 'title', 'addedAt']);

export const libraryChange = s.object({
  /** What changed: listeners reload the views showing it. */
  what: s.array(s.enum(['roots', 'tracks', 'albums', 'problems', 'history', 'playlists'])),
});

export const playlistView = s.object({ id: playlistId, name: s.string(), entryCount: count, durationMs: ms, updatedAt: ms });
export const playlistEntry = s.object({
  entryId: s.int({ min: 1 }),
  position: count,
  /** Null when the file is not in the library (the entry shows as missing). */
  track: s.nullable(libraryTrack),
  path: s.nullable(s.string()),
  title: s.string(),
  missing: s.boolean(),
});

const pageOf = <T>(item: import('./schema.js').Schema<T>) => s.object({ items: s.array(item, { max: 5000 }), total: count });
function method<P, R>(params: import('./schema.js').Schema<P>, result: import('./schema.js').Schema<R>, opts: { cancellable?: boolean } = {}) {
  return { params, result, ...opts };
}

export const libraryService = {
  methods: {
    roots: method(none, s.array(libraryRoot)),
    addRoot: method(s.object({ path }), libraryRoot),
    removeRoot: method(s.object({ id: s.int({ min: 1 }) }), none),
    /** Starts a scan of one root or all (incremental: unchanged files are skipped). */
    rescan: method(s.object({ rootId: s.optional(s.int({ min: 1 })) }), none),
    cancelScan: method(none, none),
    scanStatus: method(none, s.nullable(scanProgress)),
    problems: method(s.object(page), pageOf(libraryProblem), { cancellable: true }),
    tracks: method(
      s.object({
        ...page,
        sort: s.optional(trackSort),
        descending: s.optional(s.boolean()),
        genre: s.optional(text),
        albumKey: s.optional(s.string({ max: 8192 })),
        artist: s.optional(text),
        /** Only tracks played at least once (Most played). */
        played: s.optional(s.boolean()),
        includeMissing: s.optional(s.boolean()),
      }),
      pageOf(libraryTrack),
      { cancellable: true },
    ),
    /** The ids of every track of a list view, in its order (selection, Play all). */
    trackIds: method(
      s.object({ sort: s.optional(trackSort), descending: s.optional(s.boolean()), genre: s.optional(text), artist: s.optional(text), albumKey: s.optional(s.string({ max: 8192 })) }),
      s.array(trackId, { max: 1_000_000 }),
      { cancellable: true },
    ),
    tracksById: method(s.object({ ids: s.array(trackId, { max: 5000 }) }), s.array(libraryTrack)),
    track: method(s.object({ id: trackId }), trackDetails),
    albums: method(s.object({ ...page, sort: s.optional(albumSort), descending: s.optional(s.boolean()), artist: s.optional(text) }), pageOf(libraryAlbum), { cancellable: true }),
    album: method(s.object({ key: s.string({ max: 8192 }) }), s.object({ album: libraryAlbum, tracks: s.array(libraryTrack, { max: 5000 }) })),
    artists: method(s.object(page), pageOf(libraryArtist), { cancellable: true }),
    genres: method(s.object(page), pageOf(libraryGenre), { cancellable: true }),
    search: method(
      s.object({ query: s.string({ max: 512 }), limit: s.optional(s.int({ min: 1, max: 200 })) }),
      s.object({ artists: s.array(libraryArtist), albums: s.array(libraryAlbum), tracks: s.array(libraryTrack), tookMs: ms }),
      { cancellable: true },
    ),
    setRating: method(s.object({ id: trackId, rating: s.int({ min: 0, max: 5 }) }), none),
    /** Deletes missing tracks (all, or these) for good. */
    purgeMissing: method(s.object({ ids: s.optional(s.array(trackId, { max: 100_000 })) }), s.object({ purged: count })),
    /** Adds dropped files and folders: folders become roots, loose files are added to the queue by the caller. */
    classifyPaths: method(s.object({ paths: s.array(path, { max: 1000 }) }), s.object({ folders: s.array(s.string()), files: s.array(s.string()) })),
    /** Opens the desktop's file manager at a file, selected (FileManager1 over D-Bus, else the
     * folder with xdg-open; Electron: shell.showItemInFolder). */
    showInFolder: method(s.object({ path }), s.object({ shownBy: s.enum(['file-manager', 'xdg-open', 'electron'] as const) })),
  },
  events: {
    didProgress: scanProgress,
    didChange: libraryChange,
  },
} as const;

export const playlistsService = {
  methods: {
    list: method(none, s.array(playlistView)),
    create: method(s.object({ name: s.string({ min: 1, max: 256 }), trackIds: s.optional(s.array(trackId, { max: 100_000 })), paths: s.optional(s.array(path, { max: 100_000 })) }), playlistView),
    rename: method(s.object({ id: playlistId, name: s.string({ min: 1, max: 256 }) }), playlistView),
    remove: method(s.object({ id: playlistId }), none),
    entries: method(s.object({ id: playlistId, ...page }), pageOf(playlistEntry), { cancellable: true }),
    /** Appends (or inserts at `index`) library tracks or file paths. */
    add: method(s.object({ id: playlistId, trackIds: s.optional(s.array(trackId, { max: 100_000 })), paths: s.optional(s.array(path, { max: 100_000 })), index: s.optional(count) }), playlistView),
    removeEntries: method(s.object({ id: playlistId, entryIds: s.array(s.int({ min: 1 }), { max: 100_000 }) }), playlistView),
    moveEntry: method(s.object({ id: playlistId, entryId: s.int({ min: 1 }), toIndex: count }), none),
    importM3u: method(s.object({ file: path, name: s.optional(s.string({ min: 1, max: 256 })) }), s.object({ playlist: playlistView, found: count, missing: count })),
    exportM3u: method(s.object({ id: playlistId, file: path }), s.object({ written: count })),
  },
  events: {
    didChange: s.object({ id: s.nullable(playlistId) }),
  },
} as const;

export type LibraryTrack = Infer<typeof libraryTrack>;
export type LibraryAlbum = Infer<typeof libraryAlbum>;
export type LibraryArtist = Infer<typeof libraryArtist>;
export type LibraryGenre = Infer<typeof libraryGenre>;
export type LibraryRoot = Infer<typeof libraryRoot>;
export type LibraryProblem = Infer<typeof libraryProblem>;
export type ScanProgressView = Infer<typeof scanProgress>;
export type TrackSort = Infer<typeof trackSort>;
export type AlbumSort = Infer<typeof albumSort>;
export type LibraryChangeKind = Infer<typeof libraryChange>['what'][number];
export type PlaylistView = Infer<typeof playlistView>;
export type PlaylistEntryView = Infer<typeof playlistEntry>;
export type TrackDetails = Infer<typeof trackDetails>;
