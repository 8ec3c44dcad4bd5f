// The browser shell's HTTP side as an attacker's page or a careless client sees it: malformed
// paths (bad percent-encoding, NUL bytes, overlong UTF-8, 64 KB targets), odd methods and 1,000
// random paths get 400/401/403/404/405/414/431 and the core stays up; nothing is served without
// the session cookie, no source map is served at all, and the launch codes are one-time.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { rawRequest, startShellProcess, type ShellProcess } from './shell-process.js';

let shell: ShellProcess;
let cookie = '';

beforeAll(async () => {
  shell = await startShellProcess();
  const r = await rawRequest(shell.port, 'GET', `/session?key=${shell.token}`);
  expect(r.status).toBe(303);
  const set = /^Set-Cookie: ([^;\r\n]+)(.*)$/im.exec(r.head);
  expect(set?.[2]).toMatch(/HttpOnly/);
  expect(set?.[2]).toMatch(/SameSite=Strict/);
  cookie = set![1]!;
});

afterAll(async () => {
  await shell?.stop();
});

const REFUSED = new Set([400, 401, 403, 404, 405, 414, 431]);

/** The crashers, and their cousins. */
const MALFORMED = [
  '/%ff', '/%', '/%00', '/a%00b.js', '/index.html%00', '/%E0%A4%A', '/%C0%AF', '/%C0%AE%C0%AE/%C0%AE%C0%AEetc/passwd',
  '/%E0%80%AF', '/%F0%80%80%AF', '/%ED%A0%80', '/%%', '/%zz', '/%2', '/..%2f..%2fetc/passwd', '/..%5c..%5cetc', '/%2e%2e/%2e%2e/etc/passwd',
  '/../../etc/passwd', '//etc/passwd', '/\\..\\..\\etc\\passwd', '*', 'index.html', 'http://evil.example/', '/assets/%00.js',
  `/${'a'.repeat(65_536)}`, `/${'%41'.repeat(20_000)}`, '/assets/index.js.map', '/%2e%2e%2f',
];

function randomPath(): string {
  const len = crypto.randomInt(1, 200);
  const bytes = crypto.randomBytes(len);
  let out = '/';
  for (const b of bytes) {
    const r = b % 8;
    if (r === 0) out += '%';
    else if (r === 1) out += `%${b.toString(16).padStart(2, '0')}`;
    else if (r === 2) out += ['/', '.', '..', '?', '#', ';', '&', '='][b % 8];
    // Printable ASCII other than space (the request line's separator).
    else out += String.fromCharCode(33 + (b % 94));
  }
  return out;
}

async function inBatches<T>(items: T[], size: number, fn: (x: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

async function stillServes(): Promise<void> {
  expect(shell.proc.exitCode).toBeNull();
  const page = await rawRequest(shell.port, 'GET', '/', { Cookie: cookie });
  expect(page.status).toBe(200);
  const ws = new WebSocket(`ws://127.0.0.1:${shell.port}/rpc`, { origin: shell.origin, headers: { Cookie: cookie } });
  const reply = await new Promise<{ ok: boolean }>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ t: 'call', id: '1', service: 'diagnostics', method: 'info' })));
    ws.on('message', (d) => resolve(JSON.parse(d.toString()) as { ok: boolean }));
  });
  ws.close();
  expect(reply.ok).toBe(true);
}

describe('HTTP fuzz of the browser shell', () => {
  it('malformed paths are refused with a status, with and without the session, and the core stays up', async () => {
    for (const headers of [{}, { Cookie: cookie }] as Record<string, string>[]) {
      await inBatches(MALFORMED, 8, async (target) => {
        for (const method of ['GET', 'HEAD']) {
          const r = await rawRequest(shell.port, method, target, headers);
          expect(REFUSED.has(r.status), `${method} ${target.slice(0, 60)} answered ${r.status}`).toBe(true);
        }
      });
    }
    await stillServes();
  });

  it('odd methods are refused', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'M-SEARCH', 'BREW']) {
      const r = await rawRequest(shell.port, method, '/index.html', { Cookie: cookie, 'Content-Length': '0' });
      expect(REFUSED.has(r.status), `${method} answered ${r.status}`).toBe(true);
    }
    // Not HTTP at all.
    const junk = await rawRequest(shell.port, 'GET\x00', '/\x01\x02', {}).catch(() => ({ status: 400 }));
    expect(REFUSED.has(junk.status)).toBe(true);
    await stillServes();
  });

  it('1,000 random paths answer 400/401/403/404/414 and the core keeps serving', async () => {
    const paths = Array.from({ length: 1000 }, randomPath);
    const seen = new Map<number, number>();
    await inBatches(paths, 25, async (target) => {
      const r = await rawRequest(shell.port, 'GET', target, crypto.randomInt(2) ? { Cookie: cookie } : {});
      seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
      expect(REFUSED.has(r.status) || r.status === 200, `GET ${target} answered ${r.status}`).toBe(true);
    });
    expect([...seen.keys()].some((s) => s === 400)).toBe(true);
    await stillServes();
  });
});

describe('the session', () => {
  it('static files need the session cookie; source maps are not served even with it', async () => {
    expect((await rawRequest(shell.port, 'GET', '/')).status).toBe(401);
    expect((await rawRequest(shell.port, 'GET', '/index.html', { Cookie: 'stellatune_session=wrong' })).status).toBe(401);
    const index = await rawRequest(shell.port, 'GET', '/', { Cookie: cookie });
    expect(index.status).toBe(200);
    expect(index.head).toMatch(/Content-Security-Policy: default-src 'none'/);
    expect((await rawRequest(shell.port, 'GET', '/session?key=wrong')).status).toBe(403);
  });

  it('a launch code works once', async () => {
    // The code comes from the shell object in-process; over the process boundary the printed
    // token is what we have, so exercise one-time codes through a fresh in-process shell.
    const { startBrowserShell } = await import('../../shell/browser-shell.js');
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-renderer-'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>t</title>');
    const core = { events: { on() {}, off() {} }, router: { openSession() {} } } as never;
    const local = await startBrowserShell({ core, rendererDir: dir });
    try {
      const launch = new URL(local.launchUrl());
      const target = `${launch.pathname}${launch.search}`;
      expect(launch.searchParams.get('key')).not.toBe(local.token);
      expect((await rawRequest(local.port, 'GET', target)).status).toBe(303);
      expect((await rawRequest(local.port, 'GET', target)).status).toBe(403);
    } finally {
      await local.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refused WebSocket upgrades are logged with a rate limit', async () => {
    const before = (shell.stderr().match(/refused a WebSocket connection: bad token/g) ?? []).length;
    await inBatches(Array.from({ length: 200 }, (_, i) => i), 20, async (i) => {
      await new Promise<void>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${shell.port}/rpc?token=wrong${i}`, { origin: shell.origin });
        ws.on('error', () => resolve());
        ws.on('open', () => {
          ws.close();
          resolve();
        });
      });
    });
    const after = (shell.stderr().match(/refused a WebSocket connection: bad token/g) ?? []).length;
    expect(after - before).toBeLessThanOrEqual(5);
    await stillServes();
  });
});
