// A secret never reaches the renderer nor a log line: the fixture plugin's `api_key` (schema
// `format: password`), which the fixture — as a careless plugin would — logs on every apply, as
// such and inside a URL. Through the real core and its contract router: plugins.list carries no
// secret value, only which secret fields are stored; an apply that leaves the field out keeps it,
// one that sends it replaces it, "" clears it; plugin log lines, the core's own log lines and
// error replies have it replaced by ***.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { AppCore } from '../../app-core.js';
import type { PluginView } from '../../../src-shared/contract.js';
import { RpcError } from '../../../src-shared/rpc-error.js';
import { makeTestHome, type TestHome, waitFor } from '../harness.js';
import { fixturePlugin } from '../paths.js';

const FIXTURE = 'dev.stellatune.fixture';
const KEY = 'sk-live-51HfZ9qWxYz';
const NEW_KEY = 'sk-live-77AbCdEfGh';

let core: AppCore | null = null;
let home: TestHome | null = null;

afterEach(async () => {
  await core?.close();
  core = null;
  home?.cleanup();
  home = null;
});

async function start(lines: string[]): Promise<AppCore> {
  home ??= makeTestHome({ builtins: false });
  const extra = path.join(home.paths.home, 'extra');
  fs.mkdirSync(extra, { recursive: true });
  fs.copyFileSync(fixturePlugin, path.join(extra, path.basename(fixturePlugin)));
  return AppCore.start({ shell: 'test', paths: home.paths, engine: false, extraFolders: [{ dir: extra, origin: 'user', watch: false }], log: (m) => void lines.push(m) });
}

const call = (c: AppCore, service: string, name: string, params: unknown): Promise<unknown> => c.router.call(service, name, params, new AbortController().signal);

function sourceCap(list: PluginView[]): PluginView['capabilities'][number] {
  return list.find((p) => p.pluginId === FIXTURE)!.capabilities.find((c) => c.typeId === 'fixture-source')!;
}

it('plugins.list never carries the secret; leaving it out keeps it, sending it replaces it; logs and errors show ***', async () => {
  const lines: string[] = [];
  core = await start(lines);
  const apply = (config: Record<string, unknown>): Promise<unknown> => call(core!, 'plugins', 'applyConfig', { pluginId: FIXTURE, kind: 'source', typeId: 'fixture-source', config });

  expect(sourceCap((await call(core, 'plugins', 'list', null)) as PluginView[]).storedSecrets).toEqual([]);
  // A browse makes the instance, which the applies below then reconfigure.
  await call(core, 'sources', 'list', { pluginId: FIXTURE, typeId: 'fixture-source', request: { action: 'browse' } });
  await apply({ mode: 'ok', api_key: KEY });
  // The plugin got it (it logged it); the log has *** in its place, in the URL too.
  await waitFor(() => lines.some((l) => l.includes('signing in with api key')), 5000, 'the fixture to log');
  expect(lines.filter((l) => l.includes('signing in'))).toEqual([expect.stringMatching(/\[plugin .*st-fixture.*\] signing in with api key \*\*\* \(GET \/auth\?key=\*\*\*\)$/)]);

  let list = (await call(core, 'plugins', 'list', null)) as PluginView[];
  expect(JSON.stringify(list)).not.toContain(KEY);
  expect(sourceCap(list)).toMatchObject({ storedSecrets: ['api_key'], config: { mode: 'ok' } });
  expect(sourceCap(list).config).not.toHaveProperty('api_key');

  // The form's apply of other fields leaves the secret out: kept, and the plugin still has it.
  await apply({ mode: 'delay', delay_ms: 5 });
  expect(core.control.settings.config(FIXTURE, 'source', 'fixture-source')).toMatchObject({ mode: 'delay', api_key: KEY });
  await waitFor(() => lines.filter((l) => l.includes('signing in')).length === 2, 5000, 'the second apply');

  // Sending it replaces it.
  await apply({ mode: 'ok', api_key: NEW_KEY });
  expect(core.control.settings.config(FIXTURE, 'source', 'fixture-source')).toMatchObject({ api_key: NEW_KEY });
  list = (await call(core, 'plugins', 'list', null)) as PluginView[];
  expect(JSON.stringify(list)).not.toContain(NEW_KEY);
  expect(sourceCap(list).storedSecrets).toEqual(['api_key']);

  // A plugin error quoting the secret reaches the renderer scrubbed.
  const err = await call(core, 'sources', 'list', {
    pluginId: FIXTURE,
    typeId: 'fixture-source',
    request: { action: 'browse', fixture: { mode: 'fail', message: `401 for key ${NEW_KEY}` } },
  }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RpcError);
  expect((err as RpcError).message).toContain('401 for key ***');
  expect((err as RpcError).message).not.toContain(NEW_KEY);

  // The core's own log lines too (here: an event the contract refuses, logged by the core).
  core.events.emit('error', new Error(`could not reach https://example.invalid/?token=${NEW_KEY}`));
  expect(lines.at(-1)).toBe('could not reach https://example.invalid/?token=***');

  // "" clears it: nothing stored any more.
  await apply({ mode: 'ok', api_key: '' });
  expect(sourceCap((await call(core, 'plugins', 'list', null)) as PluginView[]).storedSecrets).toEqual([]);

  const all = lines.join('\n');
  expect(all).not.toContain(KEY);
  expect(all).not.toContain(NEW_KEY);
});
