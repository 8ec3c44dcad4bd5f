// The Library screen: its own navigation (views, playlists, folders, problems), the search box
// (Ctrl+F or /), the first-run "Add your music folder", the folders with the scan's progress, the
// folder picker and the track properties dialog. Also the window-wide hooks: the search shortcuts
// and files or folders dropped on the window.
import { type JSX, useEffect, useRef, useState } from 'react';
import type { LibraryProblem, ScanProgressView } from '../../../src-shared/contract-library.js';
import { formatTime } from '../../lib/format.js';
import { api } from '../../store/api.js';
import { useStore } from '../../store/index.js';
import type { LibraryTab } from '../../store/library.js';
import { Icon, Spinner } from '../Icons.js';
import { PathListing } from '../PathListing.js';
import { AlbumPage, AlbumsView, ArtistsView, GenresView } from './AlbumViews.js';
import { NameDialogHost, askConfirm, askName } from './NameDialog.js';
import { PlaylistFileDialog } from './PlaylistFileDialog.js';
import { carriesTracks, draggedTrackIds, MostPlayedView, PlaylistPage, RecentView, SearchView, TracksView } from './ListViews.js';
import { Modal } from '../Modal.js';

const VIEWS: { tab: LibraryTab; label: string }[] = [
  { tab: 'albums', label: 'Albums' },
  { tab: 'artists', label: 'Artists' },
  { tab: 'tracks', label: 'Tracks' },
  { tab: 'genres', label: 'Genres' },
  { tab: 'recent', label: 'Recently added' },
  { tab: 'mostPlayed', label: 'Most played' },
];

const scanning = (p: ScanProgressView | null): boolean => p !== null && ['walking', 'reading', 'finishing'].includes(p.phase);

export function ScanProgress({ compact }: { compact?: boolean }): JSX.Element | null {
  const p = useStore((s) => s.lib.progress);
  const cancel = useStore((s) => s.cancelScan);
  if (!p) return null;
  const running = scanning(p);
  if (!running && compact) return null;
  const pct = p.toRead > 0 ? Math.min(100, Math.round((p.read / p.toRead) * 100)) : running ? 0 : 100;
  const phase = { walking: 'Looking for music…', reading: 'Reading tags…', finishing: 'Finishing…', done: 'Up to date', cancelled: 'Scan cancelled', failed: 'Scan failed' }[p.phase];
  return (
    <div className={`scan ${compact ? 'compact' : ''}`} data-testid="scan-progress" data-phase={p.phase} role="status" aria-live="polite">
      <div className="scan-head">
        {running ? <Spinner label="Scanning" /> : null}
        <strong>{phase}</strong>
        {running ? (
          <button className="btn small" onClick={() => void cancel()} data-testid="scan-cancel">
            Cancel
          </button>
        ) : null}
      </div>
      <div className="scan-bar" aria-hidden>
        <div className="scan-fill" style={{ width: `${pct}%` }} />
      </div>
      <div className="scan-stats muted small">
        <span data-testid="scan-found">{p.found.toLocaleString()} found</span>
        <span>
          {p.read.toLocaleString()}/{p.toRead.toLocaleString()} read
        </span>
        <span data-testid="scan-added">{p.added.toLocaleString()} added</span>
        <span>{p.updated.toLocaleString()} updated</span>
        {p.moved > 0 ? <span>{p.moved} moved</span> : null}
        <span>{p.removed.toLocaleString()} missing</span>
        {p.problems > 0 ? <span className="warn-text">{p.problems} problem{p.problems === 1 ? '' : 's'}</span> : null}
        {running && p.ratePerSec > 0 ? <span>{p.ratePerSec.toLocaleString()}/s</span> : null}
        {running && p.etaMs !== null ? <span>about {formatTime(p.etaMs)} left</span> : null}
        {!running ? <span>took {(p.elapsedMs / 1000).toFixed(1)} s</span> : null}
      </div>
    </div>
  );
}

