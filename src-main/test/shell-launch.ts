// Starts the built browser shell (dist/src-main/shell/browser-main.js) as its own process, the way
// `npm start` does, and waits for the launch address it prints. Shared by the vitest shell tests,
// the restart tests and the Playwright support code.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../app-paths.js';

export interface LaunchedShell {
  proc: ChildProcess;
  /** The printed launch address (…/session?key=TOKEN). */
  url: string;
  /** Everything it printed on stderr so far (its log). */
  stderr(): string;
}

/**
 * `ownSession`: the core runs in a session of its own (setsid), as it does when a listener starts
 * it from a desktop or a terminal. Linux's autogroup scheduler shares the CPU between sessions
 * first: in the spawner's session, the core's main thread would share one session's share with the
 * test runner and its load generator, and the QA figures would time the harness's scheduling.
 */
export async function spawnBrowserShell(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000, opts: { ownSession?: boolean } = {}): Promise<LaunchedShell> {
  // Node flags for the core only (QA_CORE_NODE_ARGS: a CPU profile; Node refuses --cpu-prof in
  // NODE_OPTIONS).
  const nodeArgs = (env.STELLATUNE_E2E_CORE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, path.join(repoRoot, 'dist', 'src-main', 'shell', 'browser-main.js'), '--no-open', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.ownSession === true,
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the browser shell did not start:\n${out}\n${err}`)), timeoutMs);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /running at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the browser shell exited (${code}):\n${out}\n${err}`));
    });
  });
  return { proc, url, stderr: () => err };
}
