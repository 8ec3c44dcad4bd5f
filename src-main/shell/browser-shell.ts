// The browser shell: the same main-process core in plain Node, serving the built renderer on
// 127.0.0.1 and carrying the IPC contract over a WebSocket. A per-launch random token is traded at
// /session for an HttpOnly SameSite=Strict cookie, which every static file and the WebSocket
// upgrade require (the upgrade must also come from our own origin), so other local pages and
// processes can neither drive the player nor read the app. The browser window gets a one-time
// code instead of the token, because its command line is readable by every local user. Host
// headers other than our own are refused (DNS rebinding).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { validate } from '../../src-shared/schema.js';
import { rendererFile } from './renderer-files.js';
import { clientMessage, LAUNCH_CHECK_PATH, RPC_PATH, type ServerMessage } from '../../src-shared/wire.js';
import type { AppCore } from '../app-core.js';
import { COVER_FILE_NAME, coverMime } from '../services/cover-files.js';
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
  limits?: Partial<ConnectionLimits>;
  /** The queue's art cache (pictures of queued files) served under /art/ (see coverUrlFor). */
  coversDir?: string;
  /** Called when the last window went away and none came back within `idleGraceMs` (a reload
   * reconnects well within it). */
  onNoWindows?: () => void;
  idleGraceMs?: number;
}


/** A key tying a cover URL to this launch's token, so a cover URL works without the session
 * cookie (the OS media widgets, MPRIS clients) and no other local page can make one up. */
function coverKey(token: string, name: string): string {
  return crypto.createHmac('sha256', token).update(name).digest('base64url').slice(0, 22);
}

/** The renderer's URL for a file in the cover cache, valid for the launch with `token`. */
export function coverUrlFor(token: string): (coverFile: string) => string | undefined {
  return (coverFile) => {
    const name = path.basename(coverFile);
    return COVER_FILE_NAME.test(name) ? `/art/${name}?k=${coverKey(token, name)}` : undefined;
  };
}

export interface ConnectionLimits {
  /** Unanswered calls per connection before the server stops reading it. */
  maxInFlight: number;
  /** Unsent bytes queued for one client before it is closed as not reading. */
  maxBufferedBytes: number;
}

const DEFAULT_LIMITS: ConnectionLimits = { maxInFlight: 256, maxBufferedBytes: 16 << 20 };

export interface BrowserShell {
  /** The address to open: trades the token for the session cookie (reusable for this launch). */
  url: string;
  /** A launch address with a fresh one-time code instead of the token (for a browser's command line). */
  launchUrl(): string;
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

/** Where a launch key (the token or a one-time code) is traded for the session cookie. */
export const SESSION_PATH = '/session';
const SESSION_COOKIE = 'stellatune_session';
const LAUNCH_CODE_TTL_MS = 60_000;

/** Position updates are dropped for a client that is this far behind (they are superseded). */
const SLOW_CLIENT_BYTES = 1 << 20;

export function contentSecurityPolicy(origin: string): string {
  const ws = origin.replace(/^http/, 'ws');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${ws}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The value of cookie `name` in a Cookie header, or null. */
function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** A page without the session explains how to get one (a script-free page, so the CSP holds). */
function sendRefusal(res: http.ServerResponse, status: 401 | 403, headOnly: boolean): void {
  const body =
    '<!doctype html><meta charset="utf-8"><meta name="color-scheme" content="dark light"><title>StellaTune</title>' +
    '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1.5rem}h1{font-size:1.4rem}</style>' +
    '<div class="fatal"><h1>StellaTune</h1><p>This page needs the address printed by <code>npm start</code> ' +
    '(it carries the launch access token). If the player was restarted, open its new address.</p></div>';
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    // No script at all; only this page's own inline style.
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    'Cache-Control': 'no-store',
  });
  res.end(headOnly ? undefined : body);
}

