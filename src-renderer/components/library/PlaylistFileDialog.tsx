// Import an M3U/M3U8 playlist, or export one: an in-app dialog over the machine the player runs on
// (the browser shell has no native file dialog), using the shared folder listing. Import lists
// folders and playlist files and takes the one picked; export takes a folder and a file name.
import { type JSX, useCallback, useEffect, useState } from 'react';
import type { FileEntry } from '../../../src-shared/contract.js';
import { describeError } from '../../../src-shared/rpc-error.js';
import { api } from '../../store/api.js';
import { useStore } from '../../store/index.js';
import { type Listing, PathListing } from '../PathListing.js';
import { Modal } from '../Modal.js';

const PLAYLIST_EXTENSIONS = ['m3u', 'm3u8'];
const LAST_DIR_KEY = 'stellatune.playlistDir';

const join = (dir: string, name: string): string => (dir.endsWith('/') || dir.endsWith('\\') ? dir + name : `${dir}${dir.includes('\\') && !dir.includes('/') ? '\\' : '/'}${name}`);

export function PlaylistFileDialog(): JSX.Element | null {
  const ask = useStore((s) => s.lib.playlistFile);
  const close = useStore((s) => s.closePlaylistFile);
  const importM3u = useStore((s) => s.importM3u);
  const exportM3u = useStore((s) => s.exportM3u);
  const [listing, setListing] = useState<Listing>({ dir: '', parent: null, entries: [], roots: [], loading: true, error: null });
  const [typed, setTyped] = useState('');
  const [chosen, setChosen] = useState<string | null>(null);
  const [fileName, setFileName] = useState('');
  const [busy, setBusy] = useState(false);
  // Why the last import or export failed, shown in the dialog (toasts sit under it).
  const [error, setError] = useState<string | null>(null);

  const browse = useCallback(async (dir: string): Promise<void> => {
    setListing((l) => ({ ...l, loading: true, error: null }));
    try {
      const r = await api().files.browse({ dir, extensions: PLAYLIST_EXTENSIONS });
      // Only folders and playlists: audio files are not what this dialog picks.
      setListing((l) => ({ ...l, dir: r.dir, parent: r.parent, entries: r.entries.filter((e) => e.kind !== 'audio'), loading: false }));
      setTyped(r.dir);
      setChosen(null);
      localStorage.setItem(LAST_DIR_KEY, r.dir);
    } catch (err) {
      setListing((l) => ({ ...l, loading: false, error: describeError(err) }));
    }
  }, []);

  useEffect(() => {
    if (!ask) return;
    setError(null);
    setFileName(ask.mode === 'export' ? `${ask.name.replace(/[\\/:*?"<>|]+/g, ' ').trim() || 'playlist'}.m3u8` : '');
    let live = true;
    void api()
      .files.roots()
      .catch(() => null)
      .then((roots) => {
        if (!live) return;
        setListing((l) => ({ ...l, roots: roots?.roots ?? [] }));
        const music = roots?.roots.find((r) => r.label === 'Music');
        void browse(localStorage.getItem(LAST_DIR_KEY) ?? music?.path ?? roots?.home ?? '/');
      });
    return () => {
      live = false;
    };
  }, [ask, browse]);

  if (!ask) return null;
  const target = ask.mode === 'import' ? chosen : fileName.trim() ? join(listing.dir, fileName.trim()) : null;
  const act = async (file: string): Promise<void> => {
    setBusy(true);
    setError(null);
    const why = ask.mode === 'import' ? await importM3u(file) : await exportM3u(ask.id, file);
    setBusy(false);
    if (why === null) close();
    else setError(`${ask.mode === 'import' ? 'Could not import' : 'Could not export'}: ${why}`);
  };
  const pick = (e: FileEntry): void => {
    setError(null);
    if (ask.mode === 'import') setChosen(e.path);
    else setFileName(e.name);
  };
  const title = ask.mode === 'import' ? 'Import a playlist' : `Export “${ask.name}”`;

  return (
    <Modal titleId="plf-title" title={title} testId="playlist-file-dialog" data={{ 'data-mode': ask.mode }} onClose={close}>
      <PathListing
        listing={listing}
        typed={typed}
        onType={setTyped}
        browse={(dir) => void browse(dir)}
        idPrefix="plf"
        chosen={ask.mode === 'import' ? chosen : null}
        onFile={pick}
        onFileDoubleClick={(e) => void act(e.path)}
        empty={ask.mode === 'import' ? 'No folders or M3U playlists here.' : 'No folders or playlists here.'}
      />
      {ask.mode === 'export' ? (
        <label className="plf-name">
          <span className="muted small">File name (M3U8, UTF-8, paths relative to its folder)</span>
          <input className="input" value={fileName} onChange={(e) => setFileName(e.currentTarget.value)} data-testid="plf-name" spellCheck={false} />
        </label>
      ) : null}
      <footer className="modal-foot">
        {error ? (
          <span className="plf-error small" role="alert" data-testid="plf-error">
            {error}
          </span>
        ) : (
          <span className="muted small ellipsis" data-testid="plf-target">{target ?? (ask.mode === 'import' ? 'Pick an .m3u or .m3u8 file' : 'Name the file')}</span>
        )}
        <button className="btn btn-primary" disabled={!target || busy} data-testid="plf-ok" onClick={() => target && void act(target)}>
          {ask.mode === 'import' ? 'Import' : 'Export here'}
        </button>
      </footer>
    </Modal>
  );
}
