// `npm start`: the Electron app when the Electron binary is installed; otherwise the browser shell
// (the same core in plain Node), which prints its URL and opens it in a Chromium app window.
// Extra arguments go to the browser shell (e.g. --no-open, --port 8080).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronBinary } from './electron-binary.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const electron = process.env.STELLATUNE_SHELL === 'browser' ? null : electronBinary();

// A plugin that crashes the core leaves a crash record and the next start quarantines it, so the
// core is restarted once after a crash (a signal death): on the same port with the same token, so
// the open window reconnects by itself. A second crash ends the run. The Electron app is relaunched
// once the same way.
let child;
let stopping = false;
let restarted = false;
let address = null; // { port, token } of the running browser shell

function launchBrowserShell(extra) {
  const c = spawn(process.execPath, [path.join(root, 'dist', 'src-main', 'shell', 'browser-main.js'), ...args, ...extra], {
    stdio: ['inherit', 'pipe', 'inherit'],
  });
  c.stdout.on('data', (d) => {
    process.stdout.write(d);
    // The printed address carries the launch token (…/session?key=TOKEN); the session cookie the
    // open page holds is that token, so a core restarted with it lets the page back in.
    const m = /running at http:\/\/127\.0\.0\.1:(\d+)\/session\?key=(\S+)/.exec(d.toString());
    if (m) address = { port: m[1], token: m[2] };
  });
  return c;
}

function watch(c) {
  c.on('exit', (code, signal) => {
    const crashed = signal !== null && signal !== 'SIGINT' && signal !== 'SIGTERM';
    if (crashed && !stopping && !restarted && (electron || address)) {
      restarted = true;
      console.log(`The player ${electron ? 'app' : 'core'} crashed (${signal}); restarting it once.${electron ? '' : ' The open window reconnects.'}`);
      child = electron
        ? spawn(electron, [root, ...args], { stdio: 'inherit' })
        : launchBrowserShell(['--port', address.port, '--token', address.token, '--no-open']);
      watch(child);
      return;
    }
    process.exit(signal ? 1 : (code ?? 0));
  });
}

child = electron ? spawn(electron, [root, ...args], { stdio: 'inherit' }) : launchBrowserShell([]);
if (!electron) console.log('Electron is not installed; starting the browser shell.');
watch(child);

for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    stopping = true;
    child.kill(sig);
  });
