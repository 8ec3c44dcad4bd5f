// Where a plugin's data folder (st_host_t.data_dir) lives: <data root>/<plugin id>, so renaming
// or moving the library file keeps the plugin's data, and two files can never share one folder
// by accident. The entry reads data_dir before the host knows the id, so the host remembers which
// id each library file had (<data root>/.library-ids.json); a file never seen before is loaded
// once with a probe folder to learn its id, then again with the right one. Folders of the old
// layout (named after the library file) are moved to the id's name on first sight.
import fs from 'node:fs';
import path from 'node:path';

const INDEX = '.library-ids.json';
/** The folder a library never seen before gets for its first (probe) load; one per process, removed after. */
export const probeDir = (): string => `.probe-${process.pid}`;

function readIndex(dataRoot: string): Record<string, string> {
  try {
    const raw = JSON.parse(fs.readFileSync(path.join(dataRoot, INDEX), 'utf8')) as unknown;
    return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** The id this library file had at its last load, if known. */
export function knownPluginId(dataRoot: string, file: string): string | null {
  const id = readIndex(dataRoot)[path.resolve(file)];
  return typeof id === 'string' ? id : null;
}

/** Records the id of `file` (atomic write; an unwritable root only costs a probe next time). */
export function rememberPluginId(dataRoot: string, file: string, id: string): void {
  const index = readIndex(dataRoot);
  const key = path.resolve(file);
  if (index[key] === id) return;
  index[key] = id;
  try {
    fs.mkdirSync(dataRoot, { recursive: true });
    const tmp = path.join(dataRoot, `${INDEX}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, JSON.stringify(index, null, 2));
    fs.renameSync(tmp, path.join(dataRoot, INDEX));
  } catch {
    // best effort
  }
}

/** Moves the old file-named folder of `file` to the id's folder when only the old one exists. */
export function migrateDataFolder(dataRoot: string, file: string, id: string): void {
  const old = path.join(dataRoot, path.basename(file).replace(/\.(so|dll|dylib)$/i, ''));
  const target = path.join(dataRoot, id);
  if (old === target || !fs.existsSync(old) || fs.existsSync(target)) return;
  try {
    fs.renameSync(old, target);
  } catch {
    // another process holds it: the plugin starts with an empty folder rather than failing
  }
}
