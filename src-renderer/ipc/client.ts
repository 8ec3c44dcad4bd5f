// The renderer's contract client, derived from src-shared/contract.ts: one object per service with
// a method per contract method and an `onDid…` subscription per event. Arguments are validated
// here too (a malformed call fails before it leaves the page) and again in the main process.
// Cancellation: the AbortSignal of a call sends the transport's cancel message for that call id.
import { contract, type ContractClient, type CallOptions, listenerKey, normaliseParams, type ServiceName } from '../../src-shared/contract.js';
import { RpcError } from '../../src-shared/rpc-error.js';
import { validate } from '../../src-shared/schema.js';

/** `expired`: the core behind this page was restarted (a new launch token); reconnecting is
 * pointless, the listener must open the new address. */
export type ConnectionState = 'connecting' | 'open' | 'closed' | 'expired';

/** What a shell provides: the Electron preload API or the WebSocket. */
export interface Transport {
  call(id: string, service: string, method: string, params: unknown): Promise<unknown>;
  cancel(id: string): void;
  onEvent(listener: (service: string, event: string, payload: unknown) => void): () => void;
  onState?(listener: (state: ConnectionState) => void): () => void;
}

let nextCall = 1;

export function createClient(transport: Transport): ContractClient {
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  transport.onEvent((service, event, payload) => {
    for (const l of listeners.get(`${service}.${event}`) ?? []) {
      try {
        l(payload);
      } catch (err) {
        console.error(`listener of ${service}.${event} failed`, err);
      }
    }
  });

  const client: Record<string, Record<string, unknown>> = {};
  for (const service of Object.keys(contract) as ServiceName[]) {
    const obj: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(contract[service].methods)) {
      obj[name] = async (given?: unknown, opts: CallOptions = {}): Promise<unknown> => {
        const params = normaliseParams(spec, given);
        const checked = validate(spec.params, params, { path: 'params' });
        if (!checked.ok) {
          throw new RpcError({
            code: 'invalid_argument',
            message: `${service}.${name}: ${checked.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
            issues: checked.issues,
          });
        }
        const id = `c${nextCall++}`;
        const signal = opts.signal;
        if (signal?.aborted) throw new RpcError({ code: 'cancelled', message: 'cancelled before it started' });
        const onAbort = (): void => transport.cancel(id);
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
          return await transport.call(id, service, name, params ?? null);
        } catch (err) {
          throw RpcError.from(err);
        } finally {
          signal?.removeEventListener('abort', onAbort);
        }
      };
    }
    for (const event of Object.keys(contract[service].events)) {
      const key = `${service}.${event}`;
      obj[listenerKey(event)] = (listener: (payload: unknown) => void): (() => void) => {
        let set = listeners.get(key);
        if (!set) listeners.set(key, (set = new Set()));
        set.add(listener);
        return () => set.delete(listener);
      };
    }
    client[service] = obj;
  }
  return client as unknown as ContractClient;
}
