// The Electron shell's contract plumbing without an Electron binary: the ipcMain registration and
// the preload bridge are both derived from the contract (a channel per method, nothing else), an
// untrusted sender is refused, cancel aborts the call, and window state survives bad input.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { CANCEL_CHANNEL, channelOf, EVENT_CHANNEL, methodsOf } from '../../src-shared/contract.js';
import type { BridgeApi, CallReply } from '../../src-shared/wire.js';
import { type ContractHandlers, ContractRouter, CoreEvents } from '../services/router.js';
import { registerContractOnIpc } from './ipc-bridge.js';
import { loadWindowState, saveWindowState } from './window-state.js';

type Handler = (e: unknown, ...args: unknown[]) => unknown;

function fakeIpcMain() {
  const handlers = new Map<string, Handler>();
  const listeners = new Map<string, Handler>();
  return {
    handlers,
    listeners,
    handle: (ch: string, h: Handler) => void handlers.set(ch, h),
    removeHandler: (ch: string) => void handlers.delete(ch),
    on: (ch: string, h: Handler) => void listeners.set(ch, h),
    removeListener: (ch: string) => void listeners.delete(ch),
  };
}

function fakeSender(id: number) {
  const sender = Object.assign(new EventEmitter(), { id });
  return { sender, senderFrame: { url: 'stellatune://app/index.html' } };
}

/** Handlers whose sources.list waits for its signal; everything else answers undefined. */
function handlers(seen: string[]): ContractHandlers {
  const out: Record<string, Record<string, unknown>> = {};
  for (const { service, method } of methodsOf()) {
    (out[service] ??= {})[method] = (_p: unknown, ctx: { signal: AbortSignal }) => {
      seen.push(`${service}.${method}`);
      if (service === 'sources' && method === 'list') {
        return new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      }
      if (method === 'get') return { tracks: [], index: -1 };
      return undefined;
    };
  }
  return out as unknown as ContractHandlers;
}

describe('ipcMain registration', () => {
  it('registers exactly one handler per contract method, plus cancel', () => {
    const ipc = fakeIpcMain();
    const off = registerContractOnIpc({ ipcMain: ipc as never, router: new ContractRouter(handlers([])), events: new CoreEvents(), isTrusted: () => true, targets: () => [] });
    expect([...ipc.handlers.keys()].sort()).toEqual(methodsOf().map((m) => channelOf(m.service, m.method)).sort());
    expect([...ipc.listeners.keys()]).toEqual([CANCEL_CHANNEL]);
    off();
    expect(ipc.handlers.size).toBe(0);
  });

  it('refuses untrusted senders before the router sees the call', async () => {
    const ipc = fakeIpcMain();
    const seen: string[] = [];
    registerContractOnIpc({ ipcMain: ipc as never, router: new ContractRouter(handlers(seen)), events: new CoreEvents(), isTrusted: () => false, targets: () => [] });
    const reply = (await ipc.handlers.get(channelOf('queue', 'get'))!(fakeSender(1), null, 'c1')) as CallReply;
    expect(reply).toEqual({ ok: false, error: { code: 'unauthorized', message: 'unknown sender' } });
    expect(seen).toEqual([]);
  });

  it('cancel aborts the pending call of that sender; a destroyed renderer aborts the rest', async () => {
    const ipc = fakeIpcMain();
    const router = new ContractRouter(handlers([]));
    registerContractOnIpc({ ipcMain: ipc as never, router, events: new CoreEvents(), isTrusted: () => true, targets: () => [] });
    const e = fakeSender(7);
    const list = ipc.handlers.get(channelOf('sources', 'list'))!;
    const params = { pluginId: 'p', typeId: 't', request: { action: 'browse' } };
    const first = list(e, params, 'a') as Promise<CallReply>;
    const second = list(e, params, 'b') as Promise<CallReply>;
    await vi.waitFor(() => expect(router.pendingCalls).toBe(2));
    ipc.listeners.get(CANCEL_CHANNEL)!(e, 'a');
    expect(await first).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    e.sender.emit('destroyed');
    expect(await second).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    expect(router.pendingCalls).toBe(0);
  });

  it('forwards contract events to the window', () => {
    const ipc = fakeIpcMain();
    const events = new CoreEvents();
    const sent: unknown[][] = [];
    registerContractOnIpc({ ipcMain: ipc as never, router: new ContractRouter(handlers([])), events, isTrusted: () => true, targets: () => [{ send: (...a: unknown[]) => void sent.push(a), isDestroyed: () => false }] });
    events.emitEvent('queue', 'didChange', { tracks: [], index: -1 });
    expect(sent).toEqual([[EVENT_CHANNEL, 'queue', 'didChange', { tracks: [], index: -1 }]]);
  });
});

