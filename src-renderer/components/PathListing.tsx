// One folder listing for every dialog that picks a place on the machine the player runs on (the
// file browser, the library's folder picker, M3U import and export): the shortcut chips, the path
// row (up, a typed path, Go), and the entries. The dialogs own their state and what a click on an
// entry means; this only draws it.
import type { JSX } from 'react';
import type { FileEntry } from '../../src-shared/contract.js';
import { formatBytes } from '../lib/format.js';
import { Icon, Spinner } from './Icons.js';

export interface Listing {
  dir: string;
  parent: string | null;
  entries: FileEntry[];
  roots: { label: string; path: string }[];
  loading: boolean;
  error: string | null;
}

export interface PathListingProps {
  listing: Listing;
  /** The typed path (the dialog keeps it, so it can follow the listed folder). */
  typed: string;
  onType(value: string): void;
  browse(dir: string): void;
  /** Prefix of the test ids: `${id}-path`, `${id}-dir`, `${id}-file`. */
  idPrefix: string;
  /** Selected entries (checkboxes, in the file browser). */
  selected?: string[];
  onToggle?(path: string): void;
  onFile?(entry: FileEntry): void;
  onFileDoubleClick?(entry: FileEntry): void;
  /** The file picked in a single-choice dialog (highlighted). */
  chosen?: string | null;
  empty: string;
}

export function PathListing(p: PathListingProps): JSX.Element {
  const { listing: l, idPrefix } = p;
  return (
    <>
      <div className="fb-roots">
        {l.roots.map((r) => (
          <button key={r.path} type="button" className="chip" onClick={() => p.browse(r.path)}>
            {r.label}
          </button>
        ))}
      </div>
      <form
        className="fb-path"
        onSubmit={(e) => {
          e.preventDefault();
          if (p.typed.trim()) p.browse(p.typed.trim());
        }}
      >
        <button type="button" className="icon-btn" aria-label="Parent folder" disabled={!l.parent} onClick={() => l.parent && p.browse(l.parent)}>
          {Icon.up()}
        </button>
        <input className="input" aria-label="Folder path" data-testid={`${idPrefix}-path`} value={p.typed} onChange={(e) => p.onType(e.currentTarget.value)} spellCheck={false} />
        <button className="btn" type="submit">
          Go
        </button>
      </form>
      <div className="fb-list" aria-busy={l.loading}>
        {l.loading ? (
          <div className="center-pad">
            <Spinner />
          </div>
        ) : l.error ? (
          <div className="error-box">{l.error}</div>
        ) : l.entries.length === 0 ? (
          <div className="center-pad muted">{p.empty}</div>
        ) : (
          <ul>
            {l.entries.map((e) => {
              const isSel = p.selected?.includes(e.path) === true || p.chosen === e.path;
              return (
                <li key={e.path} className={`fb-entry ${isSel ? 'is-selected' : ''}`}>
                  {p.onToggle ? (
                    <label className="fb-check">
                      <input type="checkbox" checked={p.selected?.includes(e.path) === true} onChange={() => p.onToggle?.(e.path)} aria-label={`Select ${e.name}`} />
                    </label>
                  ) : null}
                  {e.kind === 'dir' ? (
                    <button type="button" className="fb-name" onClick={() => p.browse(e.path)} data-testid={`${idPrefix}-dir`}>
                      <span className="fb-icon dir">{Icon.folder({ size: 18 })}</span>
                      {e.name}
                    </button>
                  ) : (
                    <button type="button" className="fb-name" onClick={() => p.onFile?.(e)} onDoubleClick={() => p.onFileDoubleClick?.(e)} data-testid={`${idPrefix}-file`} aria-pressed={p.chosen !== undefined ? p.chosen === e.path : undefined}>
                      <span className="fb-icon">{Icon.file({ size: 18 })}</span>
                      {e.name}
                      {e.sizeBytes !== undefined ? <span className="muted small"> · {formatBytes(e.sizeBytes)}</span> : null}
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
        )}
      </div>
    </>
  );
}
