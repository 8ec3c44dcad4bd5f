// A client that fires 40k calls and never reads the replies: the core's memory stays bounded, that
// connection is closed with a reason, and the core goes on serving other clients.
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { sleep, waitFor } from '../harness.js';
import { startShellProcess, type ShellProcess } from './shell-process.js';

let shell: ShellProcess;

beforeAll(async () => {
  shell = await startShellProcess();
});

afterAll(async () => {
  await shell?.stop();
});

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${shell.port}/rpc?token=${shell.token}`, { origin: shell.origin });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

it('40k unread calls: RSS bounded, that connection closed, other clients served', async () => {
  const baseline = shell.rss();
  const flood = await open();
  // Stop reading: replies pile up on the server's side of the socket.
  (flood as unknown as { _socket: import('node:net').Socket })._socket.pause();
  let closed = false;
  flood.on('close', () => (closed = true));
  flood.on('error', () => {});
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, shell.rss())), 20);
  try {
    for (let i = 0; i < 40_000; i++) {
      flood.send(JSON.stringify({ t: 'call', id: `c${i}`, service: 'plugins', method: 'list' }));
      if (i % 2000 === 1999) await sleep(5);
    }
    // Give the server time to process what it read and shed the connection.
    await sleep(3000);
    (flood as unknown as { _socket: import('node:net').Socket })._socket.resume();
    await waitFor(() => closed, 15_000, 'the flooding connection to be closed');
  } finally {
    clearInterval(sampler);
    flood.terminate();
  }
  const grewMb = (peak - baseline) / (1 << 20);
  console.log(`core RSS: baseline ${(baseline / (1 << 20)).toFixed(0)} MB, peak ${(peak / (1 << 20)).toFixed(0)} MB (+${grewMb.toFixed(0)} MB) during 40k unread calls`);
  expect(grewMb).toBeLessThan(150);
  expect(shell.stderr()).toMatch(/closing a WebSocket connection: the client does not read its replies/);
  // Another client is served.
  const other = await open();
  const reply = await new Promise<{ ok: boolean }>((resolve) => {
    other.on('message', (d) => resolve(JSON.parse(d.toString()) as { ok: boolean }));
    other.send(JSON.stringify({ t: 'call', id: 'x', service: 'diagnostics', method: 'info' }));
  });
  other.close();
  expect(reply.ok).toBe(true);
  expect(shell.proc.exitCode).toBeNull();
});
