// The cover cache's file names (<sha1>.<ext>, written by the tag worker): the only names the
// shells serve from it, so a cover URL can never reach another file.
export const COVER_FILE_NAME = /^[0-9a-f]{40}\.(jpg|png|webp|gif)$/;

const MIME: Record<string, string> = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif' };

export function coverMime(name: string): string {
  return MIME[name.split('.').pop() ?? ''] ?? 'application/octet-stream';
}
