// Tagged audio files for the library's tests and benchmark, made quickly: ffmpeg encodes a few
// short templates once, then every file is a copy of a template with tags written from Node
// (ID3v2.3/2.4 frames for MP3, a Vorbis comment block for FLAC), so thousands of files take
// seconds, not one encoder process each. Ogg Vorbis and MP4 files get their tags from ffmpeg.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface CorpusTags {
  title?: string;
  artist?: string;
  albumArtist?: string;
  album?: string;
  track?: string;
  disc?: string;
  year?: string;
  genre?: string;
  composer?: string;
  compilation?: boolean;
  replayGainTrack?: string;
  mbTrackId?: string;
}

export interface Picture {
  mime: string;
  data: Buffer;
}

function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Short tagless templates (sine tones): mp3, flac, ogg, m4a, wav. */
export function makeTemplates(dir: string, seconds = 2): Record<'mp3' | 'flac' | 'ogg' | 'm4a' | 'wav', string> {
  fs.mkdirSync(dir, { recursive: true });
  const src = ['-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}:sample_rate=44100`, '-ac', '2', '-map_metadata', '-1', '-fflags', '+bitexact'];
  const out = {
    mp3: path.join(dir, 'template.mp3'),
    flac: path.join(dir, 'template.flac'),
    ogg: path.join(dir, 'template.ogg'),
    m4a: path.join(dir, 'template.m4a'),
    wav: path.join(dir, 'template.wav'),
  };
  if (!fs.existsSync(out.mp3)) ffmpeg([...src, '-c:a', 'libmp3lame', '-b:a', '96k', '-id3v2_version', '0', '-write_id3v1', '0', out.mp3]);
  if (!fs.existsSync(out.flac)) ffmpeg([...src, '-c:a', 'flac', out.flac]);
  if (!fs.existsSync(out.ogg)) ffmpeg([...src, '-c:a', 'libvorbis', '-q:a', '1', out.ogg]);
  if (!fs.existsSync(out.m4a)) ffmpeg([...src, '-c:a', 'aac', '-b:a', '64k', out.m4a]);
  if (!fs.existsSync(out.wav)) ffmpeg([...src, '-c:a', 'pcm_s16le', out.wav]);
  return out;
}

// ---- ID3v2 -------------------------------------------------------------------------------------------

const ID3_FRAMES: [keyof CorpusTags, string][] = [
  ['title', 'TIT2'], ['artist', 'TPE1'], ['albumArtist', 'TPE2'], ['album', 'TALB'], ['track', 'TRCK'], ['disc', 'TPOS'], ['genre', 'TCON'], ['composer', 'TCOM'],
];

function syncsafe(n: number): Buffer {
  return Buffer.from([(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f]);
}

/** Text in ID3 encoding `enc` (0 Latin-1, 1 UTF-16 with BOM, 3 UTF-8), terminator excluded. */
function id3Text(value: string, enc: 0 | 1 | 3): Buffer {
  if (enc === 0) return Buffer.from(value, 'latin1');
  if (enc === 3) return Buffer.from(value, 'utf8');
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(value, 'utf16le')]);
}

