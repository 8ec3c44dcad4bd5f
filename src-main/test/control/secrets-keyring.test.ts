// The OS keyring path, for real: a private session bus (dbus-daemon) with gnome-keyring's Secret
// Service unlocked on it, the real control plane with the real Subsonic plugin, and libsecret's
// `secret-tool` (another Secret Service client) reading back what the player stored. The password
// ends up in the keyring and in no file under the app's home; secrets kept in 0600 files before
// move into the keyring; a bus without a Secret Service leaves them in the files.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ControlPlane } from '../../control/control-plane.js';
import { KEYRING_SERVICE } from '../../control/secret-vault.js';
import { makeTestHome, startControl, type TestHome } from '../harness.js';
import { builtinPluginDir, repoRoot } from '../paths.js';

const SUBSONIC = 'dev.stellatune.subsonic';
const FIRST = 'hunter2-correct-horse';
const SECOND = 'battery-staple-9981';

const started: ChildProcess[] = [];
let keyringHome = '';
let busAddress = '';
const savedBus = process.env.DBUS_SESSION_BUS_ADDRESS;

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl > 0) resolve(out.slice(0, nl).trim());
    });
    child.once('exit', (code) => reject(new Error(`exited (${code}) before printing`)));
  });
}

async function startBus(): Promise<string> {
  const bus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  started.push(bus);
  return firstLine(bus);
}

beforeAll(async () => {
  keyringHome = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-keyring-'));
  const runtime = path.join(keyringHome, 'run');
  fs.mkdirSync(runtime, { mode: 0o700 });
  busAddress = await startBus();
  // The daemon keeps its keyrings in its own HOME, apart from the app's; --unlock creates and
  // unlocks the login keyring with the password on stdin, so no prompt is ever needed.
  const env = { ...process.env, HOME: keyringHome, XDG_DATA_HOME: path.join(keyringHome, 'data'), XDG_RUNTIME_DIR: runtime, DBUS_SESSION_BUS_ADDRESS: busAddress };
  const daemon = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  started.push(daemon);
  daemon.stdin!.end('stellatune-test-login');
  // Ready once it owns the name: asked of the bus itself, since a call to the name before would
  // have the bus activate a second, locked daemon from the system's service files.
  const end = Date.now() + 10_000;
  const send = (...args: string[]): string => execFileSync('dbus-send', ['--session', '--print-reply', ...args], { env, encoding: 'utf8' });
  while (!send('--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets').includes('boolean true')) {
    if (Date.now() > end) throw new Error('gnome-keyring-daemon did not come up');
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(send('--dest=org.freedesktop.secrets', '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.ReadAlias', 'string:default')).toContain('/collection/login');
  process.env.DBUS_SESSION_BUS_ADDRESS = busAddress;
});

afterAll(() => {
  if (savedBus === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
  else process.env.DBUS_SESSION_BUS_ADDRESS = savedBus;
  for (const c of started.reverse()) c.kill();
  fs.rmSync(keyringHome, { recursive: true, force: true });
});

/** What the Secret Service holds for this home's entry, as libsecret's CLI reads it. */
function keyringEntry(home: TestHome, bus = busAddress): string | null {
  try {
    return execFileSync('secret-tool', ['lookup', 'service', KEYRING_SERVICE, 'username', path.join(home.paths.settings, 'secrets')], {
      env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: bus },
      encoding: 'utf8',
    });
  } catch {
    return null; // secret-tool exits 1 when nothing matches
  }
}

/** The files under `dir` whose bytes contain `needle` (as text, or hex- or percent-encoded). */
function filesHolding(dir: string, needle: string): string[] {
  const forms = [needle, Buffer.from(needle).toString('hex'), encodeURIComponent(needle)];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const bytes = fs.readFileSync(p);
        if (forms.some((f) => bytes.includes(f))) out.push(p);
      }
    }
  };
  walk(dir);
  return out;
}

const config = (password: string): Record<string, unknown> => ({ server_url: 'http://127.0.0.1:9/', username: 'ann', password, plain_password: false });

