// Cover thumbnail URLs. Both shells serve them from the page's own origin: the browser shell over
// HTTP with the launch token in the query (an <img> sends no headers), Electron through its
// stellatune:// protocol (no token: the protocol is private to the app).
const TOKEN_KEY = 'stellatune.token';

export type CoverPx = 64 | 256 | 512;

export function coverUrl(id: string | null | undefined, size: CoverPx): string | null {
  if (!id) return null;
  const token = typeof window !== 'undefined' && !window.stellatune ? sessionStorage.getItem(TOKEN_KEY) : null;
  return `/covers/${id}/${size}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}
