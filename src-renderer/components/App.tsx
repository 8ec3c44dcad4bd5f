// The window: navigation, the current screen, the now-playing bar, the file browser and toasts.
// Also the keyboard shortcuts and the MediaSession (media keys, OS now-playing widgets).
import { type JSX, useEffect } from 'react';
import { windowTitle } from '../lib/track.js';
import { useStore } from '../store/index.js';
import { position } from '../store/position.js';
import type { Screen } from '../store/slices.js';
import { DiagnosticsView } from './DiagnosticsView.js';
import { FileBrowser } from './FileBrowser.js';
import { LibraryView, useLibrarySearchShortcut, useWindowDrop } from './library/LibraryView.js';
import { carriesTracks, draggedTrackIds } from './library/ListViews.js';
import { Icon } from './Icons.js';
import { LyricsView } from './LyricsView.js';
import { NowPlayingBar } from './NowPlayingBar.js';
import { OutputView } from './OutputView.js';
import { PluginsView } from './PluginsView.js';
import { QueueView } from './QueueView.js';
import { SourcesView } from './SourcesView.js';

const NAV: { id: Screen; label: string; icon: () => JSX.Element }[] = [
  { id: 'library', label: 'Library', icon: () => Icon.music() },
  { id: 'queue', label: 'Queue', icon: () => Icon.queue() },
  { id: 'sources', label: 'Sources', icon: () => Icon.globe() },
  { id: 'lyrics', label: 'Lyrics', icon: () => Icon.lyrics() },
  { id: 'plugins', label: 'Plugins', icon: () => Icon.plug() },
  { id: 'output', label: 'Output', icon: () => Icon.speaker() },
  { id: 'diagnostics', label: 'Diagnostics', icon: () => Icon.activity() },
];

function useShortcuts(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const t = e.target as HTMLElement | null;
      if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
      if (useStore.getState().browser.open) return;
      const s = useStore.getState();
      if (e.key === ' ' && !e.repeat) void s.togglePlay();
      else if (e.key === 'ArrowRight' && e.shiftKey) void s.next();
      else if (e.key === 'ArrowLeft' && e.shiftKey) void s.previous();
      else if (e.key === 'ArrowRight' && !e.altKey) void s.seek(position.current() + 5000);
      else if (e.key === 'ArrowLeft' && !e.altKey) void s.seek(Math.max(0, position.current() - 5000));
      else if (e.key === 'ArrowUp' && !e.altKey) void s.setVolume(Math.min(1, (s.status?.volume ?? 1) + 0.05));
      else if (e.key === 'ArrowDown' && !e.altKey) void s.setVolume(Math.max(0, (s.status?.volume ?? 1) - 0.05));
      else if (e.key === 'MediaPlayPause') void s.togglePlay();
      else if (e.key === 'MediaTrackNext') void s.next();
      else if (e.key === 'MediaTrackPrevious') void s.previous();
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

/** An absolute URL for the OS media widgets (they resolve nothing against the page). */
function absoluteUrl(src: string | undefined): string | undefined {
  if (!src) return undefined;
  try {
    return new URL(src, location.href).href;
  } catch {
    return undefined;
  }
}

function useMediaSession(): void {
  const track = useStore((s) => s.status?.current ?? null);
  const state = useStore((s) => s.status?.state);
  useEffect(() => {
    const ms = navigator.mediaSession;
    if (!ms) return;
    const s = useStore.getState;
    const handlers: [MediaSessionAction, MediaSessionActionHandler][] = [
      ['play', () => void s().togglePlay()],
      ['pause', () => void s().togglePlay()],
      ['stop', () => void s().stop()],
      ['nexttrack', () => void s().next()],
      ['previoustrack', () => void s().previous()],
      ['seekto', (d) => d.seekTime !== undefined && void s().seek(d.seekTime * 1000)],
      ['seekbackward', (d) => void s().seek(Math.max(0, position.current() - (d.seekOffset ?? 10) * 1000))],
      ['seekforward', (d) => void s().seek(position.current() + (d.seekOffset ?? 10) * 1000)],
    ];
    for (const [action, handler] of handlers) {
      try {
        ms.setActionHandler(action, handler);
      } catch {
        // an action this browser does not know
      }
    }
    // The OS widget's scrubber follows the position feed (at a low rate: it interpolates).
    let last = 0;
    return position.subscribe((pos, dur) => {
      const now = Date.now();
      if (!dur || now - last < 1000 || !ms.setPositionState) return;
      last = now;
      try {
        ms.setPositionState({ duration: dur / 1000, position: Math.min(pos, dur) / 1000, playbackRate: 1 });
      } catch {
        // a position past the duration while a track changes
      }
    });
  }, []);
  useEffect(() => {
    document.title = windowTitle(track);
    const ms = navigator.mediaSession;
    if (!ms || typeof MediaMetadata === 'undefined') return;
    const art = absoluteUrl(track?.cover);
    ms.metadata = track ? new MediaMetadata({ title: track.title, artist: track.artist ?? '', album: track.album ?? '', artwork: art ? [{ src: art, sizes: '512x512' }] : [] }) : null;
    ms.playbackState = state === 'playing' ? 'playing' : state === 'paused' ? 'paused' : 'none';
  }, [track, state]);
}

function Toasts(): JSX.Element {
  const toasts = useStore((s) => s.toasts);
  const dismiss = useStore((s) => s.dismiss);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast ${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'} data-testid="toast">
          <div className="toast-body">
            <span data-testid="toast-text">{t.text}</span>
            {t.details ? (
              <details className="toast-details">
                <summary>details</summary>
                <span data-testid="toast-details">{t.details}</span>
              </details>
            ) : null}
          </div>
          {t.count > 1 ? (
            <span className="toast-count" data-testid="toast-count" aria-label={`${t.count} times`}>
              ×{t.count}
            </span>
          ) : null}
          <button className="icon-btn small" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            {Icon.x({ size: 14 })}
          </button>
        </div>
      ))}
    </div>
  );
}

