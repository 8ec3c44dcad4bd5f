// Cover thumbnails: made once per (cover, size) with sharp, on first request, and kept on disk
// beside the database; later requests read the file. The picture comes from the audio file that
// embeds it or from the folder image the scanner found.
import fs from 'node:fs';
import path from 'node:path';
import { parseFile } from 'music-metadata';
import sharp from 'sharp';
import type { Db } from './db.js';

export const COVER_SIZES = [64, 256, 512] as const;
export type CoverSize = (typeof COVER_SIZES)[number];
export const COVER_ID = /^[0-9a-f]{24}$/;

export class CoverCache {
  private readonly inFlight = new Map<string, Promise<string | null>>();

  constructor(
    private readonly db: Db,
    readonly dir: string,
  ) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /** The thumbnail file of cover `id` at `size` px (made if needed), or null if there is none. */
  async file(id: string, size: CoverSize): Promise<string | null> {
    if (!COVER_ID.test(id) || !COVER_SIZES.includes(size)) return null;
    const out = path.join(this.dir, `${id}-${size}.webp`);
    if (fs.existsSync(out)) return out;
    const key = `${id}-${size}`;
    let job = this.inFlight.get(key);
    if (!job) {
      job = this.make(id, size, out).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, job);
    }
    return job;
  }

  private async source(id: string): Promise<Buffer | null> {
    const row = this.db.prepare('SELECT kind, path FROM covers WHERE id = ?').get(id) as { kind: 'embedded' | 'file'; path: string } | undefined;
    if (!row) return null;
    if (row.kind === 'file') return fs.promises.readFile(row.path).catch(() => null);
    // The track that embedded it may have moved since: any present track with this cover will do.
    const paths = [row.path, ...(this.db.prepare('SELECT path FROM tracks WHERE cover_id = ? AND +missing = 0 LIMIT 3').all(id) as { path: string }[]).map((r) => r.path)];
    for (const p of paths) {
      try {
        const meta = await parseFile(p, { duration: false });
        const pic = meta.common.picture?.find((x) => /front/i.test(x.type ?? '')) ?? meta.common.picture?.[0];
        if (pic) return Buffer.from(pic.data);
      } catch {
        // try the next file
      }
    }
    return null;
  }

  private async make(id: string, size: CoverSize, out: string): Promise<string | null> {
    const src = await this.source(id);
    if (!src) return null;
    let img: Buffer;
    try {
      img = await sharp(src, { failOn: 'none' }).rotate().resize(size, size, { fit: 'cover' }).webp({ quality: 82 }).toBuffer();
    } catch {
      return null; // not an image sharp can read: no cover rather than a broken one
    }
    const tmp = `${out}.${process.pid}.tmp`;
    await fs.promises.writeFile(tmp, img);
    await fs.promises.rename(tmp, out);
    return out;
  }
}
