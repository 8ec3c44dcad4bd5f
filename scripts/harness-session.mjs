#!/usr/bin/env node
// Runs a test harness (`node scripts/harness-session.mjs playwright test …`) in a session of its
// own whose autogroup runs at nice 10, so that on Linux the harness yields the CPU to the player
// it measures. Linux's autogroup scheduler shares the CPU between sessions first: the core under
// test and the Chromium it is driven in each have a session of their own (as a listener's launch
// does), and the harness's (Playwright's runner and workers pressing keys and driving the call
// load, the Subsonic and lyrics servers on 127.0.0.1) would otherwise weigh as much as the core's.
// On 2 cores with one other busy process, scenario B's main-loop block p99 measured 5-6 ms with
// the harness at nice 0 and 2.5-3 ms at nice 10. A session of its own, so that the terminal's
// session (the shell the tests were typed in) keeps its priority. Elsewhere the command runs as is.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: harness-session.mjs <command> [args…]');
  process.exit(2);
}

const linux = process.platform === 'linux';
// The repo's own tools first (npm puts node_modules/.bin on PATH; a plain `node` call does not).
const local = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '.bin', command);
const file = !command.includes('/') && fs.existsSync(local) ? local : command;
// On Windows the .cmd shim needs a shell.
const child = spawn(file, args, { stdio: 'inherit', detached: linux, shell: process.platform === 'win32' });
if (linux && child.pid !== undefined) {
  try {
    // Raising a nice value needs no privilege; a kernel without autogroups has no such file.
    fs.writeFileSync(`/proc/${child.pid}/autogroup`, '10');
  } catch {
    // the harness runs at the terminal session's weight
  }
}
// Out of the terminal's process group, the child no longer gets Ctrl-C from it: pass signals on.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (child.pid !== undefined) {
      try {
        process.kill(child.pid, sig);
      } catch {
        // already gone
      }
    }
  });
}
child.on('error', (err) => {
  console.error(`harness-session: ${command}: ${err.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0));
});