it('the password goes to the Secret Service and into no file of the app; file secrets move in; it survives restarts', async () => {
  const home = makeTestHome();
  home.install(path.join(builtinPluginDir, 'subsonic-source.so'));
  const lines: string[] = [];
  const log = (_s: string, _l: number, m: string): void => void lines.push(m);
  let cp: ControlPlane | null = null;
  try {
    // Before: kept in a 0600 file (no keyring asked for).
    cp = await startControl(home);
    cp.applyConfig(SUBSONIC, 'source', 'subsonic', config(FIRST));
    await cp.close();
    expect(filesHolding(home.paths.home, FIRST)).toEqual([path.join(home.paths.settings, 'secrets', `${SUBSONIC}.json`)]);
    expect(keyringEntry(home)).toBeNull();

    // With the keyring: the file's secret moves in and the file goes.
    cp = await startControl(home, { secrets: { keyring: true }, registry: { log } });
    expect(lines.join('\n')).toMatch(/moved the secrets of 1 plugin\(s\) from files into the Secret Service/);
    expect(lines.join('\n')).toMatch(/plugin secrets are kept in the Secret Service/);
    expect(cp.settings.config(SUBSONIC, 'source', 'subsonic')).toMatchObject({ username: 'ann', password: FIRST });
    expect(keyringEntry(home)).toContain(FIRST);
    expect(filesHolding(home.paths.home, FIRST)).toEqual([]);

    // A new password replaces it in the keyring; still in no file.
    cp.applyConfig(SUBSONIC, 'source', 'subsonic', config(SECOND));
    await cp.settings.flush();
    const held = keyringEntry(home)!;
    expect(held).toContain(SECOND);
    expect(held).not.toContain(FIRST);
    expect(filesHolding(home.paths.home, SECOND)).toEqual([]);
    expect(fs.readFileSync(path.join(home.paths.settings, 'plugins', `${SUBSONIC}.json`), 'utf8')).toContain('"username": "ann"');
    await cp.close();

    // The next start reads it back from the keyring: the plugin gets it, no file has it.
    cp = await startControl(home, { secrets: { keyring: true } });
    expect(cp.settings.config(SUBSONIC, 'source', 'subsonic')).toMatchObject({ password: SECOND });
    expect(filesHolding(home.paths.home, SECOND)).toEqual([]);
    await cp.close();
    cp = null;
  } finally {
    await cp?.close();
    home.cleanup();
  }
});

// In a child process: keyring-rs keeps its D-Bus connection for the life of the process.
it('a session bus without a Secret Service: the secrets stay in 0600 files, with a log line', async () => {
  const dir = path.join(keyringHome, 'bare-home', 'secrets');
  // A bus on which nothing owns org.freedesktop.secrets and nothing can be activated (no
  // service folders, unlike the session config, which would start a locked daemon).
  const conf = path.join(keyringHome, 'bare-bus.conf');
  fs.writeFileSync(
    conf,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:tmpdir=${keyringHome}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`,
  );
  const bare = spawn('dbus-daemon', ['--config-file', conf, '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  started.push(bare);
  const bareAddress = await firstLine(bare);
  const vault = pathToFileURL(path.join(repoRoot, 'dist', 'src-main', 'control', 'secret-vault.js')).href;
  const script = `
    const { openSecretStore } = await import(${JSON.stringify(vault)});
    const lines = [];
    const store = await openSecretStore({ dir: ${JSON.stringify(dir)}, keyring: true, log: (m) => lines.push(m) });
    store.set('dev.x', 'source/s', { password: ${JSON.stringify(FIRST)} });
    await store.flush();
    console.log(JSON.stringify({ backend: store.backend, lines }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: bareAddress }, encoding: 'utf8', timeout: 20_000 });
  const r = JSON.parse(out.trim().split('\n').pop()!) as { backend: string; lines: string[] };
  expect(r.backend).toBe('0600 files in a 0700 folder');
  expect(r.lines.join('\n')).toMatch(/the OS keyring did not answer \(.+\); kept in 0600 files/);
  const file = path.join(dir, 'dev.x.json');
  expect(fs.readFileSync(file, 'utf8')).toContain(FIRST);
  expect((fs.statSync(file).mode & 0o077).toString(8)).toBe('0');
  expect((fs.statSync(dir).mode & 0o077).toString(8)).toBe('0');
});
