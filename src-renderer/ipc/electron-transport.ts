// The Electron shell's transport: the preload's contextBridge API (window.stellatune), itself
// derived from the contract. The renderer never sees ipcRenderer.
import { RpcError } from '../../src-shared/rpc-error.js';
import type { BridgeApi } from '../../src-shared/wire.js';
import type { Transport } from './client.js';

export function createElectronTransport(bridge: BridgeApi): Transport {
  return {
    async call(id, service, method, params) {
      const fn = bridge.services[service]?.[method];
      if (!fn) throw new RpcError({ code: 'unknown_method', message: `no method ${service}.${method}` });
      const reply = await fn(params, id);
      if (reply.ok) return reply.value;
      throw new RpcError(reply.error);
    },
    cancel: (id) => bridge.cancel(id),
    onEvent: (l) => bridge.onEvent(l),
    onState(l) {
      l('open');
      return () => {};
    },
  };
}
