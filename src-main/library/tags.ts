// Tags of one audio file, read with music-metadata (ID3v1/v2.3/v2.4, Vorbis comments, APE, MP4
// atoms, RIFF/AIFF chunks) or handed over by a decoder plugin, reduced to the columns the library
// stores; plus the content fingerprint that recognises a moved file.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseFromTokenizer, type IAudioMetadata, type IPicture } from 'music-metadata';
import { SyncFileTokenizer } from './sync-file-tokenizer.js';

/** Extensions music-metadata reads; anything else needs a decoder plugin's metadata. */
export const TAG_READER_EXTENSIONS = new Set([
  'mp3', 'mp2', 'flac', 'ogg', 'oga', 'opus', 'spx', 'm4a', 'm4b', 'mp4', 'aac', 'alac', 'wav', 'wave', 'aif', 'aiff', 'aifc',
  'ape', 'wv', 'mpc', 'wma', 'asf', 'dsf', 'dff', 'mka', 'webm', 'tta',
]);

export interface TrackTags {
  title: string | null;
  /** Every artist, split (`;`, `/`, `feat.`) and in order. */
  artists: string[];
  albumArtist: string | null;
  album: string | null;
  trackNo: number | null;
  trackTotal: number | null;
  discNo: number | null;
  discTotal: number | null;
  year: number | null;
  date: string | null;
  genres: string[];
  composer: string | null;
  compilation: boolean;
  rgTrackGain: number | null;
  rgTrackPeak: number | null;
  rgAlbumGain: number | null;
  rgAlbumPeak: number | null;
  mbTrackId: string | null;
  mbAlbumId: string | null;
  mbArtistId: string | null;
  durationMs: number | null;
  codec: string | null;
  sampleRate: number | null;
  bitDepth: number | null;
  channels: number | null;
  bitrate: number | null;
  lossless: boolean | null;
  /** Who read the tags: 'music-metadata' or 'plugin:<id>/<type>'. */
  tagSource: string;
  /** Every tag as read, for the properties dialog. */
  all: Record<string, string>;
}

export interface EmbeddedPicture {
  data: Uint8Array;
  mime: string;
}

const SPLIT = /\s*(?:;|\/|\bfeat\.?\s|\bft\.\s|\bfeaturing\s)\s*/i;

/** "A feat. B; C / D" -> [A, B, C, D] (duplicates dropped, order kept). */
export function splitArtists(values: (string | undefined | null)[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (!v) continue;
    for (const part of v.split(SPLIT)) {
      const name = part.trim();
      if (name && !out.some((x) => x.toLowerCase() === name.toLowerCase())) out.push(name);
    }
  }
  return out;
}

