// Albums (a grid of covers, sortable), an album's page (tracks by disc and number, total time,
// Play / Add to queue / Play next), artists (album artists with their albums; compilations under
// Various Artists) and genres.
import { type JSX, useEffect, useRef, useState } from 'react';
import type { AlbumSort, LibraryAlbum, LibraryArtist, LibraryGenre, LibraryTrack } from '../../../src-shared/contract-library.js';
import { formatTime } from '../../lib/format.js';
import { api } from '../../store/api.js';
import { useStore } from '../../store/index.js';
import { Icon } from '../Icons.js';
import { Cover } from './Cover.js';
import { TRACKS_MIME, TracksTable } from './TracksTable.js';
import { TrackMenu, type MenuAt } from './TrackMenu.js';

const GRID_PAGE = 120;

function AlbumCard({ album }: { album: LibraryAlbum }): JSX.Element {
  const openAlbum = useStore((s) => s.openAlbum);
  const playTracks = useStore((s) => s.playTracks);
  return (
    <div
      className="album-card"
      role="listitem"
      data-testid="album-card"
      draggable
      onDragStart={(e) => {
        // The album's track ids are fetched at drop time from its key.
        e.dataTransfer.setData(`${TRACKS_MIME}-album`, album.key);
        e.dataTransfer.setData('text/plain', album.title);
      }}
    >
      <button className="album-art" onClick={() => openAlbum(album.key)} aria-label={`Open ${album.title} by ${album.albumArtist}`}>
        <Cover id={album.coverId} size={256} px={168} label={album.title} />
      </button>
      <button className="icon-btn album-play" aria-label={`Play ${album.title}`} onClick={() => void api().library.album({ key: album.key }).then((a) => playTracks(a.tracks, 'play'))}>
        {Icon.play({ size: 16 })}
      </button>
      <button className="album-title link-like" onClick={() => openAlbum(album.key)} title={album.title}>
        {album.title}
      </button>
      <span className="album-sub muted" title={album.albumArtist}>
        {album.albumArtist}
        {album.year ? ` · ${album.year}` : ''}
      </span>
    </div>
  );
}

/** A grid of albums, loading more as it scrolls. */
export function AlbumGrid({ artist }: { artist?: string | null }): JSX.Element {
  const version = useStore((s) => s.lib.version);
  const sort = useStore((s) => s.lib.albumSort);
  const descending = useStore((s) => s.lib.albumDescending);
  const [albums, setAlbums] = useState<LibraryAlbum[] | null>(null);
  const [total, setTotal] = useState(0);
  const sentinel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const controller = new AbortController();
    void api()
      .library.albums({ sort, descending, limit: GRID_PAGE, ...(artist ? { artist } : {}) }, { signal: controller.signal })
      .then((r) => {
        setAlbums(r.items);
        setTotal(r.total);
      }, () => {});
    return () => controller.abort();
  }, [version, sort, descending, artist]);

  useEffect(() => {
    const el = sentinel.current;
    if (!el || !albums || albums.length >= total) return;
    const io = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      io.disconnect();
      void api()
        .library.albums({ sort, descending, offset: albums.length, limit: GRID_PAGE, ...(artist ? { artist } : {}) })
        .then((r) => setAlbums((prev) => [...(prev ?? []), ...r.items]), () => {});
    });
    io.observe(el);
    return () => io.disconnect();
  }, [albums, total, sort, descending, artist]);

  if (albums === null) return <div className="center-pad muted">Loading…</div>;
  if (albums.length === 0) return <div className="center-pad muted">No albums yet.</div>;
  return (
    <div className="album-grid" role="list" data-testid="album-grid" aria-label="Albums">
      {albums.map((a) => (
        <AlbumCard key={a.key} album={a} />
      ))}
      <div ref={sentinel} className="grid-sentinel" aria-hidden />
    </div>
  );
}

