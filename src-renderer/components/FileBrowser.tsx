// Open files or a folder. Browsing goes through the core's files service (the browser shell has
// no native dialog, and the same UI serves Electron), so it shows the machine the player runs on.
import { type JSX, useEffect, useState } from 'react';
import { useStore } from '../store/index.js';
import { Icon } from './Icons.js';
import { PathListing } from './PathListing.js';
import { Modal } from './Modal.js';

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
    <Modal titleId="fb-title" title="Open files or folder" testId="file-browser" onClose={close} escapeCloses={false}>
      <PathListing
        listing={b}
        typed={typed}
        onType={setTyped}
        browse={(dir) => void browse(dir)}
        idPrefix="fb"
        selected={b.selected}
        onToggle={toggle}
        onFile={(e) => toggle(e.path)}
        onFileDoubleClick={(e) => void addFiles([e.path], true)}
        empty="No folders or playable files here."
      />
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
    </Modal>
  );
}