function FirstRun(): JSX.Element {
  const openPicker = useStore((s) => s.openPicker);
  return (
    <div className="empty first-run" data-testid="first-run">
      <div className="empty-icon">{Icon.music({ size: 40 })}</div>
      <h2>Add your music folder</h2>
      <p className="muted">StellaTune reads the tags and covers of the music in it, keeps it up to date while you add files, and never moves or changes them.</p>
      <button className="btn btn-primary" onClick={() => void openPicker()} data-testid="add-music-folder">
        {Icon.folder({ size: 16 })} Add your music folder
      </button>
      <ScanProgress compact />
    </div>
  );
}

function FoldersView(): JSX.Element {
  const roots = useStore((s) => s.lib.roots);
  const openPicker = useStore((s) => s.openPicker);
  const removeRoot = useStore((s) => s.removeRoot);
  const rescan = useStore((s) => s.rescan);
  const progress = useStore((s) => s.lib.progress);
  return (
    <div className="lib-pane" data-testid="folders-view">
      <div className="head-actions">
        <button className="btn btn-primary" onClick={() => void openPicker()} data-testid="add-folder">
          {Icon.plus({ size: 16 })} Add folder
        </button>
        <button className="btn" onClick={() => void rescan()} disabled={scanning(progress) || roots.length === 0} data-testid="rescan">
          {Icon.reload({ size: 16 })} Rescan
        </button>
      </div>
      <ScanProgress />
      <ul className="card-list">
        {roots.map((r) => (
          <li key={r.id} className="card root-card" data-testid="root-row">
            <span className="fb-icon">{Icon.folder({ size: 18 })}</span>
            <span className="track-main">
              <span className="track-title mono">{r.path}</span>
              <span className="track-sub">
                {r.trackCount.toLocaleString()} track{r.trackCount === 1 ? '' : 's'}{r.missingCount > 0 ? ` · ${r.missingCount} missing` : ''} · {r.watching ? 'watched for changes' : 'not watched'}
              </span>
            </span>
            <button className="btn small" onClick={() => void rescan(r.id)} disabled={scanning(progress)}>
              Rescan
            </button>
            <button
              className="btn small"
              onClick={() => {
                void askConfirm({ title: 'Remove the folder', message: `Remove ${r.path} from the library? The files stay where they are.`, confirm: 'Remove' }).then((yes) => {
                  if (yes) void removeRoot(r.id);
                });
              }}
              aria-label={`Remove ${r.path}`}
            >
              {Icon.trash({ size: 14 })} Remove
            </button>
          </li>
        ))}
      </ul>
      <MissingTracks />
    </div>
  );
}

function MissingTracks(): JSX.Element | null {
  const roots = useStore((s) => s.lib.roots);
  const missing = roots.reduce((a, r) => a + r.missingCount, 0);
  const notify = useStore((s) => s.notify);
  if (missing === 0) return null;
  return (
    <div className="notice">
      {missing} track{missing === 1 ? ' is' : 's are'} missing: {missing === 1 ? 'its file is' : 'their files are'} gone from the folders. They keep their plays, ratings and playlist entries and come back if the files return.{' '}
      <button
        className="btn small"
        onClick={() =>
          void api()
            .library.purgeMissing({})
            .then((r) => notify('info', `Removed ${r.purged} missing track${r.purged === 1 ? '' : 's'}.`))
        }
      >
        Remove them for good
      </button>
    </div>
  );
}