export function AlbumsView(): JSX.Element {
  const sort = useStore((s) => s.lib.albumSort);
  const descending = useStore((s) => s.lib.albumDescending);
  const setAlbumSort = useStore((s) => s.setAlbumSort);
  return (
    <>
      <div className="lib-toolbar">
        <label className="muted small" htmlFor="album-sort">
          Sort by
        </label>
        <select id="album-sort" className="select" value={sort} onChange={(e) => setAlbumSort(e.target.value as AlbumSort, descending)} data-testid="album-sort">
          <option value="albumArtist">Album artist</option>
          <option value="year">Year</option>
          <option value="title">Title</option>
          <option value="addedAt">Date added</option>
        </select>
        <button className="btn small" onClick={() => setAlbumSort(sort, !descending)} aria-label={descending ? 'Descending' : 'Ascending'}>
          {descending ? '↓' : '↑'}
        </button>
      </div>
      <div className="lib-pane">
        <AlbumGrid />
      </div>
    </>
  );
}

function discsOf(tracks: LibraryTrack[]): { disc: number; tracks: LibraryTrack[] }[] {
  const out: { disc: number; tracks: LibraryTrack[] }[] = [];
  for (const t of tracks) {
    const disc = t.discNo ?? 1;
    let g = out.find((x) => x.disc === disc);
    if (!g) out.push((g = { disc, tracks: [] }));
    g.tracks.push(t);
  }
  return out;
}