export function App(): JSX.Element {
  const screen = useStore((s) => s.screen);
  const setScreen = useStore((s) => s.setScreen);
  const theme = useStore((s) => s.theme);
  const setTheme = useStore((s) => s.setTheme);
  const connection = useStore((s) => s.connection);
  const info = useStore((s) => s.info);
  useShortcuts();
  useMediaSession();
  useLibrarySearchShortcut();
  useWindowDrop();

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('stellatune.theme', theme);
  }, [theme]);

  return (
    <div className="app">
      <nav className="sidebar" aria-label="Screens">
        <div className="brand">
          <span className="brand-mark" aria-hidden>
            ✦
          </span>
          <span className="brand-name">StellaTune</span>
        </div>
        <ul>
          {NAV.map((n) => (
            <li key={n.id}>
              <button
                className={`nav-item ${screen === n.id ? 'is-active' : ''}`}
                aria-current={screen === n.id ? 'page' : undefined}
                onClick={() => setScreen(n.id)}
                data-testid={`nav-${n.id}`}
                title={n.label}
                // Library tracks and albums dropped on "Queue" are added to the queue.
                onDragOver={n.id === 'queue' ? (e) => carriesTracks(e.dataTransfer) && e.preventDefault() : undefined}
                onDrop={
                  n.id === 'queue'
                    ? (e) => {
                        e.preventDefault();
                        void draggedTrackIds(e.dataTransfer).then((ids) => {
                          if (ids && ids.length > 0) void useStore.getState().playTrackIds(ids, 'queue');
                        });
                      }
                    : undefined
                }
              >
                {n.icon()}
                <span className="nav-label">{n.label}</span>
              </button>
            </li>
          ))}
        </ul>
        <div className="sidebar-foot">
          <button className="nav-item" onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`} data-testid="theme-toggle" title="Theme">
            {theme === 'dark' ? Icon.sun() : Icon.moon()}
            <span className="nav-label">{theme === 'dark' ? 'Light theme' : 'Dark theme'}</span>
          </button>
        </div>
      </nav>

      <main className="content">
        {connection === 'closed' ? <div className="banner error">Lost the connection to the player core — reconnecting…</div> : null}
        {connection === 'expired' ? (
          <div className="banner error" role="alert" data-testid="expired-banner">
            This player was restarted: open the new address it printed (this page’s address belonged to the old one).
          </div>
        ) : null}
        {info?.engineUnavailable ? (
          <div className="banner" data-testid="engine-banner">
            Audio is unavailable: {info.engineUnavailable}. Browsing, plugins and the queue still work.
          </div>
        ) : null}
        {screen === 'library' ? <LibraryView /> : null}
        {screen === 'queue' ? <QueueView /> : null}
        {screen === 'sources' ? <SourcesView /> : null}
        {screen === 'lyrics' ? <LyricsView /> : null}
        {screen === 'plugins' ? <PluginsView /> : null}
        {screen === 'output' ? <OutputView /> : null}
        {screen === 'diagnostics' ? <DiagnosticsView /> : null}
      </main>

      <NowPlayingBar />
      <FileBrowser />
      <Toasts />
    </div>
  );
}
