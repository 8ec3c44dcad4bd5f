// Fault injection between the network plugins and their servers (a loopback proxy on its own
// thread): latency, a hang, 500s, malformed JSON, and a connection reset, a truncated body or a
// stall in the middle of a stream (a broken transfer is first resumed with Range, a few times).
// Each ends in the right structured error or timeout, the main event loop stays free while the
// plugins wait, and nothing leaks: no pending op, open stream, live instance or proxied
// connection is left behind.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../control/control-plane.js';
import { PluginCallError } from '../../plugins/errors.js';
import { type FaultProxy, type FaultRule, startFaultProxy } from '../../tools/net-servers/fault-proxy.js';
import { startLrclibServer, type LrclibServer } from '../../tools/net-servers/lrclib-server.js';
import { startSupysonic, type SupysonicServer } from '../../tools/net-servers/supysonic.js';
import { waitFor, type TestHome } from '../harness.js';
import { decodeAll, type Item, type ItemPage, LRCLIB, LRCLIB_TYPE, openDecoder, rejection, startNetworkControl, SUBSONIC, SUBSONIC_TYPE } from './helpers.js';

let subsonic: SupysonicServer;
let lrclib: LrclibServer;
let subsonicProxy: FaultProxy;
let lrclibProxy: FaultProxy;
let dawn: Item;
let home: TestHome;
let cp: ControlPlane;

beforeAll(async () => {
  subsonic = await startSupysonic();
  lrclib = await startLrclibServer();
  subsonicProxy = await startFaultProxy({ port: subsonic.port });
  lrclibProxy = await startFaultProxy({ port: Number(new URL(lrclib.url).port) });
});

afterAll(async () => {
  await subsonicProxy?.stop();
  await lrclibProxy?.stop();
  await lrclib?.stop();
  await subsonic?.stop();
});

beforeEach(async () => {
  subsonicProxy.setMode({ kind: 'pass' });
  subsonicProxy.setRules([]);
  lrclibProxy.setMode({ kind: 'pass' });
  lrclibProxy.setRules([]);
  ({ home, cp } = await startNetworkControl());
  configureSubsonic({});
  cp.applyConfig(LRCLIB, 'lyrics', LRCLIB_TYPE, { base_url: lrclibProxy.url, timeout_ms: 5000 });
  if (!dawn) {
    const found = (await cp.listItems(SUBSONIC, SUBSONIC_TYPE, { action: 'search', query: 'Dawn' })) as ItemPage;
    dawn = found.items.find((i) => i.kind === 'track' && i.title === 'Dawn')!;
  }
});

