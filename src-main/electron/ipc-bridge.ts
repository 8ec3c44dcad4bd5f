// Registers the IPC contract on Electron's ipcMain: one invoke handler per contract method (the
// channel names come from the contract), the cancel channel, and event forwarding. Every message
// is checked against `isTrusted` (our window, our origin) before it reaches the router. Kept apart
// from main.ts so it can be tested with a stand-in ipcMain.
import type { IpcMain, IpcMainEvent, IpcMainInvokeEvent, WebContents } from 'electron';
import { CANCEL_CHANNEL, channelOf, EVENT_CHANNEL, methodsOf } from '../../src-shared/contract.js';
import type { CallReply } from '../../src-shared/wire.js';
import type { ContractRouter, CoreEvents, RouterSession } from '../services/router.js';

export interface IpcBridgeOptions {
  ipcMain: Pick<IpcMain, 'handle' | 'on' | 'removeHandler' | 'removeListener'>;
  router: ContractRouter;
  events: CoreEvents;
  isTrusted: (e: IpcMainInvokeEvent | IpcMainEvent) => boolean;
  /** Where events go (the main window's webContents, if any). */
  targets: () => Pick<WebContents, 'send' | 'isDestroyed'>[];
}

export function registerContractOnIpc(opts: IpcBridgeOptions): () => void {
  const sessions = new Map<number, RouterSession>();
  const sessionFor = (contents: WebContents): RouterSession => {
    let s = sessions.get(contents.id);
    if (!s) {
      s = opts.router.openSession(`webContents#${contents.id}`);
      sessions.set(contents.id, s);
      const id = contents.id;
      contents.once('destroyed', () => {
        sessions.get(id)?.close();
        sessions.delete(id);
      });
    }
    return s;
  };

  const channels: string[] = [];
  for (const { service, method } of methodsOf()) {
    const channel = channelOf(service, method);
    channels.push(channel);
    opts.ipcMain.handle(channel, async (e, params: unknown, callId: unknown): Promise<CallReply> => {
      if (!opts.isTrusted(e)) return { ok: false, error: { code: 'unauthorized', message: 'unknown sender' } };
      return sessionFor(e.sender).call(String(callId), service, method, params);
    });
  }
  const onCancel = (e: IpcMainEvent, callId: unknown): void => {
    if (opts.isTrusted(e)) sessions.get(e.sender.id)?.cancel(String(callId));
  };
  opts.ipcMain.on(CANCEL_CHANNEL, onCancel);

  const onEvent = (service: string, event: string, payload: unknown): void => {
    for (const t of opts.targets()) if (!t.isDestroyed()) t.send(EVENT_CHANNEL, service, event, payload);
  };
  opts.events.on('event', onEvent);

  return () => {
    for (const c of channels) opts.ipcMain.removeHandler(c);
    opts.ipcMain.removeListener(CANCEL_CHANNEL, onCancel);
    opts.events.off('event', onEvent);
    for (const s of sessions.values()) s.close();
    sessions.clear();
  };
}
