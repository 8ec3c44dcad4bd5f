// ReplayGain: which gain a track plays at. Pure functions, shared by the decode worker (which
// marks each track's gain in the ring), the engine (album context) and the renderer (the badge).
// No Node, DOM or native imports here.

export type ReplayGainMode = 'off' | 'track' | 'album' | 'auto';

export interface ReplayGainSettings {
  /** auto: album gain while an album plays in order, track gain otherwise. */
  mode: ReplayGainMode;
  /** Added to a tagged gain, dB. */
  preampDb: number;
  /** The gain of a file without ReplayGain tags, dB (the preamp does not apply to it). */
  untaggedDb: number;
  /** Limits the gain so that peak × gain ≤ 1 (needs the peak tag). */
  preventClipping: boolean;
}

export const DEFAULT_REPLAY_GAIN: ReplayGainSettings = { mode: 'off', preampDb: 0, untaggedDb: 0, preventClipping: true };

/** A track's ReplayGain tags (null: not tagged). Peaks are linear sample values (1 = full scale). */
export interface ReplayGainTags {
  trackGainDb: number | null;
  trackPeak: number | null;
  albumGainDb: number | null;
  albumPeak: number | null;
}

export const NO_REPLAY_GAIN_TAGS: ReplayGainTags = { trackGainDb: null, trackPeak: null, albumGainDb: null, albumPeak: null };

/** The gain a track plays at, and why. */
export interface ReplayGainApplied {
  /** off: the mode is off; untagged: the default gain; track / album: the tag used. */
  source: 'off' | 'untagged' | 'track' | 'album';
  /** The gain applied, dB (tag + preamp, lowered by clipping prevention). */
  gainDb: number;
  /** Clipping prevention lowered the gain to 1 / peak. */
  limited: boolean;
}

const clampDb = (db: number): number => Math.max(-60, Math.min(24, db));

/**
 * The gain for a track: the tag the mode asks for (the other kind when it is missing), plus the
 * preamp, limited to 1/peak when clipping prevention is on; the default gain when untagged.
 */
export function replayGainFor(settings: ReplayGainSettings, tags: ReplayGainTags, albumInOrder: boolean): ReplayGainApplied {
  if (settings.mode === 'off') return { source: 'off', gainDb: 0, limited: false };
  const wantAlbum = settings.mode === 'album' || (settings.mode === 'auto' && albumInOrder);
  const album = tags.albumGainDb !== null ? { source: 'album' as const, db: tags.albumGainDb, peak: tags.albumPeak } : null;
  const track = tags.trackGainDb !== null ? { source: 'track' as const, db: tags.trackGainDb, peak: tags.trackPeak } : null;
  const pick = wantAlbum ? (album ?? track) : (track ?? album);
  if (!pick) return { source: 'untagged', gainDb: clampDb(settings.untaggedDb), limited: false };
  let db = clampDb(pick.db + settings.preampDb);
  let limited = false;
  // The peak that goes with the gain used (the other one if only that is tagged).
  const peak = pick.peak ?? (pick.source === 'album' ? tags.trackPeak : tags.albumPeak);
  if (settings.preventClipping && peak !== null && peak > 0) {
    // A hair under 1 / peak: the float32 gain and samples must not round past full scale.
    const maxDb = -20 * Math.log10(peak) - 1e-4;
    if (db > maxDb) {
      db = maxDb;
      limited = true;
    }
  }
  return { source: pick.source, gainDb: db, limited };
}

/** dB to a linear factor. */
export function dbToGain(db: number): number {
  return Math.pow(10, db / 20);
}

/** "-6.50 dB", "+3.2", "3,2 dB" → dB; null when it is not a number. */
export function parseGainDb(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && Math.abs(v) <= 100 ? v : null;
  if (typeof v !== 'string') return null;
  const m = /^\s*([+-]?\d+(?:[.,]\d+)?)\s*(?:db)?\s*$/i.exec(v);
  if (!m) return null;
  const n = Number((m[1] as string).replace(',', '.'));
  return Number.isFinite(n) && Math.abs(n) <= 100 ? n : null;
}

/** "0.988312" → 0.988312; null unless a positive number (peaks above 1 happen: lossy decodes). */
export function parsePeak(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+(?:[.,]\d+)?\s*$/.test(v) ? Number(v.replace(',', '.')) : NaN;
  return Number.isFinite(n) && n > 0 && n <= 100 ? n : null;
}

