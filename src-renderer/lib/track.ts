// How a track is named on screen.
import type { TrackInfo } from '../../src-shared/player-types.js';

/** Where the track comes from, for tracks without tags. */
export function sourceLabel(t: TrackInfo): string {
  return t.source.kind === 'file' ? t.source.path : `${t.source.pluginId} · ${t.source.typeId}`;
}

/** The name of the folder a file is in, for a byline without tags. */
function folderName(p: string): string {
  const parts = p.split(/[\\/]/).filter(Boolean);
  return parts.length > 1 ? (parts[parts.length - 2] as string) : p;
}

/** "Artist — Album", whichever of them is known; the file's folder (or the plugin) when neither
 * is: a whole temp path reads as noise in the now-playing bar, so it goes in the tooltip. */
export function trackByline(t: TrackInfo): string {
  const parts = [t.artist, t.album].filter((x): x is string => Boolean(x));
  if (parts.length > 0) return parts.join(' — ');
  return t.source.kind === 'file' ? folderName(t.source.path) : sourceLabel(t);
}

/** The byline's tooltip: the byline, and the file's whole path for a local file. */
export function trackTooltip(t: TrackInfo): string {
  const line = trackByline(t);
  return t.source.kind === 'file' && line !== t.source.path ? `${line}\n${t.source.path}` : line;
}

/** The window title: "Title — Artist". */
export function windowTitle(t: TrackInfo | null): string {
  if (!t) return 'StellaTune';
  return t.artist ? `${t.title} — ${t.artist}` : t.title;
}
