// A plugin result far over the limit (600 MB) is refused by its length before koffi copies a byte
// of it: a clean result_too_large, and the core's memory does not move.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ControlPlane } from '../../control/control-plane.js';
import { makeTestHome, rejection, startControl, type TestHome } from '../harness.js';
import { fixturePlugin } from '../paths.js';

const FX = 'dev.stellatune.fixture';

let home: TestHome;
let cp: ControlPlane;

beforeAll(async () => {
  home = makeTestHome();
  home.install(fixturePlugin);
  cp = await startControl(home);
});

afterAll(async () => {
  await cp?.close();
  home?.cleanup();
});

it('600 MB from a plugin: result_too_large, RSS under 100 MB above the baseline', async () => {
  // Warm the path first so its one-time costs are in the baseline.
  await cp.fetchLyrics(FX, 'fixture-lyrics', { fixture: { mode: 'huge', huge_bytes: 1024 } });
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  try {
    for (const [op, call] of [
      ['list_items', () => cp.listItems(FX, 'fixture-source', { fixture: { mode: 'huge', huge_bytes: 600e6 } })],
      ['fetch', () => cp.fetchLyrics(FX, 'fixture-lyrics', { fixture: { mode: 'huge', huge_bytes: 600e6 } })],
    ] as const) {
      const err = await rejection(call());
      expect(err).toMatchObject({ code: 'result_too_large', pluginId: FX, op });
      expect(err.message).toMatch(/600000000 bytes/);
    }
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  const grewMb = (peak - baseline) / (1 << 20);
  console.log(`RSS: baseline ${(baseline / (1 << 20)).toFixed(0)} MB, peak ${(peak / (1 << 20)).toFixed(0)} MB (+${grewMb.toFixed(1)} MB) while refusing two 600 MB results`);
  expect(grewMb).toBeLessThan(100);
  expect(cp.live().pendingOps).toBe(0);
});
