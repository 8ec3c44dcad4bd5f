// The gate a local track passes before the decode worker opens it: it must be a regular file, and
// the file system must say so within a deadline. A FIFO, socket or device node named *.flac fails
// at once as a track error instead of wedging playback; a path on a mount that hangs fails after
// the deadline, and the next track plays. (The host's native open refuses non-regular files too,
// non-blocking, in case the path changes between this check and the open.)
import fs from 'node:fs';

export const LOCAL_OPEN_DEADLINE_MS = 1000;

/** What a non-regular file is, for the message the listener sees. */
export function specialFileKind(st: fs.Stats): string | null {
  if (st.isFile()) return null;
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device node';
  return 'not a regular file';
}

/** Resolves when `file` is a regular file; rejects with a reason otherwise or after `deadlineMs`. */
export async function checkLocalTrackFile(file: string, deadlineMs = LOCAL_OPEN_DEADLINE_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${file} did not open within ${deadlineMs} ms`)), deadlineMs);
  });
  try {
    const st = await Promise.race([fs.promises.stat(file), deadline]);
    const kind = specialFileKind(st);
    if (kind) throw new Error(`${file} is ${kind}, not an audio file`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`no such file: ${file}`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
