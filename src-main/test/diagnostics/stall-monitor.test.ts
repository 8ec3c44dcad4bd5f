// The stall monitor names what blocked the main loop: the RPC method of a deliberate 120 ms block
// (the env-gated test hook), a timer callback, a labelled plugin section, and code outside any
// callback; a plugin hot-load through the real registry is split into its sections.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppCore } from '../../app-core.js';
import { DiagnosticsHistory } from '../../diagnostics/history.js';
import { StallMonitor, stallMonitor } from '../../diagnostics/stall-monitor.js';
import { loopStats } from '../../../src-shared/diagnostics-report.js';
import { makeTestHome, sleep, type TestHome, waitFor } from '../harness.js';
import { fixturePlugin } from '../paths.js';

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // block
  }
}

describe('stall monitor on the real core', () => {
  let home: TestHome;
  let core: AppCore;
  let fixtureDir: string;

  beforeAll(async () => {
    process.env.STELLATUNE_TEST_HOOKS = '1';
    home = makeTestHome();
    fixtureDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stellatune-stall-'));
    core = await AppCore.start({ shell: 'test', paths: home.paths, engine: false, registry: { stableMs: 100, pollMs: 100 } });
    delete process.env.STELLATUNE_TEST_HOOKS;
  });

  afterAll(async () => {
    await core?.close();
    home?.cleanup();
    fs.rmSync(fixtureDir, { recursive: true, force: true });
  });

  it('attributes a 120 ms block in an RPC to that method', async () => {
    const before = stallMonitor.count;
    const session = core.router.openSession('stall');
    const r = await session.call('1', 'diagnostics', 'testBlock', { ms: 120 });
    expect(r.ok).toBe(true);
    await sleep(50);
    const h = await session.call('2', 'diagnostics', 'history', {});
    expect(h.ok).toBe(true);
    const view = (h as { value: { stalls: { durationMs: number; context: string | null; callback: string; cpuMs: number | null; waitMs: number | null }[]; stallCount: number } }).value;
    expect(view.stallCount).toBe(before + 1);
    const stall = view.stalls.at(-1)!;
    expect(stall.context).toBe('rpc diagnostics.testBlock');
    expect(stall.durationMs).toBeGreaterThanOrEqual(120);
    expect(stall.durationMs).toBeLessThan(400);
    // A busy loop: the main thread was on a CPU, or waiting for one, the whole time.
    expect(stall.cpuMs).not.toBeNull();
    expect(stall.cpuMs! + stall.waitMs!).toBeGreaterThanOrEqual(stall.durationMs * 0.8);
    session.close();
  });

  it('names the sections of a plugin hot-load (shadow copy, dlopen, entry, metadata)', async () => {
    // With no threshold every callback is recorded, so the load is seen however fast it is.
    const m = stallMonitor;
    m.thresholdMs = 0;
    m.keep = 1_000_000;
    m.sectionMinMs = 0;
    try {
      fs.copyFileSync(fixturePlugin, path.join(home.paths.userPlugins, 'st-fixture.so'));
      await waitFor(() => core.control.registry.current('dev.stellatune.fixture') !== null, 10_000, 'the fixture to hot-load');
      const load = m.list().find((s) => s.sections.some((x) => x.label === 'load st-fixture.so'));
      expect(load, JSON.stringify(m.list().slice(-5))).toBeDefined();
      expect(load!.context).toBe('plugin folder scan');
      const labels = load!.sections.map((x) => x.label.replace(/ st-fixture\.so$/, ''));
      expect(labels, JSON.stringify(load!.sections)).toContain('load');
      for (const l of ['shadow copy', 'check', 'dlopen', 'entry', 'metadata']) expect(labels, JSON.stringify(load!.sections)).toContain(l);
    } finally {
      m.thresholdMs = 50;
      m.keep = 500;
      m.sectionMinMs = 1;
    }
  });

  it('refuses the test hook on a core started without STELLATUNE_TEST_HOOKS', async () => {
    const other = makeTestHome();
    const plain = await AppCore.start({ shell: 'test', paths: other.paths, engine: false });
    try {
      const session = plain.router.openSession('plain');
      const r = await session.call('1', 'diagnostics', 'testBlock', { ms: 5 });
      expect(r).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
      const bad = await session.call('2', 'diagnostics', 'testBlock', { ms: 100_000 });
      expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    } finally {
      await plain.close();
      other.cleanup();
    }
  });
});

