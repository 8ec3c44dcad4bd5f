// Entry of the browser shell (what `npm start` runs when there is no Electron binary): starts the
// core, serves the renderer on 127.0.0.1, prints the URL and opens it in a Chromium app window
// when one is installed and a display is available.
//   --port N        listen on N (default: a free port)
//   --no-open       do not open a browser window (also when CI is set or there is no display)
//   --plugins DIR   an extra plugin folder (repeatable; tests add the fixture folder)
//   --no-audio      run without the playback engine
//   --token T       the launch token (scripts/start.mjs passes it when it restarts a crashed core)
// STELLATUNE_HOME moves the app's data; STELLATUNE_EXTRA_PLUGINS adds plugin folders (path-list);
// STELLATUNE_BUILTIN_PLUGINS replaces the built-in folder; STELLATUNE_TEST_HOOKS=1 serves diagnostics.testBlock.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { appPaths, repoRoot } from '../app-paths.js';
import { AppCore } from '../app-core.js';
import { startBrowserShell } from './browser-shell.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'no-open': { type: 'boolean', default: false },
    plugins: { type: 'string', multiple: true, default: [] },
    'no-audio': { type: 'boolean', default: false },
    // The launch token, reused when scripts/start.mjs restarts a crashed core (the open page keeps it).
    token: { type: 'string' },
  },
  allowPositionals: true,
});

const log = (m: string): void => console.error(`[stellatune] ${m}`);
const paths = appPaths();

const core = await AppCore.start({
  shell: 'browser',
  paths,
  extraFolders: [...values.plugins, ...(process.env.STELLATUNE_EXTRA_PLUGINS ?? '').split(path.delimiter).filter(Boolean)].map((dir) => ({
    dir: path.resolve(dir),
    origin: 'user' as const,
    watch: false,
  })),
  engine: values['no-audio'] ? false : {},
  log,
});
const shell = await startBrowserShell({
  core,
  rendererDir: path.join(repoRoot, 'dist', 'renderer'),
  port: Number(values.port),
  ...(values.token ? { token: values.token } : {}),
  log,
});
// Tests read this line; keep its shape.
console.log(`StellaTune is running at ${shell.url}`);

function findChromium(): string | null {
  const names = process.platform === 'win32' ? [] : ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const n of names) {
      const p = path.join(dir, n);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return p;
      } catch {
        // keep looking
      }
    }
  }
  return null;
}

const headless = process.env.CI !== undefined || (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY);
if (!values['no-open'] && !headless) {
  const chromium = findChromium();
  if (chromium) {
    const profile = path.join(paths.home, 'browser-profile');
    fs.mkdirSync(profile, { recursive: true });
    // A one-time code, not the token: Chromium's command line is readable by every local user.
    const args = [`--app=${shell.launchUrl()}`, `--user-data-dir=${profile}`, '--no-first-run', '--no-default-browser-check', '--window-size=1200,800'];
    // Chromium refuses to run as root without this (containers, CI images).
    if (process.getuid?.() === 0) args.push('--no-sandbox');
    const child = spawn(chromium, args, { detached: true, stdio: 'ignore' });
    child.on('error', (err) => log(`could not open ${chromium}: ${err.message}`));
    const opened = Date.now();
    child.on('exit', (code) => {
      if (code !== 0 && Date.now() - opened < 5000) log(`${chromium} exited at once (code ${code}); open the URL above yourself`);
    });
    child.unref();
  } else {
    console.log('Open the URL above in a browser (no Chromium found to open it).');
  }
}

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  await shell.close();
  await core.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
