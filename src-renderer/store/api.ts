// The contract client the store's actions use. Set once at start-up (tests set a fake), so
// actions can live at module level and IPC listeners can call them without hooks.
import type { ContractClient } from '../../src-shared/contract.js';

let client: ContractClient | null = null;

export function setApi(c: ContractClient): void {
  client = c;
}

export function api(): ContractClient {
  if (!client) throw new Error('the contract client is not connected');
  return client;
}
