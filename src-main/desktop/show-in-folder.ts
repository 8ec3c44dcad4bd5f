// "Show in folder" for the browser shell: the desktop's file manager opens the folder with the
// file selected, through the freedesktop FileManager1 interface on the session bus (Nautilus,
// Dolphin, Nemo, Thunar, PCManFM… implement it); without a bus or a file manager on it, the
// folder is opened with xdg-open (no selection). Electron uses shell.showItemInFolder instead.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import dbus from 'dbus-next';
import { RpcError } from '../../src-shared/rpc-error.js';

export type ShownBy = 'file-manager' | 'xdg-open' | 'electron';

export interface ShowInFolderOptions {
  /** Session bus address (default: $DBUS_SESSION_BUS_ADDRESS). */
  busAddress?: string;
  /** The fallback opener's command (default: xdg-open). */
  opener?: string;
  /** How long the bus may take to answer before the fallback is used. */
  timeoutMs?: number;
  log?: (message: string) => void;
}

const FILE_MANAGER = 'org.freedesktop.FileManager1';
const FILE_MANAGER_PATH = '/org/freedesktop/FileManager1';

/** The file (or folder) must exist: a missing track says so instead of opening some other folder. */
export function checkShowable(file: string): fs.Stats {
  if (!path.isAbsolute(file)) throw new RpcError({ code: 'invalid_argument', message: `not an absolute path: ${file}` });
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (!st) throw new RpcError({ code: 'not_found', message: `${file} does not exist (moved or deleted?)` });
  return st;
}

async function viaFileManager(file: string, address: string, timeoutMs: number): Promise<void> {
  const bus = dbus.sessionBus({ busAddress: address });
  // A bus that fails later must not take the core down; errors reach the caller through the race.
  let failed: (err: Error) => void = () => {};
  const busFailed = new Promise<never>((_r, reject) => (failed = reject));
  busFailed.catch(() => {});
  bus.on('error', (err: Error) => failed(err));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(`the session bus did not answer within ${timeoutMs} ms`)), timeoutMs)));
  try {
    await Promise.race([
      (async () => {
        // Only a file manager that is on the bus (or can be activated) is asked: otherwise the
        // call would wait for an activation that never comes.
        type Call = (...args: unknown[]) => Promise<unknown>;
        const busIface = (await bus.getProxyObject('org.freedesktop.DBus', '/org/freedesktop/DBus')).getInterface('org.freedesktop.DBus') as unknown as Record<string, Call>;
        const [owned, activatable] = (await Promise.all([busIface.ListNames!(), busIface.ListActivatableNames!()])) as [string[], string[]];
        if (!owned.includes(FILE_MANAGER) && !activatable.includes(FILE_MANAGER)) throw new Error('no file manager on the session bus');
        const fm = (await bus.getProxyObject(FILE_MANAGER, FILE_MANAGER_PATH)).getInterface(FILE_MANAGER) as unknown as Record<string, Call>;
        if (!fm.ShowItems) throw new Error('the file manager has no ShowItems');
        await fm.ShowItems([pathToFileURL(file).href], '');
      })(),
      busFailed,
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
    bus.disconnect();
  }
}

function viaOpener(dir: string, opener: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // Detached: the file manager outlives this call (and the core); its output is not ours.
    const child = spawn(opener, [dir], { detached: true, stdio: 'ignore' });
    child.once('error', (err) => reject(new RpcError({ code: 'unavailable', message: `cannot open ${dir}: ${opener} failed (${(err as NodeJS.ErrnoException).code ?? err.message})` })));
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}

/** Opens the desktop's file manager at `file` (selected); says which way it was done. */
export async function showInFolder(file: string, opts: ShowInFolderOptions = {}): Promise<ShownBy> {
  const st = checkShowable(file);
  const address = opts.busAddress ?? process.env.DBUS_SESSION_BUS_ADDRESS;
  if (address) {
    try {
      await viaFileManager(file, address, opts.timeoutMs ?? 3000);
      return 'file-manager';
    } catch (err) {
      opts.log?.(`show in folder: FileManager1 failed (${(err as Error).message}); opening the folder with ${opts.opener ?? 'xdg-open'}`);
    }
  }
  await viaOpener(st.isDirectory() ? file : path.dirname(file), opts.opener ?? 'xdg-open');
  return 'xdg-open';
}
