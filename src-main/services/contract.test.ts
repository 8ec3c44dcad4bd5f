// The IPC contract against the real core: every method has a handler, malformed calls are refused
// with a structured validation error before any service (or plugin) sees them, and a cancel
// message reaches the owner actor and cancels the plugin op — directly and over the browser
// shell's WebSocket with its token and origin checks.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { contract, methodsOf, type ServiceName } from '../../src-shared/contract.js';
import { validate } from '../../src-shared/schema.js';
import type { ServerMessage } from '../../src-shared/wire.js';
import { AppCore } from '../app-core.js';
import { startBrowserShell, type BrowserShell } from '../shell/browser-shell.js';
import { makeTestHome, sleep, type TestHome, waitFor } from '../test/harness.js';
import { fixturePlugin } from '../test/paths.js';
import { type ContractHandlers, ContractRouter } from './router.js';

const FIXTURE = { pluginId: 'dev.stellatune.fixture', typeId: 'fixture-source' };

/** Handlers that record every call (for the "never reaches a service" checks). */
function recordingHandlers(calls: string[]): ContractHandlers {
  const out: Record<string, Record<string, () => unknown>> = {};
  for (const { service, method } of methodsOf()) {
    (out[service] ??= {})[method] = () => {
      calls.push(`${service}.${method}`);
      return undefined;
    };
  }
  return out as unknown as ContractHandlers;
}

describe('contract router', () => {
  it('refuses handler sets that miss a method or add one', () => {
    const h = recordingHandlers([]) as unknown as Record<string, Record<string, unknown>>;
    delete h.sources!.list;
    expect(() => new ContractRouter(h as unknown as ContractHandlers)).toThrow(/sources\.list/);
    const extra = recordingHandlers([]) as unknown as Record<string, Record<string, unknown>>;
    extra.player!.selfDestruct = () => undefined;
    expect(() => new ContractRouter(extra as unknown as ContractHandlers)).toThrow(/player\.selfDestruct/);
  });

  it('rejects malformed calls with invalid_argument and issues, without calling the service', async () => {
    const calls: string[] = [];
    const session = new ContractRouter(recordingHandlers(calls)).openSession('test');
    const bad: [string, string, unknown][] = [
      ['player', 'seek', { positionMs: -5 }],
      ['player', 'seek', {}],
      ['player', 'setVolume', { volume: 'loud' }],
      ['player', 'pause', { unexpected: true }],
      ['queue', 'add', { tracks: [{ title: 'x', source: { kind: 'file' } }] }],
      ['queue', 'add', { tracks: [{ title: 'x', source: { kind: 'ftp', path: '/a' } }] }],
      ['sources', 'list', { pluginId: '../../etc', typeId: 't', request: { action: 'search' } }],
      ['sources', 'list', { ...FIXTURE, request: { query: 'no action' } }],
      ['plugins', 'applyConfig', { pluginId: 'a', kind: 'dsp', typeId: 't', config: [1, 2] }],
      ['plugins', 'enable', { pluginId: 'x', extra: 1 }],
      ['replayGain', 'set', { settings: { mode: 'loud', preampDb: 0, untaggedDb: 0, preventClipping: true } }],
      ['replayGain', 'set', { settings: { mode: 'track', preampDb: 1e9, untaggedDb: 0, preventClipping: true } }],
      ['replayGain', 'set', { settings: { mode: 'track', preampDb: Number.NaN, untaggedDb: 0, preventClipping: true } }],
      ['replayGain', 'set', { settings: { mode: 'track', preampDb: 0 } }],
    ];
    for (const [service, method, params] of bad) {
      const r = await session.call(`id-${service}-${method}`, service, method, params);
      expect(r.ok, `${service}.${method} ${JSON.stringify(params)}`).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('invalid_argument');
        expect(r.error.issues?.length).toBeGreaterThan(0);
      }
    }
    const unknown = await session.call('u1', 'player', 'formatDisk', {});
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.error.code).toBe('unknown_method');
    const proto = await session.call('u2', 'player', '__proto__', {});
    expect(proto.ok).toBe(false);
    expect(calls).toEqual([]);
  });

  it('strips unknown keys from results and reports results outside the contract', async () => {
    const violations: string[] = [];
    const h = recordingHandlers([]) as unknown as Record<string, Record<string, unknown>>;
    h.queue!.get = () => ({ tracks: [], index: -1, secret: 'x' });
    h.files!.audioExtensions = () => [1, 2];
    const session = new ContractRouter(h as unknown as ContractHandlers, { onContractViolation: (w) => violations.push(w) }).openSession('t');
    expect(await session.call('a', 'queue', 'get', null)).toEqual({ ok: true, value: { tracks: [], index: -1 } });
    const r = await session.call('b', 'files', 'audioExtensions', null);
    expect(r.ok).toBe(false);
    expect(violations).toEqual(['files.audioExtensions']);
  });
});

