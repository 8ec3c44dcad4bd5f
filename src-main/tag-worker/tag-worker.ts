// The tag worker thread: reads title, artist, album (with album artist, track and disc number) and
// duration of queued files with music-metadata, and finds their cover (the embedded picture, else
// cover/folder/front/album images in the folder), off the main event loop. Embedded pictures are
// written once into the cover cache under their content hash, so a cover is always a plain file
// there.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { parseFile } from 'music-metadata';
import type { TagRequest, TagResult, TagWorkerData } from './protocol.js';

const { coversDir } = workerData as TagWorkerData;
const FOLDER_COVER = /^(cover|folder|front|album)\.(jpe?g|png|webp)$/i;
/** Folder covers by directory (a queue of one album asks for the same folder many times). */
const folderCovers = new Map<string, string | null>();

const EXT_OF_MIME: Record<string, string> = { 'image/jpeg': 'jpg', 'image/jpg': 'jpg', 'image/png': 'png', 'image/webp': 'webp', 'image/gif': 'gif' };

/** The folder's cover, copied into the cache (once per folder while it is remembered). */
function folderCover(dir: string): string | null {
  const hit = folderCovers.get(dir);
  if (hit !== undefined) return hit;
  let found: string | null = null;
  try {
    const names = fs.readdirSync(dir).filter((n) => FOLDER_COVER.test(n));
    // cover > folder > front > album, as listed.
    names.sort((a, b) => rank(a) - rank(b));
    const name = names[0];
    if (name) {
      const ext = name.toLowerCase().endsWith('.png') ? 'png' : name.toLowerCase().endsWith('.webp') ? 'webp' : 'jpg';
      found = cached(fs.readFileSync(path.join(dir, name)), ext);
    }
  } catch {
    found = null;
  }
  if (folderCovers.size > 512) folderCovers.clear();
  folderCovers.set(dir, found);
  return found;
}

function rank(name: string): number {
  return ['cover', 'folder', 'front', 'album'].indexOf(name.toLowerCase().replace(/\.[^.]+$/, ''));
}

/** Writes `data` into the cache as <sha1>.<ext> (once) and returns its path. */
function cached(data: Uint8Array, ext: string): string {
  const name = `${crypto.createHash('sha1').update(data).digest('hex')}.${ext}`;
  const file = path.join(coversDir, name);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(coversDir, { recursive: true });
    // Written under a temporary name and renamed: a reader never sees half a picture.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  }
  return file;
}

const clean = (v: string | undefined | null): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
/** A track or disc number: a positive integer, else none. */
const no = (v: number | null | undefined): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);

async function read(file: string): Promise<TagResult> {
  try {
    // duration: false keeps it to the headers (no full scan of an MP3 without a Xing header).
    const m = await parseFile(file, { duration: false, skipCovers: false });
    const out: TagResult = { ok: true };
    const title = clean(m.common.title);
    const artist = clean(m.common.artists?.length ? m.common.artists.join('; ') : m.common.artist);
    const album = clean(m.common.album);
    if (title) out.title = title;
    if (artist) out.artist = artist;
    if (album) out.album = album;
    const albumArtist = clean(m.common.albumartist);
    if (albumArtist) out.albumArtist = albumArtist;
    const trackNo = no(m.common.track?.no);
    const discNo = no(m.common.disk?.no);
    if (trackNo !== undefined) out.trackNo = trackNo;
    if (discNo !== undefined) out.discNo = discNo;
    if (typeof m.format.duration === 'number' && Number.isFinite(m.format.duration) && m.format.duration > 0) out.durationMs = Math.round(m.format.duration * 1000);
    const pic = m.common.picture?.find((p) => /front/i.test(p.type ?? '')) ?? m.common.picture?.[0];
    const ext = pic ? EXT_OF_MIME[pic.format.toLowerCase()] : undefined;
    if (pic && ext && pic.data.length > 0) out.coverFile = cached(pic.data, ext);
    else {
      const fc = folderCover(path.dirname(file));
      if (fc) out.coverFile = fc;
    }
    return out;
  } catch (err) {
    // Not a format music-metadata reads, or a damaged file: the decoder may still know it.
    const fc = folderCover(path.dirname(file));
    const out: TagResult = { ok: false, error: (err as Error).message };
    if (fc) out.coverFile = fc;
    return out;
  }
}

parentPort!.on('message', (req: TagRequest) => {
  void (async () => {
    const results: TagResult[] = [];
    for (const f of req.files) results.push(await read(f));
    parentPort!.postMessage({ id: req.id, results });
  })();
});