function ProblemsView(): JSX.Element {
  const version = useStore((s) => s.lib.version);
  const count = useStore((s) => s.lib.problemCount);
  const [problems, setProblems] = useState<LibraryProblem[] | null>(null);
  useEffect(() => {
    void api().library.problems({ limit: 1000 }).then((r) => setProblems(r.items), () => setProblems([]));
  }, [version, count]);
  if (!problems) return <div className="center-pad muted">Loading…</div>;
  if (problems.length === 0) return <div className="center-pad muted">No problems: every file was read.</div>;
  return (
    <div className="lib-pane" data-testid="problems-view">
      <p className="muted">These files could not be read; the rest of the scan went on without them.</p>
      <ul className="card-list">
        {problems.map((p) => (
          <li key={p.path} className="card problem" data-testid="problem-row">
            <span className="track-title mono">{p.path}</span>
            <span className="track-sub">{p.reason}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

function FolderPickerDialog(): JSX.Element | null {
  const picker = useStore((s) => s.lib.picker);
  const browse = useStore((s) => s.pickerBrowse);
  const close = useStore((s) => s.closePicker);
  const addRoot = useStore((s) => s.addRoot);
  const setTab = useStore((s) => s.setLibraryTab);
  const roots = useStore((s) => s.lib.roots);
  const [typed, setTyped] = useState('');
  useEffect(() => setTyped(picker?.dir ?? ''), [picker?.dir]);
  if (!picker) return null;
  return (
    <Modal titleId="picker-title" title="Choose a music folder" testId="folder-picker" onClose={close}>
      <PathListing listing={picker} typed={typed} onType={setTyped} browse={(dir) => void browse(dir)} idPrefix="picker" empty="No folders inside." />
      <footer className="modal-foot">
        <span className="muted small ellipsis">{picker.dir}</span>
        <button
          className="btn btn-primary"
          disabled={!picker.dir}
          data-testid="picker-choose"
          onClick={() =>
            void addRoot(picker.dir).then((ok) => {
              if (!ok) return;
              close();
              // The first folder: show the grid filling in; later ones: the folders and their scan.
              setTab(roots.length === 0 ? 'albums' : 'folders');
            })
          }
        >
          Add this folder
        </button>
      </footer>
    </Modal>
  );
}

function PropertiesDialog(): JSX.Element | null {
  const p = useStore((s) => s.lib.properties);
  const close = useStore((s) => s.closeProperties);
  if (!p) return null;
  const shown = Object.entries(p.fields).filter(([k, v]) => v !== null && v !== '' && !['id', 'root_id', 'album_key', 'fingerprint'].includes(k));
  return (
    <Modal titleId="props-title" title={p.track.title} testId="properties" onClose={close} focusClose>
      <div className="fb-list props">
        <table className="props-table">
          <tbody>
            {shown.map(([k, v]) => (
              <tr key={k}>
                <th>{k.replaceAll('_', ' ')}</th>
                <td className={k === 'path' ? 'mono' : ''}>{k.endsWith('_at') || k === 'last_played' || k === 'mtime_ms' ? new Date(Number(v)).toLocaleString() : v}</td>
              </tr>
            ))}
            {Object.entries(p.tags).map(([k, v]) => (
              <tr key={`tag-${k}`} className="tag-row">
                <th className="mono">{k}</th>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Modal>
  );
}

function LibraryNav(): JSX.Element {
  const tab = useStore((s) => s.lib.tab);
  const setTab = useStore((s) => s.setLibraryTab);
  const playlists = useStore((s) => s.lib.playlists);
  const openId = useStore((s) => s.lib.openPlaylist);
  const openPlaylist = useStore((s) => s.openPlaylist);
  const createPlaylist = useStore((s) => s.createPlaylist);
  const addToPlaylist = useStore((s) => s.addToPlaylist);
  const saveQueue = useStore((s) => s.saveQueueAsPlaylist);
  const openPlaylistFile = useStore((s) => s.openPlaylistFile);
  const problems = useStore((s) => s.lib.problemCount);
  const [over, setOver] = useState<number | null>(null);
  return (
    <nav className="lib-nav" aria-label="Library">
      <ul>
        {VIEWS.map((v) => (
          <li key={v.tab}>
            <button className={`side-item ${tab === v.tab ? 'is-active' : ''}`} onClick={() => setTab(v.tab)} data-testid={`lib-${v.tab}`} aria-current={tab === v.tab ? 'page' : undefined}>
              {v.label}
            </button>
          </li>
        ))}
      </ul>
      <div className="lib-nav-head">
        <span>Playlists</span>
        <button
          className="icon-btn small"
          aria-label="New playlist"
          data-testid="new-playlist"
          onClick={() => {
            void askName({ title: 'New playlist', label: 'Name', initial: 'New playlist', confirm: 'Create' }).then((name) => {
              if (name) void createPlaylist(name).then((p) => p && openPlaylist(p.id));
            });
          }}
        >
          {Icon.plus({ size: 14 })}
        </button>
      </div>
      <ul>
        {playlists.map((p) => (
          <li key={p.id}>
            <button
              className={`side-item ${tab === 'playlist' && openId === p.id ? 'is-active' : ''} ${over === p.id ? 'drop-target' : ''}`}
              onClick={() => openPlaylist(p.id)}
              data-testid="playlist-item"
              onDragOver={(e) => {
                if (!carriesTracks(e.dataTransfer)) return;
                e.preventDefault();
                setOver(p.id);
              }}
              onDragLeave={() => setOver(null)}
              onDrop={(e) => {
                e.preventDefault();
                setOver(null);
                void draggedTrackIds(e.dataTransfer).then((ids) => {
                  if (ids && ids.length > 0) void addToPlaylist(p.id, ids);
                });
              }}
            >
              <span className="ellipsis">{p.name}</span>
              <span className="muted small">{p.entryCount}</span>
            </button>
          </li>
        ))}
        <li>
          <button
            className="side-item muted small"
            onClick={() => {
              void askName({ title: 'Save the queue as a playlist', label: 'Name', initial: 'Queue', confirm: 'Save' }).then((name) => {
                if (name) void saveQueue(name);
              });
            }}
            data-testid="save-queue"
          >
            Save queue as playlist…
          </button>
        </li>
        <li>
          <button
            className="side-item muted small"
            onClick={() => openPlaylistFile({ mode: 'import' })}
            data-testid="import-m3u"
          >
            Import M3U…
          </button>
        </li>
      </ul>
      <div className="lib-nav-head">
        <span>Library</span>
      </div>
      <ul>
        <li>
          <button className={`side-item ${tab === 'folders' ? 'is-active' : ''}`} onClick={() => setTab('folders')} data-testid="lib-folders">
            Folders
          </button>
        </li>
        <li>
          <button className={`side-item ${tab === 'problems' ? 'is-active' : ''}`} onClick={() => setTab('problems')} data-testid="lib-problems">
            <span>Problems</span>
            {problems > 0 ? <span className="badge small">{problems}</span> : null}
          </button>
        </li>
      </ul>
    </nav>
  );
}

export function LibraryView(): JSX.Element {
  const lib = useStore((s) => s.lib);
  const setQuery = useStore((s) => s.setQuery);
  const setTab = useStore((s) => s.setLibraryTab);
  const searchRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const focus = (): void => searchRef.current?.focus();
    window.addEventListener('stellatune:focus-search', focus);
    return () => window.removeEventListener('stellatune:focus-search', focus);
  }, []);

  const firstRun = lib.loaded && lib.roots.length === 0;
  const title = firstRun && lib.tab !== 'playlist' ? 'Library' : lib.tab === 'playlist' ? 'Playlist' : lib.tab === 'search' ? 'Search' : (VIEWS.find((v) => v.tab === lib.tab)?.label ?? (lib.tab === 'folders' ? 'Folders' : 'Problems'));
  let body: JSX.Element;
  if (firstRun && lib.tab !== 'playlist') body = <FirstRun />;
  else if (lib.openAlbum) body = <AlbumPage albumKey={lib.openAlbum} />;
  else if (lib.tab === 'albums') body = <AlbumsView />;
  else if (lib.tab === 'artists') body = <ArtistsView />;
  else if (lib.tab === 'tracks') body = <TracksView />;
  else if (lib.tab === 'genres') body = <GenresView />;
  else if (lib.tab === 'recent') body = <RecentView />;
  else if (lib.tab === 'mostPlayed') body = <MostPlayedView />;
  else if (lib.tab === 'search') body = <SearchView />;
  else if (lib.tab === 'folders') body = <FoldersView />;
  else if (lib.tab === 'problems') body = <ProblemsView />;
  else body = lib.openPlaylist !== null ? <PlaylistPage id={lib.openPlaylist} /> : <div className="center-pad muted">Pick a playlist.</div>;

  return (
    <section className="screen library-screen" aria-labelledby="library-title">
      <header className="screen-head">
        <div>
          <h1 id="library-title">{title}</h1>
        </div>
        <div className="head-actions">
          <ScanProgress compact />
          <div className="search">
            <span className="search-icon">{Icon.search({ size: 16 })}</span>
            <input
              ref={searchRef}
              className="input"
              type="search"
              placeholder="Search the library (Ctrl+F or /)"
              aria-label="Search the library"
              value={lib.query}
              onChange={(e) => setQuery(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Escape') {
                  setQuery('');
                  setTab('albums');
                  (e.target as HTMLInputElement).blur();
                }
              }}
              data-testid="library-search"
            />
          </div>
        </div>
      </header>
      <div className="library-body">
        <LibraryNav />
        <div className="library-main">{body}</div>
      </div>
      <FolderPickerDialog />
      <PlaylistFileDialog />
      <NameDialogHost />
      <PropertiesDialog />
    </section>
  );
}

/** Ctrl+F and / open the library's search from anywhere. */
export function useLibrarySearchShortcut(): void {
  const setScreen = useStore((s) => s.setScreen);
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const t = e.target as HTMLElement | null;
      const typing = t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
      const ctrlF = (e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'f';
      if (!ctrlF && !(e.key === '/' && !typing)) return;
      e.preventDefault();
      setScreen('library');
      const s = useStore.getState();
      if (s.lib.tab !== 'search') s.setQuery(s.lib.query);
      // After the screen renders.
      requestAnimationFrame(() => window.dispatchEvent(new Event('stellatune:focus-search')));
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [setScreen]);
}

/** Paths of files dragged in from a file manager: in Electron each dropped File is named by the
 * preload (webUtils); a browser only has the text/uri-list of file: URLs. */
export function droppedPaths(dt: DataTransfer): string[] {
  const bridge = window.stellatune;
  if (bridge?.pathsOfFiles && dt.files.length > 0) {
    const named = bridge.pathsOfFiles([...dt.files]);
    if (named.length > 0) return named;
  }
  const list = dt.getData('text/uri-list');
  const out: string[] = [];
  for (const line of list.split(/\r?\n/)) {
    const l = line.trim();
    if (!l || l.startsWith('#') || !l.startsWith('file:')) continue;
    try {
      out.push(decodeURIComponent(new URL(l).pathname));
    } catch {
      // not a file URL
    }
  }
  return out;
}

/** Files and folders dropped on the window are added (folders to the library, files to the queue). */
export function useWindowDrop(): void {
  const dropPaths = useStore((s) => s.dropPaths);
  useEffect(() => {
    const over = (e: DragEvent): void => {
      if (e.dataTransfer && (e.dataTransfer.types.includes('Files') || e.dataTransfer.types.includes('text/uri-list'))) e.preventDefault();
    };
    const drop = (e: DragEvent): void => {
      if (!e.dataTransfer || e.defaultPrevented) return;
      const paths = droppedPaths(e.dataTransfer);
      if (paths.length === 0) return;
      e.preventDefault();
      void dropPaths(paths);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, [dropPaths]);
}