/** An ID3v2.3 or v2.4 tag with the given text frames (and an APIC front cover). */
export function id3Tag(tags: CorpusTags, opts: { version: 3 | 4; encoding: 0 | 1 | 3; picture?: Picture }): Buffer {
  const frames: Buffer[] = [];
  const frame = (id: string, body: Buffer): void => {
    const h = Buffer.alloc(10);
    h.write(id, 0, 'latin1');
    if (opts.version === 4) syncsafe(body.length).copy(h, 4);
    else h.writeUInt32BE(body.length, 4);
    frames.push(h, body);
  };
  const textFrame = (id: string, value: string): void => frame(id, Buffer.concat([Buffer.from([opts.encoding]), id3Text(value, opts.encoding)]));
  for (const [key, id] of ID3_FRAMES) {
    const v = tags[key];
    if (typeof v === 'string' && v) textFrame(id, v);
  }
  if (tags.year) textFrame(opts.version === 4 ? 'TDRC' : 'TYER', tags.year);
  if (tags.compilation) textFrame('TCMP', '1');
  const txxx = (desc: string, value: string): void => {
    const nul = opts.encoding === 1 ? Buffer.from([0, 0]) : Buffer.from([0]);
    frame('TXXX', Buffer.concat([Buffer.from([opts.encoding]), id3Text(desc, opts.encoding), nul, id3Text(value, opts.encoding)]));
  };
  if (tags.replayGainTrack) txxx('REPLAYGAIN_TRACK_GAIN', tags.replayGainTrack);
  if (tags.mbTrackId) {
    const body = Buffer.concat([Buffer.from('http://musicbrainz.org\0', 'latin1'), Buffer.from(tags.mbTrackId, 'latin1')]);
    frame('UFID', body);
  }
  if (opts.picture) {
    frame('APIC', Buffer.concat([Buffer.from([0]), Buffer.from(`${opts.picture.mime}\0`, 'latin1'), Buffer.from([3]), Buffer.from([0]), opts.picture.data]));
  }
  const body = Buffer.concat(frames);
  const header = Buffer.alloc(10);
  header.write('ID3', 0, 'latin1');
  header[3] = opts.version;
  header[4] = 0;
  header[5] = 0;
  syncsafe(body.length).copy(header, 6);
  return Buffer.concat([header, body]);
}

// ---- FLAC ---------------------------------------------------------------------------------------------

function flacBlock(type: number, body: Buffer, last: boolean): Buffer {
  const h = Buffer.alloc(4);
  h[0] = (last ? 0x80 : 0) | type;
  h.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([h, body]);
}

const VORBIS_KEYS: [keyof CorpusTags, string][] = [
  ['title', 'TITLE'], ['artist', 'ARTIST'], ['albumArtist', 'ALBUMARTIST'], ['album', 'ALBUM'], ['track', 'TRACKNUMBER'], ['disc', 'DISCNUMBER'],
  ['year', 'DATE'], ['genre', 'GENRE'], ['composer', 'COMPOSER'], ['replayGainTrack', 'REPLAYGAIN_TRACK_GAIN'], ['mbTrackId', 'MUSICBRAINZ_TRACKID'],
];

/** The template FLAC with its metadata replaced by a Vorbis comment block (and a PICTURE). */
export function flacWithTags(template: Buffer, tags: CorpusTags, picture?: Picture): Buffer {
  if (template.toString('latin1', 0, 4) !== 'fLaC') throw new Error('not a FLAC template');
  let off = 4;
  let streamInfo: Buffer | null = null;
  for (;;) {
    const hdr = template[off]!;
    const len = template.readUIntBE(off + 1, 3);
    if ((hdr & 0x7f) === 0) streamInfo = template.subarray(off + 4, off + 4 + len);
    off += 4 + len;
    if (hdr & 0x80) break;
  }
  const comments: Buffer[] = [];
  for (const [key, name] of VORBIS_KEYS) {
    const v = tags[key];
    if (typeof v === 'string' && v) comments.push(Buffer.from(`${name}=${v}`, 'utf8'));
  }
  if (tags.compilation) comments.push(Buffer.from('COMPILATION=1', 'utf8'));
  const vendor = Buffer.from('stellatune-corpus', 'utf8');
  const parts: Buffer[] = [];
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  parts.push(u32(vendor.length), vendor, u32(comments.length));
  for (const c of comments) parts.push(u32(c.length), c);
  const blocks = [flacBlock(0, streamInfo!, false), flacBlock(4, Buffer.concat(parts), !picture)];
  if (picture) {
    const be = (n: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    };
    const mime = Buffer.from(picture.mime, 'latin1');
    blocks.push(flacBlock(6, Buffer.concat([be(3), be(mime.length), mime, be(0), be(0), be(0), be(0), be(0), be(picture.data.length), picture.data]), true));
  }
  return Buffer.concat([Buffer.from('fLaC', 'latin1'), ...blocks, template.subarray(off)]);
}

