// Runs the built browser shell (dist/src-main/shell/browser-main.js) as its own process, the way
// `npm start` does, over a scratch app home with the fixture plugin, and speaks raw HTTP to it.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { fixturePlugin } from '../paths.js';
import { makeTestHome, type TestHome } from '../harness.js';
import { spawnBrowserShell } from '../shell-launch.js';

export interface ShellProcess {
  proc: ChildProcess;
  home: TestHome;
  /** The printed launch address (…/session?key=TOKEN). */
  url: string;
  origin: string;
  port: number;
  token: string;
  stderr(): string;
  /** Resident set size of the core in bytes (Linux /proc). */
  rss(): number;
  stop(): Promise<void>;
}

/** Starts the shell over `reuse` (kept on stop) or over a fresh home with the fixture plugin. */
export async function startShellProcess(args: string[] = ['--no-audio'], reuse?: TestHome): Promise<ShellProcess> {
  const home = reuse ?? makeTestHome();
  if (!reuse) home.install(fixturePlugin);
  const { proc, url, stderr } = await spawnBrowserShell(args, { ...process.env, STELLATUNE_HOME: home.paths.home, CI: '1' });
  const u = new URL(url);
  return {
    proc,
    home,
    url,
    origin: u.origin,
    port: Number(u.port),
    token: u.searchParams.get('key') ?? '',
    stderr,
    rss: () => {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      }
      if (!reuse) home.cleanup();
    },
  };
}

export interface RawResponse {
  status: number;
  head: string;
}

/** Sends one request exactly as given (no client-side validation of the target) and reads the status. */
export function rawRequest(port: number, method: string, target: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    const lines = [`${method} ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    sock.setTimeout(10_000, () => sock.destroy(new Error(`no answer to ${method} ${target.slice(0, 80)}`)));
    sock.on('connect', () => sock.write(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')));
    sock.on('data', (d: Buffer) => (data += d.toString('latin1')));
    sock.on('error', reject);
    sock.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (!m) reject(new Error(`no status line for ${method} ${target.slice(0, 80)}: ${JSON.stringify(data.slice(0, 80))}`));
      else resolve({ status: Number(m[1]), head: data.slice(0, data.indexOf('\r\n\r\n')) });
    });
  });
}
