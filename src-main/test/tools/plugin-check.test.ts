// The plugin checker passes a conforming plugin and fails broken ones with the reason.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CheckResult, checkPlugin } from '../../tools/plugin-check.js';
import { badFixtureDir, builtinPluginDir, fixturePlugin, templatePlugin } from '../paths.js';

async function check(lib: string): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  await checkPlugin(lib, (level, step, detail = '') => results.push({ level, step, detail }));
  return results;
}

describe('plugin:check', () => {
  it('passes the fixture and the built-in lrc plugin, exercising every capability', async () => {
    for (const lib of [fixturePlugin, path.join(builtinPluginDir, 'lrc-sidecar.so')]) {
      const results = await check(lib);
      expect(results.filter((r) => r.level === 'fail')).toEqual([]);
      expect(results.at(-1)!.step).toBe('shutdown');
    }
    const fixture = await check(fixturePlugin);
    const steps = new Set(fixture.map((r) => r.step));
    for (const s of ['source/fixture-source', 'lyrics/fixture-lyrics', 'decoder/fixture-decoder', 'dsp/fixture-gain', 'output/fixture-null']) {
      expect(steps).toContain(s);
    }
    expect(fixture.some((r) => r.step === 'source/fixture-source' && /cancelled op left PENDING after \d+ ms/.test(r.detail))).toBe(true);
  });

  it('passes the plugin template without a warning', async () => {
    const results = await check(templatePlugin);
    expect(results.filter((r) => r.level !== 'pass')).toEqual([]);
    const details = results.filter((r) => r.step === 'source/folder').map((r) => r.detail);
    expect(details).toContain('plan for the same config: hot_apply');
    expect(details.some((d) => /^a cancelled op left PENDING after \d+ ms/.test(d))).toBe(true);
    expect(results.at(-1)!.step).toBe('shutdown');
  });

  it('fails a library built for another ABI with the reason', async () => {
    const results = await check(path.join(badFixtureDir, 'abi-v8.so'));
    expect(results.filter((r) => r.level === 'fail')).toEqual([
      { level: 'fail', step: 'load', detail: expect.stringMatching(/^wrong_abi: built for plugin ABI 8/) },
    ]);
  });
});
