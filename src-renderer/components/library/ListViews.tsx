// List views over the tracks table: all tracks (sortable), Recently added, Most played, search
// results grouped as artists, albums and tracks, and a playlist's page.
import { type JSX, useEffect, useState } from 'react';
import type { LibraryAlbum, LibraryArtist, LibraryTrack, PlaylistEntryView, TrackSort } from '../../../src-shared/contract-library.js';
import { formatTime } from '../../lib/format.js';
import { api } from '../../store/api.js';
import { useStore } from '../../store/index.js';
import { Icon } from '../Icons.js';
import { Cover } from './Cover.js';
import { askConfirm, askName } from './NameDialog.js';
import { TRACKS_MIME, TracksTable } from './TracksTable.js';

function useTrackIds(params: { sort: TrackSort; descending?: boolean; played?: boolean }): number[] | null {
  const version = useStore((s) => s.lib.version);
  const history = useStore((s) => s.lib.historyVersion);
  const [ids, setIds] = useState<number[] | null>(null);
  const dependsOnHistory = params.sort === 'playCount' || params.sort === 'rating' || params.sort === 'lastPlayed';
  useEffect(() => {
    const controller = new AbortController();
    const q = { sort: params.sort, descending: params.descending ?? false };
    const run = params.played
      ? api().library.tracks({ ...q, played: true, limit: 500 }, { signal: controller.signal }).then((r) => r.items.map((t) => t.id))
      : api().library.trackIds(q, { signal: controller.signal });
    void run.then(setIds, () => {});
    return () => controller.abort();
  }, [version, params.sort, params.descending, params.played, dependsOnHistory ? history : 0]);
  return ids;
}

export function TracksView(): JSX.Element {
  const [sort, setSort] = useState<{ key: TrackSort; descending: boolean }>({ key: 'artist', descending: false });
  const ids = useTrackIds({ sort: sort.key, descending: sort.descending });
  return (
    <div className="lib-pane-fill col">
      <TracksTable ids={ids} sort={sort.key} descending={sort.descending} onSort={(key, descending) => setSort({ key, descending })} empty="No tracks yet." />
    </div>
  );
}

export function RecentView(): JSX.Element {
  const ids = useTrackIds({ sort: 'addedAt', descending: true });
  return (
    <div className="lib-pane-fill col">
      <TracksTable ids={ids ? ids.slice(0, 1000) : null} sort="addedAt" descending empty="Nothing added yet." testId="recent-table" />
    </div>
  );
}

export function MostPlayedView(): JSX.Element {
  const ids = useTrackIds({ sort: 'playCount', descending: true, played: true });
  return (
    <div className="lib-pane-fill col">
      <TracksTable ids={ids} sort="playCount" descending empty="Nothing played yet: a track counts after half of it (or four minutes) is heard." testId="most-played-table" />
    </div>
  );
}

export function SearchView(): JSX.Element {
  const query = useStore((s) => s.lib.query);
  const version = useStore((s) => s.lib.version);
  const openAlbum = useStore((s) => s.openAlbum);
  const openArtist = useStore((s) => s.openArtist);
  const setTab = useStore((s) => s.setLibraryTab);
  const [r, setR] = useState<{ artists: LibraryArtist[]; albums: LibraryAlbum[]; tracks: LibraryTrack[] } | null>(null);
  useEffect(() => {
    if (!query.trim()) {
      setR(null);
      return;
    }
    // As you type: the previous query's call is cancelled when a key comes in.
    const controller = new AbortController();
    const t = setTimeout(() => {
      void api().library.search({ query, limit: 100 }, { signal: controller.signal }).then(setR, () => {});
    }, 60);
    return () => {
      clearTimeout(t);
      controller.abort();
    };
  }, [query, version]);

  if (!query.trim()) return <div className="center-pad muted">Type to search titles, artists, albums, genres and file names.</div>;
  if (!r) return <div className="center-pad muted">Searching…</div>;
  if (r.artists.length + r.albums.length + r.tracks.length === 0) return <div className="center-pad muted" data-testid="search-empty">Nothing found for “{query}”.</div>;
  return (
    <div className="search-results lib-pane-fill col" data-testid="search-results">
      {r.artists.length > 0 ? (
        <section>
          <h3 className="group-title">Artists</h3>
          <div className="chips">
            {r.artists.map((a) => (
              <button key={a.name} className="chip" data-testid="search-artist" onClick={() => (setTab('artists'), openArtist(a.name))}>
                {a.name}
              </button>
            ))}
          </div>
        </section>
      ) : null}
      {r.albums.length > 0 ? (
        <section>
          <h3 className="group-title">Albums</h3>
          <div className="album-strip">
            {r.albums.map((a) => (
              <button key={a.key} className="album-mini" onClick={() => openAlbum(a.key)} data-testid="search-album">
                <Cover id={a.coverId} size={64} px={48} label={a.title} />
                <span className="track-main">
                  <span className="track-title">{a.title}</span>
                  <span className="track-sub">{a.albumArtist}</span>
                </span>
              </button>
            ))}
          </div>
        </section>
      ) : null}
      {r.tracks.length > 0 ? (
        <section className="col grow">
          <h3 className="group-title">Tracks</h3>
          <TracksTable ids={r.tracks.map((t) => t.id)} testId="search-tracks" />
        </section>
      ) : null}
    </div>
  );
}