export function AlbumPage({ albumKey }: { albumKey: string }): JSX.Element {
  const version = useStore((s) => s.lib.version + s.lib.historyVersion);
  const openAlbum = useStore((s) => s.openAlbum);
  const playTracks = useStore((s) => s.playTracks);
  const currentPath = useStore((s) => (s.status?.current?.source.kind === 'file' ? s.status.current.source.path : null));
  const [data, setData] = useState<{ album: LibraryAlbum; tracks: LibraryTrack[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [menu, setMenu] = useState<MenuAt | null>(null);

  useEffect(() => {
    void api()
      .library.album({ key: albumKey })
      .then(setData, (e: unknown) => setError(String((e as Error).message)));
  }, [albumKey, version]);

  if (error) return <div className="error-box">This album is no longer in the library. <button className="link" onClick={() => openAlbum(null)}>Back</button></div>;
  if (!data) return <div className="center-pad muted">Loading…</div>;
  const { album, tracks } = data;
  const discs = discsOf(tracks);
  return (
    <div className="album-page lib-pane" data-testid="album-page">
      <button className="btn small back" onClick={() => openAlbum(null)}>
        ← Back
      </button>
      <header className="album-head">
        <Cover id={album.coverId} size={512} px={200} label={album.title} />
        <div className="album-head-meta">
          <span className="muted small">{album.compilation ? 'Compilation' : 'Album'}</span>
          <h2 data-testid="album-page-title">{album.title}</h2>
          <p className="muted">
            {album.albumArtist}
            {album.year ? ` · ${album.year}` : ''} · {album.trackCount} track{album.trackCount === 1 ? '' : 's'} · <span data-testid="album-duration">{formatTime(album.durationMs)}</span>
          </p>
          <div className="head-actions">
            <button className="btn btn-primary" onClick={() => void playTracks(tracks, 'play')} data-testid="album-play">
              {Icon.play({ size: 16 })} Play
            </button>
            <button className="btn" onClick={() => void playTracks(tracks, 'queue')} data-testid="album-queue">
              {Icon.plus({ size: 16 })} Add to queue
            </button>
            <button className="btn" onClick={() => void playTracks(tracks, 'next')} data-testid="album-next">
              {Icon.next({ size: 16 })} Play next
            </button>
          </div>
        </div>
      </header>
      {discs.map((d) => (
        <section key={d.disc} className="disc">
          {discs.length > 1 ? <h3 className="disc-title">Disc {d.disc}</h3> : null}
          <ol className="album-tracks">
            {d.tracks.map((t, i) => (
              <li
                key={t.id}
                className={`album-track ${t.path === currentPath ? 'is-current' : ''}`}
                data-testid="album-track"
                draggable
                tabIndex={0}
                onDragStart={(e) => e.dataTransfer.setData(TRACKS_MIME, JSON.stringify([t.id]))}
                onDoubleClick={() => void playTracks(tracks.slice(tracks.indexOf(t)), 'play')}
                onKeyDown={(e) => e.key === 'Enter' && void playTracks(tracks.slice(tracks.indexOf(t)), 'play')}
                onContextMenu={(e) => {
                  e.preventDefault();
                  setMenu({ x: e.clientX, y: e.clientY, ids: [t.id], dir: t.path.slice(0, t.path.lastIndexOf('/')), path: t.path });
                }}
              >
                <span className="track-index">{t.trackNo ?? i + 1}</span>
                <span className="track-main">
                  <span className="track-title">{t.title}</span>
                  {album.compilation || (t.artist && t.artist !== album.albumArtist) ? <span className="track-sub">{t.artist}</span> : null}
                </span>
                <span className="stars muted small" aria-label={`${t.rating} stars`}>{'★'.repeat(t.rating)}</span>
                <span className="track-time">{formatTime(t.durationMs)}</span>
              </li>
            ))}
          </ol>
        </section>
      ))}
      {menu ? <TrackMenu at={menu} onClose={() => setMenu(null)} /> : null}
    </div>
  );
}

export function ArtistsView(): JSX.Element {
  const version = useStore((s) => s.lib.version);
  const open = useStore((s) => s.lib.openArtist);
  const openArtist = useStore((s) => s.openArtist);
  const [artists, setArtists] = useState<LibraryArtist[]>([]);
  useEffect(() => {
    void api().library.artists({ limit: 5000 }).then((r) => setArtists(r.items), () => {});
  }, [version]);
  return (
    <div className="split lib-pane-fill">
      <ul className="side-list" aria-label="Album artists" data-testid="artist-list">
        {artists.map((a) => (
          <li key={a.name}>
            <button className={`side-item ${open === a.name ? 'is-active' : ''}`} onClick={() => openArtist(a.name)} data-testid="artist-item">
              <span className="ellipsis">{a.name}</span>
              <span className="muted small">{a.albumCount}</span>
            </button>
          </li>
        ))}
      </ul>
      <div className="lib-pane">
        {open ? (
          <>
            <h2 className="pane-title">{open}</h2>
            <AlbumGrid artist={open} />
          </>
        ) : (
          <div className="center-pad muted">Pick an artist.</div>
        )}
      </div>
    </div>
  );
}

export function GenresView(): JSX.Element {
  const version = useStore((s) => s.lib.version);
  const open = useStore((s) => s.lib.openGenre);
  const openGenre = useStore((s) => s.openGenre);
  const [genres, setGenres] = useState<LibraryGenre[]>([]);
  const [ids, setIds] = useState<number[] | null>(null);
  useEffect(() => {
    void api().library.genres({ limit: 5000 }).then((r) => setGenres(r.items), () => {});
  }, [version]);
  useEffect(() => {
    if (!open) return;
    setIds(null);
    void api().library.trackIds({ genre: open, sort: 'artist' }).then(setIds, () => setIds([]));
  }, [open, version]);
  return (
    <div className="split lib-pane-fill">
      <ul className="side-list" aria-label="Genres">
        {genres.map((g) => (
          <li key={g.name}>
            <button className={`side-item ${open === g.name ? 'is-active' : ''}`} onClick={() => openGenre(g.name)} data-testid="genre-item">
              <span className="ellipsis">{g.name}</span>
              <span className="muted small">{g.trackCount}</span>
            </button>
          </li>
        ))}
      </ul>
      <div className="lib-pane-fill col">{open ? <TracksTable ids={ids} /> : <div className="center-pad muted">Pick a genre.</div>}</div>
    </div>
  );
}
