// A loopback TCP proxy that sits between a network plugin and its server and injects faults:
// added latency, a hang (accepts, never answers), an HTTP error status, a malformed JSON body, a
// connection reset, a clean close (a truncated body) or a stall after N response bytes.
//
// It runs on a worker thread with its own event loop: a test that reads a plugin stream on the
// main thread (a decoder read blocks while the plugin waits for bytes) must not starve the proxy
// the bytes come through. Each request gets its own upstream connection ("Connection: close" is
// forced), so every request head is seen, recorded and judged by the rules.
import { Worker } from 'node:worker_threads';

export type FaultMode =
  | { kind: 'pass'; latencyMs?: number }
  | { kind: 'hang' }
  | { kind: 'status'; status: number; body?: string; contentType?: string }
  | { kind: 'malformed' }
  | { kind: 'reset'; afterBytes: number }
  | { kind: 'truncate'; afterBytes: number }
  /** Forwards N response bytes, then nothing more, keeping both connections open. */
  | { kind: 'stall'; afterBytes: number };

/** A per-request choice: the first rule that matches a request decides its fault. */
export interface FaultRule {
  /** Prefix of the request target (path and query), e.g. "/rest/stream". */
  path?: string;
  /** Substring of the request target, e.g. "q=hang". */
  contains?: string;
  /** Only requests with (true) or without (false) a Range header. */
  range?: boolean;
  mode: FaultMode;
}

export interface ProxiedRequest {
  method: string;
  /** Path and query as sent. */
  target: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
}

export interface FaultProxy {
  url: string;
  port: number;
  /** The fault for requests no rule decides. */
  setMode(mode: FaultMode): void;
  setRules(rules: FaultRule[]): void;
  /** Every request so far, once the proxy has caught up. */
  requests(): Promise<ProxiedRequest[]>;
  clearRequests(): Promise<void>;
  /** Client connections open now (hung ones included). */
  openConnections(): Promise<number>;
  stop(): Promise<void>;
}

// The worker: plain JavaScript, so it runs the same from vitest (TypeScript sources) and dist.
const WORKER_SOURCE = String.raw`
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
let mode = workerData.mode;
let rules = [];
const requests = [];
const clients = new Set();
const sockets = new Set();
const track = (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)); };

function parseHead(text) {
  const [line = '', ...rest] = text.split('\r\n');
  const [method = '', target = ''] = line.split(' ');
  const headers = {};
  for (const h of rest) { const i = h.indexOf(':'); if (i > 0) headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim(); }
  return { method, target, headers };
}

function choose(req) {
  for (const r of rules) {
    if (r.path !== undefined && !req.target.startsWith(r.path)) continue;
    if (r.contains !== undefined && !req.target.includes(r.contains)) continue;
    if (r.range !== undefined && r.range !== (req.headers.range !== undefined)) continue;
    return r.mode;
  }
  return mode;
}

function respond(client, status, body, type) {
  const text = Buffer.from(body);
  client.end(Buffer.concat([Buffer.from('HTTP/1.1 ' + status + ' Fault\r\nContent-Type: ' + type + '\r\nContent-Length: ' + text.length + '\r\nConnection: close\r\n\r\n'), text]));
}

function handle(client, head, m) {
  if (m.kind === 'hang') return;
  if (m.kind === 'status') return respond(client, m.status, m.body ?? 'fault injected', m.contentType ?? 'text/plain');
  if (m.kind === 'malformed') return respond(client, 200, '{"subsonic-response":{"status":"ok","searchResult3":{"song":[{"id":', 'application/json');
  const connect = () => {
    if (client.destroyed) return;
    const server = net.connect(workerData.upstreamPort, workerData.upstreamHost);
    track(server);
    server.on('error', () => client.destroy());
    client.on('error', () => server.destroy());
    client.on('close', () => server.destroy());
    server.on('close', () => { if (m.kind !== 'stall') client.end(); });
    server.write(head);
    client.resume();
    let sent = 0;
    const limit = m.kind === 'reset' || m.kind === 'truncate' || m.kind === 'stall' ? m.afterBytes : Infinity;
    server.on('data', (d) => {
      if (sent >= limit) return;
      const part = d.length > limit - sent ? d.subarray(0, limit - sent) : d;
      sent += part.length;
      client.write(part);
      if (sent >= limit && m.kind !== 'stall') {
        server.destroy();
        if (m.kind === 'reset') client.resetAndDestroy(); else client.end();
      }
    });
  };
  if (m.kind === 'pass' && m.latencyMs) setTimeout(connect, m.latencyMs); else connect();
}

const proxy = net.createServer((client) => {
  track(client);
  clients.add(client);
  client.once('close', () => clients.delete(client));
  client.on('error', () => {});
  let buffered = Buffer.alloc(0);
  const onData = (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) return;
    client.off('data', onData);
    client.pause();
    const text = buffered.subarray(0, end).toString('latin1');
    const req = parseHead(text);
    requests.push(req);
    const lines = text.split('\r\n').filter((l) => !/^connection:/i.test(l));
    handle(client, Buffer.from(lines.concat('Connection: close').join('\r\n') + '\r\n\r\n', 'latin1'), choose(req));
  };
  client.on('data', onData);
});

parentPort.on('message', (msg) => {
  if (msg.type === 'mode') mode = msg.mode;
  else if (msg.type === 'rules') rules = msg.rules;
  else if (msg.type === 'requests') parentPort.postMessage({ type: 'reply', id: msg.id, value: requests.slice() });
  else if (msg.type === 'clear') { requests.length = 0; parentPort.postMessage({ type: 'reply', id: msg.id, value: null }); }
  else if (msg.type === 'connections') parentPort.postMessage({ type: 'reply', id: msg.id, value: clients.size });
  else if (msg.type === 'stop') {
    for (const s of sockets) s.destroy();
    proxy.close(() => parentPort.postMessage({ type: 'reply', id: msg.id, value: null }));
  }
});
proxy.listen(0, '127.0.0.1', () => parentPort.postMessage({ type: 'ready', port: proxy.address().port }));
`;

export async function startFaultProxy(upstream: { host?: string; port: number }, mode: FaultMode = { kind: 'pass' }): Promise<FaultProxy> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { upstreamHost: upstream.host ?? '127.0.0.1', upstreamPort: upstream.port, mode },
  });
  const waiting = new Map<number, (value: unknown) => void>();
  let nextId = 1;
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (msg: { type: string; id?: number; value?: unknown; port?: number }) => {
      if (msg.type === 'ready') resolve(msg.port as number);
      else if (msg.type === 'reply') {
        waiting.get(msg.id as number)?.(msg.value);
        waiting.delete(msg.id as number);
      }
    });
  });
  const ask = <T>(type: string): Promise<T> =>
    new Promise<T>((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve as (v: unknown) => void);
      worker.postMessage({ type, id });
    });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    setMode: (m) => worker.postMessage({ type: 'mode', mode: m }),
    setRules: (rules) => worker.postMessage({ type: 'rules', rules }),
    requests: () => ask<ProxiedRequest[]>('requests'),
    clearRequests: () => ask<void>('clear'),
    openConnections: () => ask<number>('connections'),
    async stop() {
      await ask<void>('stop');
      await worker.terminate();
    },
  };
}
