// A real browser-shell core as a child process (dist/src-main/shell/browser-main.js, real audio)
// and a minimal contract client over its WebSocket, for the restart and kill tests.
import type { ChildProcess } from 'node:child_process';
import WebSocket from 'ws';
import { spawnBrowserShell } from '../shell-launch.js';

export interface CoreProcess {
  proc: ChildProcess;
  url: string;
  /** Everything it printed on stderr (its log). */
  log(): string;
}

export async function startCore(home: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<CoreProcess> {
  const { proc, url, stderr } = await spawnBrowserShell([], { ...process.env, STELLATUNE_HOME: home, CI: '1', DBUS_SESSION_BUS_ADDRESS: '', ...extraEnv });
  return { proc, url, log: stderr };
}

export function exited(proc: ChildProcess, timeoutMs = 10_000): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the core did not exit')), timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

export interface CoreClient {
  call<T = unknown>(service: string, method: string, params?: unknown): Promise<T>;
  /** The last payload of each event ("player.didChangePosition"…). */
  last: Map<string, unknown>;
  close(): void;
}

/** Connects as the page would (its origin, its token). */
export async function connect(url: string): Promise<CoreClient> {
  const u = new URL(url);
  // The launch address carries the token as ?key= (older ones as #token=).
  const token = u.searchParams.get('key') ?? /token=([^&]+)/.exec(u.hash)![1]!;
  const ws = new WebSocket(`ws://${u.host}/rpc?token=${token}`, { origin: u.origin });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const last = new Map<string, unknown>();
  let n = 1;
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { t: string; id?: string; ok?: boolean; value?: unknown; error?: unknown; service?: string; event?: string; payload?: unknown };
    if (m.t === 'reply' && m.id) {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.ok) p?.resolve(m.value);
      else p?.reject(Object.assign(new Error(JSON.stringify(m.error)), { data: m.error }));
    } else if (m.t === 'event') last.set(`${m.service}.${m.event}`, m.payload);
  });
  ws.on('close', () => {
    for (const p of pending.values()) p.reject(new Error('closed'));
    pending.clear();
  });
  return {
    last,
    call: <T>(service: string, method: string, params?: unknown) =>
      new Promise<T>((resolve, reject) => {
        const id = `t${n++}`;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ t: 'call', id, service, method, params: params ?? null }));
      }),
    close: () => ws.close(),
  };
}
