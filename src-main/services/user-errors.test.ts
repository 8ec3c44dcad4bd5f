// A careless listener's calls on the real core: each gets a code of its own (internal is kept for
// bugs), and a refused call changes nothing — no settings file for a plugin that does not exist,
// no prototype key in a stored config.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppCore } from '../app-core.js';
import { makeTestHome, type TestHome } from '../test/harness.js';
import { fixturePlugin } from '../test/paths.js';
import { clampSeek } from './player-service.js';
import type { RouterSession } from './router.js';

let home: TestHome;
let core: AppCore;
let session: RouterSession;

beforeAll(async () => {
  home = makeTestHome();
  home.install(fixturePlugin);
  core = await AppCore.start({ shell: 'test', paths: home.paths, engine: false });
  session = core.router.openSession('user-errors');
});

afterAll(async () => {
  session?.close();
  await core?.close();
  home?.cleanup();
});

const call = (service: string, method: string, params?: unknown) => session.call(`${service}.${method}.${Math.random()}`, service, method, params);

async function errorCode(service: string, method: string, params?: unknown): Promise<string> {
  const r = await call(service, method, params);
  expect(r.ok, `${service}.${method} should fail`).toBe(false);
  return r.ok ? '' : r.error.code;
}

describe('user errors', () => {
  it('get their own codes, not internal', async () => {
    expect(await errorCode('player', 'play')).toBe('failed_precondition');
    await call('queue', 'add', { tracks: [{ title: 't', source: { kind: 'file', path: '/tmp/none.wav' } }] });
    expect(await errorCode('player', 'play', { index: 5 })).toBe('not_found');
    expect(await errorCode('queue', 'move', { id: 'q-nope', toIndex: 0 })).toBe('not_found');
    expect(await errorCode('plugins', 'enable', { pluginId: 'Dev.Unsafe' })).toBe('not_found');
    expect(await errorCode('plugins', 'applyConfig', { pluginId: 'Dev.Unsafe', kind: 'dsp', typeId: 't', config: {} })).not.toBe('internal');
    expect(await errorCode('output', 'set', { choice: { kind: 'plugin', pluginId: 'dev.nobody', typeId: 'x', target: {} } })).not.toBe('internal');
  });

  it('plugins.enable and disable with an unknown id create nothing', async () => {
    const before = fs.readdirSync(home.paths.settings).sort();
    expect(await errorCode('plugins', 'enable', { pluginId: 'dev.does-not-exist' })).toBe('not_found');
    expect(await errorCode('plugins', 'disable', { pluginId: 'dev.does-not-exist' })).toBe('not_found');
    expect(fs.readdirSync(home.paths.settings).sort()).toEqual(before);
    expect(fs.existsSync(path.join(home.paths.settings, 'dev.does-not-exist.json'))).toBe(false);
  });

  it('a __proto__ key in a config never reaches the settings file', async () => {
    const params = JSON.parse('{"pluginId":"dev.stellatune.fixture","kind":"source","typeId":"fixture-source","config":{"delay_ms":1,"__proto__":{"polluted":true}}}');
    expect(await errorCode('plugins', 'applyConfig', params)).toBe('invalid_argument');
    const file = path.join(home.paths.settings, 'dev.stellatune.fixture.json');
    if (fs.existsSync(file)) expect(fs.readFileSync(file, 'utf8')).not.toContain('__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a seek is clamped to the track', () => {
    expect(clampSeek(1e308, 180_000)).toBe(180_000);
    expect(clampSeek(1e20, 180_000)).toBe(180_000);
    expect(clampSeek(5000, 180_000)).toBe(5000);
    expect(clampSeek(1e308, null)).toBe(2 ** 40);
  });
});