function text(v: unknown): string | null {
  if (typeof v === 'string') return v.trim() || null;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

function num(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number.parseFloat(v) : Number.NaN;
  return Number.isFinite(n) ? n : null;
}

function intOf(v: unknown): number | null {
  const n = num(v);
  return n === null ? null : Math.trunc(n);
}

function yearOf(year: unknown, date: string | null): number | null {
  const y = intOf(year);
  if (y !== null && y > 0) return y;
  const m = date ? /^(\d{4})/.exec(date) : null;
  return m ? Number(m[1]) : null;
}

/** The parts of music-metadata's result the library keeps. */
export function tagsFromMetadata(meta: IAudioMetadata): { tags: TrackTags; picture: EmbeddedPicture | null } {
  const c = meta.common;
  const f = meta.format;
  const date = text(c.date) ?? text(c.originaldate) ?? null;
  const all: Record<string, string> = {};
  for (const [kind, list] of Object.entries(meta.native)) {
    for (const t of list) {
      if (typeof t.value === 'string' || typeof t.value === 'number') all[`${kind}:${t.id}`] = String(t.value).slice(0, 2000);
    }
  }
  const pic: IPicture | undefined = c.picture?.find((p) => /front/i.test(p.type ?? '')) ?? c.picture?.[0];
  const durationMs = f.duration !== undefined && Number.isFinite(f.duration) ? Math.round(f.duration * 1000) : null;
  return {
    tags: {
      title: text(c.title),
      artists: splitArtists(c.artists && c.artists.length > 0 ? c.artists : [c.artist]),
      albumArtist: text(c.albumartist),
      album: text(c.album),
      trackNo: intOf(c.track.no),
      trackTotal: intOf(c.track.of) ?? intOf(c.totaltracks),
      discNo: intOf(c.disk.no),
      discTotal: intOf(c.disk.of),
      year: yearOf(c.year, date),
      date,
      genres: splitArtists(c.genre ?? []),
      composer: c.composer && c.composer.length > 0 ? c.composer.join('; ') : null,
      compilation: c.compilation === true,
      rgTrackGain: c.replaygain_track_gain?.dB ?? null,
      rgTrackPeak: c.replaygain_track_peak?.ratio ?? null,
      rgAlbumGain: c.replaygain_album_gain?.dB ?? null,
      rgAlbumPeak: c.replaygain_album_peak?.ratio ?? null,
      mbTrackId: text(c.musicbrainz_trackid) ?? text(c.musicbrainz_recordingid),
      mbAlbumId: text(c.musicbrainz_albumid),
      mbArtistId: c.musicbrainz_artistid?.[0] ?? null,
      durationMs,
      codec: text(f.codec) ?? text(f.container),
      sampleRate: intOf(f.sampleRate),
      bitDepth: intOf(f.bitsPerSample),
      channels: intOf(f.numberOfChannels),
      bitrate: f.bitrate !== undefined ? Math.round(f.bitrate) : null,
      lossless: f.lossless ?? null,
      tagSource: 'music-metadata',
      all,
    },
    picture: pic ? { data: pic.data, mime: pic.format || 'image/jpeg' } : null,
  };
}

/** Tags from a decoder plugin's get_metadata_json object (keys as the decoder header lists). */
export function tagsFromPluginJson(doc: Record<string, unknown>, source: string, info: { sampleRate: number; channels: number; durationMs: number | null; lossless: boolean }): TrackTags {
  // Decoders put stream facts at the top and the file's tags in a "tags" object.
  const nested = doc.tags && typeof doc.tags === 'object' && !Array.isArray(doc.tags) ? (doc.tags as Record<string, unknown>) : {};
  const json: Record<string, unknown> = { ...doc, ...nested };
  const str = (k: string): string | null => text(json[k]);
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries(json)) if (typeof v === 'string' || typeof v === 'number') all[`plugin:${k}`] = String(v).slice(0, 2000);
  const date = str('date');
  return {
    title: str('title'),
    artists: splitArtists([str('artist')]),
    albumArtist: str('album_artist') ?? str('albumartist'),
    album: str('album'),
    trackNo: intOf(json.track_number ?? json.track),
    trackTotal: intOf(json.track_total),
    discNo: intOf(json.disc_number ?? json.disc),
    discTotal: intOf(json.disc_total),
    year: yearOf(json.year, date),
    date,
    genres: splitArtists([str('genre')]),
    composer: str('composer'),
    compilation: json.compilation === true || json.compilation === 1 || json.compilation === '1',
    rgTrackGain: num(json.replaygain_track_gain),
    rgTrackPeak: num(json.replaygain_track_peak),
    rgAlbumGain: num(json.replaygain_album_gain),
    rgAlbumPeak: num(json.replaygain_album_peak),
    mbTrackId: str('musicbrainz_trackid'),
    mbAlbumId: str('musicbrainz_albumid'),
    mbArtistId: str('musicbrainz_artistid'),
    durationMs: info.durationMs,
    codec: str('codec'),
    sampleRate: info.sampleRate || null,
    bitDepth: intOf(json.bits_per_sample),
    channels: info.channels || null,
    bitrate: intOf(json.bitrate) ?? (num(json.bitrate_kbps) !== null ? Math.round(num(json.bitrate_kbps)! * 1000) : null),
    lossless: info.lossless,
    tagSource: source,
    all,
  };
}

export async function readTags(file: string): Promise<{ tags: TrackTags; picture: EmbeddedPicture | null }> {
  const tokenizer = SyncFileTokenizer.open(file);
  let meta: IAudioMetadata;
  try {
    meta = await parseFromTokenizer(tokenizer, { duration: false });
  } finally {
    await tokenizer.close();
  }
  // A parser that found no stream properties at all read something that is not audio.
  if (!meta.format.codec && !meta.format.sampleRate) throw new Error('not an audio file (no audio stream found)');
  return tagsFromMetadata(meta);
}

const FINGERPRINT_BYTES = 64 * 1024;

/**
 * Content fingerprint: audio properties + duration + size + a hash of the first audio bytes (after
 * an ID3v2 header, whose edits should not hide a move). The same file moved or renamed gives the
 * same value; two rips of one song almost never do.
 */
export function fingerprint(file: string, size: number, tags: Pick<TrackTags, 'codec' | 'sampleRate' | 'channels' | 'durationMs'>): string {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(10);
    let start = 0;
    if (fs.readSync(fd, head, 0, 10, 0) === 10 && head.toString('latin1', 0, 3) === 'ID3') {
      start = 10 + (((head[6]! & 0x7f) << 21) | ((head[7]! & 0x7f) << 14) | ((head[8]! & 0x7f) << 7) | (head[9]! & 0x7f));
      if (head[5]! & 0x10) start += 10; // footer present
    }
    const buf = Buffer.alloc(FINGERPRINT_BYTES);
    const n = fs.readSync(fd, buf, 0, FINGERPRINT_BYTES, Math.min(start, Math.max(0, size - 1)));
    const h = crypto.createHash('sha1');
    h.update(`${tags.codec ?? ''}|${tags.sampleRate ?? 0}|${tags.channels ?? 0}|${Math.round((tags.durationMs ?? 0) / 100)}|${size}|`);
    h.update(buf.subarray(0, n));
    return h.digest('hex');
  } finally {
    fs.closeSync(fd);
  }
}

export function extOf(file: string): string {
  return path.extname(file).slice(1).toLowerCase();
}
