// The browser shell's transport: the contract over one WebSocket to 127.0.0.1, authenticated by
// the session cookie the launch address set (HttpOnly: this code never sees it). Reconnects with
// backoff; calls pending when the socket drops fail with `disconnected` (the server aborts them on
// its side too).
import { RpcError, type RpcErrorData } from '../../src-shared/rpc-error.js';
import { RPC_PATH, type ServerMessage } from '../../src-shared/wire.js';
import type { ConnectionState, Transport } from './client.js';

export function createWsTransport(): Transport {
  const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const eventListeners = new Set<(service: string, event: string, payload: unknown) => void>();
  const stateListeners = new Set<(s: ConnectionState) => void>();
  const outbox: string[] = [];
  let ws: WebSocket | null = null;
  let backoff = 250;
  let state: ConnectionState = 'connecting';

  const setState = (s: ConnectionState): void => {
    state = s;
    for (const l of stateListeners) l(s);
  };

  const connect = (): void => {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${RPC_PATH}`;
    const sock = new WebSocket(url);
    ws = sock;
    sock.onopen = () => {
      backoff = 250;
      setState('open');
      for (const m of outbox.splice(0)) sock.send(m);
    };
    sock.onmessage = (ev) => {
      let msg: ServerMessage;
      try {
        msg = JSON.parse(String(ev.data)) as ServerMessage;
      } catch {
        return;
      }
      if (msg.t === 'reply') {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.value);
        else p.reject(new RpcError(msg.error as RpcErrorData));
      } else if (msg.t === 'event') {
        for (const l of eventListeners) l(msg.service, msg.event, msg.payload);
      }
    };
    sock.onclose = () => {
      ws = null;
      for (const [id, p] of pending) {
        pending.delete(id);
        p.reject(new RpcError({ code: 'disconnected', message: 'the connection to the player core closed' }));
      }
      setState('closed');
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
  };
  connect();

  const send = (msg: object): void => {
    const text = JSON.stringify(msg);
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(text);
    else outbox.push(text);
  };

  return {
    call(id, service, method, params) {
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        send({ t: 'call', id, service, method, params });
      });
    },
    cancel(id) {
      if (pending.has(id)) send({ t: 'cancel', id });
    },
    onEvent(l) {
      eventListeners.add(l);
      return () => eventListeners.delete(l);
    },
    onState(l) {
      stateListeners.add(l);
      l(state);
      return () => stateListeners.delete(l);
    },
  };
}
