// Open files or a folder. Browsing goes through the core's files service (the browser shell has
// no native dialog, and the same UI serves Electron), so it shows the machine the player runs on.
import { type JSX, useEffect, useState } from 'react';
import { formatBytes } from '../lib/format.js';
import { useStore } from '../store/index.js';
import { Icon, Spinner } from './Icons.js';

export function FileBrowser(): JSX.Element | null {
  const b = useStore((s) => s.browser);
  const browse = useStore((s) => s.browse);
  const close = useStore((s) => s.closeBrowser);
  const toggle = useStore((s) => s.toggleSelected);
  const addFiles = useStore((s) => s.addFiles);
  const [typed, setTyped] = useState('');

  useEffect(() => setTyped(b.dir), [b.dir]);
  useEffect(() => {
    if (!b.open) return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') close();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [b.open, close]);

  if (!b.open) return null;
  const audioCount = b.entries.filter((e) => e.kind === 'audio').length;

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && close()}>
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="fb-title" data-testid="file-browser">
        <header className="modal-head">
          <h2 id="fb-title">Open files or folder</h2>
          <button className="icon-btn" aria-label="Close" onClick={close}>
            {Icon.x()}
          </button>
        </header>
        <div className="fb-roots">
          {b.roots.map((r) => (
            <button key={r.path} className="chip" onClick={() => void browse(r.path)}>
              {r.label}
            </button>
          ))}
        </div>
        <form
          className="fb-path"
          onSubmit={(e) => {
            e.preventDefault();
            if (typed.trim()) void browse(typed.trim());
          }}
        >
          <button type="button" className="icon-btn" aria-label="Parent folder" disabled={!b.parent} onClick={() => b.parent && void browse(b.parent)}>
            {Icon.up()}
          </button>
          <input className="input" aria-label="Folder path" data-testid="fb-path" value={typed} onChange={(e) => setTyped(e.currentTarget.value)} spellCheck={false} />
          <button className="btn" type="submit">
            Go
          </button>
        </form>
        <div className="fb-list" aria-busy={b.loading}>
          {b.loading ? (
            <div className="center-pad">
              <Spinner />
            </div>
          ) : b.error ? (
            <div className="error-box">{b.error}</div>
          ) : b.entries.length === 0 ? (
            <div className="center-pad muted">No folders or playable files here.</div>
          ) : (
            <ul>
              {b.entries.map((e) => (
                <li key={e.path} className={`fb-entry ${b.selected.includes(e.path) ? 'is-selected' : ''}`}>
                  <label className="fb-check">
                    <input type="checkbox" checked={b.selected.includes(e.path)} onChange={() => toggle(e.path)} aria-label={`Select ${e.name}`} />
                  </label>
                  {e.kind === 'dir' ? (
                    <button className="fb-name" onClick={() => void browse(e.path)} data-testid="fb-dir">
                      <span className="fb-icon dir">{Icon.folder({ size: 18 })}</span>
                      {e.name}
                    </button>
                  ) : (
                    <button className="fb-name" onClick={() => toggle(e.path)} onDoubleClick={() => void addFiles([e.path], true)} data-testid="fb-file">
                      <span className="fb-icon">{Icon.file({ size: 18 })}</span>
                      {e.name}
                      {e.sizeBytes !== undefined ? <span className="muted small"> · {formatBytes(e.sizeBytes)}</span> : null}
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
        </div>
        <footer className="modal-foot">
          <span className="muted small">{b.selected.length > 0 ? `${b.selected.length} selected` : `${audioCount} playable file${audioCount === 1 ? '' : 's'} here`}</span>
          <div className="head-actions">
            <button className="btn" onClick={() => void addFiles([b.dir])} disabled={!b.dir}>
              Add this folder
            </button>
            <button className="btn" onClick={() => void addFiles()} disabled={b.selected.length === 0} data-testid="fb-add">
              Add selected
            </button>
            <button className="btn btn-primary" onClick={() => void addFiles(undefined, true)} disabled={b.selected.length === 0} data-testid="fb-play">
              {Icon.play({ size: 14 })} Play selected
            </button>
          </div>
        </footer>
      </div>
    </div>
  );
}
