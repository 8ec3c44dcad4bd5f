// The browser shell: the same main-process core in plain Node, serving the built renderer on
// 127.0.0.1 and carrying the IPC contract over a WebSocket. A per-launch random token (handed to
// the page in the URL fragment, which browsers never send to servers) must accompany the
// WebSocket upgrade, and the upgrade must come from our own origin, so other local pages and
// processes cannot drive the player. Host headers other than our own are refused (DNS rebinding).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { validate } from '../../src-shared/schema.js';
import { clientMessage, RPC_PATH, type ServerMessage } from '../../src-shared/wire.js';
import type { AppCore } from '../app-core.js';
import { serveCover } from './cover-route.js';

export interface BrowserShellOptions {
  core: AppCore;
  /** The built renderer (vite's outDir). */
  rendererDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  token?: string;
  log?: (message: string) => void;
  /** How often silent connections are probed (ms). */
  heartbeatMs?: number;
}

export interface BrowserShell {
  url: string;
  origin: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** Position updates are dropped for a client that is this far behind (they are superseded). */
const SLOW_CLIENT_BYTES = 1 << 20;

function csp(origin: string): string {
  const ws = origin.replace(/^http/, 'ws');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${ws}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

export async function startBrowserShell(opts: BrowserShellOptions): Promise<BrowserShell> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? crypto.randomBytes(24).toString('base64url');
  const rendererDir = path.resolve(opts.rendererDir);
  if (!fs.existsSync(path.join(rendererDir, 'index.html'))) {
    throw new Error(`the renderer is not built (${rendererDir}/index.html missing); run npm run build`);
  }
  let origin = '';
  let allowedHosts = new Set<string>();

  const server = http.createServer((req, res) => {
    if (!allowedHosts.has(req.headers.host ?? '')) {
      res.writeHead(421).end('wrong host');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const url = new URL(req.url ?? '/', origin);
    if (serveCover(opts.core.library, url, req, res, (t) => sameToken(t, token))) return;
    let rel = decodeURIComponent(url.pathname);
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = path.resolve(rendererDir, `.${rel}`);
    if (!file.startsWith(rendererDir + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
        return;
      }
      const ext = path.extname(file);
      res.writeHead(200, {
        'Content-Type': MIME[ext] ?? 'application/octet-stream',
        'Content-Length': st.size,
        'Content-Security-Policy': csp(origin),
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cache-Control': ext === '.html' ? 'no-store' : 'no-cache',
      });
      if (req.method === 'HEAD') res.end();
      else fs.createReadStream(file).pipe(res);
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 8 << 20 });
  const sockets = new Set<WebSocket>();

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', origin);
    const refuse = (code: number, why: string): void => {
      opts.log?.(`refused a WebSocket connection: ${why}`);
      socket.end(`HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\nConnection: close\r\n\r\n`);
    };
    if (!allowedHosts.has(req.headers.host ?? '')) return refuse(421, 'wrong host');
    if (url.pathname !== RPC_PATH) return refuse(404, 'wrong path');
    if (req.headers.origin !== origin) return refuse(403, `foreign origin ${req.headers.origin ?? '(none)'}`);
    if (!sameToken(url.searchParams.get('token') ?? '', token)) return refuse(401, 'bad token');
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  const send = (ws: WebSocket, msg: ServerMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  };

  // A renderer that vanished without a close frame (a killed browser) is found by its missing pong;
  // closing its session cancels whatever it still had pending.
  const alive = new WeakMap<WebSocket, boolean>();
  const heartbeat = setInterval(() => {
    for (const ws of sockets) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, opts.heartbeatMs ?? 15_000);
  heartbeat.unref();

  const attach = (ws: WebSocket): void => {
    sockets.add(ws);
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    const session = opts.core.router.openSession(`ws#${sockets.size}`);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let raw: unknown;
      try {
        raw = JSON.parse(data.toString());
      } catch {
        return; // not JSON: nothing to reply to
      }
      const msg = validate(clientMessage, raw);
      if (!msg.ok) {
        const id = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : null;
        if (id) send(ws, { t: 'reply', id, ok: false, error: { code: 'invalid_argument', message: 'malformed message', issues: msg.issues } });
        return;
      }
      const m = msg.value;
      if (m.t === 'cancel') {
        session.cancel(m.id);
        return;
      }
      void session.call(m.id, m.service, m.method, m.params).then((reply) => {
        send(ws, reply.ok ? { t: 'reply', id: m.id, ok: true, value: reply.value } : { t: 'reply', id: m.id, ok: false, error: reply.error });
      });
    });
    ws.on('close', () => {
      sockets.delete(ws);
      session.close();
    });
    ws.on('error', () => ws.terminate());
  };

  const onEvent = (service: string, event: string, payload: unknown): void => {
    const text = JSON.stringify({ t: 'event', service, event, payload } satisfies ServerMessage);
    const droppable = service === 'player' && event === 'didChangePosition';
    for (const ws of sockets) {
      if (ws.readyState !== ws.OPEN) continue;
      if (droppable && ws.bufferedAmount > SLOW_CLIENT_BYTES) continue;
      ws.send(text);
    }
  };
  opts.core.events.on('event', onEvent);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://${host}:${port}`;
  allowedHosts = new Set([`${host}:${port}`, ...(host === '127.0.0.1' ? [`localhost:${port}`] : [])]);

  return {
    url: `${origin}/#token=${token}`,
    origin,
    port,
    token,
    async close() {
      opts.core.events.off('event', onEvent);
      clearInterval(heartbeat);
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
