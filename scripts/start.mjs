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

const child = electron
  ? spawn(electron, [root, ...args], { stdio: 'inherit' })
  : spawn(process.execPath, [path.join(root, 'dist', 'src-main', 'shell', 'browser-main.js'), ...args], { stdio: 'inherit' });
if (!electron) console.log('Electron is not installed; starting the browser shell.');

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