describe('stall monitor attribution', () => {
  it('names a timer callback, its sections, and a block outside any callback; profiles later stalls', async () => {
    stallMonitor.stop();
    const m = new StallMonitor({ thresholdMs: 50, profileMs: 1500, profileCooldownMs: 0 });
    m.start();
    try {
      await new Promise<void>((resolve) =>
        setTimeout(function refillQueue() {
          m.section('plugin call st-fixture list_items', () => busy(70));
          resolve();
        }, 5),
      );
      const first = m.list().at(-1)!;
      expect(first.callback).toBe('timer refillQueue');
      expect(first.sections[0]?.label).toBe('plugin call st-fixture list_items');
      expect(first.sections[0]!.ms).toBeGreaterThanOrEqual(70);
      // The first stall started a profile: the next one says which function was on the CPU.
      await sleep(100);
      await m.dispatch('rpc test.profiled', async () => {
        await null;
        (function decodeEverything(): void {
          busy(90);
        })();
      });
      await sleep(1700);
      const second = m.list().at(-1)!;
      expect(second.context).toBe('rpc test.profiled');
      expect(second.callback).toBe('promise');
      expect(second.profile?.some((f) => /decodeEverything|busy/.test(f.frame)), JSON.stringify(second.profile)).toBe(true);
    } finally {
      m.stop();
    }
    // Outside any callback the hooks saw begin (as start-up code is): only the watchdog sees it.
    const w = new StallMonitor({ thresholdMs: 50, profileMs: 0 });
    w.start();
    try {
      w.section('dlopen big.so', () => busy(120));
      await sleep(80);
      expect(w.count).toBe(1);
      const s = w.list()[0]!;
      expect(s.callback).toBe('main');
      expect(s.durationMs).toBeGreaterThanOrEqual(110);
      expect(s.sections[0]?.label).toBe('dlopen big.so');
    } finally {
      w.stop();
      stallMonitor.start();
    }
  });
});

describe('diagnostics history', () => {
  it('keeps one sample per interval with per-second deltas and pools loop percentiles', async () => {
    let completed = 0;
    let underruns = 3;
    const h = new DiagnosticsHistory(
      {
        ops: () => [{ pluginId: 'p', op: 'list_items', completed, failed: 0, timeout: 0, cancelled: 0, busy: 0, rejected: 0 }],
        live: () => ({ pendingOps: 1, openStreams: 0, liveInstances: 2, loadedGenerations: 3 }),
        engine: () => ({ underruns, deviceLosses: 0, ringFill: 0.5, ringFillMin: 0.4, blockLatencyP99: 0.2 }),
        stalls: () => 0,
      },
      { intervalMs: 100, capacity: 5 },
    );
    h.start();
    try {
      await sleep(120);
      completed = 7;
      underruns = 5;
      busy(30);
      await sleep(230);
      const s = h.list();
      expect(s.length).toBeGreaterThanOrEqual(2);
      expect(s.reduce((n, x) => n + (x.ops[0]?.completed ?? 0), 0)).toBe(7);
      expect(s.reduce((n, x) => n + x.underruns, 0)).toBe(2);
      const stats = loopStats(s);
      expect(stats.max).toBeGreaterThanOrEqual(25);
      expect(stats.p99).toBeLessThanOrEqual(stats.max);
      expect(s.every((x) => x.loop.buckets.reduce((a, b) => a + b, 0) === x.loop.count)).toBe(true);
      await sleep(500);
      expect(h.list().length).toBe(5); // capacity
    } finally {
      h.stop();
    }
  });
});
