// The Electron preload: exposes the contract to the sandboxed renderer as window.stellatune, with
// one function per contract method (generated from src-shared/contract.ts), cancel, and event
// subscription. ipcRenderer itself never crosses the bridge.
import { contextBridge, ipcRenderer, type IpcRendererEvent, webUtils } from 'electron';
import { pathsOfFiles } from '../src-shared/dropped-files.js';
import { CANCEL_CHANNEL, channelOf, EVENT_CHANNEL, methodsOf } from '../src-shared/contract.js';
import type { BridgeApi, CallReply } from '../src-shared/wire.js';

const services: BridgeApi['services'] = {};
for (const { service, method } of methodsOf()) {
  const channel = channelOf(service, method);
  (services[service] ??= {})[method] = (params: unknown, callId: string): Promise<CallReply> => ipcRenderer.invoke(channel, params, String(callId));
}

const api: BridgeApi = {
  services,
  cancel: (callId) => ipcRenderer.send(CANCEL_CHANNEL, String(callId)),
  onEvent: (listener) => {
    const handler = (_e: IpcRendererEvent, service: string, event: string, payload: unknown): void => listener(service, event, payload);
    ipcRenderer.on(EVENT_CHANNEL, handler);
    return () => void ipcRenderer.removeListener(EVENT_CHANNEL, handler);
  },
  pathsOfFiles: (files) => pathsOfFiles(files as File[], (f) => webUtils.getPathForFile(f)),
};

contextBridge.exposeInMainWorld('stellatune', api);
