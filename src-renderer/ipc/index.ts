// Picks the transport of the shell the renderer runs in and builds the contract client once.
import type { ContractClient } from '../../src-shared/contract.js';
import type { BridgeApi } from '../../src-shared/wire.js';
import { type ConnectionState, createClient, type Transport } from './client.js';
import { createElectronTransport } from './electron-transport.js';
import { createWsTransport } from './ws-transport.js';

declare global {
  interface Window {
    stellatune?: BridgeApi;
  }
}

export interface Connection {
  client: ContractClient;
  transport: Transport;
  shell: 'electron' | 'browser';
}

export function connect(): Connection | { error: string } {
  if (window.stellatune) {
    const transport = createElectronTransport(window.stellatune);
    return { client: createClient(transport), transport, shell: 'electron' };
  }
  // The server only serves this page to a browser holding the session cookie, which the
  // WebSocket upgrade carries too.
  const transport = createWsTransport();
  return { client: createClient(transport), transport, shell: 'browser' };
}

export type { ConnectionState };