afterEach(async () => {
  await waitFor(() => cp.live().pendingOps === 0, 8000, 'pending ops to drain');
  expect(cp.live()).toMatchObject({ pendingOps: 0, openStreams: 0 });
  await cp.close();
  expect(cp.live()).toMatchObject({ pendingOps: 0, openStreams: 0, liveInstances: 0, loadedGenerations: 0 });
  // Every connection the plugins opened is closed (hung ones included: cancel aborted them).
  const deadline = Date.now() + 2000;
  while ((await subsonicProxy.openConnections()) + (await lrclibProxy.openConnections()) > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  expect((await subsonicProxy.openConnections()) + (await lrclibProxy.openConnections())).toBe(0);
  home.cleanup();
});

function configureSubsonic(extra: Record<string, unknown>): void {
  cp.applyConfig(SUBSONIC, 'source', SUBSONIC_TYPE, subsonic.pluginConfig({ server_url: subsonicProxy.url, ...extra }));
}

const listAlbums = (opts?: { deadlineMs?: number; signal?: AbortSignal }): Promise<unknown> =>
  cp.listItems(SUBSONIC, SUBSONIC_TYPE, { action: 'albums' }, opts);
const searchLyrics = (opts?: { deadlineMs?: number; signal?: AbortSignal }): Promise<unknown> =>
  cp.searchLyrics(LRCLIB, LRCLIB_TYPE, { query: 'dawn' }, opts);

describe('control calls under faults', () => {
  it('added latency only slows requests down', async () => {
    subsonicProxy.setMode({ kind: 'pass', latencyMs: 400 });
    lrclibProxy.setMode({ kind: 'pass', latencyMs: 400 });
    const t0 = performance.now();
    const [albums, lyrics] = (await Promise.all([listAlbums(), searchLyrics()])) as [ItemPage, { candidates: unknown[] }];
    const elapsed = performance.now() - t0;
    expect(albums.items).toHaveLength(2);
    expect(lyrics.candidates).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(3000);
  });

  it('16 requests to hanging servers time out at the deadline, their transfers are aborted, and the loop stays free', async () => {
    subsonicProxy.setMode({ kind: 'hang' });
    lrclibProxy.setMode({ kind: 'hang' });
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const t0 = performance.now();
    const requests = Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? listAlbums({ deadlineMs: 800 }) : searchLyrics({ deadlineMs: 800 })));
    await waitFor(() => cp.live().pendingOps === 16, 2000, 'all requests to reach the plugins');
    const errors = await Promise.all(requests.map(rejection));
    const elapsed = performance.now() - t0;
    histogram.disable();
    expect(errors.map((e) => e.code)).toEqual(Array(16).fill('timeout'));
    expect(elapsed).toBeGreaterThanOrEqual(780);
    expect(elapsed).toBeLessThan(2500);
    expect(histogram.percentile(99) / 1e6).toBeLessThan(50);
    // Cancel woke each op's wait at once: the ops are gone and their sockets closed promptly.
    await waitFor(() => cp.live().pendingOps === 0, 300, 'the cancelled ops to be destroyed');
    const closedBy = performance.now() + 300;
    while ((await subsonicProxy.openConnections()) + (await lrclibProxy.openConnections()) > 0 && performance.now() < closedBy) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await subsonicProxy.openConnections()) + (await lrclibProxy.openConnections())).toBe(0);
    const rows = cp.metrics().ops;
    expect(rows.find((r) => r.pluginId === SUBSONIC && r.op === 'list_items')).toMatchObject({ timeout: 8 });
    expect(rows.find((r) => r.pluginId === LRCLIB && r.op === 'search')).toMatchObject({ timeout: 8 });
  });

  it('a caller abort ends a hung request and closes its connection within 100 ms', async () => {
    subsonicProxy.setMode({ kind: 'hang' });
    const ac = new AbortController();
    const p = listAlbums({ signal: ac.signal });
    await waitFor(() => cp.live().pendingOps === 1, 2000, 'the request to start');
    while ((await subsonicProxy.openConnections()) === 0) await new Promise((r) => setTimeout(r, 10));
    const t0 = performance.now();
    ac.abort();
    expect((await rejection(p)).code).toBe('cancelled');
    while ((await subsonicProxy.openConnections()) > 0 && performance.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 5));
    expect(performance.now() - t0).toBeLessThan(100);
  });

  it('the plugins\' own timeout ends a hang with a timeout status', async () => {
    subsonicProxy.setMode({ kind: 'hang' });
    lrclibProxy.setMode({ kind: 'hang' });
    configureSubsonic({ timeout_ms: 700 });
    cp.applyConfig(LRCLIB, 'lyrics', LRCLIB_TYPE, { base_url: lrclibProxy.url, timeout_ms: 700 });
    const t0 = performance.now();
    const [a, b] = await Promise.all([rejection(listAlbums()), rejection(searchLyrics())]);
    expect(a).toMatchObject({ code: 'plugin_error', status: 'timeout' });
    expect(b).toMatchObject({ code: 'plugin_error', status: 'timeout' });
    expect(performance.now() - t0).toBeLessThan(2500);
  });

  it('HTTP 500s are network errors naming the status', async () => {
    subsonicProxy.setMode({ kind: 'status', status: 500 });
    lrclibProxy.setMode({ kind: 'status', status: 500, body: '{"code":500,"name":"Oops","message":"database is down"}', contentType: 'application/json' });
    const a = await rejection(listAlbums());
    expect(a).toMatchObject({ code: 'plugin_error', status: 'network', op: 'list_items' });
    expect(a.message).toContain('HTTP 500');
    const b = await rejection(searchLyrics());
    expect(b).toMatchObject({ code: 'plugin_error', status: 'network', op: 'search' });
    expect(b.message).toContain('database is down');
    subsonicProxy.setMode({ kind: 'status', status: 503 });
    expect(await rejection(cp.openStream(SUBSONIC, SUBSONIC_TYPE, dawn))).toMatchObject({ status: 'network', op: 'open_stream' });
  });

  it('malformed JSON is an I/O error, not a crash or a hang', async () => {
    subsonicProxy.setMode({ kind: 'malformed' });
    lrclibProxy.setMode({ kind: 'malformed' });
    const a = await rejection(listAlbums());
    expect(a).toMatchObject({ code: 'plugin_error', status: 'io' });
    expect(a.message).toContain('malformed');
    expect(await rejection(searchLyrics())).toMatchObject({ code: 'plugin_error', status: 'io' });
  });
});

