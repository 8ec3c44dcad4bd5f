// Cover thumbnail URLs. Both shells serve them from the page's own origin: the browser shell over
// HTTP behind the launch's session cookie (sent with the <img> request like any other), Electron
// through its stellatune:// protocol.
export type CoverPx = 64 | 256 | 512;

export function coverUrl(id: string | null | undefined, size: CoverPx): string | null {
  return id ? `/covers/${id}/${size}` : null;
}