/** R128_TRACK_GAIN / R128_ALBUM_GAIN (Opus): Q7.8 dB relative to -23 LUFS; ReplayGain 2 aims at
 * -18 LUFS, so 5 dB more. */
export function parseR128Db(v: unknown): number | null {
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
  if (!/^[+-]?\d+$/.test(s)) return null;
  const q = Number(s);
  return Math.abs(q) <= 32768 ? q / 256 + 5 : null;
}

/** ReplayGain tags from a decoder's get_metadata_json object: Vorbis comments, ID3 TXXX, APE and
 * MP4 freeform atoms all arrive as tag keys (any case) in its "tags" object (or at the top). */
export function replayGainFromDecoderMetadata(meta: Record<string, unknown>): ReplayGainTags {
  const nested = meta.tags && typeof meta.tags === 'object' && !Array.isArray(meta.tags) ? (meta.tags as Record<string, unknown>) : {};
  const keys = new Map<string, unknown>();
  for (const src of [meta, nested]) for (const [k, v] of Object.entries(src)) keys.set(k.toLowerCase(), v);
  const trackGain = parseGainDb(keys.get('replaygain_track_gain')) ?? parseR128Db(keys.get('r128_track_gain'));
  const albumGain = parseGainDb(keys.get('replaygain_album_gain')) ?? parseR128Db(keys.get('r128_album_gain'));
  return {
    trackGainDb: trackGain,
    trackPeak: parsePeak(keys.get('replaygain_track_peak')),
    albumGainDb: albumGain,
    albumPeak: parsePeak(keys.get('replaygain_album_peak')),
  };
}

/** Field by field: the first source that has a value (the library before the decoder). */
export function mergeReplayGainTags(...sources: (ReplayGainTags | null | undefined)[]): ReplayGainTags {
  const out: ReplayGainTags = { ...NO_REPLAY_GAIN_TAGS };
  for (const s of sources) {
    if (!s) continue;
    for (const k of ['trackGainDb', 'trackPeak', 'albumGainDb', 'albumPeak'] as const) if (out[k] === null && s[k] !== null && Number.isFinite(s[k])) out[k] = s[k];
  }
  return out;
}

/** What album context needs to know of a queue entry. */
export interface AlbumPlace {
  album: string | null;
  albumArtist?: string | null;
  discNo?: number | null;
  trackNo?: number | null;
}

/** What the library knows of a file: its album place and ReplayGain tags. */
export interface LibraryGainInfo extends AlbumPlace {
  tags: ReplayGainTags;
}

function sameAlbum(a: AlbumPlace, b: AlbumPlace): boolean {
  if (!a.album || !b.album || a.album.trim().toLowerCase() !== b.album.trim().toLowerCase()) return false;
  return !a.albumArtist || !b.albumArtist || a.albumArtist.trim().toLowerCase() === b.albumArtist.trim().toLowerCase();
}

/** `b` follows `a` on the album: a later track number (or disc); unnumbered entries count as in
 * the queue's order. */
function follows(a: AlbumPlace, b: AlbumPlace): boolean {
  if (!sameAlbum(a, b)) return false;
  const an = a.trackNo ?? null;
  const bn = b.trackNo ?? null;
  if (an === null || bn === null) return an === null && bn === null;
  const ad = a.discNo ?? 1;
  const bd = b.discNo ?? 1;
  return bd > ad || (bd === ad && bn > an);
}

/** auto mode's question: does `cur` play as part of its album in order, i.e. is the entry before
 * it (in play order) the album's previous track, or the one after it the next? */
export function albumPlaysInOrder(prev: AlbumPlace | null, cur: AlbumPlace, next: AlbumPlace | null): boolean {
  return (prev !== null && follows(prev, cur)) || (next !== null && follows(cur, next));
}

/** The now-playing badge: "RG +3.2 dB track", "RG −1.0 dB album (limited)", "RG 0.0 dB untagged". */
export function replayGainLabel(a: ReplayGainApplied): string {
  if (a.source === 'off') return '';
  const db = Math.abs(a.gainDb) < 0.05 ? '0.0' : `${a.gainDb > 0 ? '+' : '−'}${Math.abs(a.gainDb).toFixed(1)}`;
  return `RG ${db} dB ${a.source}${a.limited ? ' (limited)' : ''}`;
}
