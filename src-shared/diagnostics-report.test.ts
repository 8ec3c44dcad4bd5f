// The report page: pooled block percentiles over a window, every chart present, text escaped,
// nothing that would load from elsewhere.
import { describe, expect, it } from 'vitest';
import type { HistorySample } from './diagnostics-contract.js';
import { DELAY_BUCKET_EDGES_MS, loopStats, renderReportHtml } from './diagnostics-report.js';

function sample(at: number, blocks: Record<number, number>, extra: Partial<HistorySample> = {}): HistorySample {
  const buckets = new Array<number>(DELAY_BUCKET_EDGES_MS.length + 1).fill(0);
  let count = 0;
  let max = 0;
  for (const [ms, n] of Object.entries(blocks)) {
    const v = Number(ms);
    const i = DELAY_BUCKET_EDGES_MS.findIndex((e) => v <= e);
    buckets[i < 0 ? DELAY_BUCKET_EDGES_MS.length : i]! += n;
    count += n;
    max = Math.max(max, v);
  }
  return {
    at,
    loop: { p50: 0, p99: 0, max, count, buckets },
    ops: [],
    underruns: 0,
    deviceLosses: 0,
    ringFill: 0.9,
    ringFillMin: 0.8,
    blockLatencyP99: 0.1,
    pendingOps: 0,
    openStreams: 1,
    liveInstances: 2,
    loadedGenerations: 3,
    stalls: 0,
    ...extra,
  };
}

describe('loopStats', () => {
  it('pools the buckets of every second', () => {
    // 990 samples at 0.1 ms and 10 at 12 ms: p99 is still small; 20 at 12 ms and it is not.
    const quiet = loopStats([sample(1, { 0.1: 495 }), sample(2, { 0.1: 495, 12: 10 })]);
    expect(quiet.p50).toBe(0.1);
    expect(quiet.p99).toBeLessThanOrEqual(0.1);
    expect(quiet.max).toBe(12);
    const busy = loopStats([sample(1, { 0.1: 490, 12: 10 }), sample(2, { 0.1: 490, 12: 10 })]);
    expect(busy.p99).toBe(12);
    expect(loopStats([]).count).toBe(0);
  });
});

describe('renderReportHtml', () => {
  it('draws every chart, escapes text and loads nothing', () => {
    const samples = [1, 2, 3].map((i) =>
      sample(1_700_000_000_000 + i * 1000, { 0.1: 400 }, { ops: [{ pluginId: 'dev.stellatune.fixture', completed: i, failed: 0, timeout: 1, cancelled: 0, busy: 0, rejected: 0 }], underruns: i === 2 ? 1 : 0 }),
    );
    const html = renderReportHtml({
      title: 'QA <run>',
      generatedAt: 1_700_000_000_000,
      sections: [
        {
          id: 'scenario-a',
          title: 'A & more',
          from: samples[0]!.at,
          to: samples[2]!.at,
          thresholds: [{ name: 'underruns', limit: '= 0', value: '1', pass: false }],
          samples,
          stalls: [{ at: samples[1]!.at, durationMs: 120, callback: 'TCPWRAP', context: 'rpc diagnostics.testBlock', sections: [{ label: 'dlopen <x>.so', ms: 80 }], profile: null, cpuMs: 119, waitMs: 1 }],
          stallCount: 1,
        },
      ],
    });
    for (const id of ['event-loop', 'calls-per-plugin', 'outcomes', 'underruns', 'ring-fill', 'live']) expect(html).toContain(`data-chart="${id}"`);
    expect(html).toContain('QA &lt;run&gt;');
    expect(html).toContain('dlopen &lt;x&gt;.so');
    expect(html).toContain('A &amp; more');
    expect(html).toContain('FAIL');
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/);
  });
});
