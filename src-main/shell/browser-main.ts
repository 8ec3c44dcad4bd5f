// Entry of the browser shell (what `npm start` runs when there is no Electron binary): starts the
// core, serves the renderer on 127.0.0.1, prints the URL and opens it in a Chromium app window
// when one is installed and a display is available.
//   --port N        listen on N (default: a free port)
//   --no-open       do not open a browser window (also when CI is set or there is no display)
//   --plugins DIR   an extra plugin folder (repeatable; tests add the fixture folder)
//   --no-audio      run without the playback engine
// STELLATUNE_HOME moves the app's data; STELLATUNE_EXTRA_PLUGINS adds plugin folders (path-list);
// STELLATUNE_BUILTIN_PLUGINS replaces the built-in folder; STELLATUNE_TEST_HOOKS=1 serves diagnostics.testBlock.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { appPaths, repoRoot } from '../app-paths.js';
import { AppCore } from '../app-core.js';
import { coverUrlFor, startBrowserShell } from './browser-shell.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'no-open': { type: 'boolean', default: false },
    plugins: { type: 'string', multiple: true, default: [] },
    'no-audio': { type: 'boolean', default: false },
  },
  allowPositionals: true,
});

const log = (m: string): void => console.error(`[stellatune] ${m}`);
// The launch token, reused when scripts/start.mjs restarts a crashed core (the open page keeps it).
// It comes through the environment, which only this user can read, never the command line
// (/proc/PID/cmdline is readable by every local user); it is dropped so no child inherits it.
const launchToken = process.env.STELLATUNE_LAUNCH_TOKEN;
delete process.env.STELLATUNE_LAUNCH_TOKEN;
const paths = appPaths();

// The token is known before the core starts, so the core can hand out cover URLs tied to it.
const token = launchToken ?? crypto.randomBytes(24).toString('base64url');
const core = await AppCore.start({
  shell: 'browser',
  paths,
  coverUrl: coverUrlFor(token),
  extraFolders: [...values.plugins, ...(process.env.STELLATUNE_EXTRA_PLUGINS ?? '').split(path.delimiter).filter(Boolean)].map((dir) => ({
    dir: path.resolve(dir),
    origin: 'user' as const,
    watch: false,
  })),
  engine: values['no-audio'] ? false : {},
  log,
});
// Without --port, the port of the last run when it is free: an address from before a restart then
// reaches this core, which tells that page it was restarted (its token is stale) instead of
// leaving it knocking on a dead port.
const portFile = path.join(paths.home, 'browser-port');
const lastPort = ((): number => {
  try {
    const n = Number(fs.readFileSync(portFile, 'utf8').trim());
    return Number.isInteger(n) && n > 1024 && n < 65536 ? n : 0;
  } catch {
    return 0;
  }
})();
const shellOptions = {
  core,
  rendererDir: path.join(repoRoot, 'dist', 'renderer'),
  token,
  coversDir: path.join(paths.home, 'art'),
  log,
  // Closing the player's window ends the player, unless the listener asked to keep it playing.
  // STELLATUNE_WINDOW_GRACE_MS: how long a reload may take (tests shorten it).
  idleGraceMs: Number(process.env.STELLATUNE_WINDOW_GRACE_MS) || 10_000,
  onNoWindows: () => {
    if (core.session?.settings.keepPlayingInBackground) {
      log('the window closed; playing on in the background (open the address above to come back)');
      return;
    }
    log('the window closed; stopping');
    void shutdown();
  },
};
const wanted = Number(values.port);
const shell = await startBrowserShell({ ...shellOptions, port: wanted || lastPort }).catch((err: NodeJS.ErrnoException) => {
  if (wanted || !lastPort || err.code !== 'EADDRINUSE') throw err;
  return startBrowserShell({ ...shellOptions, port: 0 });
});
try {
  fs.writeFileSync(portFile, String(shell.port));
} catch {
  // not remembered: the next run picks a free port
}
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
