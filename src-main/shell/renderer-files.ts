// Maps a request path to a file of the built renderer, for both shells (the browser shell's HTTP
// server and Electron's custom protocol). Whatever the path holds (bad percent-encoding, NUL
// bytes, dot segments, 64 KB of junk) the answer is a file inside the renderer folder or a status
// code: it never throws, because a throw here is a crash any web page could trigger with an <img>.
import path from 'node:path';

export type RendererFile = { ok: true; file: string; ext: string } | { ok: false; status: 400 | 403 | 404 | 414 };

const MAX_PATH_CHARS = 2048;

/** The file behind `rawPath` (the request target's path, still percent-encoded). */
export function rendererFile(rendererDir: string, rawPath: string): RendererFile {
  if (rawPath.length > MAX_PATH_CHARS) return { ok: false, status: 414 };
  if (!rawPath.startsWith('/')) return { ok: false, status: 400 };
  let rel: string;
  try {
    rel = decodeURIComponent(rawPath);
  } catch {
    return { ok: false, status: 400 };
  }
  if (rel.includes('\0') || rel.includes('\\')) return { ok: false, status: 400 };
  if (rel === '/') rel = '/index.html';
  const root = path.resolve(rendererDir);
  const file = path.resolve(root, `.${rel}`);
  if (!file.startsWith(root + path.sep)) return { ok: false, status: 403 };
  const ext = path.extname(file);
  // The app is served, not its sources: source maps stay on disk for local debugging.
  if (ext === '.map') return { ok: false, status: 404 };
  return { ok: true, file, ext };
}