describe('streams under faults', () => {
  /** Opens Dawn and decodes it; the error a read ended with, or the frames decoded. */
  async function decodeUnder(rules: FaultRule[]): Promise<PluginCallError | number> {
    subsonicProxy.setRules(rules);
    const lease = await cp.openStream(SUBSONIC, SUBSONIC_TYPE, dawn);
    const decoder = openDecoder(cp, lease);
    try {
      return decodeAll(decoder).length / 2;
    } catch (err) {
      expect(err).toBeInstanceOf(PluginCallError);
      return err as PluginCallError;
    } finally {
      decoder.destroy();
      expect(cp.closeStream(lease)).toBe(true);
    }
  }
  const stream = '/rest/stream';

  it('a connection reset in the middle of a stream is resumed with a Range request', async () => {
    expect(Number(dawn.size)).toBeGreaterThan(40_000);
    await subsonicProxy.clearRequests();
    const frames = await decodeUnder([{ path: stream, range: false, mode: { kind: 'reset', afterBytes: 30_000 } }]);
    expect(frames).toBe(4 * 44100);
    const ranges = (await subsonicProxy.requests()).filter((r) => r.target.startsWith(stream) && r.headers.range);
    expect(ranges.length).toBeGreaterThanOrEqual(1);
  });

  it('a server that keeps resetting the stream ends the read with a network error', async () => {
    await subsonicProxy.clearRequests();
    const err = await decodeUnder([
      { path: stream, range: false, mode: { kind: 'reset', afterBytes: 30_000 } },
      { path: stream, mode: { kind: 'reset', afterBytes: 1_000 } },
    ]);
    expect(err).toBeInstanceOf(PluginCallError);
    expect((err as PluginCallError).statusName).toBe('network');
    // Three resumes, then the error.
    const ranges = (await subsonicProxy.requests()).filter((r) => r.target.startsWith(stream) && r.headers.range);
    expect(ranges.length).toBe(3);
  });

  it('a body that keeps being cut short of its Content-Length is an I/O error', async () => {
    const err = await decodeUnder([
      { path: stream, range: false, mode: { kind: 'truncate', afterBytes: 30_000 } },
      { path: stream, mode: { kind: 'truncate', afterBytes: 1_000 } },
    ]);
    expect((err as PluginCallError).statusName).toBe('io');
  });

  it('a stream that stalls gives up after the plugin timeout', async () => {
    configureSubsonic({ timeout_ms: 800 });
    const t0 = performance.now();
    const err = await decodeUnder([{ path: stream, mode: { kind: 'stall', afterBytes: 30_000 } }]);
    expect((err as PluginCallError).statusName).toBe('timeout');
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(750);
    expect(elapsed).toBeLessThan(3000);
  });
});