/** Logs a kind of event at most `burst` times per window, then one line with how many were not. */
class RateLimitedLog {
  private shown = 0;
  private suppressed = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly log: ((m: string) => void) | undefined,
    private readonly what: string,
    private readonly burst: number,
    windowMs: number,
  ) {
    this.timer = setInterval(() => this.flush(), windowMs);
    this.timer.unref();
  }

  note(detail: string): void {
    if (this.shown < this.burst) {
      this.shown++;
      this.log?.(`${this.what}: ${detail}`);
    } else this.suppressed++;
  }

  private flush(): void {
    if (this.suppressed > 0) this.log?.(`${this.what}: ${this.suppressed} more in the last window, not logged one by one`);
    this.shown = 0;
    this.suppressed = 0;
  }

  close(): void {
    this.flush();
    clearInterval(this.timer);
  }
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
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const refusals = new RateLimitedLog(opts.log, 'refused a WebSocket connection', 5, 10_000);

  // One-time launch codes: what the Chromium command line carries (readable by every local user
  // in /proc), so it must be worthless once Chromium has used it.
  const launchCodes = new Map<string, number>();
  const mintLaunchCode = (): string => {
    const now = Date.now();
    for (const [c, expires] of launchCodes) if (expires < now) launchCodes.delete(c);
    const code = crypto.randomBytes(24).toString('base64url');
    launchCodes.set(code, now + LAUNCH_CODE_TTL_MS);
    return code;
  };
  const redeem = (key: string): boolean => {
    if (sameToken(key, token)) return true;
    for (const [code, expires] of launchCodes) {
      if (sameToken(key, code)) {
        launchCodes.delete(code);
        return expires >= Date.now();
      }
    }
    return false;
  };
  const hasSession = (req: http.IncomingMessage): boolean => sameToken(cookieValue(req.headers.cookie, SESSION_COOKIE) ?? '', token);

  const serve = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (!allowedHosts.has(req.headers.host ?? '')) {
      res.writeHead(421).end('wrong host');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const target = req.url ?? '';
    const q = target.indexOf('?');
    const rawPath = q < 0 ? target : target.slice(0, q);
    if (rawPath === SESSION_PATH) {
      // The launch address: trades the token or a one-time code for the session cookie, then
      // sends the browser to the app with the key gone from the address bar.
      const key = new URLSearchParams(q < 0 ? '' : target.slice(q + 1)).get('key') ?? '';
      if (!redeem(key)) {
        sendRefusal(res, 403, req.method === 'HEAD');
        return;
      }
      res.writeHead(303, {
        Location: '/',
        'Set-Cookie': `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`,
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
      });
      res.end();
      return;
    }
    if (rawPath === LAUNCH_CHECK_PATH) {
      // 401 tells a page from before a restart (its cookie holds the old token) to stop retrying.
      res.writeHead(hasSession(req) ? 204 : 401, { 'Cache-Control': 'no-store' }).end();
      return;
    }
    if (rawPath.startsWith('/art/')) {
      serveArt(rawPath.slice('/art/'.length), new URLSearchParams(q < 0 ? '' : target.slice(q + 1)).get('k') ?? '', req, res);
      return;
    }
    // Cover thumbnails, behind the same session cookie (an <img> sends it like any request).
    if (rawPath.startsWith('/covers/')) {
      serveCover(opts.core.library, rawPath, req, res, hasSession(req));
      return;
    }
    const found = rendererFile(rendererDir, rawPath);
    if (!found.ok) {
      res.writeHead(found.status, { 'Content-Type': 'text/plain' }).end(http.STATUS_CODES[found.status]);
      return;
    }
    if (!hasSession(req)) {
      sendRefusal(res, 401, req.method === 'HEAD');
      return;
    }
    const { file, ext } = found;
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, {
        'Content-Type': MIME[ext] ?? 'application/octet-stream',
        'Content-Length': st.size,
        'Content-Security-Policy': contentSecurityPolicy(origin),
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cache-Control': ext === '.html' ? 'no-store' : 'no-cache',
      });
      if (req.method === 'HEAD') res.end();
      else fs.createReadStream(file).on('error', () => res.destroy()).pipe(res);
    });
  };

  const serveArt = (name: string, key: string, req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (!opts.coversDir || !COVER_FILE_NAME.test(name) || !sameToken(key, coverKey(token, name))) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const file = path.join(opts.coversDir, name);
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
        return;
      }
      // Content-addressed: a name never changes its bytes.
      res.writeHead(200, {
        'Content-Type': coverMime(name),
        'Content-Length': st.size,
        'Cache-Control': 'private, max-age=31536000, immutable',
        'X-Content-Type-Options': 'nosniff',
      });
      if (req.method === 'HEAD') res.end();
      else fs.createReadStream(file).on('error', () => res.destroy()).pipe(res);
    });
  };

  const server = http.createServer((req, res) => {
    try {
      serve(req, res);
    } catch (err) {
      // Nothing a request holds may take the core down; a throw here is a bug, answered as one.
      opts.log?.(`HTTP request failed: ${(err as Error).message}`);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    }
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 8 << 20 });
  const sockets = new Set<WebSocket>();

  // The last window closing starts the grace period; a connection within it (a reload) ends it.
  let everConnected = false;
  let idleTimer: NodeJS.Timeout | null = null;
  const windowsChanged = (): void => {
    if (sockets.size > 0) {
      everConnected = true;
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = null;
    } else if (everConnected && opts.onNoWindows && !idleTimer) {
      idleTimer = setTimeout(() => {
        idleTimer = null;
        if (sockets.size === 0) opts.onNoWindows?.();
      }, opts.idleGraceMs ?? 10_000);
      idleTimer.unref();
    }
  };

  server.on('upgrade', (req, socket, head) => {
    const refuse = (code: number, why: string): void => {
      refusals.note(why);
      socket.end(`HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\nConnection: close\r\n\r\n`);
    };
    socket.on('error', () => socket.destroy());
    const target = req.url ?? '';
    const q = target.indexOf('?');
    const rawPath = q < 0 ? target : target.slice(0, q);
    if (!allowedHosts.has(req.headers.host ?? '')) return refuse(421, 'wrong host');
    if (rawPath !== RPC_PATH) return refuse(404, 'wrong path');
    if (req.headers.origin !== origin) return refuse(403, `foreign origin ${String(req.headers.origin ?? '(none)').slice(0, 200)}`);
    // The renderer carries the session cookie; programmatic clients (tests, tools) may pass ?token=.
    const queryToken = new URLSearchParams(q < 0 ? '' : target.slice(q + 1)).get('token');
    if (!hasSession(req) && !sameToken(queryToken ?? '', token)) return refuse(401, 'bad token');
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  const send = (ws: WebSocket, msg: ServerMessage): void => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(JSON.stringify(msg));
    if (ws.bufferedAmount > limits.maxBufferedBytes) shed(ws, 'the client does not read its replies');
  };

  // A client that stops reading would otherwise grow the core's memory without bound: close it
  // (its session's pending calls are cancelled) and keep serving the others.
  const shed = (ws: WebSocket, why: string): void => {
    if (ws.readyState !== ws.OPEN) return;
    opts.log?.(`closing a WebSocket connection: ${why} (${ws.bufferedAmount} bytes unsent)`);
    ws.close(1008, why);
    setTimeout(() => ws.terminate(), 1000).unref();
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
    windowsChanged();
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    const session = opts.core.router.openSession(`ws#${sockets.size}`);
    let inFlight = 0;
    ws.on('message', (data, isBinary) => {
      if (isBinary || ws.readyState !== ws.OPEN) return;
      let raw: unknown;
      try {
        raw = JSON.parse(data.toString());
      } catch {
        return; // not JSON: nothing to reply to
      }
      const msg = validate(clientMessage, raw);
      if (!msg.ok) {
        const id = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id.slice(0, 64) : null;
        if (id) send(ws, { t: 'reply', id, ok: false, error: { code: 'invalid_argument', message: 'malformed message', issues: msg.issues } });
        return;
      }
      const m = msg.value;
      if (m.t === 'cancel') {
        session.cancel(m.id);
        return;
      }
      // Back-pressure: with this many calls unanswered, stop reading the socket (TCP pushes back
      // on the client) until half of them are done.
      inFlight++;
      if (inFlight >= limits.maxInFlight && !ws.isPaused) ws.pause();
      void session.call(m.id, m.service, m.method, m.params).then((reply) => {
        inFlight--;
        if (ws.isPaused && inFlight <= limits.maxInFlight / 2 && ws.readyState === ws.OPEN) ws.resume();
        send(ws, reply.ok ? { t: 'reply', id: m.id, ok: true, value: reply.value } : { t: 'reply', id: m.id, ok: false, error: reply.error });
      });
    });
    ws.on('close', () => {
      sockets.delete(ws);
      session.close();
      windowsChanged();
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
      if (ws.bufferedAmount > limits.maxBufferedBytes) shed(ws, 'the client does not read its events');
    }
  };
  opts.core.events.on('event', onEvent);

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => resolve());
    });
  } catch (err) {
    // The port is taken (the caller may try another): leave nothing behind.
    opts.core.events.off('event', onEvent);
    clearInterval(heartbeat);
    refusals.close();
    wss.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  origin = `http://${host}:${port}`;
  allowedHosts = new Set([`${host}:${port}`, ...(host === '127.0.0.1' ? [`localhost:${port}`] : [])]);

  return {
    url: `${origin}${SESSION_PATH}?key=${token}`,
    launchUrl: () => `${origin}${SESSION_PATH}?key=${mintLaunchCode()}`,
    origin,
    port,
    token,
    async close() {
      if (idleTimer) clearTimeout(idleTimer);
      opts.core.events.off('event', onEvent);
      clearInterval(heartbeat);
      refusals.close();
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