describe('contract on the real core with the fixture plugin', () => {
  let home: TestHome;
  let core: AppCore;
  let fixtureDir: string;

  beforeAll(async () => {
    home = makeTestHome();
    fixtureDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-fixture-'));
    fs.copyFileSync(fixturePlugin, path.join(fixtureDir, 'st-fixture.so'));
    core = await AppCore.start({
      shell: 'test',
      paths: home.paths,
      extraFolders: [{ dir: fixtureDir, origin: 'user', watch: false }],
      engine: false,
    });
  });

  afterAll(async () => {
    await core?.close();
    home?.cleanup();
    fs.rmSync(fixtureDir, { recursive: true, force: true });
  });

  it('serves every parameterless method', async () => {
    const session = core.router.openSession('all');
    let served = 0;
    for (const { service, method, spec } of methodsOf()) {
      if (!validate(spec.params, undefined).ok) continue; // needs arguments; covered elsewhere
      // Those that start playback are left out: this core has no audio.
      if (service === 'player' && ['play', 'resume', 'next', 'previous'].includes(method)) continue;
      const r = await session.call(`${service}.${method}`, service, method, null);
      // Only device questions may answer "unavailable" (there is no audio engine here).
      if (!r.ok) expect(r.error.code, `${service}.${method}: ${r.error.message}`).toBe('unavailable');
      served++;
    }
    expect(served).toBeGreaterThan(15);
    expect(Object.keys(contract).sort()).toEqual(['diagnostics', 'files', 'library', 'lyrics', 'output', 'player', 'playlists', 'plugins', 'queue', 'replayGain', 'session', 'sources'] satisfies ServiceName[]);
    session.close();
  });

  it('lists and normalises the fixture catalog', async () => {
    const session = core.router.openSession('list');
    const r = await session.call('1', 'sources', 'list', { ...FIXTURE, request: { action: 'browse' } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const value = r.value as { items: { id: string; kind: string; title: string; raw: Record<string, unknown> }[] };
    expect(value.items.map((i) => i.id)).toContain('tone-440');
    const tone = value.items.find((i) => i.id === 'tone-440')!;
    expect(tone.kind).toBe('track');
    expect(tone.raw.id).toBe('tone-440');
    session.close();
  });

  it('a cancel message reaches the owner and cancels the hanging plugin op', async () => {
    const session = core.router.openSession('cancel');
    const before = core.control.counters.snapshot().find((r) => r.pluginId === FIXTURE.pluginId && r.op === 'list_items')?.cancelled ?? 0;
    const pending = session.call('hang-1', 'sources', 'list', { ...FIXTURE, request: { action: 'browse', fixture: { mode: 'hang' } } });
    await waitFor(() => core.control.live().pendingOps === 1, 5000, 'the op to start');
    expect(session.cancel('hang-1')).toBe(true);
    const r = await pending;
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('cancelled');
    await waitFor(() => core.control.live().pendingOps === 0, 5000, 'the op to be destroyed');
    const after = core.control.counters.snapshot().find((x) => x.pluginId === FIXTURE.pluginId && x.op === 'list_items')!.cancelled;
    expect(after).toBe(before + 1);
    session.close();
  });

  it('closing a session (a renderer going away) cancels its pending calls', async () => {
    const session = core.router.openSession('gone');
    const pending = session.call('h', 'lyrics', 'search', { pluginId: FIXTURE.pluginId, typeId: 'fixture-lyrics', query: { title: 'x', fixture: { mode: 'hang' } } });
    await waitFor(() => core.control.live().pendingOps === 1, 5000, 'the op to start');
    session.close();
    const r = await pending;
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('cancelled');
    await waitFor(() => core.control.live().pendingOps === 0, 5000, 'the op to be destroyed');
  });

  it('passes the per-call deadline to the owner', async () => {
    const session = core.router.openSession('deadline');
    const r = await session.call('d', 'sources', 'list', { ...FIXTURE, request: { action: 'browse', fixture: { mode: 'hang' } }, deadlineMs: 150 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('timeout');
    session.close();
  });

  it('fetches lyrics and returns parsed synced lines', async () => {
    const session = core.router.openSession('lyrics');
    const r = await session.call('l', 'lyrics', 'fetch', { pluginId: FIXTURE.pluginId, typeId: 'fixture-lyrics', track: { id: 'fixture-lyrics-1', title: 'Song' } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const doc = r.value as { synced: { timeMs: number; text: string }[] };
    expect(doc.synced.length).toBe(8);
    expect(doc.synced[1]).toEqual({ timeMs: 2000, text: 'Line 2 of Song' });
    session.close();
  });

  describe('over the browser shell WebSocket', () => {
    let shell: BrowserShell;
    let rendererDir: string;

    beforeAll(async () => {
      rendererDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-renderer-'));
      fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
      shell = await startBrowserShell({ core, rendererDir, port: 0 });
    });
    afterAll(async () => {
      await shell?.close();
      fs.rmSync(rendererDir, { recursive: true, force: true });
    });

    const open = (token: string, origin: string): Promise<WebSocket> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${shell.port}/rpc?token=${encodeURIComponent(token)}`, { origin });
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
        ws.once('error', reject);
      });

    it('refuses a wrong token and a foreign origin', async () => {
      await expect(open('nope', shell.origin)).rejects.toThrow(/401/);
      await expect(open(shell.token, 'http://evil.example')).rejects.toThrow(/403/);
      // DNS rebinding: a page on another name that resolves to 127.0.0.1.
      const status = await new Promise<number>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: shell.port, path: '/', headers: { host: `rebound.example:${shell.port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject);
      });
      expect(status).toBe(421);
    });

    it('serves the renderer with a CSP, to the session cookie only', async () => {
      expect((await fetch(`${shell.origin}/`)).status).toBe(401);
      const launch = await fetch(shell.url, { redirect: 'manual' });
      expect(launch.status).toBe(303);
      const cookie = (launch.headers.get('set-cookie') ?? '').split(';')[0]!;
      const res = await fetch(`${shell.origin}/`, { headers: { cookie } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect((await fetch(`${shell.origin}/../../etc/passwd`)).status).not.toBe(200);
    });

    it('carries calls, validation errors and cancel', async () => {
      const ws = await open(shell.token, shell.origin);
      const replies = new Map<string, ServerMessage>();
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as ServerMessage;
        if (m.t === 'reply') replies.set(m.id, m);
      });
      ws.send(JSON.stringify({ t: 'call', id: 'a', service: 'plugins', method: 'list' }));
      ws.send(JSON.stringify({ t: 'call', id: 'b', service: 'player', method: 'seek', params: { positionMs: 'soon' } }));
      ws.send(JSON.stringify({ t: 'call', id: 'c', service: 'sources', method: 'list', params: { ...FIXTURE, request: { action: 'browse', fixture: { mode: 'hang' } } } }));
      ws.send(JSON.stringify({ t: 'bogus', id: 'd' }));
      await waitFor(() => replies.has('a') && replies.has('b') && replies.has('d') && core.control.live().pendingOps === 1, 5000, 'replies');
      const a = replies.get('a')!;
      expect(a.t === 'reply' && a.ok && (a.value as { pluginId: string }[]).some((p) => p.pluginId === FIXTURE.pluginId)).toBe(true);
      const b = replies.get('b')!;
      expect(b.t === 'reply' && !b.ok && b.error.code === 'invalid_argument').toBe(true);
      const d = replies.get('d')!;
      expect(d.t === 'reply' && !d.ok && d.error.code === 'invalid_argument').toBe(true);
      ws.send(JSON.stringify({ t: 'cancel', id: 'c' }));
      await waitFor(() => replies.has('c'), 5000, 'the cancelled reply');
      const c = replies.get('c')!;
      expect(c.t === 'reply' && !c.ok && c.error.code === 'cancelled').toBe(true);
      await waitFor(() => core.control.live().pendingOps === 0, 5000, 'the op to be destroyed');
      ws.close();
    });

    it('pushes events to connected clients', async () => {
      const ws = await open(shell.token, shell.origin);
      const events: string[] = [];
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as ServerMessage;
        if (m.t === 'event') events.push(`${m.service}.${m.event}`);
      });
      await sleep(50);
      ws.send(JSON.stringify({ t: 'call', id: 'q', service: 'queue', method: 'add', params: { tracks: [{ title: 't', source: { kind: 'file', path: '/tmp/x.wav' } }] } }));
      await waitFor(() => events.includes('queue.didChange'), 5000, 'the queue event');
      ws.close();
    });
  });
});