describe('preload bridge', () => {
  it('exposes one function per contract method and never ipcRenderer', async () => {
    const exposed: Record<string, unknown> = {};
    const invoke = vi.fn(async () => ({ ok: true, value: null }));
    const send = vi.fn();
    vi.doMock('electron', () => ({
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => void (exposed[key] = api) },
      ipcRenderer: { invoke, send, on: vi.fn(), removeListener: vi.fn() },
    }));
    await import('../../src-preload/preload.js');
    expect(Object.keys(exposed)).toEqual(['stellatune']);
    const api = exposed.stellatune as BridgeApi;
    expect(Object.keys(api).sort()).toEqual(['cancel', 'onEvent', 'services']);
    const exposedMethods = Object.entries(api.services).flatMap(([s, m]) => Object.keys(m).map((n) => `${s}.${n}`));
    expect(exposedMethods.sort()).toEqual(methodsOf().map((m) => `${m.service}.${m.method}`).sort());
    await api.services.player!.seek!({ positionMs: 5 }, 'x1');
    expect(invoke).toHaveBeenCalledWith(channelOf('player', 'seek'), { positionMs: 5 }, 'x1');
    api.cancel('x1');
    expect(send).toHaveBeenCalledWith(CANCEL_CHANNEL, 'x1');
    vi.doUnmock('electron');
  });
});

describe('window state', () => {
  it('restores saved bounds, clamps the size and drops positions off every display', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-ws-'));
    const file = path.join(dir, 'window-state.json');
    const display = [{ x: 0, y: 0, width: 1920, height: 1080 }];
    expect(loadWindowState(file, display)).toEqual({ width: 1200, height: 800, maximized: false });
    saveWindowState(file, { x: 100, y: 50, width: 1000, height: 700, maximized: true });
    expect(loadWindowState(file, display)).toEqual({ x: 100, y: 50, width: 1000, height: 700, maximized: true });
    saveWindowState(file, { x: 5000, y: 50, width: 300, height: 200, maximized: false });
    expect(loadWindowState(file, display)).toEqual({ width: 800, height: 600, maximized: false });
    fs.writeFileSync(file, '{not json');
    expect(loadWindowState(file, display).width).toBe(1200);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('safeStorage as the secret cipher', () => {
  it('is used where it has a real key store, not with Linux\'s hard-coded "basic_text" key', async () => {
    const backend = { name: 'gnome_libsecret' as string, available: true };
    vi.doMock('electron', () => ({
      safeStorage: {
        isEncryptionAvailable: () => backend.available,
        getSelectedStorageBackend: () => backend.name,
        encryptString: (s: string) => Buffer.from(`enc:${s}`),
        decryptString: (b: Buffer) => b.toString().slice(4),
      },
    }));
    const { safeStorageCipher } = await import('./safe-storage.js');
    const cipher = safeStorageCipher()!;
    expect(cipher.decrypt(cipher.encrypt('pw'))).toBe('pw');
    expect(cipher.encrypt('pw').toString()).toBe('enc:pw');
    backend.name = 'basic_text';
    expect(safeStorageCipher() === null).toBe(process.platform === 'linux');
    backend.available = false;
    expect(safeStorageCipher()).toBeNull();
    vi.doUnmock('electron');
  });
});
