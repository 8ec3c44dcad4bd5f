// A contract client for specs: the same WebSocket transport the renderer uses (the launch token as
// ?token=, which the shell accepts from programmatic clients, and
// our own Origin), so a spec can put RPC load on the core and read its diagnostics while it
// drives the UI. Calls resolve with the reply; cancel() sends the contract's cancel message.
import WebSocket from 'ws';
import type { RpcErrorData } from '../../src-shared/rpc-error.js';

export type Reply = { ok: true; value: unknown } | { ok: false; error: RpcErrorData };

export interface RpcClient {
  call<T = unknown>(service: string, method: string, params?: unknown, opts?: { timeoutMs?: number }): Promise<T>;
  /** The reply as data (never throws for an RPC error). */
  reply(service: string, method: string, params?: unknown): { id: string; done: Promise<Reply> };
  cancel(id: string): void;
  close(): void;
}

export class RpcFailure extends Error {
  constructor(readonly error: RpcErrorData) {
    super(`${error.code}: ${error.message}`);
  }
}

/** Connects to the browser shell at its launch address (http://127.0.0.1:port/session?key=<token>). */
export async function connectRpc(appUrl: string): Promise<RpcClient> {
  const u = new URL(appUrl);
  const token = u.searchParams.get('key') ?? new URLSearchParams(u.hash.slice(1)).get('token') ?? '';
  const ws = new WebSocket(`ws://${u.host}/rpc?token=${encodeURIComponent(token)}`, { origin: u.origin, maxPayload: 64 << 20 });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const pending = new Map<string, (r: Reply) => void>();
  let next = 0;
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as { t: string; id?: string } & Reply;
    if (msg.t !== 'reply' || !msg.id) return;
    const done = pending.get(msg.id);
    pending.delete(msg.id);
    done?.(msg);
  });
  ws.on('close', () => {
    for (const done of pending.values()) done({ ok: false, error: { code: 'disconnected', message: 'the socket closed' } });
    pending.clear();
  });
  const reply = (service: string, method: string, params?: unknown): { id: string; done: Promise<Reply> } => {
    const id = `qa${++next}`;
    const done = new Promise<Reply>((resolve) => pending.set(id, resolve));
    ws.send(JSON.stringify({ t: 'call', id, service, method, ...(params === undefined ? {} : { params }) }));
    return { id, done };
  };
  return {
    reply,
    async call<T>(service: string, method: string, params?: unknown, opts: { timeoutMs?: number } = {}): Promise<T> {
      const r = reply(service, method, params);
      let timer: NodeJS.Timeout | undefined;
      const out = await Promise.race([
        r.done,
        new Promise<Reply>((resolve) => {
          timer = setTimeout(() => resolve({ ok: false, error: { code: 'timeout', message: `${service}.${method}: no reply in ${opts.timeoutMs ?? 30_000} ms` } }), opts.timeoutMs ?? 30_000);
        }),
      ]);
      clearTimeout(timer);
      if (!out.ok) throw new RpcFailure(out.error);
      return out.value as T;
    },
    cancel(id) {
      ws.send(JSON.stringify({ t: 'cancel', id }));
    },
    close() {
      ws.close();
    },
  };
}
