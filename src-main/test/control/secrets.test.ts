// The Subsonic password (a config field the plugin's schema marks "format": "password") is kept
// out of the settings files and stored only where other local users cannot read it: a 0600 file in
// a 0700 folder. The config in force still has it, also after a restart.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { ControlPlane } from '../../control/control-plane.js';
import { makeTestHome, startControl, type TestHome } from '../harness.js';
import { builtinPluginDir } from '../paths.js';

const SUBSONIC = 'dev.stellatune.subsonic';
const PASSWORD = 'hunter2-correct-horse';

let home: TestHome | null = null;
let cp: ControlPlane | null = null;

afterEach(async () => {
  await cp?.close();
  cp = null;
  home?.cleanup();
  home = null;
});

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? [p, ...walk(p)] : [p];
  });
}

it('the password is in no file readable by others, and survives a restart', async () => {
  home = makeTestHome();
  home.install(path.join(builtinPluginDir, 'subsonic-source.so'));
  cp = await startControl(home);
  const config = { server_url: 'http://127.0.0.1:9/', username: 'ann', password: PASSWORD, plain_password: false };
  cp.applyConfig(SUBSONIC, 'source', 'subsonic', config);
  expect(cp.settings.config(SUBSONIC, 'source', 'subsonic')).toMatchObject({ username: 'ann', password: PASSWORD });
  await cp.settings.flush();

  const holding: string[] = [];
  for (const p of walk(home.paths.home)) {
    const st = fs.statSync(p);
    if (st.isFile() && fs.readFileSync(p).includes(PASSWORD)) {
      holding.push(p);
      // Only the user may read it, and only the user may enter every folder above it in the home.
      expect((st.mode & 0o077).toString(8), `${p} is readable by others`).toBe('0');
      for (let dir = path.dirname(p); dir.startsWith(home.paths.settings); dir = path.dirname(dir)) {
        expect((fs.statSync(dir).mode & 0o077).toString(8), `${dir} is open to others`).toBe('0');
      }
    }
  }
  expect(holding).toEqual([path.join(home.paths.settings, 'secrets', `${SUBSONIC}.json`)]);
  expect(fs.readFileSync(path.join(home.paths.settings, 'plugins', `${SUBSONIC}.json`), 'utf8')).toContain('"username": "ann"');

  await cp.close();
  cp = await startControl(home);
  expect(cp.settings.config(SUBSONIC, 'source', 'subsonic')).toMatchObject({ username: 'ann', password: PASSWORD });
});

it('an exported state that holds the password is kept with the secrets, not in the settings file', async () => {
  home = makeTestHome();
  const { PluginSettingsStore } = await import('../../control/plugin-settings.js');
  const dir = path.join(home.paths.settings, 'plugins');
  const store = new PluginSettingsStore(dir, { secretsDir: path.join(home.paths.settings, 'secrets'), secretFields: () => ['password'] });
  store.setConfig('dev.x', 'source', 's', { user: 'ann', password: PASSWORD });
  store.setState('dev.x', 'source', 's', JSON.stringify({ session: `ann:${PASSWORD}` }));
  await store.flush();
  expect(fs.readFileSync(path.join(dir, 'dev.x.json'), 'utf8')).not.toContain(PASSWORD);
  expect(JSON.parse(store.state('dev.x', 'source', 's'))).toEqual({ session: `ann:${PASSWORD}` });
  // A state without it goes back to the settings file.
  store.setState('dev.x', 'source', 's', '{"counter":1}');
  await store.flush();
  expect(fs.readFileSync(path.join(dir, 'dev.x.json'), 'utf8')).toContain('counter');
  expect(store.state('dev.x', 'source', 's')).toBe('{"counter":1}');
  const fresh = new PluginSettingsStore(dir, { secretsDir: path.join(home.paths.settings, 'secrets'), secretFields: () => ['password'] });
  expect(fresh.config('dev.x', 'source', 's')).toEqual({ user: 'ann', password: PASSWORD });
});

it('with a cipher (the Electron shell passes safeStorage) the secret files hold only ciphertext; plain ones are sealed at their next write', async () => {
  home = makeTestHome();
  const { FileSecretStore } = await import('../../control/secret-store.js');
  const crypto = await import('node:crypto');
  // A real cipher standing in for safeStorage (whose key the OS keeps): AES-256-GCM.
  const key = crypto.randomBytes(32);
  const cipher = {
    name: 'test AES-GCM',
    encrypt(plain: string): Buffer {
      const iv = crypto.randomBytes(12);
      const c = crypto.createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]);
    },
    decrypt(sealed: Buffer): string {
      const d = crypto.createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      d.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([d.update(sealed.subarray(28)), d.final()]).toString('utf8');
    },
  };
  const dir = path.join(home.paths.settings, 'secrets');
  // Written before the cipher existed: plain.
  new FileSecretStore(dir).set('dev.x', 'source/s', { password: PASSWORD });
  expect(fs.readFileSync(path.join(dir, 'dev.x.json'), 'utf8')).toContain(PASSWORD);
  const sealed = new FileSecretStore(dir, cipher);
  expect(sealed.backend).toBe('0600 files sealed with test AES-GCM');
  expect(sealed.get('dev.x', 'source/s')).toEqual({ password: PASSWORD });
  sealed.set('dev.x', 'lyrics/l', { token: 'tok-123456' });
  const raw = fs.readFileSync(path.join(dir, 'dev.x.json'), 'utf8');
  expect(raw).not.toContain(PASSWORD);
  expect(raw).not.toContain('tok-123456');
  expect(JSON.parse(raw)).toMatchObject({ by: 'test AES-GCM', sealed: expect.any(String) });
  expect((fs.statSync(path.join(dir, 'dev.x.json')).mode & 0o077).toString(8)).toBe('0');
  const again = new FileSecretStore(dir, cipher);
  expect(again.get('dev.x', 'source/s')).toEqual({ password: PASSWORD });
  expect(again.get('dev.x', 'lyrics/l')).toEqual({ token: 'tok-123456' });
  expect(again.values().sort()).toEqual([PASSWORD, 'tok-123456'].sort());
});

it('a secret set again unchanged does not rewrite its file; a changed one does', async () => {
  home = makeTestHome();
  const { FileSecretStore } = await import('../../control/secret-store.js');
  const dir = path.join(home.paths.settings, 'secrets');
  const file = path.join(dir, 'dev.x.json');
  const store = new FileSecretStore(dir);
  store.set('dev.x', 'source/s', { password: PASSWORD });
  // Each write is a new file renamed over the old one: a new inode.
  const first = fs.statSync(file).ino;
  store.set('dev.x', 'source/s', { password: PASSWORD });
  expect(fs.statSync(file).ino).toBe(first);
  store.set('dev.x', 'source/s', { password: `${PASSWORD}-new` });
  expect(fs.statSync(file).ino).not.toBe(first);
  expect(new FileSecretStore(dir).get('dev.x', 'source/s')).toEqual({ password: `${PASSWORD}-new` });
});
