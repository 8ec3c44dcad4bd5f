// The context menu of library tracks (one or many): play, play next, add to queue, add to a
// playlist, rate, show in folder (the desktop's file manager), browse the folder in the app,
// properties. Rendered at the pointer, closed by Escape, a click elsewhere or scrolling.
import { type JSX, useEffect, useRef } from 'react';
import { describeError } from '../../../src-shared/rpc-error.js';
import { api } from '../../store/api.js';
import { useStore } from '../../store/index.js';
import { askName } from './NameDialog.js';

export interface MenuAt {
  x: number;
  y: number;
  ids: number[];
  /** Folder of the first track (Browse this folder). */
  dir: string | null;
  /** File of the first track (Show in folder: the OS file manager). */
  path: string | null;
}

export function TrackMenu({ at, onClose }: { at: MenuAt; onClose: () => void }): JSX.Element {
  const ref = useRef<HTMLDivElement>(null);
  const playlists = useStore((s) => s.lib.playlists);
  const playTrackIds = useStore((s) => s.playTrackIds);
  const addToPlaylist = useStore((s) => s.addToPlaylist);
  const createPlaylist = useStore((s) => s.createPlaylist);
  const showProperties = useStore((s) => s.showProperties);
  const setRating = useStore((s) => s.setRating);
  const openBrowser = useStore((s) => s.openBrowser);
  const browse = useStore((s) => s.browse);
  const notify = useStore((s) => s.notify);

  useEffect(() => {
    const close = (e: Event): void => {
      if (e instanceof KeyboardEvent && e.key !== 'Escape') return;
      if (e.type === 'mousedown' && ref.current?.contains(e.target as Node)) return;
      onClose();
    };
    window.addEventListener('mousedown', close);
    window.addEventListener('keydown', close);
    window.addEventListener('blur', close);
    return () => {
      window.removeEventListener('mousedown', close);
      window.removeEventListener('keydown', close);
      window.removeEventListener('blur', close);
    };
  }, [onClose]);
  useEffect(() => ref.current?.querySelector<HTMLButtonElement>('button')?.focus(), []);

  const n = at.ids.length;
  const run = (fn: () => unknown): (() => void) => () => {
    onClose();
    void fn();
  };
  // Keep the menu inside the window.
  const style = { left: Math.min(at.x, window.innerWidth - 240), top: Math.min(at.y, window.innerHeight - 360) };
  return (
    <div className="menu" role="menu" ref={ref} style={style} data-testid="track-menu" aria-label={n === 1 ? 'Track actions' : `${n} tracks`}>
      <button role="menuitem" onClick={run(() => playTrackIds(at.ids, 'play'))}>Play</button>
      <button role="menuitem" onClick={run(() => playTrackIds(at.ids, 'next'))}>Play next</button>
      <button role="menuitem" onClick={run(() => playTrackIds(at.ids, 'queue'))} data-testid="menu-queue">Add to queue</button>
      <div className="menu-sep" />
      <div className="menu-label">Add to playlist</div>
      {playlists.map((p) => (
        <button key={p.id} role="menuitem" className="menu-indent" onClick={run(() => addToPlaylist(p.id, at.ids))} data-testid="menu-playlist">
          {p.name}
        </button>
      ))}
      <button
        role="menuitem"
        className="menu-indent"
        data-testid="menu-new-playlist"
        onClick={run(async () => {
          const name = await askName({ title: 'New playlist', label: 'Name', initial: 'New playlist', confirm: 'Create' });
          if (name) await createPlaylist(name, { trackIds: at.ids });
        })}
      >
        New playlist…
      </button>
      <div className="menu-sep" />
      <div className="menu-label">Rating</div>
      <div className="menu-stars">
        {[0, 1, 2, 3, 4, 5].map((r) => (
          <button key={r} role="menuitem" aria-label={r === 0 ? 'No rating' : `${r} star${r === 1 ? '' : 's'}`} onClick={run(() => Promise.all(at.ids.map((id) => setRating(id, r))))}>
            {r === 0 ? '–' : '★'.repeat(r)}
          </button>
        ))}
      </div>
      <div className="menu-sep" />
      {at.path ? (
        <button
          role="menuitem"
          data-testid="menu-show-in-folder"
          onClick={run(async () => {
            try {
              await api().library.showInFolder({ path: at.path! });
            } catch (err) {
              notify('error', `Show in folder: ${describeError(err)}`);
            }
          })}
        >
          Show in folder
        </button>
      ) : null}
      {at.dir ? (
        <button
          role="menuitem"
          data-testid="menu-browse-folder"
          onClick={run(async () => {
            await openBrowser();
            await browse(at.dir!);
          })}
        >
          Browse this folder
        </button>
      ) : null}
      {n === 1 ? (
        <button role="menuitem" onClick={run(() => showProperties(at.ids[0]!))} data-testid="menu-properties">
          Properties
        </button>
      ) : null}
    </div>
  );
}
