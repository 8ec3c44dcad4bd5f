// Cover thumbnails over HTTP for the browser shell: GET /covers/<id>/<size>, behind the launch's
// session cookie like every other file. Thumbnails are named by content, so they are cached for
// good (the session cookie makes them private to this browser).
import fs from 'node:fs';
import type http from 'node:http';
import { COVER_SIZES, type CoverSize } from '../library/covers.js';
import type { Library } from '../library/library.js';

export const COVER_PATH = /^\/covers\/([0-9a-f]{24})\/(\d+)$/;

/** Answers GET/HEAD /covers/… (the caller checked the path prefix and the session). */
export function serveCover(library: Library, pathname: string, req: http.IncomingMessage, res: http.ServerResponse, authorised: boolean): boolean {
  if (!authorised) {
    res.writeHead(401, { 'Content-Type': 'text/plain' }).end('no session');
    return true;
  }
  const m = COVER_PATH.exec(pathname);
  const size = m ? (Number(m[2]) as CoverSize) : 0;
  if (!m || !COVER_SIZES.includes(size as CoverSize)) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('no such cover');
    return true;
  }
  const etag = `"${m[1]}-${size}"`;
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { ETag: etag }).end();
    return true;
  }
  library.covers.file(m[1]!, size as CoverSize).then(
    (file) => {
      if (!file) {
        // Short cache: the picture may appear after the next scan.
        res.writeHead(404, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache' }).end('no cover');
        return;
      }
      fs.stat(file, (err, st) => {
        if (err) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, {
          'Content-Type': 'image/webp',
          'Content-Length': st.size,
          'Cache-Control': 'private, max-age=31536000, immutable',
          ETag: etag,
          'X-Content-Type-Options': 'nosniff',
        });
        if (req.method === 'HEAD') res.end();
        else fs.createReadStream(file).pipe(res);
      });
    },
    () => res.writeHead(500, { 'Content-Type': 'text/plain' }).end('cover failed'),
  );
  return true;
}