export function PlaylistPage({ id }: { id: number }): JSX.Element {
  const playlists = useStore((s) => s.lib.playlists);
  const version = useStore((s) => s.lib.version);
  const playTracks = useStore((s) => s.playTracks);
  const rename = useStore((s) => s.renamePlaylist);
  const remove = useStore((s) => s.deletePlaylist);
  const openPlaylistFile = useStore((s) => s.openPlaylistFile);
  const pl = playlists.find((p) => p.id === id);
  const [entries, setEntries] = useState<PlaylistEntryView[] | null>(null);
  const [dragFrom, setDragFrom] = useState<number | null>(null);
  const reload = (): void => void api().playlists.entries({ id, limit: 5000 }).then((r) => setEntries(r.items), () => setEntries([]));
  useEffect(reload, [id, version, pl?.updatedAt]);

  if (!pl) return <div className="center-pad muted">This playlist is gone.</div>;
  const tracks = (entries ?? []).flatMap((e) => (e.track && !e.missing ? [e.track] : []));
  return (
    <div className="lib-pane" data-testid="playlist-page">
      <header className="album-head compact">
        <div className="album-head-meta">
          <span className="muted small">Playlist</span>
          <h2 data-testid="playlist-title">{pl.name}</h2>
          <p className="muted">
            {pl.entryCount} entr{pl.entryCount === 1 ? 'y' : 'ies'} · {formatTime(pl.durationMs)}
          </p>
          <div className="head-actions">
            <button className="btn btn-primary" onClick={() => void playTracks(tracks, 'play')} disabled={tracks.length === 0} data-testid="playlist-play">
              {Icon.play({ size: 16 })} Play
            </button>
            <button className="btn" onClick={() => void playTracks(tracks, 'queue')} disabled={tracks.length === 0}>
              {Icon.plus({ size: 16 })} Add to queue
            </button>
            <button
              className="btn"
              onClick={() => {
                void askName({ title: 'Rename the playlist', label: 'Name', initial: pl.name, confirm: 'Rename' }).then((name) => {
                  if (name && name !== pl.name) void rename(id, name);
                });
              }}
            >
              Rename
            </button>
            <button
              className="btn"
              data-testid="playlist-export"
              onClick={() => openPlaylistFile({ mode: 'export', id, name: pl.name })}
            >
              Export M3U
            </button>
            <button
              className="btn"
              onClick={() => {
                void askConfirm({ title: 'Delete the playlist', message: `Delete the playlist “${pl.name}”? The tracks stay in the library.`, confirm: 'Delete' }).then((yes) => {
                  if (yes) void remove(id);
                });
              }}
            >
              {Icon.trash({ size: 16 })} Delete
            </button>
          </div>
        </div>
      </header>
      {entries === null ? (
        <div className="center-pad muted">Loading…</div>
      ) : entries.length === 0 ? (
        <div className="center-pad muted">Empty. Drag tracks or albums here, or use “Add to playlist” on any track.</div>
      ) : (
        <ol className="album-tracks" data-testid="playlist-entries">
          {entries.map((e, i) => (
            <li
              key={e.entryId}
              className={`album-track ${e.missing ? 'is-missing' : ''}`}
              data-testid="playlist-entry"
              draggable
              tabIndex={0}
              onDragStart={(ev) => {
                setDragFrom(i);
                ev.dataTransfer.effectAllowed = 'move';
                ev.dataTransfer.setData('text/plain', e.title);
              }}
              onDragOver={(ev) => dragFrom !== null && ev.preventDefault()}
              onDrop={(ev) => {
                if (dragFrom === null) return;
                ev.preventDefault();
                ev.stopPropagation();
                const entry = entries[dragFrom]!;
                setDragFrom(null);
                void api().playlists.moveEntry({ id, entryId: entry.entryId, toIndex: i }).then(reload);
              }}
              onDoubleClick={() => e.track && void playTracks(tracks.slice(Math.max(0, tracks.indexOf(e.track))), 'play')}
              onKeyDown={(ev) => {
                if (ev.key === 'Delete') void api().playlists.removeEntries({ id, entryIds: [e.entryId] }).then(reload);
              }}
            >
              <span className="track-index">{i + 1}</span>
              <span className="track-main">
                <span className="track-title">{e.title}</span>
                <span className="track-sub">{e.missing ? `Missing — ${e.path ?? 'unknown file'}` : (e.track?.artist ?? '')}</span>
              </span>
              <span className="track-time">{formatTime(e.track?.durationMs ?? null)}</span>
              <span className="row-actions">
                <button className="icon-btn small" aria-label={`Remove ${e.title} from the playlist`} onClick={() => void api().playlists.removeEntries({ id, entryIds: [e.entryId] }).then(reload)}>
                  {Icon.x({ size: 14 })}
                </button>
              </span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

/** Track ids carried by a drag from a library view (tracks, or an album by key), or null. */
export async function draggedTrackIds(dt: DataTransfer): Promise<number[] | null> {
  const ids = dt.getData(TRACKS_MIME);
  if (ids) {
    try {
      const v = JSON.parse(ids) as unknown;
      return Array.isArray(v) ? v.filter((x): x is number => Number.isInteger(x)) : null;
    } catch {
      return null;
    }
  }
  const album = dt.getData(`${TRACKS_MIME}-album`);
  if (album) return (await api().library.album({ key: album })).tracks.map((t) => t.id);
  return null;
}

export function carriesTracks(dt: DataTransfer): boolean {
  return dt.types.includes(TRACKS_MIME) || dt.types.includes(`${TRACKS_MIME}-album`);
}
