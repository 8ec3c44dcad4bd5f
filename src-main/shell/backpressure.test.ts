// Per-connection back-pressure in the browser shell: with maxInFlight calls unanswered the server
// stops reading that socket (TCP pushes back on the client) instead of queueing without bound, and
// once answers flow again every call is served; nothing is lost.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AppCore } from '../app-core.js';
import type { CallReply } from '../../src-shared/wire.js';
import { type BrowserShell, startBrowserShell } from './browser-shell.js';

let dir: string;
let shell: BrowserShell;
const waiting: (() => void)[] = [];
let received = 0;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-renderer-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>t</title>');
  // A core whose every call waits until the test lets it go.
  const session = {
    call: (): Promise<CallReply> => {
      received++;
      return new Promise((resolve) => waiting.push(() => resolve({ ok: true, value: null })));
    },
    cancel: () => false,
    close: () => {},
  };
  const core = { events: new EventEmitter(), router: { openSession: () => session } } as unknown as AppCore;
  shell = await startBrowserShell({ core, rendererDir: dir, limits: { maxInFlight: 16 } });
});

afterAll(async () => {
  await shell?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('stops reading a connection at maxInFlight unanswered calls and serves them all once answered', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${shell.port}/rpc?token=${shell.token}`, { origin: shell.origin });
  await new Promise((r) => ws.once('open', r));
  let replies = 0;
  ws.on('message', () => replies++);
  const total = 20_000;
  // Long ids make each call ~130 bytes: 2.6 MB in all, far more than one socket read.
  for (let i = 0; i < total; i++) ws.send(JSON.stringify({ t: 'call', id: `${i}-${'x'.repeat(50)}`, service: 'player', method: 'status' }));
  await new Promise((r) => setTimeout(r, 500));
  // Reading stopped: only what was already read past the limit got through.
  expect(received).toBeLessThan(total / 4);
  // Answer whatever is pending, repeatedly, until everything has been read and answered.
  const deadline = Date.now() + 20_000;
  while (replies < total && Date.now() < deadline) {
    for (const go of waiting.splice(0)) go();
    await new Promise((r) => setTimeout(r, 5));
  }
  expect(received).toBe(total);
  expect(replies).toBe(total);
  ws.close();
});
