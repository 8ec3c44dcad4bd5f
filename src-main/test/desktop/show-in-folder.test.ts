// "Show in folder" in the browser shell: a private session bus (dbus-daemon started here) with a
// fake file manager that this test registers as org.freedesktop.FileManager1; without it, or
// without a bus, the folder goes to the opener (a script standing in for xdg-open that writes
// down what it was given); a missing or relative path is refused before anything is opened.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import dbus from 'dbus-next';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { showInFolder } from '../../desktop/show-in-folder.js';

const { Interface } = dbus.interface;

let daemon: ChildProcess;
let address: string;
let tmp: string;
let opener: string;
let openedLog: string;

async function startBus(): Promise<{ proc: ChildProcess; address: string }> {
  const proc = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const addr = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl > 0) resolve(out.slice(0, nl).trim());
    });
    proc.once('exit', (code) => reject(new Error(`dbus-daemon exited (${code})`)));
  });
  return { proc, address: addr };
}

/** A file manager on the bus that records every ShowItems call. */
async function fakeFileManager(busAddress: string): Promise<{ calls: [string[], string][]; close(): void }> {
  const calls: [string[], string][] = [];
  class FileManager extends Interface {
    ShowItems(uris: string[], startupId: string): void {
      calls.push([uris, startupId]);
    }
    ShowFolders(): void {}
    ShowItemProperties(): void {}
  }
  FileManager.configureMembers({
    methods: {
      ShowItems: { inSignature: 'ass', outSignature: '' },
      ShowFolders: { inSignature: 'ass', outSignature: '' },
      ShowItemProperties: { inSignature: 'ass', outSignature: '' },
    },
  });
  const bus = dbus.sessionBus({ busAddress });
  bus.export('/org/freedesktop/FileManager1', new FileManager('org.freedesktop.FileManager1'));
  await bus.requestName('org.freedesktop.FileManager1', dbus.NameFlag.DO_NOT_QUEUE);
  return { calls, close: () => bus.disconnect() };
}

async function opened(): Promise<string> {
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    const text = fs.existsSync(openedLog) ? fs.readFileSync(openedLog, 'utf8') : '';
    if (text.endsWith('\n')) return text.trim();
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the opener was not run');
}

beforeAll(async () => {
  ({ proc: daemon, address } = await startBus());
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-show-'));
  openedLog = path.join(tmp, 'opened.txt');
  opener = path.join(tmp, 'fake-xdg-open');
  fs.writeFileSync(opener, `#!/bin/sh\nprintf '%s\\n' "$1" > '${openedLog}'\n`, { mode: 0o755 });
  fs.mkdirSync(path.join(tmp, 'Björk — Homogenic'));
  fs.writeFileSync(path.join(tmp, 'Björk — Homogenic', '01 Hunter #1.flac'), 'x');
}, 20_000);

afterAll(() => {
  daemon?.kill('SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('show in folder', () => {
  it('asks the file manager on the session bus to show the file (a file: URI, escaped)', async () => {
    const fm = await fakeFileManager(address);
    try {
      const file = path.join(tmp, 'Björk — Homogenic', '01 Hunter #1.flac');
      expect(await showInFolder(file, { busAddress: address, opener })).toBe('file-manager');
      expect(fm.calls).toEqual([[[pathToFileURL(file).href], '']]);
      expect(fm.calls[0]![0][0]).toContain('%23'); // "#" would cut a raw URL short
      expect(fs.existsSync(openedLog)).toBe(false);
    } finally {
      fm.close();
    }
  });

  it('opens the folder with the opener when no file manager is on the bus, or there is no bus', async () => {
    const file = path.join(tmp, 'Björk — Homogenic', '01 Hunter #1.flac');
    const logs: string[] = [];
    // The fake file manager of the first test is gone: the bus has none now.
    await new Promise((r) => setTimeout(r, 100));
    expect(await showInFolder(file, { busAddress: address, opener, log: (m) => logs.push(m) })).toBe('xdg-open');
    expect(await opened()).toBe(path.dirname(file));
    expect(logs.join('\n')).toMatch(/no file manager on the session bus/);
    fs.rmSync(openedLog);
    // A bus address where nothing listens.
    expect(await showInFolder(path.join(tmp, 'Björk — Homogenic'), { busAddress: `unix:path=${path.join(tmp, 'no-bus')}`, opener, timeoutMs: 1000 })).toBe('xdg-open');
    expect(await opened()).toBe(path.join(tmp, 'Björk — Homogenic'));
  });

  it('refuses a path that does not exist or is relative, and says when the opener is missing', async () => {
    await expect(showInFolder(path.join(tmp, 'gone.flac'), { busAddress: address, opener })).rejects.toMatchObject({ code: 'not_found' });
    await expect(showInFolder('relative/file.flac', { busAddress: address, opener })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(showInFolder(tmp, { busAddress: `unix:path=${path.join(tmp, 'no-bus')}`, opener: path.join(tmp, 'no-such-opener'), timeoutMs: 500 })).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringMatching(/ENOENT/),
    });
  });
});