export function writeMp3(file: string, template: Buffer, tags: CorpusTags, opts: { version: 3 | 4; encoding: 0 | 1 | 3; picture?: Picture }): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.concat([id3Tag(tags, opts), template]));
}

export function writeFlac(file: string, template: Buffer, tags: CorpusTags, picture?: Picture): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, flacWithTags(template, tags, picture));
}

/** Ogg Vorbis / MP4 with tags, through ffmpeg (few files: the tests' libraries). */
export function writeWithFfmpeg(file: string, template: string, tags: CorpusTags): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const meta: string[] = [];
  const add = (k: string, v: string | undefined): void => {
    if (v) meta.push('-metadata', `${k}=${v}`);
  };
  add('title', tags.title);
  add('artist', tags.artist);
  add('album_artist', tags.albumArtist);
  add('album', tags.album);
  add('track', tags.track);
  add('disc', tags.disc);
  add('date', tags.year);
  add('genre', tags.genre);
  add('composer', tags.composer);
  if (tags.compilation) add('compilation', '1');
  ffmpeg(['-i', template, '-c', 'copy', '-map_metadata', '-1', ...meta, file]);
}

/** A small solid-colour picture (PNG/JPEG) made with sharp. */
export async function solidPicture(rgb: [number, number, number], format: 'png' | 'jpeg' = 'png', size = 300): Promise<Picture> {
  const sharp = (await import('sharp')).default;
  const img = sharp({ create: { width: size, height: size, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
  const data = format === 'png' ? await img.png().toBuffer() : await img.jpeg({ quality: 80 }).toBuffer();
  return { mime: format === 'png' ? 'image/png' : 'image/jpeg', data };
}

/**
 * The generated corpus of the benchmark: `count` files in artist/album folders, 10 tracks an
 * album, mostly MP3 (ID3v2.4 UTF-8 or v2.3 UTF-16), every fourth album FLAC, one album in eight
 * with an embedded cover and one in eight with a folder cover.
 */
export async function writeBenchCorpus(dir: string, count: number, templates: { mp3: string; flac: string }): Promise<void> {
  const mp3 = fs.readFileSync(templates.mp3);
  const flac = fs.readFileSync(templates.flac);
  const cover = await solidPicture([40, 90, 160], 'jpeg', 200);
  for (let i = 0; i < count; i++) {
    const albumNo = Math.floor(i / 10);
    const artistNo = Math.floor(albumNo / 4);
    const folder = path.join(dir, `Artist ${artistNo}`, `Album ${albumNo}`);
    const tags: CorpusTags = {
      title: `Song ${i} ${['river', 'night', 'Été', '夜明け', 'stone'][i % 5]}`,
      artist: `Artist ${artistNo}`,
      album: `Album ${albumNo}`,
      track: `${(i % 10) + 1}/10`,
      year: String(1970 + (albumNo % 50)),
      genre: ['Rock', 'Jazz', 'Electronic', 'Folk', 'Classical'][albumNo % 5]!,
    };
    const embedded = albumNo % 8 === 0 ? cover : undefined;
    if (albumNo % 8 === 4 && i % 10 === 0) {
      fs.mkdirSync(folder, { recursive: true });
      fs.writeFileSync(path.join(folder, 'cover.jpg'), cover.data);
    }
    const name = `${String((i % 10) + 1).padStart(2, '0')} Song ${i}`;
    if (albumNo % 4 === 3) writeFlac(path.join(folder, `${name}.flac`), flac, tags, embedded);
    else writeMp3(path.join(folder, `${name}.mp3`), mp3, tags, { version: i % 2 ? 3 : 4, encoding: i % 2 ? 1 : 3, ...(embedded ? { picture: embedded } : {}) });
  }
}
