// How a track is named on screen.
import type { TrackInfo } from '../../src-shared/player-types.js';

/** Where the track comes from, for tracks without tags. */
export function sourceLabel(t: TrackInfo): string {
  return t.source.kind === 'file' ? t.source.path : `${t.source.pluginId} · ${t.source.typeId}`;
}

/** "Artist — Album", whichever of them is known; the file's place when neither is. */
export function trackByline(t: TrackInfo): string {
  const parts = [t.artist, t.album].filter((x): x is string => Boolean(x));
  return parts.length > 0 ? parts.join(' — ') : sourceLabel(t);
}

/** The window title: "Title — Artist". */
export function windowTitle(t: TrackInfo | null): string {
  if (!t) return 'StellaTune';
  return t.artist ? `${t.title} — ${t.artist}` : t.title;
}
