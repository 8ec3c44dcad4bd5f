// Lyrics of the current track from the LyricsProvider plugins: candidates to choose from, synced
// lines highlighted and auto-scrolled with the playing position. The highlight is driven by the
// position feed through refs (class toggles), not by React state.
import { type JSX, useEffect, useRef } from 'react';
import { activeLine } from '../../src-shared/lrc.js';
import { formatTime } from '../lib/format.js';
import { useStore } from '../store/index.js';
import type { LyricsNote } from '../store/slices.js';
import { position } from '../store/position.js';
import { Icon, Spinner } from './Icons.js';

function SyncedLines({ lines }: { lines: { timeMs: number; text: string }[] }): JSX.Element {
  const box = useRef<HTMLOListElement>(null);
  const active = useRef(-1);
  const userScrollUntil = useRef(0);
  const seek = useStore((s) => s.seek);

  useEffect(() => {
    active.current = -1;
    return position.subscribe((ms) => {
      const idx = activeLine(lines, ms);
      if (idx === active.current || !box.current) return;
      const items = box.current.children;
      items[active.current]?.classList.remove('is-active');
      items[idx]?.classList.add('is-active');
      box.current.dataset.active = String(idx);
      active.current = idx;
      const el = items[idx] as HTMLElement | undefined;
      if (el && Date.now() > userScrollUntil.current) {
        const c = box.current;
        c.scrollTo({ top: el.offsetTop - c.clientHeight / 2 + el.clientHeight / 2, behavior: 'smooth' });
      }
    }, 100); // a line lights up within a tenth of a second of its time
  }, [lines]);

  return (
    <ol
      className="lyrics-lines"
      ref={box}
      data-testid="lyrics-lines"
      data-active="-1"
      onWheel={() => (userScrollUntil.current = Date.now() + 4000)}
      onTouchMove={() => (userScrollUntil.current = Date.now() + 4000)}
    >
      {lines.map((l, i) => (
        <li key={i} data-testid="lyrics-line" title={formatTime(l.timeMs)} onClick={() => void seek(l.timeMs)}>
          {l.text || '♪'}
        </li>
      ))}
    </ol>
  );
}

function QuietNotes({ notes }: { notes: LyricsNote[] }): JSX.Element {
  return (
    <ul className="quiet-notes" data-testid="lyrics-notes">
      {notes.map((n, i) => (
        <li key={i} className="quiet-note" data-testid="lyrics-note">
          {Icon.globe({ size: 14 })}
          <span>{n.text}</span>
          <details>
            <summary>details</summary>
            <span className="muted small">{n.details}</span>
          </details>
        </li>
      ))}
    </ul>
  );
}

export function LyricsView(): JSX.Element {
  const track = useStore((s) => s.status?.current ?? null);
  const providers = useStore((s) => s.lyricsProviders);
  const lyrics = useStore((s) => s.lyrics);
  const lyricsForTrack = useStore((s) => s.lyricsForTrack);
  const choose = useStore((s) => s.chooseCandidate);
  const cancel = useStore((s) => s.cancelLyrics);

  useEffect(() => {
    if (track && providers.length > 0) void lyricsForTrack(track);
  }, [track?.id, providers.length]);

  const doc = lyrics.trackId === track?.id ? lyrics.doc : null;

  return (
    <section className="screen lyrics-screen" aria-labelledby="lyrics-title">
      <header className="screen-head">
        <div>
          <h1 id="lyrics-title">Lyrics</h1>
          <p className="muted">{track ? `${track.title}${track.artist ? ` — ${track.artist}` : ''}` : 'Play a track to see its lyrics'}</p>
        </div>
        {track ? (
          <div className="head-actions">
            {lyrics.candidates.length > 0 ? (
              <select className="input select" aria-label="Lyrics candidate" data-testid="lyrics-candidate" value={lyrics.chosen} onChange={(e) => void choose(Number(e.currentTarget.value))}>
                {lyrics.candidates.map((c, i) => (
                  <option key={i} value={i}>
                    {c.title ?? (c.id ? c.id.split(/[\\/]/).pop() : 'Untitled')}
                    {c.artist ? ` — ${c.artist}` : ''} · {c.synced ? 'synced' : 'plain'} · {c.provider.displayName}
                  </option>
                ))}
              </select>
            ) : null}
            <button className="btn" onClick={() => void lyricsForTrack(track, { force: true })} disabled={lyrics.pending} data-testid="lyrics-refresh">
              {Icon.reload({ size: 16 })} Search again
            </button>
          </div>
        ) : null}
      </header>

      {doc && lyrics.trackId === track?.id && lyrics.notes.length > 0 ? <QuietNotes notes={lyrics.notes} /> : null}
      {!track ? (
        <div className="empty">
          <div className="empty-icon">{Icon.lyrics({ size: 40 })}</div>
          <h2>No track playing</h2>
          <p className="muted">Lyrics appear here for the track that plays.</p>
        </div>
      ) : providers.length === 0 ? (
        <div className="empty">
          <div className="empty-icon">{Icon.lyrics({ size: 40 })}</div>
          <h2>No lyrics providers</h2>
          <p className="muted">Enable a LyricsProvider plugin on the Plugins screen.</p>
        </div>
      ) : lyrics.pending ? (
        <div className="pending">
          <Spinner /> <span>Looking for lyrics…</span>
          <button className="btn" onClick={cancel}>
            Cancel
          </button>
        </div>
      ) : lyrics.error && !doc ? (
        <div className="center-pad muted" data-testid="lyrics-error">
          {lyrics.error}
        </div>
      ) : !doc && (lyrics.empty || lyrics.notes.length > 0) ? (
        <div className="empty" data-testid="lyrics-empty">
          <div className="empty-icon">{Icon.lyrics({ size: 40 })}</div>
          <h2>No lyrics found</h2>
          <p className="muted">{lyrics.notes.length > 0 ? 'Some providers could not be asked; try again later.' : 'None of the lyrics providers knows this track.'}</p>
          {lyrics.notes.length > 0 ? <QuietNotes notes={lyrics.notes} /> : null}
        </div>
      ) : doc?.instrumental ? (
        <div className="center-pad muted">Instrumental</div>
      ) : doc?.synced ? (
        <SyncedLines lines={doc.synced} />
      ) : doc?.plain ? (
        <pre className="lyrics-plain" data-testid="lyrics-plain">
          {doc.plain}
        </pre>
      ) : null}
    </section>
  );
}
