// Picks the transport of the shell the renderer runs in and builds the contract client once.
import type { ContractClient } from '../../src-shared/contract.js';
import type { BridgeApi } from '../../src-shared/wire.js';
import { type ConnectionState, createClient, type Transport } from './client.js';
import { createElectronTransport } from './electron-transport.js';
import { createWsTransport, takeToken } from './ws-transport.js';

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
  const token = takeToken();
  if (!token) return { error: 'This page needs the address printed by `npm start` (it carries a one-time access token).' };
  const transport = createWsTransport(token);
  return { client: createClient(transport), transport, shell: 'browser' };
}

export type { ConnectionState };
