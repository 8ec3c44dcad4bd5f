// Source plugins: pick a catalog, run its actions (search with a query, browse), see a spinner with
// Cancel while the plugin works, readable errors, and play or enqueue items.
import { type JSX, useState } from 'react';
import type { SourceItem } from '../../src-shared/contract.js';
import { capabilityLabel, formatTime } from '../lib/format.js';
import { catalogKeyOf } from '../store/slices.js';
import { useStore } from '../store/index.js';
import { Icon, Spinner } from './Icons.js';

export function SourcesView(): JSX.Element {
  const catalogs = useStore((s) => s.catalogs);
  const key = useStore((s) => s.catalogKey);
  const select = useStore((s) => s.selectCatalog);
  const browse = useStore((s) => s.sourceBrowse);
  const listItems = useStore((s) => s.listItems);
  const cancel = useStore((s) => s.cancelList);
  const loadMore = useStore((s) => s.loadMore);
  const playItem = useStore((s) => s.playItem);
  const [query, setQuery] = useState('');
  const catalog = catalogs.find((c) => catalogKeyOf(c) === key) ?? null;
  const queryAction = catalog?.actions.find((a) => a.query) ?? null;

  const open = (item: SourceItem): void => {
    void listItems({ action: 'browse', id: item.id }, [...browse.trail, { id: item.id, title: item.title }]);
  };

  return (
    <section className="screen" aria-labelledby="sources-title">
      <header className="screen-head">
        <div>
          <h1 id="sources-title">Sources</h1>
          <p className="muted">Catalogs from source plugins</p>
        </div>
        {catalogs.length > 1 ? (
          <select className="input select" aria-label="Catalog" value={key ?? ''} onChange={(e) => select(e.currentTarget.value)}>
            {catalogs.map((c) => (
              <option key={catalogKeyOf(c)} value={catalogKeyOf(c)}>
                {capabilityLabel(c, ' — ')}
              </option>
            ))}
          </select>
        ) : null}
      </header>

      {!catalog ? (
        <div className="empty">
          <div className="empty-icon">{Icon.globe({ size: 40 })}</div>
          <h2>No source plugins loaded</h2>
          <p className="muted">Drop a SourceCatalog plugin into the plugin folder, or enable one on the Plugins screen.</p>
        </div>
      ) : (
        <>
          <div className="toolbar">
            {queryAction ? (
              <form
                className="search"
                onSubmit={(e) => {
                  e.preventDefault();
                  void listItems({ action: queryAction.action, query }, []);
                }}
              >
                <span className="search-icon">{Icon.search({ size: 16 })}</span>
                <input className="input" placeholder={`${queryAction.label} ${catalog.displayName}`} aria-label="Search query" data-testid="source-query" value={query} onChange={(e) => setQuery(e.currentTarget.value)} />
                <button className="btn btn-primary" type="submit" disabled={browse.pending}>
                  {queryAction.label}
                </button>
              </form>
            ) : null}
            {catalog.actions
              .filter((a) => !a.query)
              .map((a) => (
                <button key={a.action} className="btn" data-testid={`source-action-${a.action}`} disabled={browse.pending} onClick={() => void listItems({ action: a.action }, [])}>
                  {a.label}
                </button>
              ))}
          </div>

          {browse.trail.length > 0 ? (
            <nav className="crumbs" aria-label="Folder">
              <button className="link" onClick={() => void listItems({ action: 'browse' }, [])}>
                {catalog.displayName}
              </button>
              {browse.trail.map((t, i) => (
                <span key={t.id}>
                  {' / '}
                  <button className="link" onClick={() => void listItems({ action: 'browse', id: t.id }, browse.trail.slice(0, i + 1))}>
                    {t.title}
                  </button>
                </span>
              ))}
            </nav>
          ) : null}

          {browse.pending ? (
            <div className="pending" data-testid="source-pending">
              <Spinner label="Waiting for the plugin" />
              <span>Waiting for {catalog.pluginName}…</span>
              <button className="btn" onClick={cancel} data-testid="source-cancel">
                Cancel
              </button>
            </div>
          ) : browse.error ? (
            <div className="error-box" role="alert" data-testid="source-error">
              <strong>Could not list items.</strong> {browse.error}
            </div>
          ) : browse.cancelled ? (
            <div className="notice" data-testid="source-cancelled">
              Cancelled. The plugin request was withdrawn.
            </div>
          ) : null}

          {!browse.pending && browse.items.length === 0 && !browse.error && browse.lastRequest ? <div className="center-pad muted">No items.</div> : null}
          {!browse.lastRequest && !browse.pending ? <div className="center-pad muted">Search or browse {catalog.displayName} to see items.</div> : null}

          <ul className="track-list" data-testid="source-items">
            {browse.items.map((item) => {
              const folder = item.kind !== 'track';
              return (
                <li key={`${item.kind}:${item.id}`} className="track-row" data-testid="source-item" onDoubleClick={() => (folder ? open(item) : void playItem(item, 'play'))}>
                  <span className="track-index">{folder ? Icon.folder({ size: 18 }) : Icon.music({ size: 16 })}</span>
                  <span className="track-main">
                    <span className="track-title">{item.title}</span>
                    <span className="track-sub">{[item.artist, item.album].filter(Boolean).join(' · ') || item.kind}</span>
                  </span>
                  <span className="track-time">{folder ? '' : formatTime(item.durationMs)}</span>
                  <span className="row-actions always">
                    {folder ? (
                      <button className="btn small" onClick={() => open(item)}>
                        Open
                      </button>
                    ) : (
                      <>
                        <button className="btn small btn-primary" aria-label={`Play ${item.title}`} onClick={() => void playItem(item, 'play')} data-testid="source-play">
                          {Icon.play({ size: 12 })} Play
                        </button>
                        <button className="btn small" aria-label={`Enqueue ${item.title}`} onClick={() => void playItem(item, 'enqueue')}>
                          {Icon.plus({ size: 12 })} Queue
                        </button>
                      </>
                    )}
                  </span>
                </li>
              );
            })}
          </ul>
          {browse.nextOffset !== null && browse.items.length > 0 && !browse.pending ? (
            <div className="center-pad">
              <button className="btn" onClick={() => void loadMore()} data-testid="source-more">
                Load more
              </button>
            </div>
          ) : null}
        </>
      )}
    </section>
  );
}
