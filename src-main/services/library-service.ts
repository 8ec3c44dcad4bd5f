// The library and playlists services: validated front ends of the Library (src-main/library/).
// Reads are synchronous indexed queries; a cancelled call is refused before it runs.
import { RpcError } from '../../src-shared/rpc-error.js';
import type { ShownBy } from '../desktop/show-in-folder.js';
import type { Library } from '../library/library.js';
import type { Playlists } from '../library/playlists.js';
import type { CallContext, CoreEvents, ServiceHandlers } from './router.js';

function live(ctx: CallContext): void {
  if (ctx.signal.aborted) throw new RpcError({ code: 'cancelled', message: 'cancelled' });
}

export function libraryService(lib: () => Library, show: (file: string) => Promise<ShownBy>): ServiceHandlers<'library'> {
  return {
    roots: () => lib().roots(),
    addRoot: (p) => lib().addRoot(p.path),
    removeRoot: (p) => lib().removeRoot(p.id),
    rescan: (p) => lib().rescan(p.rootId),
    cancelScan: () => lib().cancelScan(),
    scanStatus: () => lib().scanStatus(),
    problems: (p, ctx) => (live(ctx), lib().problems(p.offset, p.limit)),
    tracks: (p, ctx) => (live(ctx), lib().tracks(p)),
    trackIds: (p, ctx) => (live(ctx), lib().trackIds(p)),
    tracksById: (p) => lib().tracksById(p.ids),
    track: (p) => lib().track(p.id),
    albums: (p, ctx) => (live(ctx), lib().albums(p)),
    album: (p) => lib().album(p.key),
    artists: (p, ctx) => (live(ctx), lib().artists(p.offset, p.limit)),
    genres: (p, ctx) => (live(ctx), lib().genres(p.offset, p.limit)),
    search: (p, ctx) => (live(ctx), lib().search(p.query, p.limit)),
    setRating: (p) => lib().setRating(p.id, p.rating),
    purgeMissing: (p) => ({ purged: lib().purgeMissing(p.ids) }),
    classifyPaths: (p) => lib().classifyPaths(p.paths),
    showInFolder: async (p) => ({ shownBy: await show(p.path) }),
  };
}

export function playlistsService(pl: () => Playlists, events: CoreEvents): ServiceHandlers<'playlists'> {
  const changed = <T>(id: number | null, v: T): T => {
    events.emitEvent('playlists', 'didChange', { id });
    return v;
  };
  return {
    list: () => pl().list(),
    create: (p) => {
      const v = pl().create(p.name, { ...(p.trackIds ? { trackIds: p.trackIds } : {}), ...(p.paths ? { paths: p.paths } : {}) });
      return changed(v.id, v);
    },
    rename: (p) => changed(p.id, pl().rename(p.id, p.name)),
    remove: (p) => changed(p.id, pl().remove(p.id)),
    entries: (p, ctx) => (live(ctx), pl().entries(p.id, p.offset, p.limit)),
    add: (p) => changed(p.id, pl().add(p.id, { ...(p.trackIds ? { trackIds: p.trackIds } : {}), ...(p.paths ? { paths: p.paths } : {}) }, p.index)),
    removeEntries: (p) => changed(p.id, pl().removeEntries(p.id, p.entryIds)),
    moveEntry: (p) => changed(p.id, pl().moveEntry(p.id, p.entryId, p.toIndex)),
    importM3u: (p) => {
      const r = pl().importM3u(p.file, p.name);
      return changed(r.playlist.id, r);
    },
    exportM3u: (p) => ({ written: pl().exportM3u(p.id, p.file) }),
  };
}

/** Relays the library's scan progress and changes to the contract's events. */
export function relayLibraryEvents(lib: Library, events: CoreEvents): () => void {
  const onProgress = (p: Parameters<typeof events.emitEvent<'library', 'didProgress'>>[2]): void => events.emitEvent('library', 'didProgress', p);
  const onChanged = (what: Parameters<typeof events.emitEvent<'library', 'didChange'>>[2]['what']): void => events.emitEvent('library', 'didChange', { what });
  lib.on('progress', onProgress);
  lib.on('changed', onChanged);
  return () => {
    lib.off('progress', onProgress);
    lib.off('changed', onChanged);
  };
}
