// The queue: reorder by drag (or Alt+↑/↓), remove, clear, play from here; and the action that adds
// local files or folders.
import { type JSX, useState } from 'react';
import type { TrackInfo } from '../../src-shared/player-types.js';
import { formatTime } from '../lib/format.js';
import { trackByline, trackTooltip } from '../lib/track.js';
import { useStore } from '../store/index.js';
import { Cover } from './Cover.js';
import { Icon } from './Icons.js';

/** The queue's total length; `unknown` counts entries whose length is not known yet. */
function totalOf(tracks: TrackInfo[], currentId: string | null, currentDuration: number | null): { ms: number; unknown: number } {
  let ms = 0;
  let unknown = 0;
  for (const t of tracks) {
    const d = t.durationMs ?? (t.id === currentId ? currentDuration : null);
    if (d === null || d === undefined) unknown++;
    else ms += d;
  }
  return { ms, unknown };
}

export function QueueView(): JSX.Element {
  const queue = useStore((s) => s.queue);
  const state = useStore((s) => s.status?.state);
  const currentDuration = useStore((s) => s.status?.durationMs ?? null);
  // The engine's status names the playing entry; the queue snapshot's index can lag behind it.
  const currentId = useStore((s) => s.status?.current?.id ?? null);
  const playAt = useStore((s) => s.playAt);
  const removeTracks = useStore((s) => s.removeTracks);
  const moveTrack = useStore((s) => s.moveTrack);
  const clearQueue = useStore((s) => s.clearQueue);
  const openBrowser = useStore((s) => s.openBrowser);
  const [dragId, setDragId] = useState<string | null>(null);
  const [overIndex, setOverIndex] = useState<number | null>(null);

  const drop = (toIndex: number): void => {
    if (dragId === null) return;
    const from = queue.tracks.findIndex((t) => t.id === dragId);
    // Dropping on row i places the entry before it; the removal shifts later rows by one.
    const target = from < toIndex ? toIndex - 1 : toIndex;
    if (from >= 0 && target !== from) void moveTrack(dragId, target);
    setDragId(null);
    setOverIndex(null);
  };

  return (
    <section className="screen" aria-labelledby="queue-title">
      <header className="screen-head">
        <div>
          <h1 id="queue-title">Queue</h1>
          <p className="muted" data-testid="queue-summary">
            {queue.tracks.length === 0
              ? 'Empty'
              : (() => {
                  const total = totalOf(queue.tracks, currentId, currentDuration);
                  const n = `${queue.tracks.length} track${queue.tracks.length === 1 ? '' : 's'}`;
                  return total.unknown === queue.tracks.length ? n : `${n} · ${total.unknown > 0 ? 'at least ' : ''}${formatTime(total.ms)}`;
                })()}
          </p>
        </div>
        <div className="head-actions">
          <button className="btn btn-primary" onClick={() => void openBrowser()} data-testid="open-files">
            {Icon.plus({ size: 16 })} Add files or folder
          </button>
          <button className="btn" onClick={() => void clearQueue()} disabled={queue.tracks.length === 0}>
            {Icon.trash({ size: 16 })} Clear
          </button>
        </div>
      </header>

      {queue.tracks.length === 0 ? (
        <div className="empty">
          <div className="empty-icon">{Icon.queue({ size: 40 })}</div>
          <h2>Your queue is empty</h2>
          <p className="muted">Add local files or a whole folder, or browse a source plugin.</p>
          <button className="btn btn-primary" onClick={() => void openBrowser()}>
            {Icon.folder({ size: 16 })} Open files or folder
          </button>
        </div>
      ) : (
        <ol className="track-list" data-testid="queue-list" onDragLeave={() => setOverIndex(null)}>
          {queue.tracks.map((t, i) => {
            const current = currentId !== null ? t.id === currentId : i === queue.index;
            return (
              <li
                key={t.id}
                data-testid="queue-row"
                data-id={t.id}
                className={`track-row ${current ? 'is-current' : ''} ${dragId === t.id ? 'is-dragging' : ''} ${overIndex === i ? 'drop-before' : ''}`}
                draggable
                onDragStart={(e) => {
                  setDragId(t.id);
                  e.dataTransfer.effectAllowed = 'move';
                  e.dataTransfer.setData('text/plain', t.id);
                }}
                onDragOver={(e) => {
                  e.preventDefault();
                  setOverIndex(i);
                }}
                onDrop={(e) => {
                  e.preventDefault();
                  drop(i);
                }}
                onDragEnd={() => {
                  setDragId(null);
                  setOverIndex(null);
                }}
                onDoubleClick={() => void playAt(i)}
                onKeyDown={(e) => {
                  if (e.altKey && e.key === 'ArrowUp' && i > 0) void moveTrack(t.id, i - 1);
                  else if (e.altKey && e.key === 'ArrowDown' && i < queue.tracks.length - 1) void moveTrack(t.id, i + 1);
                  else if (e.key === 'Enter') void playAt(i);
                  else if (e.key === 'Delete') void removeTracks([t.id]);
                  else return;
                  e.preventDefault();
                }}
                tabIndex={0}
              >
                <span className="grip" aria-hidden>
                  {Icon.grip({ size: 16 })}
                </span>
                <span className="track-index">{current && state === 'playing' ? <span className="eq-anim" aria-label="Playing"><i /><i /><i /></span> : i + 1}</span>
                <Cover track={t} size={36} />
                <span className="track-main">
                  <span className="track-title" data-testid="queue-title" title={t.title}>{t.title}</span>
                  <span className="track-sub" data-testid="queue-byline" title={trackTooltip(t)}>{trackByline(t)}</span>
                </span>
                {t.source.kind === 'plugin' ? <span className="badge badge-accent small">{Icon.plug({ size: 11 })} {t.source.pluginId.split('.').pop()}</span> : null}
                <span className="track-time" data-testid="queue-duration">{(() => {
                  const d = t.durationMs ?? (current ? currentDuration : null);
                  return d === null ? '' : formatTime(d);
                })()}</span>
                <span className="row-actions">
                  <button className="icon-btn small" aria-label={`Play ${t.title}`} onClick={() => void playAt(i)}>
                    {Icon.play({ size: 14 })}
                  </button>
                  <button className="icon-btn small" aria-label={`Remove ${t.title}`} onClick={() => void removeTracks([t.id])}>
                    {Icon.x({ size: 14 })}
                  </button>
                </span>
              </li>
            );
          })}
          <li
            className={`track-drop-end ${overIndex === queue.tracks.length ? 'drop-before' : ''}`}
            onDragOver={(e) => {
              e.preventDefault();
              setOverIndex(queue.tracks.length);
            }}
            onDrop={(e) => {
              e.preventDefault();
              drop(queue.tracks.length);
            }}
            aria-hidden
          />
        </ol>
      )}
    </section>
  );
}
